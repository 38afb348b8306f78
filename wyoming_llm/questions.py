"""Questions about the home answered from the states the request carries, with no model.

"is the patio door closed?", "what lights are still on?", "how many lamps are
burning?", "how warm is it in the bedroom?": the request holds every exposed
entity's state, so a rule answers at once and a small model can't misread it.
Anything the rules don't parse goes on to the model.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from local_voice.numbers import number_to_words

from .home import Entity, Home, normalize
from .safety import DEVICE_WORDS, Words
from .states import means, state_words

# Each state's opposite, and the words that ask for one (normalized).
_PAIRS = {
    "on": "off",
    "open": "closed",
    "locked": "unlocked",
    "home": "away",
    "occupied": "clear",
    "playing": "paused",
    "wet": "dry",
}
_PAIRS.update({b: a for a, b in list(_PAIRS.items())})
_STATE_WORDS = {*_PAIRS, "shut", "opened", "lit", "burning", "running", "out", "present", "gone"}
# What a lock or cover means by the words of the other kind ("is the front door closed?").
_AS_LOCK = {"closed": "locked", "open": "unlocked"}
_AS_COVER = {"on": "open", "off": "closed"}
_TEMPERATURE = {"temperature", "warm", "hot", "cold", "cool", "chilly", "degree", "freezing"}
_HUMIDITY = {"humidity", "humid", "damp"}
_OUTSIDE = {"outside", "outdoor", "out"}
_FILLER = {"the", "a", "an", "of", "my", "room"}


def _named_door(entity: Entity) -> bool:
    return "door" in normalize(entity.name).split() or "gate" in normalize(entity.name).split()


# The kinds of device a question names, by the word it uses (normalized).
KINDS: dict[str, Callable[[Entity], bool]] = {
    "light": lambda e: e.domain == "light",
    "lamp": lambda e: e.domain == "light",
    "bulb": lambda e: e.domain == "light",
    "fan": lambda e: e.domain == "fan" or "fan" in normalize(e.name).split(),
    "switch": lambda e: e.domain == "switch",
    "switche": lambda e: e.domain == "switch",  # "switches" without its plural s
    "plug": lambda e: e.domain == "switch",
    "lock": lambda e: e.domain == "lock",
    "door": lambda e: (
        _named_door(e)
        or (e.domain == "binary_sensor" and e.device_class in ("door", "garage_door", "opening"))
        or (e.domain == "cover" and e.device_class in ("door", "garage", "gate"))
    ),
    "gate": lambda e: "gate" in normalize(e.name).split() or e.device_class == "gate",
    "window": lambda e: e.device_class == "window" or "window" in normalize(e.name).split(),
    "blind": lambda e: e.domain == "cover" and not _named_door(e),
    "shade": lambda e: e.domain == "cover" and not _named_door(e),
    "curtain": lambda e: e.domain == "cover" and not _named_door(e),
    "cover": lambda e: e.domain == "cover",
    "speaker": lambda e: e.domain == "media_player",
    "tv": lambda e: e.domain == "media_player",
    "thing": lambda e: e.domain in ("light", "switch", "fan", "media_player"),
    "anything": lambda e: e.domain in ("light", "switch", "fan", "media_player"),
    "device": lambda e: e.domain in ("light", "switch", "fan", "media_player"),
}
_PLURALS = {"switche": "switches", "thing": "things", "anything": "things", "device": "devices"}


@dataclass(frozen=True)
class _Question:
    words: list[str]  # normalized
    text: str  # normalized, space-joined
    home: Home
    area: str | None

    def has(self, *candidates: str) -> bool:
        return any(word in self.words for word in candidates)


def _phrase_at(text: str, phrase: str) -> bool:
    return re.search(rf"(?:^| ){re.escape(phrase)}(?= |$)", text) is not None


def area_in(text: str, home: Home, device_area: str | None) -> str | None:
    """The area the normalized words name (the longest), or the satellite's for 'here'."""
    if device_area and _phrase_at(text, "here"):
        return home.area_names.match(device_area)
    found = [
        (len(spoken), home.area_names.canonical[spoken])
        for spoken in home.area_names.canonical
        if _phrase_at(text, spoken)
    ]
    return max(found)[1] if found else None


