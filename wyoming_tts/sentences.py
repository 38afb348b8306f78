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
# The first piece is spoken while the rest is still being written or synthesized,
# so a short one starts the audio sooner: a first sentence longer than
# FIRST_PIECE_WORDS is cut at its first clause break, or else before a linking word
# ("and", "with", ...) after at least FIRST_PIECE_MIN_WORDS. Later pieces are whole
# sentences, which sound more natural.
FIRST_PIECE_WORDS = 8
FIRST_PIECE_MIN_WORDS = 4
_LINKING_WORDS = frozenset(
    (
        *("and", "but", "or", "so", "because", "which", "that", "when", "while", "if"),
        *("with", "to", "for", "in", "on", "at", "from", "of", "after", "before", "until"),
    )
)

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

    def __init__(self, max_chars: int = MAX_SENTENCE_CHARS, early_first: bool = True) -> None:
        self.max_chars = max_chars
        self.early_first = early_first
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
        yield from self.add("\n")
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
        if self._released == 0 and self.early_first:
            end = _first_break(buffer, end) or end
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


def _first_break(text: str, end: int | None) -> int | None:
    """Where to cut a long first sentence early (see FIRST_PIECE_WORDS), if anywhere yet."""
    head = text[:end] if end is not None else text
    words = list(re.finditer(r"\S+(?=\s)", head))  # only words known to be complete
    if end is not None and len(head.split()) <= FIRST_PIECE_WORDS:
        return None
    if clause := _CLAUSE.search(head):
        return clause.end()
    for index, word in enumerate(words):
        if index >= FIRST_PIECE_MIN_WORDS and word.group().lower() in _LINKING_WORDS:
            return word.start()
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
