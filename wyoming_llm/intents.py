"""The Home Assistant intents this service emits, their slots and what they may target."""

from dataclasses import dataclass, field
from enum import Enum

# Domains an entity target may have, per kind of action.
SWITCHABLE = frozenset(
    {
        "light",
        "switch",
        "fan",
        "cover",
        "lock",
        "valve",
        "media_player",
        "input_boolean",
        "climate",
        "humidifier",
        "vacuum",
        "script",
        "scene",
        "automation",
    }
)
ALL_DOMAINS = SWITCHABLE | {"sensor", "binary_sensor", "weather", "person", "todo", "timer"}
# Domains whose on/off means a direction: the model writes Lock/Unlock, Open/Close for them.
LOCKS = frozenset({"lock"})
OPENABLE = frozenset({"cover", "valve"})
ON_OFF = SWITCHABLE - LOCKS - OPENABLE


class SlotKind(Enum):
    """How a slot's value is typed, constrained and checked."""

    NAME = "name"  # an entity name (from the home when it is known)
    AREA = "area"
    FLOOR = "floor"
    DOMAIN = "domain"
    WORD = "word"  # a short free word or phrase: device_class, state, color, timer name
    PERCENT = "percent"  # int 0-100
    NUMBER = "number"  # int or float
    COUNT = "count"  # int >= 0 (durations)


@dataclass(frozen=True)
class Slot:
    name: str
    kind: SlotKind


def _slots(*pairs: tuple[str, SlotKind]) -> tuple[Slot, ...]:
    return tuple(Slot(name, kind) for name, kind in pairs)


TARGET = _slots(
    ("name", SlotKind.NAME),
    ("area", SlotKind.AREA),
    ("floor", SlotKind.FLOOR),
    ("domain", SlotKind.DOMAIN),
    ("device_class", SlotKind.WORD),
)
TIMER_TARGET = _slots(
    ("name", SlotKind.WORD),
    ("area", SlotKind.AREA),
    ("start_hours", SlotKind.COUNT),
    ("start_minutes", SlotKind.COUNT),
    ("start_seconds", SlotKind.COUNT),
)
DURATION = _slots(
    ("hours", SlotKind.COUNT), ("minutes", SlotKind.COUNT), ("seconds", SlotKind.COUNT)
)


@dataclass(frozen=True)
class IntentSpec:
    """One intent: its Home Assistant name, the short verb the model writes, its slots."""

    name: str
    slots: tuple[Slot, ...] = ()
    domains: frozenset[str] = field(default_factory=frozenset)  # allowed entity domains
    required: tuple[str, ...] = ()  # at least one of these slots must be present
    targets_entities: bool = False
    action: str = ""  # the word the model writes when it is not the intent's (Lock, Open)

    @property
    def verb(self) -> str:
        return self.action or self.name.removeprefix("Hass")

    @property
    def written(self) -> str:
        """The intent as a remote model writes it in JSON: the action word, or the name."""
        return self.action or self.name

    def slot(self, name: str) -> Slot | None:
        return next((slot for slot in self.slots if slot.name == name), None)


def _targeted(
    name: str, domains: frozenset[str], *extra: Slot, required: tuple[str, ...] = ()
) -> IntentSpec:
    return IntentSpec(name, TARGET + extra, domains, required, targets_entities=True)


MEDIA = frozenset({"media_player"})
INTENTS: dict[str, IntentSpec] = {
    spec.name: spec
    for spec in (
        _targeted("HassTurnOn", ON_OFF),
        _targeted("HassTurnOff", ON_OFF - {"scene"}),
        _targeted("HassToggle", ON_OFF - {"scene", "script"}),
        _targeted(
            "HassLightSet",
            frozenset({"light"}),
            *_slots(("brightness", SlotKind.PERCENT), ("color", SlotKind.WORD)),
            required=("brightness", "color"),
        ),
        _targeted(
            "HassSetPosition",
            frozenset({"cover", "valve"}),
            *_slots(("position", SlotKind.PERCENT)),
            required=("position",),
        ),
        _targeted("HassGetState", ALL_DOMAINS, *_slots(("state", SlotKind.WORD))),
        IntentSpec(
            "HassClimateSetTemperature",
            _slots(
                ("name", SlotKind.NAME),
                ("area", SlotKind.AREA),
                ("floor", SlotKind.FLOOR),
                ("temperature", SlotKind.NUMBER),
            ),
            frozenset({"climate"}),
            ("temperature",),
            targets_entities=True,
        ),
        IntentSpec(
            "HassClimateGetTemperature",
            _slots(("name", SlotKind.NAME), ("area", SlotKind.AREA), ("floor", SlotKind.FLOOR)),
            frozenset({"climate"}),
            targets_entities=True,
        ),
        IntentSpec(
            "HassStartTimer",
            (*DURATION, Slot("name", SlotKind.WORD)),
            required=("hours", "minutes", "seconds"),
        ),
        IntentSpec("HassCancelTimer", TIMER_TARGET),
        IntentSpec("HassTimerStatus", TIMER_TARGET),
        _targeted("HassMediaPause", MEDIA),
        _targeted("HassMediaUnpause", MEDIA),
        _targeted("HassMediaNext", MEDIA),
        _targeted(
            "HassSetVolume",
            MEDIA,
            Slot("volume_level", SlotKind.PERCENT),
            required=("volume_level",),
        ),
        IntentSpec("HassGetCurrentTime"),
        IntentSpec(
            "HassGetWeather", _slots(("name", SlotKind.NAME)), frozenset({"weather"}), (), True
        ),
        IntentSpec("HassNevermind"),
    )
}
# Locks and covers by the words of the action, mapped here to the on/off intents Home
# Assistant runs for them (HassTurnOn locks a lock and opens a cover).
ACTIONS: dict[str, IntentSpec] = {
    spec.action: spec
    for spec in (
        IntentSpec("HassTurnOn", TARGET, LOCKS, targets_entities=True, action="Lock"),
        IntentSpec("HassTurnOff", TARGET, LOCKS, targets_entities=True, action="Unlock"),
        IntentSpec("HassTurnOn", TARGET, OPENABLE, targets_entities=True, action="Open"),
        IntentSpec("HassTurnOff", TARGET, OPENABLE, targets_entities=True, action="Close"),
    )
}
SPECS: tuple[IntentSpec, ...] = (*INTENTS.values(), *ACTIONS.values())
BY_VERB: dict[str, IntentSpec] = {spec.verb: spec for spec in SPECS}
# Reads and answers: never an action, so never asked back.
READ_ONLY = frozenset(
    {
        "HassGetState",
        "HassClimateGetTemperature",
        "HassTimerStatus",
        "HassGetCurrentTime",
        "HassGetWeather",
        "HassNevermind",
    }
)

# Model output lines that are not intents.
SAY = "Say"  # a spoken answer to a question or chit-chat
UNKNOWN = "Unknown"  # the user named a device or area the home does not have

SlotValue = str | int | float


@dataclass(frozen=True)
class Command:
    """A validated intent with its slots, in Home Assistant's names and types."""

    intent: str
    slots: dict[str, SlotValue]
    text: str = ""  # what to say when the executed intent has no speech of its own
    verb: str = ""  # the word the model wrote for it (Lock for a HassTurnOn on a lock)

    def entities(self) -> list[dict[str, SlotValue]]:
        """Slots as the Wyoming `intent` event's entities list."""
        return [{"name": name, "value": value} for name, value in self.slots.items()]