def entity_in(text: str, home: Home) -> Entity | None:
    """The device the normalized words name by its name or an alias (the longest)."""
    found = [
        (len(spoken), home.names.canonical[spoken])
        for spoken in home.names.canonical
        if _phrase_at(text, spoken)
    ]
    return home.by_name[max(found)[1]] if found else None


def _entity_by_words(question: "_Question", kind: str | None) -> Entity | None:
    """The device most of whose distinctive words the question holds ("is the shed
    locked?" for Shed Lock), of the kind it names if it names one; None on a tie."""
    return entity_by_words(question.home, set(question.words), KINDS[kind] if kind else None)


def entity_by_words(
    home: Home, said: set[str], fits: Callable[[Entity], bool] | None = None
) -> Entity | None:
    """The one device (that `fits`) holding most of the said words that set it apart
    from other devices (not 'light', 'the', 'room'); None on a tie or none."""
    scores: dict[str, int] = {}
    for entity in home.entities:
        if fits is not None and not fits(entity):
            continue
        distinct = {
            word
            for text in (entity.name, *entity.aliases)
            for word in normalize(text).split()
            if word not in DEVICE_WORDS and word not in _FILLER
        }
        if score := len(distinct & said):
            scores[entity.name] = score
    best = max(scores.values(), default=0)
    top = [name for name, score in scores.items() if score == best]
    return home.by_name[top[0]] if best and len(top) == 1 else None


