"""Checking parsed model output against the intents and the home.

Nothing reaches a client unless it passes here: the intent must be known, every
slot typed, names and areas must be the home's own (sent by their canonical
name), and the intent must suit the entity's domain.
"""

import itertools
import re
from dataclasses import dataclass

from local_voice.numbers import number_to_words

from .colors import is_color
from .home import Entity, Home, clean_name, normalize
from .intents import (
    ACTIONS,
    BY_VERB,
    INTENTS,
    LOCKS,
    READ_ONLY,
    SAY,
    UNKNOWN,
    Command,
    IntentSpec,
    SlotKind,
    SlotValue,
)
from .output import Line
from .replies import confirm_question, declined_sentence, reply_text, unknown_target_sentence
from .safety import Asked, Direction, Words, device_kind, lowers_security

MAX_WORD_CHARS = 40
_TARGET_SLOTS = ("name", "area", "floor", "domain", "device_class")
# Words that name a kind of device, not a device: a model that writes them as a
# name has not found the device, so the grammar decides instead.
_GENERIC = frozenset(
    [
        "light",
        "lamp",
        "all",
        "everything",
        "it",
        "them",
        "fan",
        "blind",
        "speaker",
        "music",
        "device",
        "thing",
        "here",
    ]
)
_NEEDS_TARGET = frozenset(
    {"HassTurnOn", "HassTurnOff", "HassToggle", "HassLightSet", "HassSetPosition", "HassGetState"}
)


class InvalidLine(ValueError):
    """Model output that breaks the rules; the constrained decoder must redo it."""


@dataclass(frozen=True)
class UnknownTarget:
    """The user named a device, area or floor the home does not have."""

    kind: str  # "device", "area" or "floor"
    value: str

    def sentence(self, home: Home | None) -> str:
        return unknown_target_sentence(self.kind, self.value, home)


@dataclass(frozen=True)
class Answer:
    text: str


@dataclass(frozen=True)
class Confirm:
    """A command the user's words don't clearly ask for: asked back, not run."""

    command: Command
    question: str


@dataclass(frozen=True)
class Several:
    """One line that stands for several commands ("everything in the kitchen")."""

    commands: tuple[Command, ...]


Outcome = Command | UnknownTarget | Answer | Confirm | Several
NEEDS_HOME = (
    "I only move doors and locks when I know the home's devices. Add the Local Voice "
    "integration, or start this service with --ha-url, and ask again."
)
# What may stand between two names that share one verb: "A and B", "A, B and also C".
_JOINERS = frozenset({"and", "the", "also", "plus", "my", "a", "an", "too", "as", "well"})
_SHARED_VERBS = frozenset({"TurnOn", "TurnOff", "Toggle", "Lock", "Close"})
# Words that ask about a state without a question's form ("tell me if the door is open").
_ASKING = frozenset({"tell", "check", "know", "whether", "if", "status", "state", "show"})
_ON_OFF_INTENTS = frozenset({"HassTurnOn", "HassTurnOff", "HassToggle"})
_EVERYTHING = frozenset({"everything", "anything", "all", "device", "thing", "stuff"})
# What "everything in the kitchen" switches: never a lock, a door, heating or a scene.
_EVERYTHING_DOMAINS = frozenset({"light", "switch", "fan", "media_player", "input_boolean"})
_SECURITY_NAMES = frozenset({"door", "gate", "garage", "lock", "shutter", "deadbolt"})

# The way each action word moves its device, and the action word for each way.
_DIRECTION = {
    "Lock": Direction.CLOSE,
    "Unlock": Direction.OPEN,
    "Open": Direction.OPEN,
    "Close": Direction.CLOSE,
}
_ACTION = {
    ("lock", Direction.OPEN): "Unlock",
    ("lock", Direction.CLOSE): "Lock",
    ("cover", Direction.OPEN): "Open",
    ("cover", Direction.CLOSE): "Close",
    ("valve", Direction.OPEN): "Open",
    ("valve", Direction.CLOSE): "Close",
}
# What the older on/off words meant for these devices (Home Assistant's own mapping).
_ON_OFF_DIRECTION = {
    ("lock", "TurnOn"): Direction.CLOSE,
    ("lock", "TurnOff"): Direction.OPEN,
    ("cover", "TurnOn"): Direction.OPEN,
    ("cover", "TurnOff"): Direction.CLOSE,
    ("valve", "TurnOn"): Direction.OPEN,
    ("valve", "TurnOff"): Direction.CLOSE,
}
_DIRECTED = frozenset({"TurnOn", "TurnOff", "Toggle", *_DIRECTION})


