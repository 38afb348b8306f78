"""The two speech engines, behind one blocking call: text in, 16-bit PCM out.

Both run ONNX models with onnxruntime, whose sessions may be used from several
threads at once; calls come from the service's synthesis pool, never from the
event loop.
"""

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .models import ESPEAK_LANGUAGES, VoiceSource, load_style

Int16Array = np.ndarray[Any, np.dtype[np.int16]]


@dataclass(frozen=True)
class SpeechOptions:
    """How one request is spoken."""

    speaker: str | None = None
    speed: float = 1.0  # > 1 is faster (Piper's length scale is 1 / speed)


class Engine(Protocol):
    """A loaded model that speaks one or more voices."""

    def sample_rate(self, voice: VoiceSource) -> int: ...

    def speak(self, text: str, voice: VoiceSource, options: SpeechOptions) -> Int16Array: ...


def _session(model: Path, threads: int) -> Any:
    import onnxruntime

    settings = onnxruntime.SessionOptions()
    settings.intra_op_num_threads = threads
    settings.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(
        str(model), sess_options=settings, providers=["CPUExecutionProvider"]
    )


def _to_int16(audio: np.ndarray) -> Int16Array:
    samples: Int16Array = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)
    return samples


class PiperEngine:
    """One Piper voice (`.onnx` + `.onnx.json`), which may have several speakers."""

    def __init__(self, source: VoiceSource, threads: int) -> None:
        from piper import PiperConfig, PiperVoice

        assert source.config is not None
        config = PiperConfig.from_dict(json.loads(source.config.read_text(encoding="utf-8")))
        self.voice = PiperVoice(config=config, session=_session(source.model, threads))
        self.speaker_ids: dict[str, int] = dict(config.speaker_id_map)

    def sample_rate(self, voice: VoiceSource) -> int:
        return int(self.voice.config.sample_rate)

    def speak(self, text: str, voice: VoiceSource, options: SpeechOptions) -> Int16Array:
        from piper import SynthesisConfig

        speaker = options.speaker
        config = SynthesisConfig(
            speaker_id=int(speaker)
            if speaker and speaker.isdigit()
            else self.speaker_ids.get(speaker or ""),
            length_scale=(self.voice.config.length_scale or 1.0) / options.speed,
        )
        parts = [chunk.audio_int16_array for chunk in self.voice.synthesize(text, config)]
        return np.concatenate(parts) if parts else np.zeros(0, np.int16)


class KokoroEngine:
    """The Kokoro-82M model; every Kokoro voice is a style array used with it."""

    SAMPLE_RATE = 24000
    MIN_SPEED, MAX_SPEED = 0.5, 2.0

    def __init__(self, model: Path, threads: int) -> None:
        from kokoro_onnx import Kokoro

        with tempfile.TemporaryDirectory() as tmp:  # styles are passed per call, not by name
            empty = Path(tmp) / "no-voices.npz"
            np.savez(empty)
            self.kokoro = Kokoro.from_session(_session(model, threads), str(empty))
        self._styles: dict[Path | None, dict[str, np.ndarray]] = {}

    def sample_rate(self, voice: VoiceSource) -> int:
        return self.SAMPLE_RATE

    def _style(self, voice: VoiceSource) -> np.ndarray:
        styles = self._styles.setdefault(voice.style, {})
        if voice.name not in styles:
            styles[voice.name] = load_style(voice)
        return styles[voice.name]

    def speak(self, text: str, voice: VoiceSource, options: SpeechOptions) -> Int16Array:
        speed = min(max(options.speed, self.MIN_SPEED), self.MAX_SPEED)
        audio, _ = self.kokoro.create(
            text,
            voice=self._style(voice),
            speed=speed,
            lang=ESPEAK_LANGUAGES.get(voice.language, "en-us"),
        )
        return _to_int16(np.asarray(audio))


def load_engine(source: VoiceSource, threads: int) -> Engine:
    """Load the model that speaks this voice."""
    if source.engine == "piper":
        return PiperEngine(source, threads)
    return KokoroEngine(source.model, threads)


def engine_key(source: VoiceSource) -> str:
    """Voices with the same key share one loaded engine (all Kokoro voices do)."""
    return f"{source.engine}:{source.model}"