def _joined(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _asked_state(words: list[str]) -> str | None:
    for word in reversed(words):  # the state comes last: "is the door that's open closed"
        if word in _STATE_WORDS:
            return means(word)
    return None


def _fits(entity: Entity, state: str, strict: bool = False) -> str | None:
    """The state word this entity can be in that the question means, or None.

    `strict`: only the word itself (a list of open doors leaves out the unlocked locks)."""
    words = state_words(entity)
    if words is None:
        return None
    if not strict and entity.domain == "lock":
        state = _AS_LOCK.get(state, state)
    elif not strict and (
        entity.domain == "cover" or entity.device_class in ("door", "garage_door", "window")
    ):
        state = _AS_COVER.get(state, state)
    possible = {words, _PAIRS.get(words, "")}
    return state if state in possible else None


def answer(utterance: str, home: Home | None, device_area: str | None) -> str | None:
    """A spoken answer from the home's states, or None when the rules can't tell."""
    if home is None:
        return None
    words = Words(utterance)
    text = normalize(re.sub(r"(\w)'(s|re)\b", r"\1 is", utterance.lower()))
    if not words.question:
        # "the garage door." is most likely a question cut short: say how it is.
        entity = entity_in(text, home) if words.is_fragment(home) else None
        return _about(entity, None) if entity is not None else None
    question = _Question(text.split(), text, home, area_in(text, home, device_area))
    if question.has(*_TEMPERATURE) or question.has(*_HUMIDITY):
        return _measurement(question)
    state = _asked_state(question.words)
    entity = entity_in(text, home)
    if entity is not None:
        return _about(entity, state)
    kind = next((word for word in question.words if word in KINDS), None)
    if (
        state is not None
        and question.area is None
        and (entity := _entity_by_words(question, kind)) is not None
    ):
        return _about(entity, state)
    if state is None:
        return None
    if kind is None and question.area is not None:  # "is the garage open?"
        fitting = [e for e in home.entities_in(question.area) if _fits(e, state)]
        return _about(fitting[0], state) if len(fitting) == 1 else None
    return _scope(question, kind, state) if kind is not None else None


def _about(entity: Entity, state: str | None) -> str | None:
    words = state_words(entity)
    if words is None:
        return None
    if state is None:
        return f"{entity.name} is {words}."
    fitting = _fits(entity, state)
    if fitting is None:
        return f"{entity.name} is {words}."
    yes = "Yes" if words == fitting else "No"
    return f"{yes}, {entity.name} is {words}."


def _scope(question: _Question, kind: str, state: str) -> str | None:
    """Lists, counts and any-questions over a kind of device, in an area or the home."""
    in_scope = [e for e in question.home.entities if KINDS[kind](e)]
    in_scope = [e for e in in_scope if question.area in (None, e.area)]
    of_kind = [e for e in in_scope if _fits(e, state, strict=True)] or [
        e for e in in_scope if _fits(e, state)
    ]
    if not of_kind:
        return None
    fitting = _fits(of_kind[0], state) or state
    matching = [e.name for e in of_kind if state_words(e) == _fits(e, state)]
    noun = _PLURALS.get(kind, f"{kind}s")
    where = f" in the {question.area}" if question.area else ""
    others = [e for e in of_kind if e.name not in matching]
    yes_no = question.words[0] in ("is", "are") and not question.has("which", "what", "many")
    if yes_no and not question.has("any", "anything", "anyone") and others:
        other_state = state_words(others[0])
        verb = "is" if len(others) == 1 else "are"
        said = f"No, {_joined([e.name for e in others])} {verb} {other_state}{where}"
        if not matching or question.has("all", "every", "everything"):
            return f"{said}."
        # "are the lights on in the bedroom?": the ones that are, too
        verb = "is" if len(matching) == 1 else "are"
        return f"{said}; {_joined(matching)} {verb} {fitting}."
    if not matching:
        none = f"No {noun} are {fitting}{where}."
        return f"No, {none[0].lower()}{none[1:]}" if yes_no else none
    verb = "is" if len(matching) == 1 else "are"
    listed = f"{_joined(matching)} {verb} {fitting}{where}."
    if question.has("many", "number"):
        count = number_to_words(len(matching)).capitalize()
        single = noun[:-2] if noun.endswith("ches") else noun[:-1]
        counted = single if len(matching) == 1 else noun
        return f"{count} {counted} {verb} {fitting}{where}: {_joined(matching)}."
    return f"Yes, {listed}" if yes_no else listed


def _measurement(question: _Question) -> str | None:
    """Temperature or humidity from sensors (or a thermostat), in an area or outside."""
    home = question.home
    device_class = "temperature" if question.has(*_TEMPERATURE) else "humidity"
    sensors = [
        e
        for e in home.entities
        if e.domain == "sensor" and e.device_class == device_class and e.state is not None
    ]
    outside = question.has(*_OUTSIDE)
    if outside:
        scoped = [e for e in sensors if _OUTSIDE & set(normalize(e.name).split())]
    elif question.area is not None:
        scoped = [e for e in sensors if e.area == question.area]
    else:
        scoped = [e for e in sensors if not _OUTSIDE & set(normalize(e.name).split())]
    if not scoped and device_class == "temperature" and not outside:
        climates = [
            e
            for e in home.entities
            if e.domain == "climate"
            and question.area in (None, e.area)
            and isinstance(e.attributes.get("current_temperature"), int | float)
        ]
        if climates:
            current = climates[0].attributes["current_temperature"]
            return f"It is {current:g} degrees at {climates[0].name}."
    if not scoped and not question.has("inside", "indoor", "in") and question.area is None:
        scoped, outside = sensors, bool(sensors)  # only an outdoor sensor: say so
    readings = [(e, state_words(e)) for e in scoped[:4]]
    readings = [(e, w) for e, w in readings if w and not w.startswith(("unknown", "unavail"))]
    if not readings:
        return None
    if len(readings) == 1:
        entity, words = readings[0]
        where = (
            " outside"
            if outside
            else f" in the {entity.area}"
            if entity.area
            else f" at {entity.name}"
        )
        subject = "It is" if device_class == "temperature" else "The humidity is"
        return f"{subject} {words}{where}."
    return " ".join(f"{e.name} is {w}." for e, w in readings)
