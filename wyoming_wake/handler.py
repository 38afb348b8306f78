"""Wyoming event handler: one instance per client connection (one per satellite)."""

import asyncio
import logging
import time

from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event
from wyoming.info import Describe
from wyoming.wake import Detect, Detection, NotDetected

from local_voice.audio import AudioFormatError, PcmConverter, PcmFormat
from local_voice.server import RequestError, ServiceEventHandler

from .detector import WakeStream
from .models import WakeModelSpec
from .service import UnknownModel, WakeService

_LOGGER = logging.getLogger(__name__)
REFUSED_GRACE_SECONDS = 1.0  # how long a refused connection is drained before it closes


class WakeEventHandler(ServiceEventHandler):
    """Answers describe, detect, audio-start/audio-chunk/audio-stop and ping.

    `detect` arms models for this connection (kept for its later streams); each
    detection is sent as it happens with the name the client asked for; after
    `audio-stop` a stream without any detection gets `not-detected`. Home
    Assistant never sends `audio-stop`: it closes the connection.
    """

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, service: WakeService
    ) -> None:
        super().__init__(reader, writer)
        self.service = service
        self._armed: dict[str, WakeModelSpec] | None = None
        self._stream: WakeStream | None = None
        self._format: PcmFormat | None = None
        self._converter = PcmConverter()
        self._refused_at: float | None = None

    def read_timeout(self) -> float | None:
        if self._refused_at is None:
            return None
        return max(REFUSED_GRACE_SECONDS - (time.monotonic() - self._refused_at), 0.01)

    async def handle_event(self, event: Event) -> bool:
        if self._refused_at is not None:  # after an unknown model: drain, then close
            return time.monotonic() - self._refused_at < REFUSED_GRACE_SECONDS
        if Describe.is_type(event.type):
            await self.write_event(self.service.info().event())
        elif Detect.is_type(event.type):
            await self._detect(event)
        elif AudioStart.is_type(event.type):
            await self._start(event)
        elif AudioChunk.is_type(event.type):
            await self._chunk(event)
        elif AudioStop.is_type(event.type):
            await self._stop()
        else:
            _LOGGER.debug("%s: ignoring %s event", self.peer, event.type)
        return True

    async def _detect(self, event: Event) -> None:
        names = event.data.get("names")
        if names is not None and (
            not isinstance(names, list) or not all(isinstance(n, str) for n in names)
        ):
            raise RequestError(
                "detect 'names' must be a list of strings", "bad-request", close=True
            )
        try:
            self._armed = self.service.arm(names)
        except UnknownModel as err:
            # Clients such as Home Assistant stream audio right after `detect`;
            # closing at once would reset the connection before they read the
            # error, so the connection is drained for a moment first.
            _LOGGER.warning("%s: %s; closing", self.peer, err)
            await self.send_error(str(err), "unknown-model")
            await self._close_stream()
            self._refused_at = time.monotonic()
            return
        _LOGGER.debug("%s: armed %s", self.peer, ", ".join(self._armed))
        if self._stream is not None:  # re-armed mid-stream: new models from here on
            await self._open(self._armed)

    async def _start(self, event: Event) -> None:
        try:
            self._format = PcmFormat.from_event_data(event.data)
        except AudioFormatError as err:
            raise RequestError(
                f"can't use this audio: {err}", "bad-audio-format", close=True
            ) from err
        self._converter = PcmConverter()
        if self._stream is not None:
            _LOGGER.debug("%s: audio-start during a stream; starting over", self.peer)
        await self._open(self._armed or self.service.arm(None))

    async def _open(self, armed: dict[str, WakeModelSpec]) -> None:
        await self._close_stream()
        self._stream = await self.service.open_stream(armed)

    async def _chunk(self, event: Event) -> None:
        try:
            fmt = PcmFormat.from_event_data(event.data) if event.data else self._format
            if fmt is None:
                raise AudioFormatError("audio-chunk without rate/width/channels or audio-start")
            if self._stream is None:  # lenient: a chunk without audio-start starts a stream
                self._format = fmt
                self._converter = PcmConverter()
                await self._open(self._armed or self.service.arm(None))
            assert self._stream is not None
            audio = self._converter.convert(event.payload or b"", fmt)
        except AudioFormatError as err:
            await self._close_stream()
            raise RequestError(f"can't use this audio: {err}", "bad-audio", close=True) from err
        stream = self._stream
        for hit in await self.service.process(stream, audio):
            _LOGGER.info(
                "%s: detected %s (model %s, p=%.2f) at %.2f s",
                self.peer,
                hit.name,
                hit.model,
                hit.probability,
                hit.timestamp_ms / 1000,
            )
            await self.write_event(Detection(name=hit.name, timestamp=hit.timestamp_ms).event())

    async def _stop(self) -> None:
        stream = self._stream
        if stream is None:
            raise RequestError("audio-stop without audio-start", "no-stream")
        if not stream.detections:
            await self.write_event(NotDetected().event())
        self._log(stream)
        await self._close_stream()

    def _log(self, stream: WakeStream, ending: str = "audio-stop") -> None:
        peaks = ", ".join(f"{name} {peak:.2f}" for name, peak in stream.peaks.items())
        gated = ""
        if stream.gate is not None and stream.gate.seen_chunks:
            share = 1 - stream.gate.passed_chunks / stream.gate.seen_chunks
            gated = f", VAD skipped {share:.0%}"
        _LOGGER.info(
            "%s: %s after %.2f s of audio: %d detection(s) [peak %s; inference %.1f ms%s]",
            self.peer,
            ending,
            stream.seconds,
            stream.detections,
            peaks,
            stream.cpu_seconds * 1000,
            gated,
        )

    async def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            await self.service.close_stream(stream)

    async def disconnect(self) -> None:
        if self._stream is not None:
            self._log(self._stream, "client left")
        await self._close_stream()
