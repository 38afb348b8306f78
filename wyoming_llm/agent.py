"""From the user's words to commands, an answer, or a sentence saying what went wrong.

The embedded model first writes freely (no grammar: cheapest per token); each
line is parsed and validated as soon as it is complete, and a valid command is
handed on at once. When the first line is malformed or breaks the rules, the
request is decoded again under a grammar that allows only valid lines.
Remote backends answer JSON under a schema instead.
"""

import dataclasses
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import constraints, prompt
from .backend import Backend, BackendError, GenerationRequest, GenerationStats, Message
from .early import LineEnds
from .home import Home
from .intents import SAY, UNKNOWN, Command
from .memory import Memory, Turn
from .output import Line, OutputError, parse_compact_line, parse_json, render_compact
from .validate import Answer, InvalidLine, UnknownTarget, Validator

_LOGGER = logging.getLogger(__name__)
NOT_UNDERSTOOD = (
    "Sorry, I didn't understand that. Try naming the device and what to do, "
    "like 'turn off the kitchen lights'."
)


@dataclass(frozen=True)
class AgentRequest:
    text: str
    conversation_id: str
    home: Home | None = None
    device_area: str | None = None
    single_intent: bool = False  # the client uses only the first intent: stop after it
    history_turns: int | None = None  # at most this many remembered turns (None: the server's)


@dataclass(frozen=True)
class AnswerPiece:
    """A piece of a spoken answer, streamed as it is generated."""

    text: str


Emitted = Command | AnswerPiece
Emit = Callable[[Emitted], None]


@dataclass
class AgentResult:
    commands: list[Command] = field(default_factory=list)
    answer: str | None = None
    not_recognized: str | None = None
    backend: str = ""
    constrained: bool = False
    stats: GenerationStats = field(default_factory=GenerationStats)
    first_output_seconds: float | None = None

    @property
    def kind(self) -> str:
        if self.commands:
            return "intents"
        return "answer" if self.answer is not None else "not-recognized"


def new_conversation_id() -> str:
    return uuid.uuid4().hex


class _Collector:
    """Parses streamed text into validated lines, emitting commands and answer text early."""

    def __init__(
        self,
        validator: Validator,
        emit: Emit,
        single_intent: bool,
        compact: bool,
        started: float,
        cancelled: threading.Event,
    ) -> None:
        self.validator = validator
        self.emit = emit
        self.single_intent = single_intent
        self.compact = compact
        self.started = started
        self.cancelled = cancelled
        self.result = AgentResult()
        self.lines: list[Line] = []
        self.error: str | None = None
        self.done = False
        self._buffer = ""
        self._streamed = 0  # characters of a Say line already emitted
        self._line_ends = LineEnds(validator.home)

    def feed(self, text: str) -> bool:
        """Take generated text; False when generation should stop."""
        if self.done or self.cancelled.is_set():
            return False
        if not self.compact:
            self._json(text)
            return False
        self._buffer += text
        while "\n" in self._buffer and not self.done:
            line, self._buffer = self._buffer.split("\n", 1)
            self._streamed_line(line)
        if not self.done and self._line_ends.ends_here(self._buffer):
            self._streamed_line(self._buffer)  # again at its newline: the command is not repeated
        if not self.done:
            self._stream_answer(self._buffer, final=False)
        return not self.done

    def finish(self) -> None:
        if self.compact and not self.done and self._buffer.strip():
            self._streamed_line(self._buffer)
        self._buffer = ""

    def _stream_answer(self, partial: str, final: bool) -> None:
        """Emit the growing text of a first `Say` line."""
        if self.result.commands or not partial.startswith(f"{SAY} "):
            return
        text = partial[len(SAY) + 1 :]
        if not final:
            text = text[: len(text.rstrip())]  # hold back trailing spaces
        if len(text) > self._streamed:
            self._mark_first()
            self.emit(AnswerPiece(text[self._streamed :]))
            self._streamed = len(text)

    def _streamed_line(self, text: str) -> None:
        if not text.strip():
            return
        self._stream_answer(text.strip(), final=True)
        try:
            self._accept(parse_compact_line(text))
        except (OutputError, InvalidLine) as err:
            self.error = f"{err} in {text.strip()[:80]!r}"
            self.done = True

    def _json(self, text: str) -> None:
        try:
            lines = parse_json(text)
        except OutputError as err:
            self.error = str(err)
            self.done = True
            return
        for line in lines:
            if self.done:
                break
            try:
                self._accept(line)
            except InvalidLine as err:
                _LOGGER.info("Dropped %s: %s", line, err)
                if not self.lines:
                    self.error = str(err)
        self.done = True

    def _mark_first(self) -> None:
        if self.result.first_output_seconds is None:
            self.result.first_output_seconds = time.monotonic() - self.started

    def _accept(self, line: Line) -> None:
        outcome = self.validator.check(line)
        result = self.result
        if isinstance(outcome, Command):
            if result.answer is not None or result.not_recognized is not None:
                self.done = True
                return
            if outcome in result.commands:
                return
            self._mark_first()
            result.commands.append(outcome)
            self.lines.append(Line(line.verb, dict(outcome.slots)))
            self.emit(outcome)
            self.done = self.single_intent
            return
        self.done = True
        if result.commands or result.answer is not None:
            return
        if isinstance(outcome, Answer):
            result.answer = outcome.text
            self.lines.append(Line(SAY, text=outcome.text))
            if not self.compact:
                self._mark_first()
                self.emit(AnswerPiece(outcome.text))
        elif isinstance(outcome, UnknownTarget):
            result.not_recognized = outcome.sentence(self.validator.home)
            self.lines.append(Line(UNKNOWN, text=outcome.value))

    @property
    def has_output(self) -> bool:
        return bool(self.lines)

    @property
    def may_continue(self) -> bool:
        """Commands were accepted, then a line was rejected: the rest can be redone."""
        return self.error is not None and bool(self.result.commands) and not self.single_intent

    def resume(self) -> str:
        """Reset for a constrained continuation; return the accepted text to continue from."""
        self.error = None
        self.done = False
        self._buffer = ""
        return "".join(render_compact(line) + "\n" for line in self.lines)


