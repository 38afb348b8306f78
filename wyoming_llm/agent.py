"""From the user's words to commands, an answer, or a sentence saying what went wrong.

The embedded model first writes freely (no grammar: cheapest per token); each
line is parsed and validated as soon as it is complete, and a valid command is
handed on at once. When the first line is malformed or breaks the rules, the
request is decoded again under a grammar that allows only valid lines.
Remote backends answer JSON under a schema instead.
"""

import contextlib
import dataclasses
import functools
import logging
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from . import constraints, needs, prompt, questions
from .backend import Backend, BackendError, GenerationRequest, GenerationStats, Message
from .home import Home, normalize
from .intents import BY_VERB, SAY, UNKNOWN, Command
from .line_end import LineEnds
from .memory import Memory, Turn
from .output import Line, OutputError, parse_compact_line, parse_json, render_compact
from .replies import declined_sentence
from .safety import DEVICE_WORDS, answer_to_question
from .validate import Answer, Confirm, InvalidLine, Several, UnknownTarget, Validator

_LOGGER = logging.getLogger(__name__)
NOT_UNDERSTOOD = (
    "Sorry, I didn't understand that. Try naming the device and what to do, "
    "like 'turn off the kitchen lights'."
)


CHAT_FALLBACK = (
    "I'm not sure what to say to that, but I'm happy to help around the house: "
    "ask me to switch something, or how warm it is."
)


def _about_the_home(text: str, home: Home | None) -> bool:
    """The words name a device, a kind of device or an area (not small talk)."""
    words = set(normalize(text).split())
    if words & DEVICE_WORDS:
        return True
    if home is None:
        return True  # can't tell: say what the agent understands
    spoken = [*home.names.spoken, *home.area_names.spoken, *home.floor_names.spoken]
    return any(set(normalize(name).split()) & words for name in spoken)


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
    asked: Command | None = None  # the command the answer asks back about
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


@dataclass(eq=False)
class _Collector(ABC):
    """Validates parsed lines into the result, emitting commands (and answer text) early.

    `feed` takes the generated text (False: stop generating) and `finish` ends it; the
    two output shapes, compact lines and JSON, each have their own collector.
    """

    validator: Validator
    emit: Emit
    single_intent: bool
    started: float
    cancelled: threading.Event
    result: AgentResult = field(default_factory=AgentResult, init=False)
    lines: list[Line] = field(default_factory=list, init=False)
    error: str | None = field(default=None, init=False)
    done: bool = field(default=False, init=False)

    @abstractmethod
    def feed(self, text: str) -> bool: ...

    @abstractmethod
    def finish(self) -> None:
        """The generation has ended."""

    @abstractmethod
    def _answered(self, text: str) -> None:
        """A `Say` line was accepted as the answer."""

    def _mark_first(self) -> None:
        if self.result.first_output_seconds is None:
            self.result.first_output_seconds = time.monotonic() - self.started

    def take(self, line: Line) -> None:
        """A line found by rule after generation ended (a verb shared in a list of names)."""
        self.done = False
        self._accept(line)

    def _accept(self, line: Line) -> None:
        outcome = self.validator.check(line)
        for each in outcome.commands if isinstance(outcome, Several) else (outcome,):
            if not self.done:
                self._take(line, each)

    def _take(self, line: Line, outcome: Command | UnknownTarget | Answer | Confirm) -> None:
        result = self.result
        if isinstance(outcome, Confirm) and result.commands:
            _LOGGER.info("Not run, not asked for: %s", outcome.command)
            self.done = True
            return
        if isinstance(outcome, Command):
            if result.answer is not None or result.not_recognized is not None:
                self.done = True
                return
            if outcome in result.commands:
                return
            self._mark_first()
            result.commands.append(outcome)
            self.lines.append(Line(outcome.verb or line.verb, dict(outcome.slots)))
            self.emit(outcome)
            self.done = self.single_intent
            return
        self.done = True
        if result.commands or result.answer is not None:
            return
        if isinstance(outcome, Confirm):
            result.answer = outcome.question
            result.asked = outcome.command
            self.lines.append(Line(SAY, text=outcome.question))
            self._mark_first()
            self.emit(AnswerPiece(outcome.question))
        elif isinstance(outcome, Answer):
            result.answer = outcome.text
            self.lines.append(Line(SAY, text=outcome.text))
            self._answered(outcome.text)
        elif isinstance(outcome, UnknownTarget):
            result.not_recognized = outcome.sentence(self.validator.home)
            self.lines.append(Line(UNKNOWN, text=outcome.value))

    @property
    def has_output(self) -> bool:
        return bool(self.lines)


