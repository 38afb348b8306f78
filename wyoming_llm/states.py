"""An entity's state in the words of its kind: a door is open, a lock locked, a sensor 21.5 degrees.

Home Assistant reports a door sensor as "on" and a temperature as "21.5" with a unit;
people ask "is the door closed?" and expect "21.5 degrees".
"""

from .home import Entity

# binary_sensor device classes: the words for on and off.
_BINARY = {
    "door": ("open", "closed"),
    "garage_door": ("open", "closed"),
    "window": ("open", "closed"),
    "opening": ("open", "closed"),
    "lock": ("unlocked", "locked"),
    "motion": ("detecting motion", "clear"),
    "occupancy": ("occupied", "clear"),
    "presence": ("home", "away"),
    "moisture": ("wet", "dry"),
    "smoke": ("detecting smoke", "clear"),
    "gas": ("detecting gas", "clear"),
    "carbon_monoxide": ("detecting carbon monoxide", "clear"),
    "battery": ("low", "normal"),
    "plug": ("plugged in", "unplugged"),
    "power": ("on", "off"),
    "running": ("running", "not running"),
    "connectivity": ("connected", "disconnected"),
    "vibration": ("vibrating", "still"),
    "sound": ("detecting sound", "quiet"),
}
_STATES = {
    "not_home": "away",
    "unavailable": "unavailable",
    "unknown": "unknown",
    "heat_cool": "heating and cooling",
    "heat": "heating",
    "cool": "cooling",
    "fan_only": "on fan only",
}
# What a spoken state word means, per the words above (a question's "shut" is "closed").
SYNONYMS = {
    "shut": "closed",
    "close": "closed",
    "opened": "open",
    "lit": "on",
    "burning": "on",
    "running": "on",
    "out": "off",
    "playing": "playing",
    "paused": "paused",
    "present": "home",
    "gone": "away",
    "detected": "detecting motion",
    "occupied": "occupied",
}
_UNIT_WORDS = {"°C": "degrees", "°F": "degrees", "%": "percent", "K": "kelvin"}


def unit_words(entity: Entity) -> str:
    unit = entity.attributes.get("unit") or entity.attributes.get("unit_of_measurement") or ""
    return _UNIT_WORDS.get(str(unit), str(unit))


def _number(value: str) -> str:
    try:
        return f"{float(value):g}"
    except ValueError:
        return value


def state_words(entity: Entity) -> str | None:
    """The entity's state as a person would say it, or None when it has none."""
    state = entity.state
    if state is None:
        return None
    if entity.domain == "binary_sensor" and state in ("on", "off"):
        on, off = _BINARY.get(entity.device_class or "", ("on", "off"))
        return on if state == "on" else off
    if entity.domain == "sensor":
        return f"{_number(state)} {unit_words(entity)}".strip()
    if entity.domain == "climate":
        current = entity.attributes.get("current_temperature")
        mode = _STATES.get(state, state)
        return f"{mode}, at {current:g} degrees" if isinstance(current, int | float) else mode
    return _STATES.get(state, state.replace("_", " "))


def state_sentence(entity: Entity) -> str:
    words = state_words(entity)
    return f"{entity.name} is {words}." if words else ""


def means(spoken: str) -> str:
    """The state a spoken word asks about ("shut" → "closed")."""
    return SYNONYMS.get(spoken, spoken)