class Agent:
    """Runs requests against the backends in order (primary, then fallback)."""

    def __init__(
        self,
        backends: list[Backend],
        memory: Memory,
        *,
        rules: str | None = None,
        max_tokens: int = 96,
        timeout: float = 20.0,
    ) -> None:
        if not backends:
            raise ValueError("at least one backend is needed")
        self.backends = backends
        self.memory = memory
        self.rules = rules
        self.max_tokens = max_tokens
        self.timeout = timeout

    def run(
        self,
        request: AgentRequest,
        emit: Emit,
        cancelled: threading.Event | None = None,
        *,
        limited: bool = True,
    ) -> AgentResult:
        """Blocking: call from a worker thread. Raises BackendError when every backend fails.

        `limited=False` lifts the time limit (the warm-up, which evaluates whole prefixes).
        """
        cancelled = cancelled or threading.Event()
        started = time.monotonic()
        deadline = started + self.timeout if limited else None
        errors: list[str] = []
        for index, backend in enumerate(self.backends):
            last = index == len(self.backends) - 1
            if not backend.available() and not last:
                errors.append(f"{backend.description}: skipped after a recent failure")
                continue
            try:
                result = self._run_on(backend, request, emit, cancelled, started, deadline)
            except BackendError as err:
                _LOGGER.warning("%s failed: %s", backend.description, err)
                errors.append(str(err))
                continue
            if errors:
                _LOGGER.info("Answered by fallback %s", backend.description)
            return result
        raise BackendError("; ".join(errors))

    def _messages(self, request: AgentRequest, render: prompt.Renderer) -> tuple[Message, ...]:
        messages: list[Message] = []
        for turn in self.memory.history(request.conversation_id, request.history_turns):
            messages.append({"role": "user", "content": turn.user})
            messages.append({"role": "assistant", "content": render(list(turn.lines))})
        messages.append(
            {"role": "user", "content": prompt.user_message(request.text, request.device_area)}
        )
        return tuple(messages)

    def _run_on(
        self,
        backend: Backend,
        request: AgentRequest,
        emit: Emit,
        cancelled: threading.Event,
        started: float,
        deadline: float | None,
    ) -> AgentResult:
        static = prompt.prefix(request.home, backend.compact, self.rules)
        generation = GenerationRequest(
            prefix=static.messages,
            prefix_key=(request.home.key if request.home else "") + str(backend.compact),
            messages=self._messages(request, static.render),
            schema=None if backend.compact else _schema(request.home),
            max_tokens=self.max_tokens,
            deadline=deadline,
        )
        validator = Validator(request.home, request.device_area, request.text)

        def collector() -> _Collector:
            return _Collector(
                validator, emit, request.single_intent, backend.compact, started, cancelled
            )

        reader = collector()
        stats = backend.generate(generation, reader.feed)
        reader.finish()
        constrained = False
        if reader.may_continue and backend.compact and not cancelled.is_set():
            _LOGGER.info("Line rejected (%s); continuing under the grammar", reader.error)
            constrained = True
            generation = dataclasses.replace(
                generation, grammar=_grammar(request.home), continuation=reader.resume()
            )
            stats = _add(stats, backend.generate(generation, reader.feed))
            reader.finish()
        elif not reader.has_output and backend.compact and not cancelled.is_set():
            _LOGGER.info("Free output rejected (%s); decoding under the grammar", reader.error)
            constrained = True
            reader = collector()
            generation = dataclasses.replace(generation, grammar=_grammar(request.home))
            more = backend.generate(generation, reader.feed)
            reader.finish()
            stats = _add(stats, more)
        result = reader.result
        result.backend = backend.description
        result.constrained = constrained
        result.stats = stats
        if not reader.has_output:
            result.not_recognized = NOT_UNDERSTOOD
        if reader.lines:
            user = prompt.user_message(request.text, request.device_area)
            self.memory.add(request.conversation_id, Turn(user, tuple(reader.lines)))
        return result


_GRAMMARS: dict[str, str] = {}
_SCHEMAS: dict[str, dict[str, Any]] = {}


def _grammar(home: Home | None) -> str:
    key = home.key if home else ""
    if key not in _GRAMMARS:
        if len(_GRAMMARS) > 16:
            _GRAMMARS.clear()
        _GRAMMARS[key] = constraints.grammar(home)
    return _GRAMMARS[key]


def _schema(home: Home | None) -> dict[str, Any]:
    key = home.key if home else ""
    if key not in _SCHEMAS:
        if len(_SCHEMAS) > 16:
            _SCHEMAS.clear()
        _SCHEMAS[key] = constraints.json_schema(home)
    return _SCHEMAS[key]


def _add(first: GenerationStats, second: GenerationStats) -> GenerationStats:
    return GenerationStats(
        prompt_tokens=first.prompt_tokens + second.prompt_tokens,
        generated_tokens=first.generated_tokens + second.generated_tokens,
        seconds=first.seconds + second.seconds,
        first_token_seconds=first.first_token_seconds,
        threads=second.threads or first.threads,
    )
