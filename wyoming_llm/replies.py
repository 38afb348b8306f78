"""What the agent says: confirmations and answers for intents, and unknown-target replies.

An intent's `text` is what Home Assistant speaks when the intent brings no speech of
its own; the home's states answer the questions.
"""

import re
import time

from .home import Entity, Home, normalize
from .intents import IntentSpec, SlotValue
from .states import state_sentence, state_words


def unknown_target_sentence(kind: str, value: str, home: Home | None) -> str:
    """The reply to a device, area or floor (`kind`) the home does not have."""
    known = ""
    if home is not None:
        names = (
            [e.name for e in home.entities]
            if kind == "device"
            else [a.name for a in (home.areas if kind == "area" else home.floors)]
        )
        if names:
            shown = ", ".join(names[:6]) + (", …" if len(names) > 6 else "")
            known = f" I know: {shown}."
    return (
        f"I don't know a {kind} called '{value}'.{known} "
        "Try again with one of those names, or expose the device to Assist."
    )


_DOMAIN_WORDS = {
    "light": "lights",
    "cover": "covers",
    "lock": "locks",
    "fan": "fans",
    "switch": "switches",
    "media_player": "media players",
    "climate": "thermostats",
}
_ON_OFF = {
    "lock": ("Locked", "Unlocked"),
    "cover": ("Opened", "Closed"),
    "valve": ("Opened", "Closed"),
    "scene": ("Activated", "Deactivated"),
    "script": ("Started", "Stopped"),
}


def _target_words(slots: dict[str, SlotValue]) -> str:
    if "name" in slots:
        return str(slots["name"])
    what = _DOMAIN_WORDS.get(str(slots.get("domain", "")), "devices")
    where = slots.get("area") or slots.get("floor")
    return f"the {what} in the {where}" if where else f"the {what}"


def _get_state(slots: dict[str, SlotValue], entity: Entity | None, home: Home | None) -> str:
    if entity is not None:
        return state_sentence(entity)
    if home is None:
        return ""
    area, domain, state = slots.get("area"), slots.get("domain"), slots.get("state")
    scope = [
        e
        for e in home.entities
        if area in (None, e.area) and domain in (None, e.domain) and e.state is not None
    ]
    if not scope:
        return ""
    if state is None:
        return " ".join(state_sentence(e) for e in scope[:4])
    wanted = normalize(str(state))
    matching = [e.name for e in scope if normalize(state_words(e) or "") == wanted]
    if not matching:
        return f"No, none is {state}."
    return f"Yes, {', '.join(matching[:4])} {'is' if len(matching) == 1 else 'are'} {state}."


def _temperature(entity: Entity | None, home: Home | None, area: SlotValue | None) -> str:
    candidates = [entity] if entity else []
    if home is not None and not candidates:
        candidates = [e for e in home.entities if e.domain == "climate" and area in (None, e.area)]
    for candidate in candidates:
        current = candidate.attributes.get("current_temperature")
        if isinstance(current, int | float):
            unit = candidate.attributes.get("unit") or "degrees"
            return f"It is {current:g} {unit} at {candidate.name}."
    return ""


def _duration(slots: dict[str, SlotValue]) -> str:
    parts = [
        f"{slots[unit]} {unit[:-1] if slots[unit] == 1 else unit}"
        for unit in ("hours", "minutes", "seconds")
        if unit in slots
    ]
    return " and ".join(parts)


def reply_text(
    spec: IntentSpec, slots: dict[str, SlotValue], entity: Entity | None, home: Home | None
) -> str:
    """A short spoken confirmation or answer for an intent."""
    target = _target_words(slots)
    domain = str(slots.get("domain", entity.domain if entity else ""))
    on, off = _ON_OFF.get(domain, ("Turned on", "Turned off"))
    match spec.name:
        case "HassTurnOn":
            return f"{on} {target}."
        case "HassTurnOff":
            return f"{off} {target}."
        case "HassToggle":
            return f"Toggled {target}."
        case "HassLightSet":
            value = f"{slots['brightness']}%" if "brightness" in slots else slots.get("color")
            return f"Set {target} to {value}."
        case "HassSetPosition":
            return f"Set {target} to {slots.get('position')}%."
        case "HassGetState":
            return _get_state(slots, entity, home)
        case "HassClimateSetTemperature":
            return f"Set the temperature to {slots.get('temperature')} degrees."
        case "HassClimateGetTemperature":
            return _temperature(entity, home, slots.get("area"))
        case "HassStartTimer":
            return f"Timer set for {_duration(slots)}."
        case "HassCancelTimer":
            return "Timer cancelled."
        case "HassMediaPause":
            return "Paused."
        case "HassMediaUnpause":
            return "Resumed."
        case "HassMediaNext":
            return "Playing the next one."
        case "HassSetVolume":
            return f"Volume set to {slots.get('volume_level')}%."
        case "HassGetCurrentTime":
            return time.strftime("It is %H:%M.")
        case "HassGetWeather":
            return _weather(entity, home)
    return ""


def _weather(entity: Entity | None, home: Home | None) -> str:
    if entity is None and home is not None:
        entity = next((e for e in home.entities if e.domain == "weather"), None)
    if entity is None or entity.state is None:
        return ""
    temperature = entity.attributes.get("temperature")
    unit = entity.attributes.get("unit") or "degrees"
    extra = f", {temperature:g} {unit}" if isinstance(temperature, int | float) else ""
    return f"It is {re.sub('[-_]', ' ', entity.state)}{extra}."


_IMPERATIVES = {
    "Lock": "lock",
    "Unlock": "unlock",
    "Open": "open",
    "Close": "close",
    "TurnOn": "turn on",
    "TurnOff": "turn off",
    "Toggle": "toggle",
}


def _spoken_target(slots: dict[str, SlotValue]) -> str:
    target = _target_words(slots)
    return target if target.lower().startswith(("the ", "my ")) else f"the {target}"


def _request_words(spec: IntentSpec, slots: dict[str, SlotValue]) -> str:
    """What the command does, as the words of a request ("unlock the Front Door")."""
    target = _spoken_target(slots)
    if spec.verb in _IMPERATIVES:
        return f"{_IMPERATIVES[spec.verb]} {target}"
    match spec.name:
        case "HassLightSet":
            value = f"{slots['brightness']}%" if "brightness" in slots else slots.get("color")
            return f"set {target} to {value}"
        case "HassSetPosition":
            return f"set {target} to {slots.get('position')}%"
        case "HassClimateSetTemperature":
            return f"set the temperature to {slots.get('temperature')} degrees"
        case "HassStartTimer":
            return f"start a timer for {_duration(slots)}"
        case "HassCancelTimer":
            return "cancel the timer"
        case "HassSetVolume":
            return f"set the volume to {slots.get('volume_level')}%"
        case "HassMediaPause":
            return "pause the music"
        case "HassMediaUnpause":
            return "resume the music"
        case "HassMediaNext":
            return "skip to the next track"
    return "do that"


def confirm_question(spec: IntentSpec, slots: dict[str, SlotValue]) -> str:
    """Asking back before a command the user's words did not clearly ask for."""
    return f"Do you want me to {_request_words(spec, slots)}?"


def declined_sentence(spec: IntentSpec, slots: dict[str, SlotValue]) -> str:
    """The reply when the user asked for the command not to happen ("don't unlock …")."""
    return f"Okay, I won't {_request_words(spec, slots)}."
