"""Wyoming event handler: one instance per client connection."""

import asyncio
import concurrent.futures
import logging
import threading
import time
from typing import Any

from wyoming.asr import Transcript
from wyoming.event import Event
from wyoming.handle import Handled, HandledChunk, HandledStart, HandledStop, NotHandled
from wyoming.info import Describe
from wyoming.intent import Entity, Intent, IntentsStart, IntentsStop, NotRecognized, Recognize

from local_voice.server import RequestError, ServiceEventHandler

from .agent import AgentRequest, AgentResult, AnswerPiece, Emitted, new_conversation_id
from .backend import BackendError
from .home import ContextError, Home, clean_name
from .intents import Command
from .service import LlmService

_LOGGER = logging.getLogger(__name__)

MULTI_INTENT_VERSION = (1, 9)
HANDLED_STREAMING_VERSION = (1, 7)
EMPTY_TEXT = "I didn't hear a command. Say what to do, like 'turn on the kitchen lights'."
NOT_AVAILABLE = "The language model is not available right now ({reason}). Try again shortly."


class Reply:
    """Sends one request's reply in the shape the client understands."""

    def __init__(
        self, handler: "LlmEventHandler", context: dict[str, Any], multi: bool, stream: bool
    ) -> None:
        self.handler = handler
        self.context = context
        self.multi = multi
        self.stream = stream
        self.intents_started = False
        self.intents_sent = 0
        self.handled_started = False
        self.answer = ""
        self.first_event_seconds: float | None = None
        self.started = time.monotonic()

    async def _write(self, event: Event) -> None:
        if self.first_event_seconds is None:
            self.first_event_seconds = time.monotonic() - self.started
        await self.handler.write_event(event)

    async def send(self, item: Emitted) -> None:
        if isinstance(item, Command):
            if self.intents_sent and not self.multi:
                return
            if self.multi and not self.intents_started:
                self.intents_started = True
                await self._write(IntentsStart(context=self.context).event())
            entities = [Entity(name, value) for name, value in item.slots.items()]
            intent = Intent(item.intent, entities, text=item.text or None, context=self.context)
            await self._write(intent.event())
            self.intents_sent += 1
        elif isinstance(item, AnswerPiece):
            self.answer += item.text
            if self.stream:
                if not self.handled_started:
                    self.handled_started = True
                    await self._write(HandledStart(context=self.context).event())
                await self._write(HandledChunk(item.text).event())

    async def finish(self, result: AgentResult) -> None:
        if self.intents_sent:
            if self.intents_started:
                await self._write(IntentsStop(context=self.context).event())
        elif result.answer is not None or self.answer:
            await self._end_answer(result.answer or self.answer)
        else:
            text = result.not_recognized or "Sorry, I didn't understand that."
            await self._write(NotRecognized(text=text, context=self.context).event())

    async def _end_answer(self, text: str) -> None:
        await self._write(Handled(text=text, context=self.context).event())
        if self.handled_started:
            await self._write(HandledStop().event())

    async def fail(self, message: str) -> None:
        """The backend failed: close what was started, else say it could not be handled."""
        if self.intents_started:
            await self._write(IntentsStop(context=self.context).event())
        elif self.intents_sent:
            return
        elif self.handled_started:
            await self._end_answer(self.answer)
        else:
            await self._write(NotHandled(text=message, context=self.context).event())


