"""The satellite's feedback sounds: built-in tones made with numpy, or WAVs from flags.

Built in, so a satellite works with no sound files to install; a flag (--awake-wav,
--done-wav, --timer-finished-wav) swaps any of them for a WAV of any format.
"""

from __future__ import annotations

import wave
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from local_voice.audio import AudioFormatError, PcmFormat, to_int16_mono

TONES = ("awake", "done", "error", "timer")
TONE_RATE = 22050
PEAK_DBFS = -12.0
_FADE_IN_S = 0.005
_FADE_OUT_S = 0.02

Samples = npt.NDArray[np.float64]


def _bell(freq: float, length_s: float, decay_s: float) -> Samples:
    """A soft bell: the note plus two quiet overtones, decaying exponentially."""
    t = np.arange(int(length_s * TONE_RATE)) / TONE_RATE
    wave_ = (
        np.sin(2 * np.pi * freq * t)
        + 0.25 * np.sin(2 * np.pi * 2 * freq * t)
        + 0.08 * np.sin(2 * np.pi * 3 * freq * t)
    )
    result: Samples = wave_ * np.exp(-t / decay_s)
    return result


def _buzz(freq: float, length_s: float) -> Samples:
    """A mellow square-ish wave (odd harmonics falling off fast) for the error sound."""
    t = np.arange(int(length_s * TONE_RATE)) / TONE_RATE
    result: Samples = sum(
        (np.sin(2 * np.pi * k * freq * t) / k**1.5 for k in (1, 3, 5, 7)),
        start=np.zeros_like(t),
    )
    return _faded(result, 0.01, 0.03)


def _faded(samples: Samples, fade_in_s: float, fade_out_s: float) -> Samples:
    """Linear fades at both ends, so no tone starts or stops with a click."""
    out = samples.copy()
    fade_in = min(len(out), int(fade_in_s * TONE_RATE))
    fade_out = min(len(out), int(fade_out_s * TONE_RATE))
    if fade_in:
        out[:fade_in] *= np.linspace(0.0, 1.0, fade_in, endpoint=False)
    if fade_out:
        out[-fade_out:] *= np.linspace(1.0, 0.0, fade_out)
    return out


def _mix(length_s: float, parts: list[tuple[float, Samples]]) -> Samples:
    """Place each (start time, samples) into a buffer `length_s` long."""
    out = np.zeros(int(length_s * TONE_RATE))
    for start_s, samples in parts:
        start = int(start_s * TONE_RATE)
        part = samples[: len(out) - start]
        out[start : start + len(part)] += part
    return out


@lru_cache(maxsize=len(TONES))
def default_tone(name: str) -> tuple[bytes, int]:
    """A built-in tone as (16-bit mono PCM, 22050): awake, done, error or timer."""
    e5, a5, c6, e6 = 659.25, 880.0, 1046.5, 1318.5
    if name == "awake":  # rising two-note chime
        samples = _mix(0.25, [(0.0, _bell(e5, 0.25, 0.07)), (0.08, _bell(a5, 0.17, 0.07))])
    elif name == "done":  # the same two notes, falling
        samples = _mix(0.25, [(0.0, _bell(a5, 0.25, 0.07)), (0.08, _bell(e5, 0.17, 0.07))])
    elif name == "error":  # two low buzzes
        samples = _mix(0.36, [(0.0, _buzz(196.0, 0.14)), (0.2, _buzz(196.0, 0.14))])
    elif name == "timer":  # ding-dong, ding-dong, then a pause before it repeats
        notes = [(0.0, e6), (0.15, c6), (0.45, e6), (0.6, c6)]
        samples = _mix(1.0, [(start, _bell(freq, 0.4, 0.1)) for start, freq in notes])
    else:
        raise ValueError(f"unknown tone {name!r}; choose from {', '.join(TONES)}")
    samples = _faded(samples, _FADE_IN_S, _FADE_OUT_S)
    peak = 32767 * 10 ** (PEAK_DBFS / 20)
    scaled = np.round(samples * (peak / np.max(np.abs(samples))))
    return scaled.astype("<i2").tobytes(), TONE_RATE


def load_tone(path: Path | None, name: str) -> tuple[bytes, int]:
    """The WAV at `path` as (16-bit mono PCM, its rate), or the built-in tone `name`."""
    if path is None:
        return default_tone(name)
    try:
        with wave.open(str(path), "rb") as wav:
            fmt = PcmFormat(wav.getframerate(), wav.getsampwidth(), wav.getnchannels())
            frames = wav.readframes(wav.getnframes())
        fmt.check()
        pcm = to_int16_mono(frames, fmt).tobytes()
    except (OSError, EOFError, wave.Error, AudioFormatError) as err:
        raise ValueError(f"can't read the {name} sound {path}: {err}") from err
    if not pcm:
        raise ValueError(f"the {name} sound {path} holds no audio")
    return pcm, fmt.rate
