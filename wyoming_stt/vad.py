"""Streaming voice activity detection with Silero VAD (v6, ONNX).

The model file ships inside faster-whisper (`assets/silero_vad_v6.onnx`), so no
download is needed. One ONNX session is shared; each audio stream keeps its own
recurrent state in a `VadStream`.
"""

import functools
import threading
from pathlib import Path
from typing import Any

import numpy as np

from local_voice.audio import Float32Array

FRAME_SAMPLES = 512  # 32 ms at 16 kHz
CONTEXT_SAMPLES = 64


@functools.cache
def _session() -> Any:
    import onnxruntime
    from faster_whisper.utils import get_assets_path

    options = onnxruntime.SessionOptions()
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = 1
    options.log_severity_level = 4
    path = Path(get_assets_path()) / "silero_vad_v6.onnx"
    return onnxruntime.InferenceSession(
        str(path), providers=["CPUExecutionProvider"], sess_options=options
    )


_SESSION_LOCK = threading.Lock()


def load_vad() -> None:
    """Load the shared VAD session now rather than on first use."""
    with _SESSION_LOCK:
        _session()


class VadStream:
    """Speech probabilities, one per 32 ms frame, for a stream of 16 kHz float audio."""

    def __init__(self) -> None:
        self._state = np.zeros((2, 1, 1, 128), np.float32)
        self._context = np.zeros(CONTEXT_SAMPLES, np.float32)
        self._pending = np.zeros(0, np.float32)

    def process(self, samples: Float32Array) -> Float32Array:
        """Feed samples; return the probabilities of the frames they completed."""
        audio = np.concatenate([self._pending, samples])
        count = len(audio) // FRAME_SAMPLES
        self._pending = audio[count * FRAME_SAMPLES :]
        if count == 0:
            return np.zeros(0, np.float32)
        frames = audio[: count * FRAME_SAMPLES].reshape(count, FRAME_SAMPLES)
        contexts = np.concatenate([self._context[None, :], frames[:-1, -CONTEXT_SAMPLES:]])
        self._context = frames[-1, -CONTEXT_SAMPLES:].copy()
        batch = np.ascontiguousarray(np.concatenate([contexts, frames], axis=1))
        with _SESSION_LOCK:
            session = _session()
        probs, h, c = session.run(None, {"input": batch, "h": self._state[0], "c": self._state[1]})
        self._state = np.stack([h, c])
        return np.asarray(probs, np.float32).reshape(-1)

    def flush(self) -> Float32Array:
        """Pad the last partial frame with silence and return its probability."""
        if not len(self._pending):
            return np.zeros(0, np.float32)
        tail = np.zeros(FRAME_SAMPLES - len(self._pending), np.float32)
        return self.process(tail)
