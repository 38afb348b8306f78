"""Wyoming event handler: one instance per client connection."""

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field, replace

from wyoming.asr import Transcribe, Transcript, TranscriptChunk, TranscriptStart, TranscriptStop
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event
from wyoming.info import Describe

from local_voice.audio import AudioFormatError, PcmConverter, PcmFormat
from local_voice.server import RequestError, ServiceEventHandler

from .models import normalize_language
from .service import PROGRAM_NAME, Request, SttService
from .utterance import AudioTooLong, Outcome, Utterance
from .vocabulary import Vocabulary

_LOGGER = logging.getLogger(__name__)

STREAMING_VERSION = (1, 7)


@dataclass
class Stream:
    """The audio stream in progress on a connection and the request it answers."""

    request: Request
    utterance: Utterance
    format: PcmFormat
    converter: PcmConverter = field(default_factory=PcmConverter)


class SttEventHandler(ServiceEventHandler):
    """Answers describe, transcribe/audio-start/audio-chunk/audio-stop and ping.

    A request that can't be answered (bad audio, unknown model, a stream that is
    too long or fails to decode) gets an `error` event and the connection is
    closed, so that no client waits for a transcript that will not come.
    """

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, service: SttService
    ) -> None:
        super().__init__(reader, writer)
        self.service = service
        self._next_request: Request | None = None
        self._stream: Stream | None = None
        self._stray_audio = False  # an error was already sent for chunks outside a stream

    # -- events -------------------------------------------------------------------

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.write_event(self.service.info().event())
        elif Transcribe.is_type(event.type):
            self._next_request = self._parse_request(event)
        elif AudioStart.is_type(event.type):
            self._start(event)
        elif AudioChunk.is_type(event.type):
            await self._add(event)
        elif AudioStop.is_type(event.type):
            await self._stop()
        else:
            _LOGGER.debug("%s: ignoring %s event", self.peer, event.type)
        return True

    def _parse_request(self, event: Event) -> Request:
        try:
            transcribe = Transcribe.from_event(event)
        except (KeyError, TypeError, ValueError) as err:
            raise RequestError(f"malformed transcribe event: {err}", close=True) from err
        defaults = self.service.default_request
        explicit = bool(transcribe.name) and transcribe.name != PROGRAM_NAME
        model = transcribe.name if explicit else defaults.model
        if not isinstance(model, str) or model not in self.service.models:
            known = ", ".join(self.service.models)
            raise RequestError(
                f"unknown model '{model}'; this server has: {known}", "unknown-model", close=True
            )
        language = defaults.options.language
        if transcribe.language:
            language = normalize_language(str(transcribe.language))
        if language is not None:
            model = self._model_for(model, language, explicit)
        vocabulary = Vocabulary.from_request(transcribe)
        prompt = vocabulary.prompt() or defaults.options.prompt
        options = replace(defaults.options, language=language, prompt=prompt)
        return Request(model, options, vocabulary)

    def _model_for(self, model: str, language: str, explicit: bool) -> str:
        """The model for a language: the asked-for one, or another that knows it.

        Home Assistant offers every language of every installed model and names
        no model, so an English-only default hands other languages to a model
        that speaks them.
        """
        if language in self.service.models[model].languages:
            return model
        if not explicit:
            for name, source in self.service.models.items():
                if language in source.languages:
                    return name
        supported = self.service.models[model].languages
        more = "…" if len(supported) > 20 else ""
        raise RequestError(
            f"model '{model}' does not transcribe language '{language}'; "
            f"it supports: {', '.join(supported[:20])}{more}",
            "unsupported-language",
            close=True,
        )

    def _start(self, event: Event) -> None:
        try:
            fmt = PcmFormat.from_event_data(event.data)
        except AudioFormatError as err:
            self._drop_stream()
            raise RequestError(
                f"can't use this audio: {err}", "bad-audio-format", close=True
            ) from err
        if self._stream is not None:
            _LOGGER.warning(
                "%s: audio-start during a stream; the earlier audio is dropped", self.peer
            )
            self._drop_stream()
        request = self._next_request or self.service.default_request
        self._next_request = None
        utterance = Utterance(
            self.service.decoder(request),
            self.service.pools,
            speculate=self.service.settings.early_decode,
            max_seconds=self.service.settings.max_audio_seconds,
        )
        self._stream = Stream(request, utterance, fmt)
        self._stray_audio = False

    async def _add(self, event: Event) -> None:
        stream = self._stream
        if stream is None:
            if self._stray_audio:
                return
            self._stray_audio = True
            raise RequestError(
                "audio-chunk before audio-start: send audio-start first", "no-stream"
            )
        try:
            fmt = PcmFormat.from_event_data(event.data) if event.data else stream.format
            await stream.utterance.add(stream.converter.convert(event.payload or b"", fmt))
        except AudioFormatError as err:
            self._drop_stream()
            raise RequestError(f"can't use this audio: {err}", "bad-audio", close=True) from err
        except AudioTooLong as err:
            self._drop_stream()
            raise RequestError(f"{err} without audio-stop", "audio-too-long", close=True) from err

    async def _stop(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            raise RequestError("audio-stop without audio-start", "no-stream", close=True)
        stopped = time.monotonic()
        try:
            outcome = await self._transcribe(stream)
        except ConnectionError:
            raise  # the client left; nothing to answer
        except Exception as err:
            _LOGGER.exception("%s: transcription failed", self.peer)
            raise RequestError(
                f"transcription failed: {err}", "transcription-failed", close=True
            ) from err
        finally:
            stream.utterance.discard()
        self._log(outcome, stream.request, time.monotonic() - stopped)

    # -- work ---------------------------------------------------------------------

    async def _transcribe(self, stream: Stream) -> Outcome:
        """Finish the stream's decode and send the transcript events."""
        utterance, request = stream.utterance, stream.request
        if not self.client_at_least(*STREAMING_VERSION):
            outcome = await utterance.finish(None)
            result = outcome.transcription
            await self.write_event(
                Transcript(result.text, language=result.language or None).event()
            )
            return outcome

        await self.write_event(TranscriptStart(language=request.options.language).event())
        loop = asyncio.get_running_loop()
        segments: asyncio.Queue[str] = asyncio.Queue()

        def on_segment(text: str) -> None:  # called from a worker thread
            loop.call_soon_threadsafe(segments.put_nowait, text)

        finishing = asyncio.create_task(utterance.finish(on_segment))
        try:
            sent = 0
            while not (finishing.done() and segments.empty()):
                getting = asyncio.ensure_future(segments.get())
                await asyncio.wait({finishing, getting}, return_when=asyncio.FIRST_COMPLETED)
                if not getting.done():
                    getting.cancel()
                    continue
                text = getting.result()
                await self.write_event(TranscriptChunk(text if sent == 0 else " " + text).event())
                sent += 1
            outcome = finishing.result()
        finally:
            if not finishing.done():
                finishing.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await finishing
        result = outcome.transcription
        await self.write_event(Transcript(result.text, language=result.language or None).event())
        await self.write_event(TranscriptStop().event())
        return outcome

    def _log(self, outcome: Outcome, request: Request, after_stop: float) -> None:
        result = outcome.transcription
        _LOGGER.info(
            "%s: %r [audio %.2f s, speech %.2f s; %.3f s after audio-stop; decode %.3f s "
            "(%s%s); model %s, beam %d, %s]",
            self.peer,
            result.text,
            outcome.audio_seconds,
            outcome.speech_seconds,
            after_stop,
            result.seconds,
            result.method,
            ", early" if outcome.speculative else "",
            request.model,
            request.options.beam_size,
            result.language,
        )

    def _drop_stream(self) -> None:
        if self._stream is not None:
            self._stream.utterance.discard()
        self._stream = None

    # -- connection ---------------------------------------------------------------

    def read_timeout(self) -> float | None:
        return self.service.settings.stream_timeout if self._stream is not None else None

    async def on_read_timeout(self) -> bool:
        seconds = self.service.settings.stream_timeout
        _LOGGER.warning("%s: no audio-stop after %.0f s of silence from client", self.peer, seconds)
        await self.send_error(
            f"no audio or audio-stop for {seconds:.0f} s; the stream was dropped", "stream-timeout"
        )
        self._drop_stream()
        return False

    async def disconnect(self) -> None:
        if self._stream is not None:
            _LOGGER.info(
                "%s: client left mid-stream; %.2f s of audio dropped",
                self.peer,
                self._stream.utterance.seconds,
            )
        self._drop_stream()
