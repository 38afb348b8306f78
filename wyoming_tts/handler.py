"""Wyoming event handler: one instance per client connection.

Speech runs in a task, so the connection keeps being read while audio is sent:
text chunks of a streaming request arrive during synthesis, and a client that
hangs up is noticed at once and its work cancelled.
"""

import asyncio
import contextlib
import logging
from typing import Any

from wyoming.event import Event
from wyoming.info import Describe
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeStopped,
)

from local_voice.server import RequestError, ServiceEventHandler

from .service import TtsService, UnknownVoice, Voice
from .speech import Speech

_LOGGER = logging.getLogger(__name__)


class TtsEventHandler(ServiceEventHandler):
    """Answers describe, synthesize, synthesize-start/-chunk/-stop and ping."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, service: TtsService
    ) -> None:
        super().__init__(reader, writer)
        self.service = service
        self._stream: Speech | None = None  # a streaming request still receiving text
        self._speaking: asyncio.Task[None] | None = None  # the request whose audio is being sent

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.write_event(self.service.info().event())
        elif Synthesize.is_type(event.type):
            if self._stream is None:  # inside a stream it repeats the text for old servers
                await self._synthesize(event)
        elif SynthesizeStart.is_type(event.type):
            await self._start_stream(event)
        elif SynthesizeChunk.is_type(event.type):
            self._add_to_stream(event)
        elif SynthesizeStop.is_type(event.type):
            self._stop_stream()
        else:
            _LOGGER.debug("%s: ignoring %s event", self.peer, event.type)
        return True

    # -- requests -----------------------------------------------------------------

    async def _synthesize(self, event: Event) -> None:
        try:
            request = Synthesize.from_event(event)
        except (KeyError, TypeError, ValueError) as err:
            raise RequestError(f"malformed synthesize event: {err}", close=True) from err
        if not isinstance(request.text, str) or not request.text.strip():
            raise RequestError("synthesize has no text to speak", "empty-text", close=True)
        voice = self._voice(request.voice.to_dict() if request.voice else {})
        await self._wait_for_previous()
        speech = Speech(self.service, voice, self.write_event)
        speech.add(request.text)
        speech.finish()
        self._speaking = asyncio.create_task(self._speak(speech, streaming=False))

    async def _start_stream(self, event: Event) -> None:
        if self._stream is not None:
            raise RequestError(
                "synthesize-start during a stream: send synthesize-stop first", "stream-open"
            )
        try:
            start = SynthesizeStart.from_event(event)
        except (KeyError, TypeError, ValueError) as err:
            raise RequestError(f"malformed synthesize-start event: {err}", close=True) from err
        voice = self._voice(start.voice.to_dict() if start.voice else {})
        await self._wait_for_previous()
        self._stream = Speech(self.service, voice, self.write_event)

    def _add_to_stream(self, event: Event) -> None:
        if self._stream is None:
            raise RequestError("synthesize-chunk without synthesize-start", "no-stream")
        text = event.data.get("text")
        if not isinstance(text, str):
            raise RequestError("synthesize-chunk needs a 'text' string", "bad-request")
        self._stream.add(text)

    def _stop_stream(self) -> None:
        speech, self._stream = self._stream, None
        if speech is None:
            raise RequestError("synthesize-stop without synthesize-start", "no-stream")
        speech.finish()
        self._speaking = asyncio.create_task(self._speak(speech, streaming=True))

    def _voice(self, wanted: dict[str, Any]) -> Voice:
        name, speaker, language = wanted.get("name"), wanted.get("speaker"), wanted.get("language")
        for field, value in (("name", name), ("speaker", speaker), ("language", language)):
            if value is not None and not isinstance(value, str):
                raise RequestError(f"voice {field} must be a string", close=True)
        try:
            return self.service.voice(name, speaker, language)
        except UnknownVoice as err:
            raise RequestError(str(err), "unknown-voice", close=True) from err

    # -- speaking -----------------------------------------------------------------

    async def _speak(self, speech: Speech, streaming: bool) -> None:
        """Send the speech's audio (and synthesize-stopped); on failure, error and close."""
        try:
            if streaming and not speech.has_text:
                await speech.cancel()
                await self.send_error("the stream had no text to speak", "empty-text")
            else:
                stats = await speech.done()
                _LOGGER.info(
                    "%s: %s%s [%s]",
                    self.peer,
                    speech.voice.source.name,
                    " (streamed)" if streaming else "",
                    stats.summary(),
                )
            if streaming:
                await self.write_event(SynthesizeStopped().event())
        except ConnectionError:
            _LOGGER.info("%s: client left; synthesis cancelled", self.peer)
            await speech.cancel()
        except Exception as err:
            _LOGGER.exception("%s: synthesis failed", self.peer)
            await self.send_error(f"synthesis failed: {err}", "synthesis-failed")
            self.writer.close()

    async def _wait_for_previous(self) -> None:
        if self._speaking is not None and not self._speaking.done():
            with contextlib.suppress(Exception):
                await self._speaking

    async def disconnect(self) -> None:
        if self._stream is not None:  # text was still arriving
            await self._stream.cancel()
            self._stream = None
        if self._speaking is not None and not self._speaking.done():
            _LOGGER.info("%s: client left mid-synthesis; cancelling", self.peer)
            self._speaking.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._speaking