@dataclass(eq=False)
class LineCollector(_Collector):
    """Compact lines, each taken as soon as it is complete; a `Say` line streams as written."""

    _buffer: str = field(default="", init=False)
    _streamed: int = field(default=0, init=False)  # characters of a Say line already emitted
    _line_ends: LineEnds = field(init=False)

    def __post_init__(self) -> None:
        self._line_ends = LineEnds(self.validator.home)

    def feed(self, text: str) -> bool:
        """Take generated text; False when generation should stop."""
        if self.done or self.cancelled.is_set():
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
        if not self.done and self._buffer.strip():
            self._streamed_line(self._buffer)
        self._buffer = ""

    def _answered(self, text: str) -> None:
        pass  # streamed while it was written

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


@dataclass(eq=False)
class JsonCollector(_Collector):
    """One JSON document, taken whole; invalid commands in it are dropped."""

    def feed(self, text: str) -> bool:
        """Take the whole generated text; always False: nothing more is wanted."""
        if self.done or self.cancelled.is_set():
            return False
        try:
            lines = parse_json(text)
        except OutputError as err:
            self.error = str(err)
            self.done = True
            return False
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
        return False

    def finish(self) -> None:
        pass  # the document was taken whole

    def _answered(self, text: str) -> None:
        self._mark_first()
        self.emit(AnswerPiece(text))


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
        if (confirmed := self._answer_asked(request, emit)) is not None:
            return confirmed
        if (answered := self._answer_from_states(request, emit)) is not None:
            return answered
        if (met := self._meet_need(request, emit)) is not None:
            return met
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

    def _answer_asked(self, request: AgentRequest, emit: Emit) -> AgentResult | None:
        """The user's yes or no to a command asked back: run it, or leave it; no model."""
        asked = self.memory.take_asked(request.conversation_id)
        if asked is None:
            return None
        answer = answer_to_question(request.text)
        if answer is None:
            return None  # something else: handled as a new request
        user = prompt.user_message(request.text, request.device_area)
        spec = BY_VERB[asked.verb]
        if answer:
            emit(asked)
            line = Line(asked.verb, dict(asked.slots))
            result = AgentResult(commands=[asked], backend="confirmation")
        else:
            text = declined_sentence(spec, asked.slots)
            emit(AnswerPiece(text))
            line = Line(SAY, text=text)
            result = AgentResult(answer=text, backend="confirmation")
        self.memory.add(request.conversation_id, Turn(user, (line,)))
        return result

    def _answer_from_states(self, request: AgentRequest, emit: Emit) -> AgentResult | None:
        """A question about the home's states, answered by rule from the request's home."""
        text = questions.answer(request.text, request.home, request.device_area)
        if text is None:
            return None
        emit(AnswerPiece(text))
        user = prompt.user_message(request.text, request.device_area)
        self.memory.add(request.conversation_id, Turn(user, (Line(SAY, text=text),)))
        return AgentResult(answer=text, backend="states")

    def _meet_need(self, request: AgentRequest, emit: Emit) -> AgentResult | None:
        """A stated need ("it's pitch dark in here") acted on by rule, checked as a model
        line is; None when no rule fits or the check finds something to ask."""
        line = needs.line_for(request.text, request.home, request.device_area)
        if line is None:
            return None
        try:
            outcome = Validator(request.home, request.device_area, request.text).check(line)
        except InvalidLine:
            return None
        commands = list(outcome.commands) if isinstance(outcome, Several) else [outcome]
        if not commands or not all(isinstance(each, Command) for each in commands):
            return None
        result = AgentResult(backend="needs", first_output_seconds=0.0)
        for command in commands[:1] if request.single_intent else commands:
            assert isinstance(command, Command)
            emit(command)
            result.commands.append(command)
        user = prompt.user_message(request.text, request.device_area)
        lines = tuple(Line(c.verb or line.verb, dict(c.slots)) for c in result.commands)
        self.memory.add(request.conversation_id, Turn(user, lines))
        return result

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
        reader: _Collector
        if backend.compact:
            lines = functools.partial(
                LineCollector, validator, emit, request.single_intent, started, cancelled
            )
            reader, stats, constrained = _lines(backend, generation, request.home, lines)
        else:
            reader = JsonCollector(validator, emit, request.single_intent, started, cancelled)
            stats = backend.generate(generation, reader.feed)
            reader.finish()
            constrained = False
        commands = reader.result.commands
        if commands and not request.single_intent and not cancelled.is_set():
            for line in validator.shared_verb_lines(commands):
                with contextlib.suppress(InvalidLine):
                    reader.take(line)
        result = reader.result
        result.backend = backend.description
        result.constrained = constrained
        result.stats = stats
        if not reader.has_output and _about_the_home(request.text, request.home):
            result.not_recognized = NOT_UNDERSTOOD
        elif not reader.has_output:
            result.answer = CHAT_FALLBACK  # small talk the model did not answer
        if reader.lines:
            user = prompt.user_message(request.text, request.device_area)
            self.memory.add(request.conversation_id, Turn(user, tuple(reader.lines)))
        if result.asked is not None:
            self.memory.ask(request.conversation_id, result.asked)
        return result


