"""PCM validation and conversion to 16 kHz/16-bit/mono."""

import numpy as np
import pytest

from local_voice.audio import (
    AudioFormatError,
    PcmConverter,
    PcmFormat,
    int16_to_float32,
    to_int16_mono,
)


def tone(rate: int, seconds: float = 0.5, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * np.pi * freq * t) * 16000).astype(np.int16)


def test_16k_mono_passes_through_unchanged():
    pcm = tone(16000).tobytes()
    assert PcmConverter().convert(pcm, PcmFormat(16000, 2, 1)) == pcm


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_resampling_keeps_duration_and_pitch(rate):
    converter = PcmConverter()
    source = tone(rate, seconds=1.0).tobytes()
    out = b"".join(
        converter.convert(source[i : i + 2000], PcmFormat(rate, 2, 1))
        for i in range(0, len(source), 2000)
    )
    samples = np.frombuffer(out, np.int16)
    assert abs(len(samples) - 16000) <= 16
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    peak_hz = np.argmax(spectrum) * 16000 / len(samples)
    assert abs(peak_hz - 440) < 5


def test_widths_and_channels():
    base = tone(16000)
    as_int32 = base.astype(np.int32)
    stereo = np.repeat(base, 2).tobytes()
    assert np.array_equal(to_int16_mono(stereo, PcmFormat(16000, 2, 2)), base)
    eight_bit = ((as_int32 >> 8) + 128).astype(np.uint8).tobytes()
    assert np.abs(to_int16_mono(eight_bit, PcmFormat(16000, 1, 1)) - base).max() < 256
    wide = (as_int32 << 16).astype("<i4").tobytes()
    assert np.array_equal(to_int16_mono(wide, PcmFormat(16000, 4, 1)), base)
    three = b"".join(int(v << 8).to_bytes(3, "little", signed=True) for v in as_int32)
    assert np.array_equal(to_int16_mono(three, PcmFormat(16000, 3, 1)), base)
    six = np.repeat(base, 6).tobytes()
    assert np.array_equal(to_int16_mono(six, PcmFormat(16000, 2, 6)), base)


@pytest.mark.parametrize(
    ("fmt", "message"),
    [
        (PcmFormat(16000, 5, 1), "width"),
        (PcmFormat(100, 2, 1), "rate"),
        (PcmFormat(16000, 2, 64), "channel"),
    ],
)
def test_unsupported_formats(fmt, message):
    with pytest.raises(AudioFormatError, match=message):
        PcmConverter().convert(b"\x00" * 64, fmt)


def test_partial_frames_are_refused():
    with pytest.raises(AudioFormatError, match="whole number"):
        PcmConverter().convert(b"\x00" * 6, PcmFormat(16000, 2, 2))


def test_format_from_event_data():
    assert PcmFormat.from_event_data({"rate": 16000, "width": 2, "channels": 1}) == PcmFormat(
        16000, 2, 1
    )
    with pytest.raises(AudioFormatError, match="'channels' must be an integer"):
        PcmFormat.from_event_data({"rate": 16000, "width": 2, "channels": True})


def test_int16_to_float32():
    out = int16_to_float32(np.array([-32768, 0, 16384], np.int16).tobytes())
    assert out.dtype == np.float32 and list(out) == [-1.0, 0.0, 0.5]
