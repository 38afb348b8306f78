"""Acoustic echo cancellation: the satellite's own speaker, taken out of its microphone.

The satellite knows exactly what it plays, so the echo is a filtered, delayed copy of
a signal it has: `EchoCanceller` keeps that reference in a FIFO lined up sample for
sample with the microphone stream and hands both, 10 ms at a time, to an engine:
WebRTC's AEC3 (livekit's AudioProcessingModule: an adaptive filter with its own delay
estimate, then a residual echo suppressor) or speexdsp's adaptive filter (pyaec). AEC3
removes about 17 dB more echo, and speexdsp takes 1.5 s to converge, but AEC3's
suppressor also takes much of a user talking over the reply, so the satellite's
command line picks speexdsp and catches its own wake word by other means
(bench/echo.py measures both; docs/satellite.md).

    echo = EchoCanceller()
    echo.played(pcm)            # as playback proceeds, what went to the speaker
    clean = echo.process(mic)   # as the microphone delivers, its next audio

Alignment is by counting samples, not by clocks: audio handed to `played()` now pairs
with the microphone samples that arrive `delay_ms` after the ones `process()` has
received so far. While playback is continuous the reference stays contiguous (a
burst of `played()` ahead of the microphone is kept, not dropped); after a gap
longer than a microphone chunk it is re-anchored to the microphone's position with
zeros for the silence. Both errors of that scheme put the reference early, never
late, which the engines absorb: a reference later than its echo can not be cancelled.
`process()` must therefore be called as the microphone delivers, not from a backlog.
"""

import ctypes
import importlib
import threading
from typing import Any, Protocol

import numpy as np

SAMPLE_RATE = 16000
FRAME = 160  # 10 ms: both engines' block and the unit of alignment
DEFAULT_DELAY_MS = 10.0
DEFAULT_FILTER_MS = 200.0
ENGINES = ("webrtc", "speex")

_INT16_P = ctypes.POINTER(ctypes.c_int16)


class _Engine(Protocol):
    def cancel(self, near: np.ndarray, far: np.ndarray) -> bytes:
        """Whole frames of microphone and reference (int16); the cleaned frames."""


class _Webrtc:
    """WebRTC AEC3 through livekit; no noise suppression or gain (done elsewhere)."""

    def __init__(self, taps: int) -> None:
        self._rtc: Any = importlib.import_module("livekit.rtc")
        self._apm = self._rtc.AudioProcessingModule(echo_cancellation=True)

    def cancel(self, near: np.ndarray, far: np.ndarray) -> bytes:
        out = []
        frame_type = self._rtc.AudioFrame
        for start in range(0, len(near), FRAME):
            block = slice(start, start + FRAME)
            self._apm.process_reverse_stream(
                frame_type(far[block].tobytes(), SAMPLE_RATE, 1, FRAME)
            )
            frame = frame_type(near[block].tobytes(), SAMPLE_RATE, 1, FRAME)
            self._apm.set_stream_delay_ms(0)  # the FIFO aligns; AEC3 finds what is left
            self._apm.process_stream(frame)
            out.append(bytes(frame.data))
        return b"".join(out)


class _Speex:
    """speexdsp's multi-delay block frequency-domain filter through pyaec."""

    def __init__(self, taps: int) -> None:
        self._pyaec: Any = importlib.import_module("pyaec")
        self._aec = self._pyaec.Aec(FRAME, taps, SAMPLE_RATE, False)

    def cancel(self, near: np.ndarray, far: np.ndarray) -> bytes:
        """Through pyaec's C entry point with numpy buffers: its Python wrapper copies
        every sample through a ctypes array and a list."""
        out = np.empty_like(near)
        for start in range(0, len(near), FRAME):
            block = slice(start, start + FRAME)
            self._pyaec.lib.AecCancelEcho(
                self._aec._aec,
                near[block].ctypes.data_as(_INT16_P),
                far[block].ctypes.data_as(_INT16_P),
                out[block].ctypes.data_as(_INT16_P),
                FRAME,
            )
        return out.tobytes()


def default_engine() -> str:
    """ "webrtc" where livekit imports, else "speex"."""
    try:
        importlib.import_module("livekit.rtc")
    except ImportError:
        return "speex"
    return "webrtc"