def _percent(value: SlotValue) -> int:
    number = _number(str(value).rstrip("%").strip())
    if not 0 <= number <= 100:
        raise InvalidLine(f"{value!r} is not a percentage")
    return round(number)


def _number(value: SlotValue) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as err:
        raise InvalidLine(f"{value!r} is not a number") from err
    if number != number or abs(number) > 1e6:
        raise InvalidLine(f"{value!r} is out of range")
    return number


def _word(value: SlotValue) -> str:
    word = clean_name(str(value))[:MAX_WORD_CHARS].strip()
    if not word:
        raise InvalidLine("empty value")
    return word


class Validator:
    """Turns parsed lines into commands, answers or unknown-target replies for one request."""

    def __init__(self, home: Home | None, device_area: str | None, utterance: str) -> None:
        self.home = home
        self.device_area = device_area
        self.spoken = f" {normalize(utterance)} "
        self.heard = set(self.spoken.split())
        self.words = Words(utterance)

    def check(self, line: Line) -> Outcome:
        if line.verb == SAY:
            return Answer(line.text)
        if line.verb == UNKNOWN:
            return UnknownTarget("device", _word(line.text))
        spec = BY_VERB.get(line.verb)
        if spec is None:
            raise InvalidLine(f"unknown intent {line.verb!r}")
        slots: dict[str, SlotValue] = {}
        entity: Entity | None = None
        for key, value in line.slots.items():
            slot = spec.slot(key)
            if slot is None:
                continue  # a slot this intent does not take is dropped, never sent
            if slot.kind is SlotKind.NAME and self._as_area(str(value), spec, line.slots, slots):
                continue  # the model put an area where the name goes
            if slot.kind is SlotKind.NAME:
                found = self._entity(str(value), spec)
                if isinstance(found, UnknownTarget):
                    return found
                entity = found
                slots[key] = found.name if found else _word(value)
            elif slot.kind in (SlotKind.AREA, SlotKind.FLOOR) and self._device_as_place(
                str(value), spec, slot.kind
            ):
                found = self._entity(str(value), spec)  # the model put a name where the area goes
                if isinstance(found, UnknownTarget):
                    return found
                entity = found
                slots["name"] = found.name if found else _word(value)
            elif slot.kind in (SlotKind.AREA, SlotKind.FLOOR):
                place = self._place(str(value), slot.kind)
                if isinstance(place, UnknownTarget):
                    return place
                slots[key] = place
            elif slot.kind is SlotKind.DOMAIN:
                if str(value) not in spec.domains and not _directs(spec, str(value)):
                    raise InvalidLine(f"{spec.name} can't act on domain {value!r}")
                slots[key] = str(value)
            elif slot.kind is SlotKind.PERCENT:
                slots[key] = _percent(value)
            elif slot.kind is SlotKind.NUMBER:
                number = _number(value)
                slots[key] = int(number) if number.is_integer() else number
            elif slot.kind is SlotKind.COUNT:
                count = _number(value)
                if count < 0 or not count.is_integer():
                    raise InvalidLine(f"{value!r} is not a whole number")
                slots[key] = int(count)
            else:
                slots[key] = _word(value)
        if spec.name == "HassLightSet":
            spec = self._light_set(spec, slots)
        if spec.action and entity is None and "domain" not in slots:
            slots["domain"] = self._action_domain(spec, slots)  # Home Assistant would take all
        target_domain = entity.domain if entity is not None else str(slots.get("domain", ""))
        if _directs(spec, target_domain):
            spec = self._directed(spec, target_domain)
        if entity is not None and entity.domain not in spec.domains:
            spec, slots = _repair(spec, slots, entity)
        if entity is not None:
            if spec.slot("domain") is not None:
                slots["domain"] = entity.domain
            slots.pop("area", None)  # a named entity needs no area; a wrong one would miss it
            slots.pop("floor", None)
        if entity is None and (named := self._named_in_words(spec, slots)) is not None:
            entity = named
            for key in ("area", "floor", "device_class"):
                slots.pop(key, None)
            slots = {"name": named.name, **slots}
            if spec.slot("domain") is not None:
                slots["domain"] = named.domain
        if self.home is None:
            _without_home(spec, slots)
        if self._everything(spec, slots):
            return self._each_domain(spec, slots)
        self._fill_area(spec, slots)
        self._check_required(spec, slots)
        self._check_heard(spec, slots, entity)
        command = Command(
            spec.name, _ordered(spec, slots), reply_text(spec, slots, entity, self.home), spec.verb
        )
        return self._guard(spec, command, entity) or command

    def _light_set(self, spec: IntentSpec, slots: dict[str, SlotValue]) -> IntentSpec:
        """HassLightSet as Home Assistant can run it: only a colour it knows (a made-up
        one, "fairy" for fairy lights, is dropped), and brightness 0 is off."""
        color = slots.get("color")
        if color is not None and not is_color(str(color)):
            del slots["color"]
        if "color" in slots:
            return spec
        if slots.get("brightness") == 0:
            del slots["brightness"]
            return INTENTS["HassTurnOff"]
        if "brightness" in slots:
            return spec
        if "on" in self.heard:  # "put the fairy lights on"
            return INTENTS["HassTurnOn"]
        raise InvalidLine(f"{color!r} is not a colour Home Assistant knows")

    def _action_domain(self, spec: IntentSpec, slots: dict[str, SlotValue]) -> str:
        """The kind an action word without a device means: locks, else covers or valves."""
        if spec.domains == LOCKS:
            return "lock"
        area = slots.get("area")
        present = {
            e.domain
            for e in (self.home.entities if self.home else ())
            if e.domain in spec.domains and area in (None, e.area)
        }
        return "valve" if present == {"valve"} else "cover"

    def _directed(self, spec: IntentSpec, domain: str) -> IntentSpec:
        """The action word for a lock, cover or valve: the way the user's words say, else
        the way the model wrote it; never the opposite of what was said."""
        kind = device_kind(domain)
        assert kind is not None
        model = _DIRECTION.get(spec.verb) or _ON_OFF_DIRECTION.get((kind, spec.verb))
        direction = self.words.asked(kind).direction or model
        if direction is None:
            raise InvalidLine(f"{spec.verb} on a {domain}: say which way")
        return ACTIONS[_ACTION[(kind, direction)]]

    def shared_verb_lines(self, commands: list[Command]) -> list[Line]:
        """'turn on the desk lamp and the coffee maker': names joined to a commanded one by
        'and' or a comma, with no verb of their own, that no command targets yet."""
        if self.home is None:
            return []
        mentions = self._mentions()
        by_name = {str(c.slots.get("name")): c for c in commands if "name" in c.slots}
        lines = []
        for (_, end, before), (start, _, entity) in itertools.pairwise(mentions):
            if entity.name in by_name or before.name not in by_name:
                continue
            between = set(self.spoken[end:start].split())
            joined = bool(between & {"and", "plus"}) or " and " in self.spoken[start:]  # A, B and C
            if not between <= _JOINERS or not joined:
                continue
            command = by_name[before.name]
            if command.verb not in _SHARED_VERBS:
                continue
            lines.append(Line(command.verb, {"name": entity.name}))
            by_name[entity.name] = command
        return lines

    def _mentions(self) -> list[tuple[int, int, Entity]]:
        """The home's entities named in the words, in order, longest names first on overlap."""
        assert self.home is not None
        found: list[tuple[int, int, Entity]] = []
        for spoken, name in sorted(self.home.names.canonical.items(), key=lambda p: -len(p[0])):
            for match in re.finditer(rf" {re.escape(spoken)} ", self.spoken):
                start, end = match.start() + 1, match.end() - 1
                if all(end <= s or start >= e for s, e, _ in found):
                    found.append((start, end, self.home.by_name[name]))
        return sorted(found, key=lambda item: item[0])

    def _everything(self, spec: IntentSpec, slots: dict[str, SlotValue]) -> bool:
        """'turn off everything in the kitchen': an area (or floor) and no device or kind."""
        if spec.name not in _ON_OFF_INTENTS or spec.action or "name" in slots:
            return False
        if not any(key in slots for key in ("area", "floor")):
            return False
        return "domain" not in slots or bool(_EVERYTHING & self.heard)

    def _each_domain(self, spec: IntentSpec, slots: dict[str, SlotValue]) -> Outcome:
        """One command per kind of switchable device in the area; locks and doors never."""
        if self.home is None:
            raise InvalidLine("everything in an area needs the home's devices")
        area = slots.get("area")
        domains = sorted(
            {
                e.domain
                for e in self.home.entities
                if e.domain in _EVERYTHING_DOMAINS & spec.domains and area in (None, e.area)
            }
        )
        if not domains:
            raise InvalidLine(f"nothing to switch in {area or slots.get('floor')}")
        commands = []
        for domain in domains:
            each: dict[str, SlotValue] = {k: slots[k] for k in ("area", "floor") if k in slots}
            each["domain"] = domain
            command = Command(
                spec.name, _ordered(spec, each), reply_text(spec, each, None, self.home), spec.verb
            )
            guarded = self._guard(spec, command, None)
            if guarded is not None:
                return guarded
            commands.append(command)
        return Several(tuple(commands))

    def _guard(self, spec: IntentSpec, command: Command, entity: Entity | None) -> Outcome | None:
        """Ask back, or decline, what the user's own words don't ask for."""
        if spec.name in READ_ONLY:
            return None
        name = str(command.slots.get("name", ""))
        if self.home is None and not spec.action and _SECURITY_NAMES & set(normalize(name).split()):
            return Answer(NEEDS_HOME)
        domain = entity.domain if entity is not None else str(command.slots.get("domain", ""))
        kind = device_kind(domain)
        if kind is not None:
            direction = _DIRECTION.get(spec.verb)
            if spec.name == "HassSetPosition":
                opened = float(command.slots.get("position", 0)) > 0
                direction = Direction.OPEN if opened else Direction.CLOSE
            asked = self.words.asked(kind)
            if direction is not None and direction in asked.negated:
                return Answer(declined_sentence(spec, command.slots))
            if direction is not None and asked.negated and not asked.said:
                # "please don't open the garage door" asks for nothing to happen at all
                negated = BY_VERB[_ACTION[(kind, next(iter(asked.negated)))]]
                return Answer(declined_sentence(negated, command.slots))
            if self.words.question:  # "is the front door locked?" moves nothing
                return Confirm(command, confirm_question(spec, command.slots))
            targets = [entity] if entity is not None else self._targets(command.slots, domain)
            if (
                direction is not None
                and lowers_security(domain, direction, targets)
                and not self._asks_to_open(asked, direction, command, entity)
            ):
                return Confirm(command, confirm_question(spec, command.slots))
        if self.words.is_fragment(self.home):
            return Confirm(command, confirm_question(spec, command.slots))
        return None

    def _asks_to_open(
        self, asked: Asked, direction: Direction, command: Command, entity: Entity | None
    ) -> bool:
        """The words ask this one device to open: an un-negated request, not a question,
        naming the device (or the only one of its kind) after the verb ("unlock the front
        door", not "the front door unlocked")."""
        if asked.direction is not direction or "name" not in command.slots:
            return False
        names = (entity.name, *entity.aliases) if entity else (str(command.slots["name"]),)
        at = self.words.name_at(names)
        if at is None:
            domain = str(command.slots.get("domain", ""))
            return entity is not None and len(self._targets({}, domain)) == 1
        return asked.first[direction] < at

    def _targets(self, slots: dict[str, SlotValue], domain: str) -> list[Entity]:
        """The home's entities of this domain an area (or no area) target reaches."""
        if self.home is None:
            return []
        area = slots.get("area")
        return [e for e in self.home.entities if e.domain == domain and area in (None, e.area)]

    def _entity(self, value: str, spec: IntentSpec) -> "Entity | UnknownTarget | None":
        if self.home is None:
            return None
        name = self.home.names.match(value)
        if name is None and (only := self._by_distinct_words(value)) is not None:
            name = only.name
        if name is None:
            words = set(normalize(value).split())
            if words and not words <= _GENERIC and words <= self.heard:
                return UnknownTarget("device", _word(value))  # the user's own words
            raise InvalidLine(f"no entity called {value!r}")
        entity = self.home.by_name[name]
        repairable = (spec.name, entity.domain) in _REPAIRS or _directs(spec, entity.domain)
        if entity.domain not in spec.domains and not repairable:
            raise InvalidLine(f"{spec.name} can't act on {entity.domain} {entity.name!r}")
        return entity

    def _by_distinct_words(self, value: str) -> Entity | None:
        """The one entity whose name holds the distinctive words of the name the model
        wrote, of the kind it said ("extractor fan" for the fan "Bathroom Extractor"); the
        user must have said those words."""
        assert self.home is not None
        words = set(normalize(value).split())
        kinds = {_DOMAIN_WORDS_SPOKEN[word] for word in words if word in _DOMAIN_WORDS_SPOKEN}
        distinct = words - set(_DOMAIN_WORDS_SPOKEN) - _GENERIC
        if not distinct or not distinct <= self.heard or len(kinds) > 1:
            return None
        found = [
            entity
            for entity in self.home.entities
            if (not kinds or entity.domain in kinds)
            and distinct
            <= {w for text in (entity.name, *entity.aliases) for w in normalize(text).split()}
        ]
        return found[0] if len(found) == 1 else None

    def _as_area(
        self,
        value: str,
        spec: IntentSpec,
        written: dict[str, SlotValue],
        slots: dict[str, SlotValue],
    ) -> bool:
        """Take `name=Kitchen` as `area=Kitchen` (with a domain from the words if none)."""
        if self.home is None or spec.slot("area") is None or self.home.names.match(value):
            return False
        area = self.home.area_names.match(value)
        if area is None:
            return False
        domain = written.get("domain") or next(
            (d for word, d in _DOMAIN_WORDS_SPOKEN.items() if word in self.heard), None
        )
        if domain is None or str(domain) not in spec.domains:
            raise InvalidLine(f"area {area!r} given as a name, and no domain")
        slots["area"] = area
        slots.setdefault("domain", str(domain))
        return True

    def _device_as_place(self, value: str, spec: IntentSpec, kind: SlotKind) -> bool:
        """An area or floor value that is no place of the home but one of its devices."""
        if self.home is None or spec.slot("name") is None:
            return False
        lexicon = self.home.area_names if kind is SlotKind.AREA else self.home.floor_names
        return lexicon.match(value) is None and self.home.names.match(value) is not None

    def _place(self, value: str, kind: SlotKind) -> "str | UnknownTarget":
        if self.home is None:
            return _word(value)
        lexicon = self.home.area_names if kind is SlotKind.AREA else self.home.floor_names
        if (name := lexicon.match(value)) is not None:
            return name
        if set(normalize(value).split()) <= self.heard:
            return UnknownTarget(kind.value, _word(value))
        raise InvalidLine(f"no {kind.value} called {value!r}")

    def _named_in_words(self, spec: IntentSpec, slots: dict[str, SlotValue]) -> Entity | None:
        """The one fitting entity whose name the user said, when the model chose an area."""
        if self.home is None or not spec.targets_entities or "name" in slots:
            return None
        if any(key in slots for key in _TARGET_SLOTS) and not any(
            key in slots for key in ("area", "floor", "domain")
        ):
            return None
        found = {
            entity.name: entity
            for entity in self.home.entities
            if entity.domain in spec.domains
            and slots.get("domain", entity.domain) == entity.domain
            and slots.get("area", entity.area) == entity.area
            and any(
                f" {normalize(spoken)} " in self.spoken for spoken in (entity.name, *entity.aliases)
            )
        }
        return next(iter(found.values())) if len(found) == 1 else None

    def _fill_area(self, spec: IntentSpec, slots: dict[str, SlotValue]) -> None:
        """'it's too dark in here': a domain-only target means the device's own area."""
        if not spec.targets_entities or self.home is None or not self.device_area:
            return
        if any(key in slots for key in ("name", "area", "floor")):
            return
        area = self.home.area_names.match(self.device_area)
        domain = slots.get("domain")
        if area and domain and self.home.entities_in(area, str(domain)):
            slots["area"] = area

    def _check_heard(
        self, spec: IntentSpec, slots: dict[str, SlotValue], entity: Entity | None
    ) -> None:
        """Numbers the user must have said, and questions about a device they named."""
        for key in _SPOKEN_NUMBERS.get(spec.name, ()):
            if key in slots and not self._said_number(slots[key]):
                raise InvalidLine(f"{key}={slots[key]} was not said")
        if spec.name == "HassGetState" and not (self.words.question or _ASKING & self.heard):
            raise InvalidLine("a state question for words that ask for none")
        if spec.name == "HassGetState" and entity is not None:
            words = {w for text in (entity.name, *entity.aliases) for w in normalize(text).split()}
            if not words & self.heard:
                raise InvalidLine(f"the user did not ask about {entity.name!r}")

    def _said_number(self, value: SlotValue) -> bool:
        number = float(value)
        if number.is_integer() and str(int(number)) in self.heard:
            return True
        spoken = _NUMBER_WORDS.get(int(number)) if number.is_integer() else None
        return bool(spoken and spoken & self.heard)

    @staticmethod
    def _check_required(spec: IntentSpec, slots: dict[str, SlotValue]) -> None:
        if spec.required and not any(key in slots for key in spec.required):
            raise InvalidLine(f"{spec.name} needs one of {', '.join(spec.required)}")
        if spec.name in _NEEDS_TARGET and not any(key in slots for key in _TARGET_SLOTS):
            raise InvalidLine(f"{spec.name} needs a target")


