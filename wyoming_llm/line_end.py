"""Lines that can only end where they are, so their command goes out one token sooner.

"TurnOff Desk Lamp" is complete once "Lamp" is written if no name in the home goes on
from "Desk Lamp": the model's next token can only be the line's end. Sending the
command then saves the time of a token, and a client that takes one intent stops
the generation there. Only the plain on/off/toggle shapes qualify: a name, or an
area and a domain, the last value one the home knows in full.
"""

from .home import Home
from .output import OutputError, parse_compact_line

EARLY_VERBS = frozenset({"TurnOn", "TurnOff", "Toggle"})


def _spoken(text: str) -> str:
    return " ".join(text.lower().split())


class LineEnds:
    """The home's names, areas and domains, gathered once per request for `ends_here`."""

    def __init__(self, home: Home | None) -> None:
        self.home = home
        if home is None:
            return
        self.names = {_spoken(s) for s in home.names.spoken}
        self.places = {_spoken(s) for s in home.area_names.spoken}
        self.domains = {_spoken(e.domain) for e in home.entities}

    def ends_here(self, text: str) -> bool:
        """True when the partial line `text` (no newline yet) can't go on."""
        if self.home is None or not text or text != text.rstrip():
            return False
        try:
            line = parse_compact_line(text)
        except OutputError:
            return False
        if line.verb not in EARLY_VERBS:
            return False
        if list(line.slots) == ["name"]:
            name = _spoken(str(line.slots["name"]))
            return _whole(name, self.names, text) and not any(
                place.startswith(name) for place in self.places
            )
        if list(line.slots) == ["area", "domain"]:
            return _whole(str(line.slots["domain"]), self.domains, text)
        return False


def _whole(value: str, known: set[str], text: str) -> bool:
    """The line ends with `value`, a known value that no other known value goes on from."""
    value = _spoken(value)
    if value not in known or not _spoken(text).endswith(value):
        return False
    return not any(other != value and other.startswith(value) for other in known)
