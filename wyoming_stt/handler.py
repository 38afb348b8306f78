"""Wyoming event handler: one instance per client connection."""

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import replace

from wyoming.asr import Transcribe, Transcript, TranscriptChunk, TranscriptStart, TranscriptStop
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event
from wyoming.info import Describe
from wyoming.ping import Ping, Pong

from local_voice.audio import AudioFormatError, Float32Array, PcmConverter, PcmFormat
from local_voice.protocol import EventLimits
from local_voice.server import RequestError, ServiceEventHandler

from .service import PROGRAM_NAME, Request, SttService
from .transcriber import Transcription
from .utterance import AudioTooLong, Decoder, Outcome, Utterance
from .vocabulary import Vocabulary

_LOGGER = logging.getLogger(__name__)

# The largest audio chunk accepted: 1 MiB is over 5 s of 48 kHz stereo 16-bit.
CHUNK_LIMITS = EventLimits(max_data_bytes=1024 * 1024, max_payload_bytes=1024 * 1024)
STREAMING_VERSION = (1, 7)


class SttEventHandler(ServiceEventHandler):
    """Answers describe, transcribe/audio-start/audio-chunk/audio-stop and ping."""

    limits = CHUNK_LIMITS

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, service: SttService
    ) -> None:
        super().__init__(reader, writer)
        self.service = service
        self._request: Request | None = None
        self._utterance: Utterance | None = None
        self._format: PcmFormat | None = None
        self._converter = PcmConverter()
        self._stray_audio = False  # an error was sent for chunks outside a stream
        self._overflowed = False  # the stream passed the length limit

    # -- events -------------------------------------------------------------------

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.write_event(self.service.info().event())
        elif Transcribe.is_type(event.type):
            self._request = self._parse_request(event)
        elif AudioStart.is_type(event.type):
            await self._start(event)
        elif AudioChunk.is_type(event.type):
            await self._add(event)
        elif AudioStop.is_type(event.type):
            return await self._stop()
        elif Ping.is_type(event.type):
            await self.write_event(Pong(text=Ping.from_event(event).text).event())
        else:
            _LOGGER.debug("%s: ignoring %s event", self.peer, event.type)
        return True

    def _parse_request(self, event: Event) -> Request:
        try:
            transcribe = Transcribe.from_event(event)
        except (KeyError, TypeError, ValueError) as err:
            raise RequestError(f"malformed transcribe event: {err}") from err
        defaults = self.service.default_request
        model = transcribe.name or defaults.model
        if model == PROGRAM_NAME:
            model = defaults.model
        if not isinstance(model, str) or model not in self.service.models:
            known = ", ".join(self.service.models)
            raise RequestError(
                f"unknown model '{model}'; this server has: {known}", "unknown-model"
            )
        language = transcribe.language or defaults.options.language
        if language is not None:
            language = str(language).split("-")[0].split("_")[0].lower()
            model = self._model_for(model, language, explicit=bool(transcribe.name))
        vocabulary = Vocabulary.from_request(transcribe)
        prompt = vocabulary.prompt() or defaults.options.prompt
        options = replace(defaults.options, language=language, prompt=prompt)
        return Request(model, options, vocabulary)

    def _model_for(self, model: str, language: str, explicit: bool) -> str:
        """The model to use for a language: the asked-for one, or another that knows it.

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
        )

    async def _start(self, event: Event) -> None:
        try:
            self._format = PcmFormat.from_event_data(event.data)
        except AudioFormatError as err:
            raise RequestError(f"can't use this audio: {err}", "bad-audio-format") from err
        if self._utterance is not None:
            _LOGGER.warning(
                "%s: audio-start during a stream; the earlier audio is dropped", self.peer
            )
            self._utterance.discard()
        request = self._request or self.service.default_request
        self._request = request
        self._utterance = Utterance(
            self._decoder(request),
            speculate=self.service.settings.early_decode,
            max_seconds=self.service.settings.max_audio_seconds,
        )
        self._converter = PcmConverter()
        self._stray_audio = self._overflowed = False

    async def _add(self, event: Event) -> None:
        if self._utterance is None:
            if self._overflowed or self._stray_audio:
                return
            self._stray_audio = True
            raise RequestError(
                "audio-chunk before audio-start: send audio-start first", "no-stream"
            )
        try:
            fmt = PcmFormat.from_event_data(event.data) if event.data else self._format
            assert fmt is not None
            pcm = self._converter.convert(event.payload or b"", fmt)
            await self._utterance.add(pcm)
        except AudioFormatError as err:
            self._reset()
            raise RequestError(f"can't use this audio: {err}; stream dropped", "bad-audio") from err
        except AudioTooLong as err:
            self._reset()
            self._overflowed = True
            raise RequestError(
                f"{err} without audio-stop; stream dropped", "audio-too-long"
            ) from err

    async def _stop(self) -> bool:
        """Send the transcript; False (close) if transcription failed.

        Closing tells every client the request failed: Home Assistant 2025.4
        ignores `error` events and would otherwise wait for a transcript.
        """
        utterance, request = self._utterance, self._request
        if utterance is None or request is None:
            if self._overflowed:
                self._overflowed = False
                return True
            raise RequestError("audio-stop without audio-start", "no-stream")
        stopped = time.monotonic()
        try:
            outcome = await self._transcribe(utterance, request)
        except Exception as err:
            _LOGGER.exception("%s: transcription failed", self.peer)
            await self.send_error(f"transcription failed: {err}", "transcription-failed")
            return False
        finally:
            self._reset()
        self._log(outcome, request, time.monotonic() - stopped)
        return True

    # -- work ---------------------------------------------------------------------

    def _decoder(self, request: Request) -> Decoder:
        """A blocking decode function for worker threads, bound to this request."""
        model = self.service.model(request.model)
        vocabulary = request.vocabulary

        def decode(audio: Float32Array, on_segment: Callable[[str], None] | None) -> Transcription:
            snapped = None if on_segment is None else (lambda t: on_segment(vocabulary.snap(t)))
            result = model.result().transcribe(audio, request.options, snapped)
            segments = tuple(vocabulary.snap(segment) for segment in result.segments)
            return replace(result, text=vocabulary.snap(result.text), segments=segments)

        return decode

    async def _transcribe(self, utterance: Utterance, request: Request) -> Outcome:
        streaming = self.client_at_least(*STREAMING_VERSION)
        if not streaming:
            outcome = await utterance.finish(None)
            text = outcome.transcription.text
            await self.write_event(
                Transcript(text, language=outcome.transcription.language).event()
            )
            return outcome

        await self.write_event(TranscriptStart(language=request.options.language).event())
        loop = asyncio.get_running_loop()
        segments: asyncio.Queue[str] = asyncio.Queue()

        def on_segment(text: str) -> None:  # called from a worker thread
            loop.call_soon_threadsafe(segments.put_nowait, text)

        finishing = asyncio.create_task(utterance.finish(on_segment))
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
        transcription = outcome.transcription
        await self.write_event(
            Transcript(transcription.text, language=transcription.language).event()
        )
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

    def _reset(self) -> None:
        if self._utterance is not None:
            self._utterance.discard()
        self._utterance = None
        self._request = None

    # -- connection ---------------------------------------------------------------

    def read_timeout(self) -> float | None:
        return self.service.settings.stream_timeout if self._utterance is not None else None

    async def on_read_timeout(self) -> bool:
        seconds = self.service.settings.stream_timeout
        _LOGGER.warning("%s: no audio-stop after %.0f s of silence from client", self.peer, seconds)
        await self.send_error(
            f"no audio or audio-stop for {seconds:.0f} s; the stream was dropped", "stream-timeout"
        )
        self._reset()
        return False

    async def disconnect(self) -> None:
        if self._utterance is not None:
            _LOGGER.info(
                "%s: client left mid-stream; %.2f s of audio dropped",
                self.peer,
                self._utterance.seconds,
            )
        self._reset()
