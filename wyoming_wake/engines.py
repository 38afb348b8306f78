"""The two wake-word engines. Each loads its weights once; each client gets a stream.

Not thread-safe: the service runs every call on its one inference thread.

- microWakeWord models are streaming models whose state lives inside the TFLite
  interpreter, so every stream has its own interpreter; the weights are the
  memory-mapped .tflite file, shared by all of them.
- openWakeWord runs a shared melspectrogram and embedding model, then each
  wake-word model on the last embeddings. One `openwakeword.Model` holds all
  interpreters; a stream keeps only its own audio, melspectrogram and embedding
  buffers.
"""

import copy
import sys
import types
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .models import MICRO, OPENWAKEWORD, WakeModelSpec

OWW_FRAME = 1280  # openWakeWord scores every 80 ms
OWW_CONTEXT = 480  # melspectrogram look-back (3 x 10 ms hop)
OWW_WARMUP_FRAMES = 5  # openwakeword zeroes the first five scores of a stream


@dataclass(frozen=True)
class Score:
    """One model's probability for the audio up to the end of the last chunk."""

    model: str
    probability: float


class ModelStream(Protocol):
    """Per-client state of one engine for the models armed on a connection."""

    def process(self, audio: bytes) -> list[Score]:
        """Feed 16 kHz mono int16 PCM; return a score per inference the audio completed."""

    def close(self) -> None:
        """Free native resources."""


class Engine(Protocol):
    name: str

    def load(self, specs: Iterable[WakeModelSpec]) -> None:
        """Load these models now (they are loaded on first use otherwise)."""

    def stream(self, specs: list[WakeModelSpec]) -> ModelStream: ...


# -- microWakeWord ----------------------------------------------------------------


class _MicroStream:
    def __init__(self, models: dict[str, Any]) -> None:
        from pymicro_wakeword import MicroWakeWordFeatures

        self._features = MicroWakeWordFeatures()
        self._models = models

    def process(self, audio: bytes) -> list[Score]:
        scores: list[Score] = []
        for features in self._features.process_streaming(audio):
            for name, model in self._models.items():
                probability = model.process_streaming_prob(features)
                # It answers every 10 ms but infers once per stride (30 ms): the
                # feature window is empty right after a real inference.
                if probability is not None and not model._features:
                    scores.append(Score(name, float(probability)))
        return scores

    def close(self) -> None:
        for model in self._models.values():
            model.close()
        self._models = {}


class MicroEngine:
    """microWakeWord (pymicro-wakeword) with its bundled TFLite C library."""

    name = MICRO

    def load(self, specs: Iterable[WakeModelSpec]) -> None:
        for spec in specs:  # opening an interpreter checks the file
            self._open(spec).close()

    @staticmethod
    def _open(spec: WakeModelSpec) -> Any:
        from pymicro_wakeword import MicroWakeWord

        assert spec.config is not None
        return MicroWakeWord.from_config(spec.config)

    def stream(self, specs: list[WakeModelSpec]) -> ModelStream:
        return _MicroStream({spec.name: self._open(spec) for spec in specs})


# -- openWakeWord -----------------------------------------------------------------


def use_litert_as_tflite_runtime() -> None:
    """Make `import tflite_runtime.interpreter` (as openwakeword does) give ai-edge-litert's.

    tflite-runtime has no wheels past Python 3.11 and fails with numpy 2;
    ai-edge-litert is its successor with the same Interpreter API.
    """
    from ai_edge_litert import interpreter

    package = types.ModuleType("tflite_runtime")
    package.interpreter = interpreter  # type: ignore[attr-defined]
    sys.modules["tflite_runtime"] = package
    sys.modules["tflite_runtime.interpreter"] = interpreter


class _OpenWakeWordStream:
    def __init__(self, engine: "OpenWakeWordEngine", names: list[str]) -> None:
        features = copy.copy(engine.preprocessor)  # shares its interpreters, not its buffers
        features.raw_data_buffer = deque(maxlen=OWW_FRAME + OWW_CONTEXT)
        features.melspectrogram_buffer = np.ones((76, 32), np.float32)
        features.melspectrogram_max_len = 76
        features.accumulated_samples = 0
        features.raw_data_remainder = np.empty(0)
        features.feature_buffer = engine.initial_features.copy()
        self._features = features
        self._engine = engine
        self._names = names
        self._pending = np.zeros(0, np.int16)
        self._frames = 0

    def process(self, audio: bytes) -> list[Score]:
        samples = np.concatenate([self._pending, np.frombuffer(audio, np.int16)])
        count = len(samples) // OWW_FRAME
        self._pending = samples[count * OWW_FRAME :]
        scores: list[Score] = []
        model = self._engine.model
        for index in range(count):
            self._features(samples[index * OWW_FRAME : (index + 1) * OWW_FRAME])
            self._frames += 1
            if self._frames <= OWW_WARMUP_FRAMES:
                continue
            for name in self._names:
                window = self._features.get_features(model.model_inputs[name])
                result = model.model_prediction_function[name](window)
                scores.append(Score(name, float(np.asarray(result).reshape(-1)[0])))
        return scores

    def close(self) -> None:
        self._names = []


class OpenWakeWordEngine:
    """openWakeWord (openwakeword 0.6.0) with ai-edge-litert as its TFLite interpreter."""

    name = OPENWAKEWORD

    def __init__(self, feature_dir: Path, specs: Iterable[WakeModelSpec]) -> None:
        self._feature_dir = feature_dir
        self._paths = [str(spec.path) for spec in specs]
        self.model: Any = None
        self.preprocessor: Any = None
        self.initial_features: Any = None

    def load(self, specs: Iterable[WakeModelSpec]) -> None:
        """Load all openWakeWord models at once (a few MB), if any is wanted."""
        if self.model is not None or not list(specs):
            return
        use_litert_as_tflite_runtime()
        from openwakeword.model import Model

        self.model = Model(
            wakeword_models=self._paths,
            inference_framework="tflite",
            melspec_model_path=str(self._feature_dir / "melspectrogram.tflite"),
            embedding_model_path=str(self._feature_dir / "embedding_model.tflite"),
        )
        self.preprocessor = self.model.preprocessor
        # openwakeword starts every feature buffer from 4 s of random noise, new on each
        # start, so a clip near the threshold could wake one server and not the next.
        # The same kind of noise from a fixed seed makes every start behave alike.
        noise = np.random.default_rng(0).integers(-1000, 1000, 16000 * 4).astype(np.int16)
        self.initial_features = self.preprocessor._get_embeddings(noise)

    def stream(self, specs: list[WakeModelSpec]) -> ModelStream:
        self.load(specs)
        return _OpenWakeWordStream(self, [spec.name for spec in specs])


def engines_for(models: dict[str, WakeModelSpec], features: Path | None) -> dict[str, Engine]:
    """microWakeWord, and openWakeWord when its feature models are there."""
    engines: dict[str, Engine] = {MICRO: MicroEngine()}
    if features is not None:
        specs = [spec for spec in models.values() if spec.engine == OPENWAKEWORD]
        engines[OPENWAKEWORD] = OpenWakeWordEngine(features, specs)
    return engines
