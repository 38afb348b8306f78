"""Spoken wake-word clips made on this machine: positives, near misses and ordinary speech.

A positive clip is a wake phrase followed by a command ("okay nabu, turn off the
kitchen lights"), spoken by every voice in VOICES, clean and with noise. Tests
and bench/wake.py share these lists.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wyoming_wake import models

from . import BENCH_DIR, clips

# Voice name -> text to 16 kHz mono PCM. Several speeds per synthesiser.
VOICES: dict[str, Callable[[str], bytes]] = {
    "piper": lambda text: clips.piper(text),
    "piper-slow": lambda text: clips.piper(text, length_scale=1.3),
    "piper-fast": lambda text: clips.piper(text, length_scale=0.8),
    "espeak-us": lambda text: clips.espeak(text, "en-us", 150),
    "espeak-us-fast": lambda text: clips.espeak(text, "en-us", 190, pitch=60),
    "espeak-gb-slow": lambda text: clips.espeak(text, "en-gb", 125, pitch=35),
    "kokoro-af_heart": lambda text: clips.kokoro(text, "af_heart"),
    "kokoro-bm_george": lambda text: clips.kokoro(text, "bm_george", speed=1.15),
}
NOISE_SNR_DB = 10.0  # the noisy copy of every clip

# Wake phrase as spoken -> the models that should fire on it
PHRASES = {
    "okay nabu": ("okay_nabu", "ok_nabu_v0.1"),
    "hey jarvis": ("hey_jarvis", "hey_jarvis_v0.1"),
    "hey mycroft": ("hey_mycroft", "hey_mycroft_v0.1"),
    "alexa": ("alexa", "alexa_v0.1"),
    "hey rhasspy": ("hey_rhasspy_v0.1",),
}
COMMANDS = (
    "turn off the kitchen lights",
    "what is the temperature in the living room",
    "open the garage door",
    "start a timer for five minutes",
    "set the bedroom lights to forty percent",
    "lock the front door",
)
# Speech that sounds close to a wake phrase but is not it.
NEAR_MISSES = (
    "okay, nab it",
    "okay now, but wait",
    "oh can you book a table",
    "hey, Travis, are you there",
    "hey Marvin, what is up",
    "hey, my crowd is here",
    "hey Microsoft, open the file",
    "a Lexus is parked outside",
    "Alex, so what do you think",
    "hey, raspberry pie for dinner",
)
ORDINARY = (
    *COMMANDS,
    "I think we should leave for the station a little earlier tomorrow",
    "the quick brown fox jumps over the lazy dog",
    "could you tell me how much the tickets cost",
    "my neighbour bought a new car last week and it is blue",
    "let us meet at the cafe near the park at noon",
    "please remember to water the plants on Sunday",
)


@dataclass(frozen=True)
class WakeClip:
    text: str
    voice: str
    noisy: bool
    pcm: bytes  # 16 kHz mono int16 with silence around it
    phrase: str | None = None  # the wake phrase it starts with (None: a negative)

    @property
    def label(self) -> str:
        return f"{self.voice}{'+noise' if self.noisy else ''}: {self.text!r}"

    @property
    def seconds(self) -> float:
        return len(self.pcm) / 32000


def speak(text: str, voice: str, noisy: bool) -> bytes:
    pcm = clips.padded(VOICES[voice](text), lead=0.5, tail=1.0)
    if noisy:
        seed = int.from_bytes(hashlib.sha256(f"{voice}{text}".encode()).digest()[:4], "little")
        pcm = clips.with_noise(pcm, NOISE_SNR_DB, seed=seed)
    return pcm


def cached_speech(cache: Path | None, text: str, voice: str, noisy: bool) -> bytes:
    if cache is None:
        return speak(text, voice, noisy)
    key = hashlib.sha256(
        json.dumps([text, voice, noisy, NOISE_SNR_DB, clips.CLIPS_VERSION]).encode()
    ).hexdigest()
    path = cache / f"{key[:20]}.pcm"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        path.write_bytes(speak(text, voice, noisy))
    return path.read_bytes()


def positives(
    phrases: list[str] | None = None,
    voices: list[str] | None = None,
    noise: tuple[bool, ...] = (False, True),
    cache: Path | None = None,
) -> list[WakeClip]:
    """Every phrase by every voice, clean and noisy, each followed by a command."""
    out = []
    for phrase in phrases or list(PHRASES):
        for voice in voices or list(VOICES):
            for noisy in noise:
                # the same clip whatever subset is asked for
                turn = list(PHRASES).index(phrase) + list(VOICES).index(voice) + noisy
                command = COMMANDS[turn % len(COMMANDS)]
                text = f"{phrase}, {command}"
                out.append(
                    WakeClip(text, voice, noisy, cached_speech(cache, text, voice, noisy), phrase)
                )
    return out


def negatives(
    texts: tuple[str, ...] = NEAR_MISSES + ORDINARY,
    voices: list[str] | None = None,
    noise: tuple[bool, ...] = (False,),
    cache: Path | None = None,
) -> list[WakeClip]:
    """Near misses and ordinary speech by every voice."""
    return [
        WakeClip(text, voice, noisy, cached_speech(cache, text, voice, noisy))
        for text in texts
        for voice in voices or list(VOICES)
        for noisy in noise
    ]


# The embedded models, by engine, in the order tests and benchmarks report them.
MICRO_MODELS = list(models.MICRO_MODELS)
OWW_MODELS = list(models.OPENWAKEWORD_PHRASES)
ALL_MODELS = MICRO_MODELS + OWW_MODELS
PIPER_VOICES = ["piper", "piper-slow", "piper-fast"]
KOKORO_VOICES = ["kokoro-af_heart", "kokoro-bm_george"]
CLIP_CACHE = BENCH_DIR / "wake-clips"


def cached_positives(**kwargs: Any) -> list[WakeClip]:
    """`positives` cached under .bench/wake-clips, as the tests use them."""
    return positives(cache=CLIP_CACHE, **kwargs)


def cached_negatives(**kwargs: Any) -> list[WakeClip]:
    """`negatives` cached under .bench/wake-clips, as the tests use them."""
    return negatives(cache=CLIP_CACHE, **kwargs)


def phrase_clip(phrase: str, voice: str = "kokoro-af_heart") -> bytes:
    """One clean clip of the phrase followed by a command, in a voice that wakes every
    model of the phrase (test_neural_voices_wake_both_engines checks it)."""
    return cached_positives(phrases=[phrase], voices=[voice], noise=(False,))[0].pcm