# An intent the model chose for the wrong kind of device, and the one it meant.
_REPAIRS = {
    ("HassLightSet", "cover"): ("HassSetPosition", "brightness", "position"),
    ("HassLightSet", "valve"): ("HassSetPosition", "brightness", "position"),
    ("HassSetPosition", "light"): ("HassLightSet", "position", "brightness"),
}
# Words that say which domain "the lights in the kitchen" means (normalized: no plural s).
_DOMAIN_WORDS_SPOKEN = {
    "light": "light",
    "lamp": "light",
    "fan": "fan",
    "blind": "cover",
    "shade": "cover",
    "curtain": "cover",
    "shutter": "cover",
    "speaker": "media_player",
}


# Slots whose numbers must come from the user's words (a timer nobody asked for).
_SPOKEN_NUMBERS = {
    "HassStartTimer": ("hours", "minutes", "seconds"),
    "HassSetVolume": ("volume_level",),
}
# The words a number counts as said with: its first word ("twenty" for 20-29), and more.
_NUMBER_WORDS: dict[int, set[str]] = {
    n: {number_to_words(n).split()[0]} for n in (*range(14), *range(20, 80))
}
_NUMBER_WORDS[1] |= {"a", "an"}
_NUMBER_WORDS[15] = {"fifteen", "quarter"}
_NUMBER_WORDS[30] |= {"half"}
_NUMBER_WORDS[100] = {"hundred", "max", "maximum", "full"}


