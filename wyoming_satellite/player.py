"""Playback at the device's pace: replies, announcements, tones and timer rings.

Home Assistant sends a reply's audio all at once, unpaced. The player keeps it here
and hands the device only `lead` ahead of real time, so that stopping it (barge-in,
the stop word) silences the speaker at once instead of leaving seconds in a pipe,
and so that what is heard at each moment is known: it is the echo canceller's
reference.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from local_voice.audio import SAMPLE_CHANNELS, SAMPLE_RATE, SAMPLE_WIDTH, PcmFormat

from .audio_io import AudioDeviceError, SoundSink, StreamConverter

_LOGGER = logging.getLogger(__name__)
PIECE_SECONDS = 0.02
STALL_SECONDS = 5.0  # a sound whose audio stops arriving ends


@dataclass
class Sound:
    """One thing to play; audio may still be arriving (`complete` False)."""

    kind: str  # "reply", "announcement", "awake", "done", "error", "timer"
    rate: int
    width: int
    channels: int
    on_end: Callable[["Sound"], None] | None = None
    repeat: int = 1  # timer rings repeat
    pause_seconds: float = 0.0  # between repeats
    audio: bytearray = field(default_factory=bytearray)
    complete: bool = False
    stopped: bool = False  # cut short by stop()
    started_at: float | None = None  # monotonic time of the first audio handed over
    seconds_played: float = 0.0
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, pcm: bytes) -> None:
        self.audio += pcm
        self._arrived.set()

    def finish(self) -> None:
        self.complete = True
        self._arrived.set()


class Player:
    """Plays queued sounds one after another on a sink, `lead` ahead of real time."""

    def __init__(
        self, sink: SoundSink, on_played: Callable[[bytes], None] | None, lead: float = 0.06
    ) -> None:
        """`on_played` gets each piece, as 16 kHz mono, as it is handed to the device."""
        self.sink = sink
        self.on_played = on_played
        self.lead = lead
        self._queue: list[Sound] = []
        self.current: Sound | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._due = 0.0  # monotonic time at which everything written so far is heard
        self._resumed = asyncio.Event()  # cleared while playback is held
        self._resumed.set()
        self.held_since: float | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        await self.stop()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def busy(self) -> bool:
        return self.current is not None or bool(self._queue)

    def playing(self, *kinds: str) -> Sound | None:
        """The sound playing or queued of one of these kinds, if any."""
        for sound in [self.current, *self._queue]:
            if sound is not None and sound.kind in kinds:
                return sound
        return None

    @property
    def held(self) -> bool:
        return not self._resumed.is_set()

    async def hold(self) -> bool:
        """Silence the current sound now and keep its place; False if nothing plays or it
        is already held. What the device had been handed (the lead, and whatever a sound
        command buffered while it started) is dropped, so a resumed sound skips that."""
        if self.current is None or self.held:
            return False
        self._resumed.clear()
        self.held_since = time.monotonic()
        await self._abort()
        return True

    def resume(self) -> None:
        """Go on playing a held sound from where it paused."""
        self._resumed.set()
        self.held_since = None

    def play(self, sound: Sound) -> Sound:
        self._queue.append(sound)
        self._wake.set()
        return sound

    def tone(
        self, kind: str, pcm: bytes, rate: int, repeat: int = 1, pause_seconds: float = 0.0
    ) -> Sound:
        """Queue a 16-bit mono tone, rung `repeat` times with `pause_seconds` between."""
        sound = Sound(kind, rate, 2, 1, repeat=repeat, pause_seconds=pause_seconds)
        sound.add(pcm)
        sound.finish()
        return self.play(sound)

    async def stop(self, *kinds: str) -> list[Sound]:
        """Silence now: the current sound (and the queued ones) of these kinds, or all."""
        if not kinds or (self.current is not None and self.current.kind in kinds):
            self.resume()  # a stopped sound is no longer held
        stopped = [s for s in self._queue if not kinds or s.kind in kinds]
        self._queue = [s for s in self._queue if s not in stopped]
        current = self.current
        if current is not None and (not kinds or current.kind in kinds):
            current.stopped = True
            stopped.insert(0, current)
            current._arrived.set()
            await self._abort()
        for sound in stopped:
            if sound is not current:
                sound.stopped = True
                self._ended(sound)
        return stopped

    async def _abort(self) -> None:
        self._due = time.monotonic()
        try:
            await self.sink.abort()
        except AudioDeviceError as err:
            _LOGGER.warning("Stopping the speaker: %s", err)

    def _ended(self, sound: Sound) -> None:
        if sound.on_end is not None:
            sound.on_end(sound)

    async def _run(self) -> None:
        while True:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            sound = self.current = self._queue.pop(0)
            try:
                await self._play(sound)
            except AudioDeviceError as err:
                _LOGGER.error("Speaker: %s; %s dropped", err, sound.kind)
                await self._abort()
            except Exception:
                _LOGGER.exception("Playing %s", sound.kind)
                await self._abort()
            finally:
                self.current = None
                self._ended(sound)

    async def _play(self, sound: Sound) -> None:
        sink = self.sink
        device = PcmFormat(sink.rate, sink.width, sink.channels)
        to_device = StreamConverter(PcmFormat(sound.rate, sound.width, sound.channels), device)
        reference = PcmFormat(SAMPLE_RATE, SAMPLE_WIDTH, SAMPLE_CHANNELS)
        to_reference = StreamConverter(device, reference)
        for turn in range(sound.repeat):
            if turn and sound.pause_seconds:
                silence = bytes(int(sound.pause_seconds * sink.rate) * device.frame_bytes)
                await self._write_paced(sound, silence, to_reference)
            offset = 0
            while not sound.stopped:
                if offset >= len(sound.audio):
                    if sound.complete:
                        break
                    sound._arrived.clear()
                    try:
                        await asyncio.wait_for(sound._arrived.wait(), STALL_SECONDS)
                    except TimeoutError:
                        _LOGGER.warning(
                            "No audio for %s for %.0f s: ended", sound.kind, STALL_SECONDS
                        )
                        sound.finish()
                    continue
                frame = sound.width * sound.channels
                piece_bytes = max(int(sound.rate * PIECE_SECONDS) * frame, frame)
                end = offset + piece_bytes * 5  # convert 100 ms at a time
                end = min(end - (end - offset) % frame, len(sound.audio))
                if end - offset < frame:
                    offset = len(sound.audio)
                    continue
                pcm = bytes(sound.audio[offset:end])
                offset = end
                await self._write_paced(sound, to_device.convert(pcm), to_reference)
            if sound.stopped:
                return
        # what is in the device plays out; then the sound has been heard
        await asyncio.sleep(max(self._due - time.monotonic(), 0))
        await sink.drain()

    async def _write_paced(self, sound: Sound, out: bytes, to_reference: StreamConverter) -> None:
        sink = self.sink
        frame = sink.width * sink.channels
        step = max(int(sink.rate * PIECE_SECONDS), 1) * frame
        for start in range(0, len(out), step):
            if sound.stopped:
                return
            piece = out[start : start + step]
            while True:  # wait while held, and until the piece is due
                if self.held:
                    await self._resumed.wait()
                if sound.stopped:
                    return
                now = time.monotonic()
                if self._due < now:
                    self._due = now
                ahead = self._due - now - self.lead
                if ahead <= 0 and not self.held:
                    break
                if ahead > 0:
                    await asyncio.sleep(ahead)
            await sink.write(piece)
            if sound.started_at is None:
                sound.started_at = time.monotonic()
            seconds = len(piece) / frame / sink.rate
            self._due += seconds
            sound.seconds_played += seconds
            if self.on_played is not None:
                self.on_played(to_reference.convert(piece))