def _lines(
    backend: Backend,
    generation: GenerationRequest,
    home: Home | None,
    new_reader: Callable[[], LineCollector],
) -> tuple[LineCollector, GenerationStats, bool]:
    """Decode compact lines freely, then under the grammar where the free output was rejected.

    Returns the reader, the generations' stats, and whether the grammar was used.
    """
    reader = new_reader()
    stats = backend.generate(generation, reader.feed)
    reader.finish()
    if reader.cancelled.is_set():
        return reader, stats, False
    if reader.may_continue:
        _LOGGER.info("Line rejected (%s); continuing under the grammar", reader.error)
        generation = dataclasses.replace(
            generation, grammar=_grammar(home), continuation=reader.resume()
        )
        stats = _add(stats, backend.generate(generation, reader.feed))
        reader.finish()
    elif not reader.has_output:
        _LOGGER.info("Free output rejected (%s); decoding under the grammar", reader.error)
        reader = new_reader()
        generation = dataclasses.replace(generation, grammar=_grammar(home))
        more = backend.generate(generation, reader.feed)
        reader.finish()
        stats = _add(stats, more)
    else:
        return reader, stats, False
    return reader, stats, True


_Built = TypeVar("_Built")
_GRAMMARS: dict[str, str] = {}
_SCHEMAS: dict[str, dict[str, Any]] = {}


def _per_home(
    cache: dict[str, _Built], home: Home | None, build: Callable[[Home | None], _Built]
) -> _Built:
    """`build(home)`, kept for the home's key (a few homes at most)."""
    key = home.key if home else ""
    if key not in cache:
        if len(cache) > 16:
            cache.clear()
        cache[key] = build(home)
    return cache[key]


def _grammar(home: Home | None) -> str:
    return _per_home(_GRAMMARS, home, constraints.grammar)


def _schema(home: Home | None) -> dict[str, Any]:
    return _per_home(_SCHEMAS, home, constraints.json_schema)


def _add(first: GenerationStats, second: GenerationStats) -> GenerationStats:
    return GenerationStats(
        prompt_tokens=first.prompt_tokens + second.prompt_tokens,
        generated_tokens=first.generated_tokens + second.generated_tokens,
        seconds=first.seconds + second.seconds,
        first_token_seconds=first.first_token_seconds,
        threads=second.threads or first.threads,
    )
