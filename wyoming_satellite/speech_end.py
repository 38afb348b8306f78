"""The end of a spoken command, detected on the satellite.

Home Assistant's own voice activity detection waits 0.7 s of silence before it ends
the speech-to-text stream; the satellite hears the same audio first and can send
`audio-stop` as soon as the command has ended. microVAD scores each 10 ms; a command
has ended after `silence_seconds` below the threshold once speech was heard. microVAD
goes on scoring speech for about 0.4 s after the last word, so the stream stops about
0.9 s after it, and a pause of up to that length inside a command is kept whole;
bench/speech_end.py measures both for each silence.
"""

import logging
from dataclasses import dataclass

from pymicro_vad import MicroVad

from local_voice.audio import SAMPLE_RATE

_LOGGER = logging.getLogger(__name__)
FRAME_SECONDS = 0.01
FRAME_BYTES = int(SAMPLE_RATE * FRAME_SECONDS) * 2


@dataclass(frozen=True)
class SpeechEndSettings:
    silence_seconds: float = 0.5  # quiet after speech that ends the command
    threshold: float = 0.5  # microVAD probability that counts as speech
    speech_seconds: float = 0.1  # speech needed before silence can end it
    wait_seconds: float = 5.0  # no speech at all within this: give up
    max_seconds: float = 15.0  # a command never runs longer


class SpeechEnd:
    """Per command: feed audio; `ended` says why it is over (None while it goes on).

    Pass the previous command's `vad` to reuse it: pymicro-vad never frees a detector
    (about 11 KB each), so one per command would grow the satellite without bound.
    """

    def __init__(self, settings: SpeechEndSettings, vad: MicroVad | None = None) -> None:
        self.settings = settings
        self._vad = vad or MicroVad()
        self._vad.reset()
        self._pending = b""
        self.seconds = 0.0
        self.speech = 0.0
        self.quiet = 0.0
        self.speech_end: float | None = None  # seconds into the command
        self.ended: str | None = None

    @property
    def vad(self) -> MicroVad:
        return self._vad

    def process(self, pcm: bytes) -> str | None:
        """Feed 16 kHz mono int16; returns "silence", "no speech" or "too long" once."""
        if self.ended:
            return None
        self._pending += pcm
        frames = len(self._pending) // FRAME_BYTES
        for index in range(frames):
            frame = self._pending[index * FRAME_BYTES : (index + 1) * FRAME_BYTES]
            if self.step(self._vad.process_10ms(frame)):
                self._pending = b""
                return self.ended
        self._pending = self._pending[frames * FRAME_BYTES :]
        return None

    def step(self, probability: float) -> str | None:
        """One 10 ms frame's microVAD probability; the reason once the command ended."""
        if self.ended:
            return None
        settings = self.settings
        self.seconds += FRAME_SECONDS
        if probability >= settings.threshold:
            self.speech += FRAME_SECONDS
            self.quiet = 0.0
        else:
            self.quiet += FRAME_SECONDS
        if self.speech >= settings.speech_seconds:
            if self.quiet >= settings.silence_seconds - 1e-9:
                self.speech_end = self.seconds - self.quiet
                self.ended = "silence"
        elif self.seconds >= settings.wait_seconds - 1e-9:
            self.ended = "no speech"
        if self.seconds >= settings.max_seconds - 1e-9:
            self.ended = self.ended or "too long"
        return self.ended
