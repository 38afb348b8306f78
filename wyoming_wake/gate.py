"""VAD gating: pass audio to the wake-word models only around speech.

pymicro-vad scores every 10 ms. While nobody speaks, audio goes into a short
pre-roll buffer instead of the models; when speech starts, the pre-roll and the
speech go through, and the gate stays open for a hang-over time after the last
speech frame, so the start of "okay nabu" is not cut off.
"""

import threading
from collections import deque
from typing import Any

VAD_CHUNK_BYTES = 320  # 10 ms of 16 kHz int16
# pymicro-vad never frees a detector (about 11 KB each): closed gates hand theirs back
# here for the next stream, so connections coming and going don't grow the server.
_SPARE: list[Any] = []
_SPARE_LOCK = threading.Lock()


def _vad() -> Any:
    with _SPARE_LOCK:
        if _SPARE:
            vad = _SPARE.pop()
            vad.reset()
            return vad
    from pymicro_vad import MicroVad

    return MicroVad()


class VadGate:
    """Filters a stream of 16 kHz mono int16 PCM down to the parts around speech."""

    def __init__(
        self, threshold: float = 0.5, preroll_seconds: float = 1.0, hangover_seconds: float = 1.0
    ) -> None:
        self._vad: Any = _vad()
        self._threshold = threshold
        self._preroll: deque[bytes] = deque(maxlen=max(int(preroll_seconds * 100), 1))
        self._hangover = int(hangover_seconds * 100)
        self._pending = b""
        self._chunks = 0
        self._open_until = -1
        self.passed_chunks = 0

    def close(self) -> None:
        """Hand the detector back for another stream."""
        if self._vad is not None:
            with _SPARE_LOCK:
                _SPARE.append(self._vad)
            self._vad = None

    @property
    def seen_chunks(self) -> int:
        return self._chunks

    def filter(self, audio: bytes) -> bytes:
        """The audio the models should see (possibly empty) for this piece of the stream."""
        data = self._pending + audio
        usable = len(data) - len(data) % VAD_CHUNK_BYTES
        self._pending = data[usable:]
        out: list[bytes] = []
        for start in range(0, usable, VAD_CHUNK_BYTES):
            chunk = data[start : start + VAD_CHUNK_BYTES]
            self._chunks += 1
            if self._vad.process_10ms(chunk) >= self._threshold:
                if self._chunks > self._open_until:  # opening: replay the pre-roll first
                    out.extend(self._preroll)
                    self.passed_chunks += len(self._preroll)
                    self._preroll.clear()
                self._open_until = self._chunks + self._hangover
            if self._chunks <= self._open_until:
                out.append(chunk)
                self.passed_chunks += 1
            else:
                self._preroll.append(chunk)
        return b"".join(out)