class LlmEventHandler(ServiceEventHandler):
    """Answers describe, transcript (and recognize) and ping."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, service: LlmService
    ) -> None:
        super().__init__(reader, writer)
        self.service = service
        self._cancelled: threading.Event | None = None

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.write_event(self.service.info().event())
        elif Transcript.is_type(event.type) or Recognize.is_type(event.type):
            await self._converse(event)
        else:
            _LOGGER.debug("%s: ignoring %s event", self.peer, event.type)
        return True

    def _parse(self, event: Event) -> tuple[AgentRequest, dict[str, Any], bool, bool]:
        data = event.data or {}
        text = data.get("text")
        if not isinstance(text, str):
            raise RequestError(f"{event.type} needs a 'text' string", "bad-request")
        context = data.get("context")
        if context is None:
            context = {}
        if not isinstance(context, dict):
            raise RequestError("'context' must be an object", "bad-context")
        conversation_id = context.get("conversation_id")
        if not isinstance(conversation_id, str) or not conversation_id.strip():
            conversation_id = new_conversation_id()
        limit = self.service.settings.max_text_chars
        if len(text) > limit:
            raise RequestError(
                f"the text has {len(text)} characters; this server takes at most {limit}",
                "text-too-long",
            )
        try:
            home = Home.from_context(context)
        except ContextError as err:
            raise RequestError(f"bad context: {err}", "bad-context") from err
        local_voice = context.get("local_voice")
        options = local_voice if isinstance(local_voice, dict) else {}
        protocol = options.get("protocol")
        multi = self.client_at_least(*MULTI_INTENT_VERSION) or (
            isinstance(protocol, int) and protocol >= 1
        )
        stream = self.client_at_least(*HANDLED_STREAMING_VERSION) and (
            options.get("handled_streaming", True) is not False
        )
        history_turns = options.get("history_turns")
        whole = isinstance(history_turns, int) and not isinstance(history_turns, bool)
        if history_turns is not None and (not whole or history_turns < 0):
            raise RequestError(
                "bad context: local_voice.history_turns must be a whole number, 0 or more",
                "bad-context",
            )
        request = AgentRequest(
            text=" ".join(text.split()),
            conversation_id=conversation_id,
            home=home or self.service.default_home,
            device_area=clean_name(context.get("device_area")) or None,
            single_intent=not multi,
            history_turns=history_turns,
        )
        return request, {"conversation_id": conversation_id}, multi, stream

    async def _converse(self, event: Event) -> None:
        request, reply_context, multi, stream = self._parse(event)
        reply = Reply(self, reply_context, multi, stream)
        if not request.text:
            await self.write_event(NotRecognized(text=EMPTY_TEXT, context=reply_context).event())
            return
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Emitted] = asyncio.Queue()
        cancelled = self._cancelled = threading.Event()
        timeout = self.service.settings.timeout

        def emit(item: Emitted) -> None:  # called from the worker thread
            loop.call_soon_threadsafe(queue.put_nowait, item)

        def work() -> AgentResult:
            agent = self.service.agent(timeout)
            return agent.run(request, emit, cancelled)

        future = asyncio.wrap_future(self.service.pool.submit(work))
        try:
            result = await self._relay(future, queue, reply, timeout + 5)
        except (BackendError, TimeoutError, concurrent.futures.TimeoutError) as err:
            reason = str(err) or "it took too long"
            _LOGGER.warning("%s: %r failed: %s", self.peer, request.text, reason)
            cancelled.set()
            await reply.fail(NOT_AVAILABLE.format(reason=reason[:200]))
            return
        except ConnectionError:
            _LOGGER.info("%s: client left mid-request; generation stopped", self.peer)
            cancelled.set()
            raise
        except Exception as err:  # the model failed to load, or a bug: answer, keep serving
            _LOGGER.exception("%s: %r failed", self.peer, request.text)
            cancelled.set()
            await reply.fail(NOT_AVAILABLE.format(reason=f"{type(err).__name__}: {err}"[:200]))
            return
        finally:
            self._cancelled = None
        await reply.finish(result)
        self._log(request, result, reply)

    async def _relay(
        self,
        future: "asyncio.Future[AgentResult]",
        queue: "asyncio.Queue[Emitted]",
        reply: Reply,
        timeout: float,
    ) -> AgentResult:
        async with asyncio.timeout(timeout):
            while not (future.done() and queue.empty()):
                getting = asyncio.ensure_future(queue.get())
                waiting: list[asyncio.Future[Any]] = [future, getting]
                await asyncio.wait(waiting, timeout=0.1, return_when=asyncio.FIRST_COMPLETED)
                if self.reader.at_eof():  # the client hung up: stop generating for it
                    getting.cancel()
                    raise ConnectionResetError("client left")
                if getting.done():
                    await reply.send(getting.result())
                else:
                    getting.cancel()
            return future.result()

    def _log(self, request: AgentRequest, result: AgentResult, reply: Reply) -> None:
        summary = "; ".join(
            f"{c.intent}({', '.join(f'{k}={v}' for k, v in c.slots.items())})"
            for c in result.commands
        )
        what = summary or repr(result.answer or result.not_recognized)
        stats = result.stats
        first = reply.first_event_seconds or 0.0
        _LOGGER.info(
            "%s: %r -> %s %s [first event %.0f ms, total %.0f ms; %d prompt + %d generated "
            "tokens%s; %.1f tok/s%s; %s; home %s]",
            self.peer,
            request.text,
            result.kind,
            what,
            1000 * first,
            1000 * (time.monotonic() - reply.started),
            stats.prompt_tokens,
            stats.generated_tokens,
            ", grammar" if result.constrained else "",
            stats.decode_rate,
            f" on {stats.threads} thread{'s' * (stats.threads > 1)}" if stats.threads else "",
            result.backend,
            f"{len(request.home.entities)} entities" if request.home else "none",
        )

    async def disconnect(self) -> None:
        if self._cancelled is not None:
            self._cancelled.set()
