"""The last seconds of microphone audio, addressed by absolute sample position.

The wake word fires a few hundred milliseconds after the phrase ends; the command
that follows is already in this buffer, so streaming starts from the phrase's end
instead of the moment of detection and no first word is lost.
"""

from local_voice.audio import SAMPLE_RATE


class MicRing:
    """16 kHz mono int16 audio; `position` counts every sample ever appended."""

    def __init__(self, seconds: float = 6.0) -> None:
        self.capacity = int(seconds * SAMPLE_RATE) * 2  # bytes
        self._buffer = bytearray()
        self.position = 0  # samples appended so far

    def append(self, pcm: bytes) -> None:
        self._buffer += pcm
        self.position += len(pcm) // 2
        if len(self._buffer) > self.capacity:
            del self._buffer[: len(self._buffer) - self.capacity]

    @property
    def oldest(self) -> int:
        """Position of the oldest sample still held."""
        return self.position - len(self._buffer) // 2

    def since(self, position: int) -> bytes:
        """Audio from `position` (clamped to what is held) up to now."""
        start = max(position, self.oldest) - self.oldest
        return bytes(self._buffer[start * 2 :])