def _without_home(spec: IntentSpec, slots: dict[str, SlotValue]) -> None:
    """With no device list, a guessed kind would make Home Assistant miss the device
    ("Bedroom Fan" may be a switch): a name goes alone, except that Lock/Open keep their
    kind, so a Lock can't open a cover of the same name."""
    if spec.action:
        slots["domain"] = "lock" if spec.domains == LOCKS else str(slots.get("domain", "cover"))
    elif "name" in slots:
        slots.pop("domain", None)
        slots.pop("device_class", None)


def _directs(spec: IntentSpec, domain: str) -> bool:
    """An on/off or open/close word on a device that moves one way or the other."""
    return spec.verb in _DIRECTED and device_kind(domain) is not None


def _repair(
    spec: IntentSpec, slots: dict[str, SlotValue], entity: Entity
) -> tuple[IntentSpec, dict[str, SlotValue]]:
    intent, old, new = _REPAIRS[(spec.name, entity.domain)]
    repaired = {key: value for key, value in slots.items() if key != old}
    if old not in slots:
        raise InvalidLine(f"{spec.name} can't act on {entity.domain} {entity.name!r}")
    repaired[new] = slots[old]
    return INTENTS[intent], repaired


def _ordered(spec: IntentSpec, slots: dict[str, SlotValue]) -> dict[str, SlotValue]:
    order = [slot.name for slot in spec.slots]
    return {key: slots[key] for key in sorted(slots, key=order.index)}
