"""Automatic gain and noise suppression for the microphone (webrtc-noise-gain).

WebRTC's processor takes exactly 10 ms (160 samples) at a time while mic chunks can be
any length, so partial frames are buffered. To return as many bytes as it was given on
every call, the output starts with 159 samples of silence: a constant lag under 10 ms.
"""

from __future__ import annotations

import importlib
from typing import Any

FRAME_SAMPLES = 160  # 10 ms at 16 kHz
FRAME_BYTES = FRAME_SAMPLES * 2
LAG_BYTES = FRAME_BYTES - 2  # the most a partial frame can hold back, in whole samples
AUTO_GAIN_RANGE = range(32)  # dBFS target, 0 = off
NOISE_SUPPRESSION_RANGE = range(5)  # 0 = off .. 4 = strongest


def _check(value: int, allowed: range, flag: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise ValueError(
            f"{flag} must be an integer from {allowed.start} to {allowed.stop - 1}, got {value!r}"
        )
    return value


class MicProcessor:
    """Runs 16 kHz 16-bit mono PCM through WebRTC gain control and noise suppression."""

    def __init__(self, auto_gain: int = 0, noise_suppression: int = 0) -> None:
        self.auto_gain = _check(auto_gain, AUTO_GAIN_RANGE, "--mic-auto-gain")
        self.noise_suppression = _check(
            noise_suppression, NOISE_SUPPRESSION_RANGE, "--mic-noise-suppression"
        )
        self.enabled = bool(auto_gain or noise_suppression)
        self._processor: Any = None
        if self.enabled:  # loaded only when asked for: passthrough needs nothing
            module = importlib.import_module("webrtc_noise_gain")
            self._processor = module.AudioProcessor(auto_gain, noise_suppression)
        self._pending = bytearray()
        self._output = bytearray(LAG_BYTES)

    def process(self, pcm: bytes) -> bytes:
        """Return len(pcm) bytes of processed audio (exactly pcm when both are off)."""
        if not self.enabled:
            return pcm
        if len(pcm) % 2:
            raise ValueError(f"audio of {len(pcm)} bytes has half a 16-bit sample")
        self._pending.extend(pcm)
        whole = len(self._pending) - len(self._pending) % FRAME_BYTES
        for start in range(0, whole, FRAME_BYTES):
            frame = bytes(self._pending[start : start + FRAME_BYTES])
            self._output.extend(self._processor.Process10ms(frame).audio)
        del self._pending[:whole]
        out = bytes(self._output[: len(pcm)])
        del self._output[: len(pcm)]
        return out
