"""Requests that state a need instead of an action, turned into the action by rule.

"It's pitch dark in the hallway", "the bathroom is all steamed up", "it's blinding in
the office", "that fan is driving me mad, make it stop": a 0.5B model often switches
the wrong kind of device on these, while what each need asks of a home is small and
fixed (darkness wants light, stale or damp air a fan or a dehumidifier, glare dimmer
lights or closed blinds, a nuisance named by the user to stop). A rule acts only when
the place (named, or the satellite's for "in here") has that kind of device; anything
else, negated or asked as a question, goes on to the model. None of these actions
lowers security: nothing is unlocked or opened.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from .home import Entity, Home, normalize
from .output import Line
from .questions import KINDS, area_in, entity_by_words, entity_in

DIM_PERCENT = 30  # "too bright": what the prompt's own example dims to


def _words(entity: Entity) -> set[str]:
    return {word for text in (entity.name, *entity.aliases) for word in normalize(text).split()}


def _light(entity: Entity) -> bool:
    return entity.domain == "light"


def _ventilation(entity: Entity) -> bool:
    words = _words(entity)
    moves_air = entity.domain == "fan" or bool(
        words & {"fan", "extractor", "ventilation", "vent", "ventilator"}
    )
    return moves_air and entity.domain in ("fan", "switch")


def _dehumidifier(entity: Entity) -> bool:
    return entity.domain in ("humidifier", "switch") and bool(
        _words(entity) & {"dehumidifier", "dryer"}
    )


def _kettle(entity: Entity) -> bool:
    return entity.domain == "switch" and bool(_words(entity) & {"kettle"})


def _coffee(entity: Entity) -> bool:
    return entity.domain == "switch" and bool(_words(entity) & {"coffee", "espresso", "percolator"})


def _shade(entity: Entity) -> bool:
    return entity.domain == "cover" and (
        entity.device_class in ("blind", "curtain", "shade", "shutter", "awning")
        or bool(_words(entity) & {"blind", "curtain", "shade", "shutter", "awning"})
    )


@dataclass(frozen=True)
class _Need:
    pattern: re.Pattern[str]
    fits: Callable[[Entity], bool]
    verb: str
    slots: tuple[tuple[str, str | int], ...] = ()
    named_first: bool = False  # a device the user names is the target if it fits
    anywhere: bool = False  # one such device in the whole home will do (the kettle)


def _said(*phrases: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(phrases) + r")\b")


_DARK = _said(
    r"(?:pitch|so|too|very|really|quite|bit|getting|rather) (?:dark|black|gloomy|dim)",
    r"dark (?:in )?(?:here|in the)",
    r"can ?t see (?:a thing|anything|a thing in|my hand)",
    r"cannot see (?:a thing|anything)",
    r"need (?:some |more )?light",
    r"light (?:it |things )?up",
    r"(?:brighten|lighten) (?:it |things )?up",
)
_GLARE = _said(
    r"(?:too|so|very|really|far too|way too|rather|painfully) bright",
    r"blinding",
    r"dazzling",
    r"glaring",
    r"hurts? my eyes",
)
_SUN = _said(
    r"too much sun",
    r"sun is (?:in my eyes|blinding|too strong)",
    r"(?:too|so) sunny",
    r"sun (?:glare|is glaring)",
    r"keep the sun out",
)
_STALE = _said(
    r"stuffy",
    r"stale",
    r"steam(?:ed|y)(?: up)?",
    r"stinks?",
    r"smell(?:s|y)",
    r"stinky",
    r"musty",
    r"smoky",
    r"clear the air",
    r"(?:some )?fresh air",
    r"air (?:it|the room|this place) out",
    r"can ?t breathe",
    r"(?:too|so|really|very) (?:hot|warm|muggy) in",
    r"boiling (?:in|hot)",
    r"sweltering",
    r"roasting",
)
_DAMP = _said(
    r"damp", r"humid", r"muggy", r"clammy", r"condensation", r"moist", r"mouldy", r"moldy"
)
_TEA = _said(
    r"(?:cup|cuppa|mug|pot) of tea",
    r"cuppa",
    r"(?:make|brew|fancy|want|like) (?:some |a )?tea",
    r"put the kettle on",
    r"boil (?:some )?water",
)
_COFFEE = _said(r"(?:cup|mug|pot) of coffee", r"(?:make|brew|fancy|want|like) (?:some |a )?coffee")
_NUISANCE = _said(
    r"make it stop",
    r"make (?:it|that) (?:quiet|shut up)",
    r"shut it up",
    r"(?:can|may|should) go off",
    r"(?:is|s) driving me (?:mad|crazy|nuts|insane|up the wall)",
    r"(?:is|s) getting on my nerves",
    r"(?:so|too|really|very) (?:noisy|loud)",
    r"(?:is|s) (?:so )?annoying",
    r"(?:is|s) doing my head in",
    r"(?:don ?t|do not) need (?:it|that) (?:any ?more|now)",
)

_NEEDS = (
    _Need(_DARK, _light, "TurnOn"),
    _Need(_SUN, _shade, "Close"),
    _Need(_GLARE, _light, "LightSet", (("brightness", DIM_PERCENT),), named_first=True),
    _Need(_DAMP, _dehumidifier, "TurnOn"),
    _Need(_STALE, _ventilation, "TurnOn"),
    _Need(_DAMP, _ventilation, "TurnOn"),
    _Need(_TEA, _kettle, "TurnOn", anywhere=True),
    _Need(_COFFEE, _coffee, "TurnOn", anywhere=True),
)
_NEGATED = _said(r"don ?t", r"do not", r"never", r"no need", r"not", r"isn ?t", r"aren ?t")
_QUESTION = re.compile(
    r"^(?:is|are|was|were|does|do|did|will|would|can|could|should|what|why|how|when|which)\b"
)
# Device words that name a kind of device ("their light", "that fan"), normalized.
_KIND_WORD = re.compile(r"\b(" + "|".join(map(re.escape, KINDS)) + r")\b")


def _plain(text: str) -> str:
    """Lower-case words, apostrophes dropped ("can't" -> "cant")."""
    return " ".join(re.sub(r"[^\w ]", " ", re.sub("['\u2019]", "", text.lower())).split())


def _asks(text: str) -> bool:
    # Apostrophes kept: "we're eating outside" is not "were ...".
    return text.rstrip().endswith("?") or _QUESTION.match(text.lower().lstrip()) is not None


def line_for(text: str, home: Home | None, device_area: str | None) -> Line | None:
    """The action a stated need asks of this home, or None (then the model decides)."""
    if home is None or _asks(text):
        return None
    plain = _plain(text)
    words = normalize(text)
    if _NUISANCE.search(plain):
        return _stop_named(words, home)
    if _NEGATED.search(plain.replace("cant see", "")):
        return None
    area = area_in(words, home, device_area) or (
        home.area_names.match(device_area) if device_area else None
    )
    named = entity_in(words, home)
    for need in _NEEDS:
        if not need.pattern.search(plain):
            continue
        if need.named_first and named is not None and need.fits(named):
            return Line(need.verb, {"name": named.name, **dict(need.slots)})
        found = [e for e in home.entities_in(area) if need.fits(e)] if area else []
        if not found and need.anywhere:
            found = [entity for entity in home.entities if need.fits(entity)]
        if need.fits is _light and found and area:
            return Line(need.verb, {"area": area, "domain": "light", **dict(need.slots)})
        if len(found) == 1:
            return Line(need.verb, {"name": found[0].name, **dict(need.slots)})
    return None


def _stop_named(words: str, home: Home) -> Line | None:
    """'that office fan is so noisy, make it stop': off with the device the user names."""
    kind = _KIND_WORD.search(words)
    fits = KINDS[kind.group(1)] if kind else None
    entity = entity_in(words, home) or entity_by_words(home, set(words.split()), fits)
    if entity is None or entity.domain not in ("light", "switch", "fan", "media_player"):
        return None
    if entity.domain == "media_player":
        return Line("MediaPause", {"name": entity.name})
    return Line("TurnOff", {"name": entity.name})
