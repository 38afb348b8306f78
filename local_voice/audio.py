"""PCM audio helpers: validating formats and converting to 16 kHz/16-bit/mono."""

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

with warnings.catch_warnings():  # audioop is deprecated in 3.11-3.12, gone in 3.13
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import audioop
    except ImportError:  # pragma: no cover - Python 3.13: wyoming's pure-Python copy
        from wyoming import pyaudioop as audioop  # type: ignore[no-redef]

SAMPLE_RATE = 16000
SAMPLE_WIDTH = 2
SAMPLE_CHANNELS = 1

Int16Array = npt.NDArray[np.int16]
Float32Array = npt.NDArray[np.float32]


class AudioFormatError(ValueError):
    """Audio that can't be understood or converted."""


@dataclass(frozen=True)
class PcmFormat:
    """Rate (Hz), width (bytes per sample) and channel count of PCM audio."""

    rate: int
    width: int
    channels: int

    @staticmethod
    def from_event_data(data: dict[str, Any]) -> "PcmFormat":
        """Read and check rate/width/channels from an audio event's data."""
        values = {}
        for key in ("rate", "width", "channels"):
            value = data.get(key)
            if not isinstance(value, int) or isinstance(value, bool):
                raise AudioFormatError(f"audio '{key}' must be an integer, got {value!r}")
            values[key] = value
        fmt = PcmFormat(**values)
        fmt.check()
        return fmt

    def check(self) -> None:
        """Raise AudioFormatError unless this format can be converted."""
        if not 4000 <= self.rate <= 384000:
            raise AudioFormatError(f"unsupported sample rate {self.rate} Hz (4000-384000)")
        if self.width not in (1, 2, 3, 4):
            raise AudioFormatError(f"unsupported sample width {self.width} bytes (1-4)")
        if not 1 <= self.channels <= 32:
            raise AudioFormatError(f"unsupported channel count {self.channels} (1-32)")

    @property
    def frame_bytes(self) -> int:
        return self.width * self.channels


def to_int16_mono(audio: bytes, fmt: PcmFormat) -> Int16Array:
    """Decode PCM bytes (8-bit unsigned, 16/24/32-bit signed LE) into mono int16."""
    if len(audio) % fmt.frame_bytes:
        raise AudioFormatError(
            f"audio of {len(audio)} bytes is not a whole number of "
            f"{fmt.width}-byte x {fmt.channels}-channel frames"
        )
    samples: npt.NDArray[np.int32]
    if fmt.width == 1:
        samples = (np.frombuffer(audio, np.uint8).astype(np.int32) - 128) << 8
    elif fmt.width == 2:
        samples = np.frombuffer(audio, "<i2").astype(np.int32)
    elif fmt.width == 3:
        raw = np.frombuffer(audio, np.uint8).reshape(-1, 3)
        padded = np.zeros((raw.shape[0], 4), np.uint8)
        padded[:, 1:] = raw
        samples = padded.view("<i4").reshape(-1) >> 16
    else:
        samples = np.frombuffer(audio, "<i4") >> 16
    if fmt.channels > 1:
        samples = samples.reshape(-1, fmt.channels).mean(axis=1).astype(np.int32)
    return samples.astype(np.int16)


class PcmConverter:
    """Converts a stream of PCM chunks, in any supported format, to 16 kHz mono int16.

    Resampling keeps state between chunks, so a stream converts without clicks.
    """

    def __init__(self, rate: int = SAMPLE_RATE) -> None:
        self.rate = rate
        self._source_rate: int | None = None
        self._state: Any = None

    def convert(self, audio: bytes, fmt: PcmFormat) -> bytes:
        """Return the chunk as 16-bit mono PCM at the target rate."""
        fmt.check()
        if fmt == PcmFormat(self.rate, SAMPLE_WIDTH, SAMPLE_CHANNELS):
            if len(audio) % 2:
                raise AudioFormatError(f"audio of {len(audio)} bytes has half a 16-bit sample")
            return audio
        mono = to_int16_mono(audio, fmt).tobytes()
        if fmt.rate == self.rate:
            return mono
        if fmt.rate != self._source_rate:
            self._source_rate, self._state = fmt.rate, None
        converted, self._state = audioop.ratecv(mono, 2, 1, fmt.rate, self.rate, self._state)
        return bytes(converted)


def int16_to_float32(samples: Int16Array | bytes) -> Float32Array:
    """Scale int16 PCM to float32 in [-1, 1)."""
    if isinstance(samples, bytes | bytearray | memoryview):
        samples = np.frombuffer(samples, np.int16)
    return (samples.astype(np.float32) / 32768.0).astype(np.float32)