class EchoCanceller:
    """16 kHz mono int16 PCM throughout."""

    def __init__(
        self,
        delay_ms: float = DEFAULT_DELAY_MS,
        filter_ms: float = DEFAULT_FILTER_MS,
        enabled: bool = True,
        *,
        engine: str | None = None,
    ) -> None:
        """`delay_ms`: the shortest time from `played()` to the echo reaching
        `process()` (output plus input buffering and the acoustic path); an estimate on
        the short side costs filter length, one on the long side leaves echo. `filter_ms`:
        how long echo lasts past that delay (reverberation plus the delay's uncertainty):
        speexdsp's filter length, and how long after the last sound the canceller stays
        active. `enabled=False` passes the microphone through untouched. `engine`:
        "webrtc" or "speex" (default: `default_engine()`)."""
        self.enabled = enabled
        self.engine = engine or default_engine()
        if self.engine not in ENGINES:
            raise ValueError(f"unknown engine {self.engine!r}; known: {', '.join(ENGINES)}")
        self.delay = max(0, round(delay_ms * SAMPLE_RATE / 1000))
        self.taps = max(FRAME, round(filter_ms * SAMPLE_RATE / 1000 / FRAME) * FRAME)
        self._ref = bytearray()  # reference for microphone samples from _mic_out on
        self._pending = bytearray()  # a partial microphone frame, held for the next call
        self._mic_in = 0  # microphone samples received
        self._mic_out = 0  # microphone samples returned
        self._audible_end = -(10**12)  # where the last audible reference's echo starts
        self._tolerance = 2 * FRAME  # a gap up to the largest microphone chunk is jitter
        self._engine: _Engine = self._new_engine()
        # played() runs on the event loop, process() on the DSP thread
        self._lock = threading.Lock()

    def _new_engine(self) -> _Engine:
        return (_Webrtc if self.engine == "webrtc" else _Speex)(self.taps)

    def reset(self) -> None:
        """Forget the adaptive filter state (e.g. after a device change)."""
        self._engine = self._new_engine()

    @property
    def active(self) -> bool:
        """Whether reference audio was played recently (within filter length + delay)."""
        return self.enabled and self._mic_out < self._audible_end + self.taps

    def played(self, pcm: bytes) -> None:
        """Audio handed to the speaker now (16 kHz mono int16; the satellite converts).
        Called as playback proceeds, in real time."""
        with self._lock:
            self._played(pcm)

    def _played(self, pcm: bytes) -> None:
        target = self._mic_in + self.delay
        end = self._mic_out + len(self._ref) // 2
        if end < target - self._tolerance:  # playback stopped meanwhile: re-anchor
            self._ref += bytes(2 * (target - end))
            end = target
        usable = len(pcm) & ~1
        if usable and np.any(np.frombuffer(pcm, np.int16, usable // 2)):
            self._audible_end = end + usable // 2
        self._ref += pcm[:usable]

    def process(self, mic: bytes) -> bytes:
        """The microphone's next audio (any length, a multiple of 2 bytes); returns cleaned
        audio. Output may lag input by < 10 ms (buffer partial frames) but over a stream
        total output length == total input length."""
        with self._lock:
            return self._process(mic)

    def _process(self, mic: bytes) -> bytes:
        self._mic_in += len(mic) // 2
        self._tolerance = max(self._tolerance, len(mic) // 2)
        if not self.active:
            # Nothing to cancel: the reference ahead is silence. Keep it in step with the
            # microphone and skip the engine, whose state stays for the next reply.
            out = bytes(self._pending) + mic
            self._pending.clear()
            del self._ref[: len(out)]
            self._mic_out += len(out) // 2
            return out
        self._pending += mic
        frames = len(self._pending) // (2 * FRAME)
        size = frames * 2 * FRAME
        if len(self._ref) < size:  # nothing played yet for the end of this: silence
            self._ref += bytes(size - len(self._ref))
        near = np.frombuffer(self._pending, np.int16, frames * FRAME).copy()
        far = np.frombuffer(self._ref, np.int16, frames * FRAME).copy()
        del self._pending[:size]
        del self._ref[:size]
        self._mic_out += frames * FRAME
        return self._engine.cancel(near, far)
