"""Splitting text into sentences as it arrives, so speech can start early.

Text may come in pieces of any size (an LLM writing word by word). A sentence
is released as soon as its end is certain: a full stop, question or exclamation
mark (or a line break) followed by whitespace. Abbreviations ("Dr.", "e.g.")
and decimals ("21.5") do not end a sentence. A run of text with no sentence end
is cut at a clause or word boundary once it grows past `max_chars`, so memory
and the delay before speaking stay bounded whatever the client sends.
"""

import re
from collections.abc import Iterator

MAX_SENTENCE_CHARS = 300
# The first piece is spoken while the rest is synthesized: a short clause starts
# the audio sooner. Later pieces are whole sentences, which sound more natural.
FIRST_PIECE_MIN_CHARS = 24

_ABBREVIATIONS = frozenset(
    (
        *("mr", "mrs", "ms", "dr", "prof", "st", "sr", "jr", "vs", "etc", "e.g", "i.e", "no"),
        *("approx", "inc", "ltd", "co", "mt", "ft", "ave", "blvd", "jan", "feb", "mar", "apr"),
        *("jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"),
    )
)
_CLOSERS = "\"')\\]\u00bb\u201d\u2019"  # quotes and brackets after a sentence end
_END = re.compile(rf"[.!?\u2026]+[{_CLOSERS}]*(?=\s)|\n\s*\n|\n")
_CLAUSE = re.compile(r"[,;:\u2014\u2013](?=\s)")  # comma, semicolon, colon, dashes


class SentenceSplitter:
    """Accumulates text; yields each sentence once its end is known."""

    def __init__(
        self, max_chars: int = MAX_SENTENCE_CHARS, first_min_chars: int = FIRST_PIECE_MIN_CHARS
    ) -> None:
        self.max_chars = max_chars
        self.first_min_chars = first_min_chars
        self._buffer = ""
        self._released = 0

    def add(self, text: str) -> Iterator[str]:
        """Add text; yield the sentences it completes."""
        self._buffer += text
        while (sentence := self._next()) is not None:
            if sentence:
                self._released += 1
                yield sentence

    def finish(self) -> Iterator[str]:
        """Yield whatever text is left (the end of input ends a sentence)."""
        rest, self._buffer = self._buffer.strip(), ""
        while rest:
            piece, rest = _cut(rest, self.max_chars)
            if piece:
                self._released += 1
                yield piece

    def _next(self) -> str | None:
        """The next complete piece of text, or None if none is complete yet."""
        buffer = self._buffer
        end = _sentence_end(buffer)
        if self._released == 0:
            clause = _first_clause(buffer, self.first_min_chars)
            if clause is not None and (
                end is None or end > max(len(clause), 2 * self.first_min_chars)
            ):
                end = len(clause)
        if end is None and len(buffer) <= self.max_chars:
            return None
        piece, rest = _cut(buffer[: end or len(buffer)], self.max_chars)
        self._buffer = (rest + " " + buffer[end or len(buffer) :]).lstrip()
        return piece


def _sentence_end(text: str) -> int | None:
    """Index just past the first certain sentence end, or None."""
    for match in _END.finditer(text):
        if match.group().startswith(".") and _is_abbreviation_or_number(text, match.start()):
            continue
        return match.end()
    return None


def _is_abbreviation_or_number(text: str, dot: int) -> bool:
    """Whether the '.' at `dot` belongs to an abbreviation, initial or number."""
    word = text[:dot].rsplit(None, 1)[-1] if text[:dot].strip() else ""
    word = word.lstrip("(\"'[").lower()
    if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
        return True
    following = text[dot + 1 : dot + 2]
    return word[-1:].isdigit() and following.isdigit()


def _first_clause(text: str, min_chars: int) -> str | None:
    """The text up to the first clause break after `min_chars`, if that break is complete."""
    for match in _CLAUSE.finditer(text):
        if match.end() >= min_chars:
            return text[: match.end()]
    return None


def _cut(text: str, limit: int) -> tuple[str, str]:
    """Split over-long text at the last clause break, else word break, within `limit`."""
    if len(text) <= limit:
        return text.strip(), ""
    window = text[: limit + 1]
    cut = max((m.end() for m in _CLAUSE.finditer(window)), default=0)
    if cut < limit // 3:
        cut = window.rfind(" ")
    if cut < limit // 3:
        cut = limit
    return text[:cut].strip(), text[cut:].strip()
