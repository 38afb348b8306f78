"""A spoken corpus of Home Assistant commands, made on this machine from text."""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from . import clips

COMMANDS = (
    "turn off the kitchen lights",
    "turn on the living room lamp",
    "set the bedroom lights to forty percent",
    "what is the temperature in the living room",
    "open the garage door",
    "close the blinds in the office",
    "set the thermostat to twenty one degrees",
    "start a timer for five minutes",
    "cancel the timer",
    "pause the music",
    "skip to the next song",
    "set the volume to thirty percent",
    "what time is it",
    "is the front door locked",
    "turn the hallway light red",
    "dim the dining room lights",
    "lock the back door",
    "what's the weather like today",
    "turn off all the lights upstairs",
    "never mind",
    "turn on the fan in the bedroom",
    "how much time is left on the timer",
    "set the kitchen lights to blue",
    "turn off the television",
    "is the garage door open",
)

# (name, function of text -> 16 kHz PCM)
VOICES = {
    "piper": lambda text: clips.piper(text),
    "piper-slow": lambda text: clips.piper(text, length_scale=1.25),
    "espeak-us": lambda text: clips.espeak(text, "en-us", 150),
    "espeak-gb": lambda text: clips.espeak(text, "en-gb", 165, pitch=40),
    "piper-noisy": lambda text: clips.with_noise(clips.piper(text), snr_db=15, seed=len(text)),
}


@dataclass(frozen=True)
class Clip:
    text: str
    voice: str
    pcm: bytes  # 16 kHz mono int16, with the silence a client streams around a command

    @property
    def seconds(self) -> float:
        return len(self.pcm) / 32000


def build(cache: Path, count: int, lead: float = 0.3, tail: float = 0.7) -> list[Clip]:
    """`count` clips cycling over voices and commands, cached on disk by content."""
    key = hashlib.sha256(
        json.dumps([COMMANDS, list(VOICES), count, lead, tail, clips.CLIPS_VERSION]).encode()
    ).hexdigest()
    directory = cache / key[:16]
    directory.mkdir(parents=True, exist_ok=True)
    corpus = []
    voices = list(VOICES)
    for index in range(count):
        text = COMMANDS[index % len(COMMANDS)]
        voice = voices[(index + index // len(COMMANDS)) % len(voices)]
        path = directory / f"{index:03d}.pcm"
        if not path.exists():
            path.write_bytes(clips.padded(VOICES[voice](text), lead, tail))
        corpus.append(Clip(text, voice, path.read_bytes()))
    return corpus


# The few commands the test fixtures speak (the corpus above is for benchmarks).
FIXTURE_COMMANDS = (
    "turn off the kitchen lights",
    "set the bedroom lights to forty percent",
    "what is the temperature in the living room",
    "open the garage door",
    "start a timer for five minutes",
    "lock the front door",
)
