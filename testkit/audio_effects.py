"""What a room does to speech on its way to a microphone, for generated test audio.

Level (dBFS), additive noise of several colours at a signal-to-noise ratio (white,
pink, brown, babble of other voices, music-like tones) and reverberation by a
synthetic room impulse response: a direct path, a few early reflections and an
exponentially decaying diffuse tail of a given RT60. All from a seed, so a corpus is
the same on every machine. Audio is 16 kHz mono int16 PCM as bytes.
"""

import numpy as np
import numpy.typing as npt

from local_voice.audio import SAMPLE_RATE

Audio = npt.NDArray[np.float64]  # samples on the int16 scale

NOISES = ("white", "pink", "brown", "babble", "music")


def samples(pcm: bytes) -> Audio:
    return np.frombuffer(pcm, np.int16).astype(np.float64)


def to_pcm(audio: Audio) -> bytes:
    return bytes(np.clip(np.round(audio), -32768, 32767).astype(np.int16).tobytes())


def _rms(audio: Audio) -> float:
    """RMS of the louder half of 20 ms frames: the speech, not the pauses around it."""
    frame = SAMPLE_RATE // 50
    count = len(audio) // frame
    if count == 0:
        return float(np.sqrt(np.mean(audio**2))) if len(audio) else 0.0
    energy = np.mean(audio[: count * frame].reshape(count, frame) ** 2, axis=1)
    loud = np.sort(energy)[count // 2 :]
    return float(np.sqrt(np.mean(loud)))


def speech_end(pcm: bytes, within_db: float = 40.0) -> float:
    """Seconds to the end of the last 10 ms frame within `within_db` of the loudest."""
    audio = samples(pcm)
    frame = SAMPLE_RATE // 100
    count = len(audio) // frame
    energy = np.mean(audio[: count * frame].reshape(count, frame) ** 2, axis=1) + 1e-9
    loud = np.nonzero(energy > energy.max() * 10 ** (-within_db / 10))[0]
    return float((loud[-1] + 1) * frame / SAMPLE_RATE) if len(loud) else 0.0


def first_pause(pcm: bytes, gap_seconds: float = 0.15, within_db: float = 35.0) -> float:
    """Seconds to the first pause of `gap_seconds` after speech starts (the end of "okay
    nabu" in "okay nabu, turn off the lights"): no 10 ms frame within `within_db` of the
    loudest. Raises ValueError if there is none."""
    audio = samples(pcm)
    frame = SAMPLE_RATE // 100
    count = len(audio) // frame
    energy = np.mean(audio[: count * frame].reshape(count, frame) ** 2, axis=1)
    loud = energy > energy.max() * 10 ** (-within_db / 10)
    gap = round(gap_seconds * 100)
    for index in range(int(np.argmax(loud)), count - gap):
        if not loud[index : index + gap].any():
            return index * frame / SAMPLE_RATE
    raise ValueError("no pause after the speech starts")


def at_level(audio: Audio, dbfs: float) -> Audio:
    """Scaled so that its speech sits at `dbfs` (RMS relative to full scale)."""
    rms = _rms(audio)
    if rms == 0:
        return audio
    return audio * (32768 * 10 ** (dbfs / 20) / rms)


def _coloured(length: int, exponent: float, rng: np.random.Generator) -> Audio:
    """Noise whose power falls as 1/f**exponent (0 white, 1 pink, 2 brown)."""
    spectrum = np.fft.rfft(rng.normal(0, 1, length))
    freqs = np.fft.rfftfreq(length)
    freqs[0] = freqs[1] if length > 1 else 1.0
    noise = np.fft.irfft(spectrum / freqs ** (exponent / 2), length)
    return noise / (np.std(noise) or 1.0)


def _music(length: int, rng: np.random.Generator) -> Audio:
    """Chords of harmonic tones that change every half second or so, with a beat."""
    out = np.zeros(length)
    t = np.arange(length) / SAMPLE_RATE
    start = 0
    while start < length:
        span = int(rng.uniform(0.3, 0.8) * SAMPLE_RATE)
        root = 110 * 2 ** (rng.integers(0, 24) / 12)
        seg = slice(start, min(start + span, length))
        for interval in (0, 4, 7):
            freq = root * 2 ** (interval / 12)
            for harmonic in (1, 2, 3):
                out[seg] += np.sin(2 * np.pi * freq * harmonic * t[seg]) / harmonic
        envelope = np.exp(-3 * (t[seg] - t[seg][0]))
        out[seg] *= envelope
        start += span
    return out / (np.std(out) or 1.0)


def noise(kind: str, length: int, rng: np.random.Generator, babble: Audio | None) -> Audio:
    """`length` samples of unit-RMS noise of this kind; babble is cut from `babble`."""
    if kind == "white":
        return rng.normal(0, 1, length)
    if kind == "pink":
        return _coloured(length, 1.0, rng)
    if kind == "brown":
        return _coloured(length, 2.0, rng)
    if kind == "music":
        return _music(length, rng)
    if kind == "babble":
        if babble is None or len(babble) < length:
            raise ValueError("babble noise needs a longer speech track")
        start = int(rng.integers(0, len(babble) - length + 1))
        piece = babble[start : start + length]
        return piece / (np.std(piece) or 1.0)
    raise ValueError(f"unknown noise {kind!r}; known: {', '.join(NOISES)}")


def with_noise(
    audio: Audio,
    kind: str,
    snr_db: float,
    rng: np.random.Generator,
    babble: Audio | None = None,
    speech: Audio | None = None,
) -> Audio:
    """Noise added under the speech at `snr_db` (speech RMS against noise RMS); `speech`,
    when given, is the speech alone that the SNR refers to (`audio` may be mostly quiet)."""
    level = _rms(audio if speech is None else speech) / 10 ** (snr_db / 20)
    return audio + level * noise(kind, len(audio), rng, babble)


def room_response(rt60: float, drr_db: float, rng: np.random.Generator) -> Audio:
    """An impulse response of a room with this reverberation time (seconds) and
    direct-to-reverberant ratio (dB: about 0-10 for a talker 1-3 m from the mic)."""
    length = int(min(rt60, 1.2) * SAMPLE_RATE)
    t = np.arange(length) / SAMPLE_RATE
    tail: Audio = rng.normal(0, 1, length) * np.exp(-6.9 * t / rt60)  # -60 dB at rt60
    tail[: int(0.003 * SAMPLE_RATE)] = 0  # the tail starts after the direct sound
    for _ in range(6):  # early reflections off walls, floor and ceiling
        delay = int(rng.uniform(0.003, 0.03) * SAMPLE_RATE)
        tail[delay] += rng.uniform(2.0, 6.0) * rng.choice([-1.0, 1.0])
    tail *= np.sqrt(10 ** (-drr_db / 10) / np.sum(tail**2))
    tail[0] = 1.0
    return tail


def reverberant(audio: Audio, rt60: float, drr_db: float, rng: np.random.Generator) -> Audio:
    """Speech as heard across a room of this RT60 and DRR, at the same length."""
    response = room_response(rt60, drr_db, rng)
    wet = np.fft.irfft(
        np.fft.rfft(audio, len(audio) + len(response))
        * np.fft.rfft(response, len(audio) + len(response))
    )
    return wet[: len(audio)]
