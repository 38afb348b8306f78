"""Wake words for the satellite: this machine's detector, or a wake-word service.

The embedded detector is wyoming_wake's own (the fused "Okay Nabu" pair by default)
and reports where the phrase ended, so the command streams from there. A remote
service (`--wake-uri`) reports only when it fired, so streaming starts at that point.
"""

import asyncio
import contextlib
import logging
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

from wyoming.audio import AudioChunk, AudioStart
from wyoming.client import AsyncClient
from wyoming.wake import Detect, Detection

from local_voice.audio import SAMPLE_CHANNELS, SAMPLE_RATE, SAMPLE_WIDTH
from wyoming_wake.detector import WakeStream
from wyoming_wake.embedded import EmbeddedWake

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class WakeHit:
    name: str  # the model, as Home Assistant is told in `detection`
    phrase_end: int  # absolute sample position where the phrase ended
    detected: int  # absolute sample position of the detection


class LocalWake:
    """Models loaded in this process; `process` is blocking (run it off the loop)."""

    def __init__(
        self,
        names: list[str] | None,
        wake: EmbeddedWake | None = None,
        custom_dirs: tuple[Path, ...] = (),
    ) -> None:
        self.wake = wake or EmbeddedWake(names, custom_dirs=custom_dirs)
        self.names = list(self.wake.armed)
        self._stream: WakeStream = self.wake.stream()
        self._base = 0  # absolute position of the stream's first sample

    def process(self, pcm: bytes, position: int) -> list[WakeHit]:
        """Feed audio that starts at absolute sample `position`."""
        if self._stream.samples + self._base != position:  # a gap: start a fresh stream
            self._stream.close()
            self._stream = self.wake.stream()
            self._base = position
        step = SAMPLE_RATE // 1000
        return [
            WakeHit(
                self.wake.armed[hit.name].name,
                self._base + hit.end_ms * step,
                self._base + hit.timestamp_ms * step,
            )
            for hit in self._stream.process(pcm)
        ]

    @property
    def awaiting(self) -> bool:
        """The wake word has begun to fire and may be confirmed in the next chunks."""
        return self._stream.awaiting

    def twin(self) -> "LocalWake":
        """The same models with a stream of their own (for the audio the speaker plays)."""
        return LocalWake(None, self.wake)

    def close(self) -> None:
        self._stream.close()


class RemoteWake:
    """A wake-word service over Wyoming: audio out, detections back, redialled on failure."""

    def __init__(self, uri: str, names: list[str] | None) -> None:
        self.uri = uri
        self.names = names or []
        self._client: AsyncClient | None = None
        self._reader: asyncio.Task[None] | None = None
        self._base = 0
        self._sent = 0
        self._hits: list[WakeHit] = []
        self._retry_at = 0.0
        self._backoff = 1.0

    async def process(self, pcm: bytes, position: int) -> list[WakeHit]:
        if self._client is None and not await self._connect(position):
            return []
        assert self._client is not None
        try:
            chunk = AudioChunk(SAMPLE_RATE, SAMPLE_WIDTH, SAMPLE_CHANNELS, pcm, timestamp=None)
            chunk.timestamp = (position - self._base) * 1000 // SAMPLE_RATE
            await self._client.write_event(chunk.event())
            self._sent += len(pcm) // 2
        except (ConnectionError, OSError) as err:
            _LOGGER.warning("Wake service %s: %s; redialling", self.uri, err)
            await self.close()
        hits, self._hits = self._hits, []
        return hits

    async def _connect(self, position: int) -> bool:
        loop = asyncio.get_running_loop()
        if loop.time() < self._retry_at:
            return False
        try:
            client = AsyncClient.from_uri(self.uri)
            await asyncio.wait_for(client.connect(), 3)
            await client.write_event(Detect(names=self.names or None).event())
            start = AudioStart(SAMPLE_RATE, SAMPLE_WIDTH, SAMPLE_CHANNELS, timestamp=0)
            await client.write_event(start.event())
        except (OSError, TimeoutError) as err:
            self._retry_at = loop.time() + self._backoff
            _LOGGER.warning("Wake service %s: %s; retrying in %.0f s", self.uri, err, self._backoff)
            self._backoff = min(self._backoff * 2, 30)
            return False
        _LOGGER.info("Streaming to the wake service at %s", self.uri)
        self._client, self._base, self._backoff = client, position, 1.0
        self._reader = asyncio.create_task(self._read(client, position))
        return True

    async def _read(self, client: AsyncClient, base: int) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while (event := await client.read_event()) is not None:
                if not Detection.is_type(event.type):
                    if event.type == "error":
                        _LOGGER.warning("Wake service: %s", event.data.get("text"))
                    continue
                detection = Detection.from_event(event)
                at = base + (detection.timestamp or 0) * SAMPLE_RATE // 1000
                at = at if detection.timestamp is not None else base + self._sent
                self._hits.append(WakeHit(detection.name or "remote", at, at))
        _LOGGER.warning("Wake service %s closed the connection", self.uri)
        self._client = None

    async def close(self) -> None:
        client, self._client = self._client, None
        if self._reader is not None:
            self._reader.cancel()
        if client is not None:
            with contextlib.suppress(Exception):
                await client.disconnect()


class WakeWords:
    """The wake word (local or remote) and the optional stop word, fed every mic chunk."""

    def __init__(self, wake: LocalWake | RemoteWake, stop: LocalWake | None) -> None:
        self.wake = wake
        self.stop = stop

    @property
    def names(self) -> list[str]:
        return self.wake.names

    @property
    def awaiting(self) -> bool:
        """The local wake word may be confirmed in the next chunks (a remote one never
        says so)."""
        return isinstance(self.wake, LocalWake) and self.wake.awaiting

    async def process(
        self, executor: Executor, pcm: bytes, position: int
    ) -> tuple[list[WakeHit], list[WakeHit]]:
        """(wake hits, stop hits) for audio starting at `position`; model work off the loop."""
        loop = asyncio.get_running_loop()
        stop = self.stop
        if isinstance(self.wake, LocalWake):
            local = self.wake

            def both() -> tuple[list[WakeHit], list[WakeHit]]:
                return local.process(pcm, position), stop.process(pcm, position) if stop else []

            return await loop.run_in_executor(executor, both)
        wake_hits = await self.wake.process(pcm, position)
        stop_hits = (
            await loop.run_in_executor(executor, stop.process, pcm, position) if stop else []
        )
        return wake_hits, stop_hits

    async def close(self) -> None:
        if isinstance(self.wake, RemoteWake):
            await self.wake.close()
        else:
            self.wake.close()
        if self.stop is not None:
            self.stop.close()
