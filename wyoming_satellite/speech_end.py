"""The end of a spoken command, detected on the satellite.

Home Assistant's own voice activity detection waits 0.7 s of silence before it ends
the speech-to-text stream; the satellite hears the same audio first and can send
`audio-stop` as soon as the command has ended. microVAD scores each 10 ms, but it keeps
scoring speech for about 0.4 s after the last word, so a frame also counts as quiet
when its level has fallen back to the noise floor heard so far: the silence is then
counted from the word's real end. Noise that hides the floor (babble, music) leaves
microVAD to decide alone.
"""

import logging
import math
from collections import deque
from dataclasses import dataclass

import numpy as np
from pymicro_vad import MicroVad

from local_voice.audio import SAMPLE_RATE

_LOGGER = logging.getLogger(__name__)
FRAME_SECONDS = 0.01
FRAME_BYTES = int(SAMPLE_RATE * FRAME_SECONDS) * 2
LEVEL_FRAMES = 5  # the level is the mean power over 50 ms


@dataclass(frozen=True)
class SpeechEndSettings:
    silence_seconds: float = 0.5  # quiet after speech that ends the command
    threshold: float = 0.5  # microVAD probability that counts as speech
    floor_margin_db: float = 6.0  # within this of the noise floor is quiet (0: off)
    floor_clear_db: float = 20.0  # ... once speech has been this far above the floor
    speech_seconds: float = 0.1  # speech needed before silence can end it
    wait_seconds: float = 5.0  # no speech at all within this: give up
    max_seconds: float = 15.0  # a command never runs longer


def frame_power_db(frame: bytes) -> float:
    """Mean power of 16-bit PCM in dB relative to full scale (-100 for silence)."""
    samples = np.frombuffer(frame, np.int16).astype(np.float32) / 32768.0
    power = float(np.mean(samples * samples)) if len(samples) else 0.0
    return 10 * math.log10(power) if power > 1e-10 else -100.0


def _mean_db(powers: deque[float]) -> float:
    return 10 * math.log10(sum(10 ** (p / 10) for p in powers) / len(powers))


class SpeechEnd:
    """Per command: feed audio; `ended` says why it is over (None while it goes on).

    Pass the previous command's `vad` to reuse it: pymicro-vad never frees a detector
    (about 11 KB each), so one per command would grow the satellite without bound.
    """

    def __init__(
        self, settings: SpeechEndSettings, vad: MicroVad | None = None, before: bytes = b""
    ) -> None:
        """`before`: the microphone's last seconds before the command, for its floor."""
        self.settings = settings
        self._vad = vad or MicroVad()
        self._vad.reset()
        self._pending = b""
        self._powers: deque[float] = deque(maxlen=LEVEL_FRAMES)
        self.floor_db: float | None = None  # the quietest 50 ms heard so far
        self.peak_db = -100.0  # the loudest 50 ms of speech
        for start in range(0, len(before) - FRAME_BYTES + 1, FRAME_BYTES):
            self._level(frame_power_db(before[start : start + FRAME_BYTES]))
        self._powers.clear()
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
            if self.step(self._vad.process_10ms(frame), frame_power_db(frame)):
                self._pending = b""
                return self.ended
        self._pending = self._pending[frames * FRAME_BYTES :]
        return None

    def step(self, probability: float, power_db: float) -> str | None:
        """One 10 ms frame's microVAD probability and power; the reason once it ended."""
        if self.ended:
            return None
        settings = self.settings
        level = self._level(power_db)
        speaking = probability >= settings.threshold
        if speaking:
            self.peak_db = max(self.peak_db, level)
        floor = self.floor_db
        at_floor = (
            settings.floor_margin_db > 0
            and floor is not None
            and self.peak_db - floor >= settings.floor_clear_db
            and level < floor + settings.floor_margin_db
        )
        self.seconds += FRAME_SECONDS
        if speaking:
            self.speech += FRAME_SECONDS
        if speaking and not at_floor:
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

    def _level(self, power_db: float) -> float:
        """The 50 ms level ending with this frame; the floor follows its minimum."""
        self._powers.append(power_db)
        level = _mean_db(self._powers)
        if len(self._powers) == LEVEL_FRAMES:
            self.floor_db = level if self.floor_db is None else min(self.floor_db, level)
        return level
