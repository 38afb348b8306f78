"""What the user's own words ask for, so a small model's guess never opens the house.

A lock or a door cover moves only in the direction the transcript asks for; an
action that lowers security (unlock, open a garage door, gate or door) runs only
when words of that meaning stand in the transcript, un-negated and not inside a
question; an utterance of nothing but names ("the garage door.") moves nothing.
Everything else is asked back.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from .home import Entity, Home, normalize


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


class Direction(Enum):
    """Which way a lock, cover or valve moves."""

    OPEN = "open"  # unlock a lock, open a cover or valve
    CLOSE = "close"  # lock a lock, close a cover or valve


# Phrases (normalized words, "*" one to three words of any kind) per kind of device.
_PHRASES: dict[str, dict[Direction, tuple[str, ...]]] = {
    "lock": {
        Direction.OPEN: (
            "unlock",
            "unlocking",
            "unbolt",
            "unlatch",
            "disengage",
            "let * in",
            "let in",
            "unlocked",
            "open",
            "release",
        ),
        Direction.CLOSE: (
            "lock",
            "locking",
            "locked",
            "lock up",
            "bolt",
            "latch",
            "secure",
            "keep * out",
            "engage",
            "close",
            "shut",
        ),
    },
    "cover": {
        Direction.OPEN: ("open", "opening", "raise", "lift", "pull up", "roll up", "let * in"),
        Direction.CLOSE: (
            "close",
            "closing",
            "closed",
            "shut",
            "lower",
            "pull down",
            "roll down",
            "secure",
            "keep * out",
            "draw",
        ),
    },
}
_PHRASES["valve"] = _PHRASES["cover"]

_NEGATIONS = frozenset(
    {"dont", "doesnt", "not", "never", "no", "nobody", "without", "stop", "cannot", "cant", "wont"}
)
# A question about a state starts like this (a request starts "can you", "please").
_QUESTION_STARTS = frozenset(
    {
        "is",
        "are",
        "was",
        "were",
        "did",
        "does",
        "do",
        "has",
        "have",
        "what",
        "which",
        "how",
        "who",
        "why",
        "when",
        "where",
    }
)
_REQUEST_STARTS = ("can you", "could you", "would you", "will you", "please", "can u")
# Words that carry no action: with the home's names they make a fragment.
_FUNCTION_WORDS = frozenset(
    normalize(word)
    for word in _word_set(
        "a an the my our your this that these those of in at to for and or with "
        "from all both every some please thanks thank you hey ok okay um uh er hmm"
    )
)
# Words naming a kind of device (normalized: no plural s).
DEVICE_WORDS = _word_set(
    "light lamp bulb fan door garage gate lock blind shade curtain shutter cover window "
    "switch plug socket speaker tv television thermostat heating heater valve sensor"
)
_KIND_WORDS = frozenset({"door", "lock", "gate", "opener"})
SECURITY_COVER_CLASSES = frozenset({"garage", "gate", "door"})
_SECURITY_WORDS = frozenset({"garage", "gate", "door"})


# Words after which a phrase is quoted or reported, not asked ("repeat after me: unlock
# the front door", "the note says open the gate").
_REPORTING = re.compile(
    r"(?:^| )(?:repeat|say|says|said|saying|quote|quoting|read|reads|spell|told|tells|wrote)"
    r"(?= |$)"
)
# Words of text that poses as the system or argues with the rules: nothing in such a
# transcript counts as the user's own request to open or unlock.
_POSING = _word_set(
    "system admin administrator authorised authorized authorisation authorization "
    "override ignore instructions developer jailbreak pretend sudo"
)


def _pattern(phrase: str) -> re.Pattern[str]:
    words = [r"(?:\S+ ){1,3}" if word == "*" else re.escape(word) + " " for word in phrase.split()]
    return re.compile(r"(?:^| )(" + "".join(words).rstrip() + ")(?= |$)")


_ACTION_WORDS = frozenset(
    word
    for table in _PHRASES.values()
    for phrases in table.values()
    for phrase in phrases
    for word in phrase.split()
    if word not in ("*", "in", "out", "up", "down")
)
_PATTERNS = {
    kind: {direction: [_pattern(p) for p in phrases] for direction, phrases in table.items()}
    for kind, table in _PHRASES.items()
}


def _normalized(utterance: str) -> str:
    """Lower-case words; "don't" becomes "dont" so a negation stays one word."""
    text = re.sub(r"(\w)'(t|s)\b", r"\1\2", utterance.lower().replace("\u2019", "'"))
    return normalize(text)


@dataclass(frozen=True)
class Asked:
    """What the transcript asks of one kind of device."""

    said: frozenset[Direction]  # directions with an un-negated phrase
    negated: frozenset[Direction]  # directions that only stand negated
    first: dict[Direction, int]  # where the first un-negated phrase of each starts

    @property
    def direction(self) -> Direction | None:
        """The one direction the words ask for, or None when they ask for none or both."""
        return next(iter(self.said)) if len(self.said) == 1 else None


class Words:
    """One transcript, read for what it asks."""

    def __init__(self, utterance: str) -> None:
        self.text = _normalized(utterance)
        self.words = self.text.split()
        reported = _REPORTING.search(self.text)
        # Where the user's own request ends: at a quoting word, or at once for posing text.
        self.own_until = (
            0 if _POSING & set(self.words) else reported.start() if reported else len(self.text)
        )
        raw = re.sub(r"[^\w ]", " ", utterance.lower()).split()
        opening = " ".join(raw[:2])
        self.question = (
            bool(raw)
            and not opening.startswith(_REQUEST_STARTS)
            and (utterance.strip().endswith("?") or raw[0] in _QUESTION_STARTS)
        )

    def asked(self, kind: str) -> Asked:
        """The directions the words ask for a lock ("lock") or a cover or valve."""
        said: set[Direction] = set()
        negated: set[Direction] = set()
        first: dict[Direction, int] = {}
        for direction, patterns in _PATTERNS.get(kind, {}).items():
            for pattern in patterns:
                for match in pattern.finditer(self.text):
                    if match.start(1) >= self.own_until:
                        continue  # quoted, reported or posing: not asked
                    before = set(self.text[: match.start(1)].split()[-3:])
                    denied = _NEGATIONS & before and "forget" not in before  # "don't forget to"
                    if denied:
                        negated.add(direction)
                    else:
                        said.add(direction)
                        first[direction] = min(first.get(direction, len(self.text)), match.start(1))
        return Asked(frozenset(said), frozenset(negated - said), first)

    def is_fragment(self, home: Home | None) -> bool:
        """Nothing but names and small words: no verb, so no action was asked for."""
        if not self.words or self.question:
            return False
        known = set(_FUNCTION_WORDS | DEVICE_WORDS)
        if home is None:
            return all(word in known for word in self.words)
        names = [
            normalize(spoken)
            for spoken in (*home.names.spoken, *home.area_names.spoken, *home.floor_names.spoken)
        ]
        # A whole name said is no verb, even when it holds one ("back door lock").
        text = f" {self.text} "
        for name in sorted(names, key=len, reverse=True):
            text = text.replace(f" {name} ", " ")
        for name in names:
            known.update(name.split())
        return all(word in known - _ACTION_WORDS for word in text.split())

    def name_at(self, names: Iterable[str]) -> int | None:
        """Where the user first said a word of these names (an entity's name and aliases)."""
        spoken: set[str] = set()
        for text in names:
            words = [word for word in normalize(text).split() if word not in _FUNCTION_WORDS]
            distinct = [word for word in words if word not in _KIND_WORDS]
            spoken.update(distinct or words)  # "every door" does not name the Garage Door
        at = [
            m.start()
            for word in spoken
            for m in re.finditer(rf"(?:^| ){re.escape(word)}(?= |$)", self.text)
        ]
        return min(at) if at else None


def device_kind(domain: str) -> str | None:
    """The kind of device whose direction words matter: lock, cover, valve, or None."""
    return domain if domain in _PHRASES else None


def lowers_security(domain: str, direction: Direction, entities: list[Entity]) -> bool:
    """Unlocking anything, or opening a garage door, gate or door (by class or by name)."""
    if direction is not Direction.OPEN:
        return False
    if domain == "lock":
        return True
    if domain != "cover":
        return False
    if not entities:
        return True  # covers the home didn't describe: assume the worst
    for entity in entities:
        if entity.device_class in SECURITY_COVER_CLASSES:
            return True
        if entity.device_class is None and _SECURITY_WORDS & set(normalize(entity.name).split()):
            return True
    return False


_YES = _word_set("yes yeah yep yup sure ok okay please confirm correct affirmative right")
_YES_PHRASES = ("do it", "go ahead", "please do", "of course", "i do", "that s right")
_NO = _word_set("no nope nah cancel stop dont negative")
_NO_PHRASES = ("never mind", "no thanks", "no thank you", "leave it", "forget it", "i don t")


def answer_to_question(utterance: str) -> bool | None:
    """A yes (True) or no (False) to a question asked back; None when it is neither."""
    raw = re.sub(r"[^\w ]", " ", utterance.lower()).split()
    text = " ".join(raw)
    if not raw:
        return None
    if text in _NO or text.startswith(_NO_PHRASES) or (raw[0] in _NO and len(raw) <= 2):
        return False
    if raw[0] in _YES or text.startswith(_YES_PHRASES):
        return True
    return None
