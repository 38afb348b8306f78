"""Steering transcripts towards the home's own names (devices, areas, terms).

Names arrive in `transcribe.transcript_names` / `transcript_terms` (wyoming 1.10)
or in `transcribe.context` (`names`, `areas`, `terms`, `entities`). They become
Whisper's initial prompt, and afterwards near-misses in the transcript ("living
room ramp") are snapped to the home's spelling ("Living Room Lamp").
"""

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from wyoming.asr import Transcribe

MAX_NAMES = 500
MAX_PROMPT_CHARS = 600  # ~150 tokens: well inside Whisper's 223-token prompt limit
SNAP_RATIO = 0.86
_WORD = re.compile(r"[\w']+")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item.strip() for item in value if isinstance(item, str) and item.strip()]
    return []


def _entity_names(entities: Any) -> list[str]:
    names: list[str] = []
    if not isinstance(entities, list):
        return names
    for entity in entities:
        if isinstance(entity, str):
            names.append(entity)
        elif isinstance(entity, dict):
            names += _strings(entity.get("name")) + _strings(entity.get("aliases"))
            names += _strings(entity.get("area"))
    return names


def _unique(items: Iterable[str], limit: int) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for item in items:
        key = item.strip().lower()
        if key and key not in seen:
            seen[key] = item.strip()
    return tuple(seen.values())[:limit]


@dataclass(frozen=True)
class Vocabulary:
    """Names (exact spellings) and terms that should bias one transcription."""

    names: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()

    @staticmethod
    def from_request(request: Transcribe) -> "Vocabulary":
        context = request.context if isinstance(request.context, dict) else {}
        names = (
            _strings(request.transcript_names)
            + _strings(context.get("transcript_names"))
            + _strings(context.get("names"))
            + _entity_names(context.get("entities"))
            + _strings(context.get("areas"))
        )
        terms = (
            _strings(request.transcript_terms)
            + _strings(context.get("transcript_terms"))
            + _strings(context.get("terms"))
        )
        return Vocabulary(_unique(names, MAX_NAMES), _unique(terms, MAX_NAMES))

    def prompt(self) -> str | None:
        """Initial prompt listing names first, then terms, within Whisper's limit."""
        pieces: list[str] = []
        length = 0
        for item in (*self.names, *self.terms):
            if length + len(item) + 2 > MAX_PROMPT_CHARS:
                break
            pieces.append(item)
            length += len(item) + 2
        return ", ".join(pieces) + "." if pieces else None

    def snap(self, text: str) -> str:
        """Replace spans that nearly match a name with the name's exact spelling.

        Spans of one word more or less than the name are tried too, compared
        without spaces, so "bed room" finds "Bedroom".
        """
        if not self.names or not text:
            return text
        words = [(m.start(), m.end(), m.group().lower()) for m in _WORD.finditer(text)]
        taken = [False] * len(words)
        replacements: list[tuple[int, int, str]] = []
        for name in sorted(self.names, key=lambda n: -len(_WORD.findall(n))):
            name_words = _WORD.findall(name.lower())
            target = "".join(name_words)
            if len(target) < 4:
                continue
            best: tuple[float, int, int] | None = None
            for size in (len(name_words), len(name_words) - 1, len(name_words) + 1):
                for start in range(max(len(words) - size + 1, 0) if size else 0):
                    if any(taken[start : start + size]):
                        continue
                    span = "".join(word for _, _, word in words[start : start + size])
                    score = _similarity(span, target)
                    if score >= SNAP_RATIO and (best is None or score > best[0]):
                        best = (score, start, start + size)
            if best is None:
                continue
            _, start, end = best
            taken[start:end] = [True] * (end - start)
            replacements.append((words[start][0], words[end - 1][1], name))
        for begin, finish, name in sorted(replacements, reverse=True):
            text = text[:begin] + name + text[finish:]
        return text


@functools.lru_cache(maxsize=4096)
def _bigrams(text: str) -> frozenset[str]:
    return frozenset(text[i : i + 2] for i in range(len(text) - 1))


def _similarity(span: str, target: str) -> float:
    if span == target:
        return 1.0
    if abs(len(span) - len(target)) > (1 - SNAP_RATIO) * 2 * max(len(span), len(target)):
        return 0.0
    span_pairs, target_pairs = _bigrams(span), _bigrams(target)
    if 2 * len(span_pairs & target_pairs) < 0.6 * (len(span_pairs) + len(target_pairs)):
        return 0.0
    matcher = SequenceMatcher(None, span, target, autojunk=False)
    if matcher.quick_ratio() < SNAP_RATIO:
        return 0.0
    return matcher.ratio()
