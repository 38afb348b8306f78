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

import numpy as np

from wyoming_wake import models

from . import BENCH_DIR, audio_effects, clips

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


# -- the default wake word's corpus: breadth, and a fixed tuning / held-out split ------
#
# Every Kokoro voice set-up provides, the Piper voice and espeak-ng, at speeds 0.8-1.25,
# saying the phrase alone, followed by a command, or after a leading word; each clip
# at a level from -35 to -15 dBFS, clean, under noise (white, pink, brown, babble,
# music) at 5-25 dB SNR, or across a reverberant room. Negatives have the same breadth:
# ordinary sentences, near misses and TV-like babble, concatenated into long streams.
# The held-out voices are never used to choose thresholds, as a user's voice would not
# be.

TUNING = "tuning"
HELD_OUT = "held-out"
SPLITS = (TUNING, HELD_OUT)
KOKORO_SPLIT = {
    TUNING: ("af_heart", "af_bella", "af_sarah", "am_michael", "am_adam", "am_fenrir",
             "bf_emma", "bm_george"),
    HELD_OUT: ("af_kore", "am_puck", "bf_isabella", "bm_fable"),
}  # fmt: skip
ESPEAK_SPLIT = {
    TUNING: (("en-us", 50), ("en-us+f3", 65)),
    HELD_OUT: (("en-gb-scotland", 45), ("en-gb-x-rp+f2", 60)),
}
SPEEDS = (0.8, 1.0, 1.25)
LEADS = ("uh,", "um,", "so,", "hey,", "right,", "oh,")
# Phrases that share sounds with "okay nabu" but must not wake it.
NABU_NEAR_MISSES = (
    "okay, nap time",
    "hey Nadia, how are you",
    "okay Google, what's the weather",
    "okay, not now",
    "okay, no bother",
    "okay, maybe later",
    "I'll nab you a coffee",
    "we went to the kabuki theatre",
    "she flew to Nairobi last week",
    "a banana and a kiwi",
    "okay, let me know",
    "okay, now you",
)
TALK = (
    *ORDINARY,
    "I will call you back after the meeting",
    "did you remember to buy milk on the way home",
    "the train was late again this morning",
    "we should paint the fence before the summer",
    "my sister is coming to visit next weekend",
    "the weather forecast says it will rain all day",
    "can you pass me the salt please",
    "I can't find my keys anywhere",
    "the children are playing in the garden",
    "let's watch a film tonight after dinner",
    "how was your day at work",
    "the doctor said I should walk more",
    "there is a new bakery on the corner",
    "turn the music down a little",
    "what time does the shop open tomorrow",
    "okay, I think the printer is out of paper again",
    "and now, the news at nine o'clock",
    "in tonight's episode, the detective returns to the city",
    "scientists have found a new species of frog in the rainforest",
    "okay everyone, dinner is ready",
    "the match ended two nil after extra time",
    "don't forget your umbrella, it's going to pour",
    "okay, so where were we",
    "nobody knows what happened to the old lighthouse keeper",
    "grab a notebook and write this down",
    "the recipe needs two cups of flour and a pinch of salt",
    "a nap after lunch sounds lovely",
    "hey, can you help me carry these boxes",
)
DBFS_RANGE = (-35.0, -15.0)
SNR_RANGE = (5.0, 25.0)
RT60_RANGE = (0.2, 0.8)
DRR_RANGE = (0.0, 10.0)  # direct-to-reverberant ratio, a talker 1-3 m away


@dataclass(frozen=True)
class Speaker:
    """A synthetic voice at one speed, and the split it belongs to."""

    name: str
    split: str
    synth: str  # kokoro, piper or espeak
    voice: str
    speed: float

    def speak(self, text: str) -> bytes:
        if self.synth == "kokoro":
            return clips.kokoro(text, self.voice, speed=self.speed)
        if self.synth == "piper":
            return clips.piper(text, length_scale=1 / self.speed)
        voice, _, pitch = self.voice.partition("@")
        return clips.espeak(text, voice, int(165 * self.speed), pitch=int(pitch))


def speakers(split: str) -> list[Speaker]:
    """Every voice of the split at every speed (Piper, one voice, is a tuning voice)."""
    out = [
        Speaker(f"kokoro-{voice}@{speed:g}", split, "kokoro", voice, speed)
        for voice in KOKORO_SPLIT[split]
        for speed in SPEEDS
    ]
    out += [
        Speaker(f"espeak-{voice}@{speed:g}", split, "espeak", f"{voice}@{pitch}", speed)
        for voice, pitch in ESPEAK_SPLIT[split]
        for speed in SPEEDS
    ]
    if split == TUNING:
        out += [Speaker(f"piper@{speed:g}", split, "piper", "joe", speed) for speed in SPEEDS]
    return out


@dataclass(frozen=True)
class Sample:
    """One generated clip: what was said, by whom, under which conditions."""

    text: str
    speaker: str
    split: str
    condition: str  # "clean", "pink 12 dB", "reverb 0.4 s + babble 18 dB" (+ level)
    pcm: bytes  # 16 kHz mono int16
    phrase: str | None = None  # the wake phrase it holds (None: a negative)
    phrase_end: float | None = None  # seconds; for the phrase said alone

    @property
    def label(self) -> str:
        return f"{self.speaker} [{self.condition}]: {self.text!r}"


def _seed(*parts: object) -> int:
    digest = hashlib.sha256(json.dumps([str(p) for p in parts]).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def synthesized(speaker: Speaker, text: str) -> bytes:
    """The clean synthesis, cached under .bench/wake-clips."""
    key = hashlib.sha256(json.dumps([text, speaker.name, clips.CLIPS_VERSION]).encode())
    path = CLIP_CACHE / f"s-{key.hexdigest()[:20]}.pcm"
    if not path.exists():
        CLIP_CACHE.mkdir(parents=True, exist_ok=True)
        path.write_bytes(speaker.speak(text))
    return path.read_bytes()


def condition(pcm: bytes, variant: int, seed: int, babble: np.ndarray | None) -> tuple[str, bytes]:
    """Variant 0: clean; 1: noise; 2: reverberation, with milder noise; each at a level."""
    rng = np.random.default_rng(seed)
    audio = audio_effects.samples(pcm)
    parts: list[str] = []
    if variant == 2:
        rt60 = float(rng.uniform(*RT60_RANGE))
        drr = float(rng.uniform(*DRR_RANGE))
        audio = audio_effects.reverberant(audio, rt60, drr, rng)
        parts.append(f"reverb {rt60:.1f} s {drr:.0f} dB DRR")
    if variant in (1, 2):
        kinds = audio_effects.NOISES if babble is not None else audio_effects.NOISES[:3]
        kind = str(rng.choice(kinds))
        low, high = SNR_RANGE
        snr = float(rng.uniform(low if variant == 1 else (low + high) / 2, high))
        audio = audio_effects.with_noise(audio, kind, snr, rng, babble)
        parts.append(f"{kind} {snr:.0f} dB")
    dbfs = float(rng.uniform(*DBFS_RANGE))
    audio = audio_effects.at_level(audio, dbfs)
    return " + ".join([*parts, f"{dbfs:.0f} dBFS"] if parts else ["clean", f"{dbfs:.0f} dBFS"]), (
        audio_effects.to_pcm(audio)
    )


def babble_track(split: str, seconds: float = 30.0) -> np.ndarray:
    """Four voices of the split talking over each other: TV-like babble."""
    voices = speakers(split)[::5][:4]
    track = np.zeros(int(seconds * 16000))
    for index, speaker in enumerate(voices):
        position = int(index * 16000 * 0.7)
        turn = index
        while position < len(track):
            line = audio_effects.samples(synthesized(speaker, TALK[turn % len(TALK)]))
            end = min(position + len(line), len(track))
            track[position:end] += line[: end - position]
            position = end + 4000
            turn += len(voices)
    return track


def wake_samples(split: str, phrase: str = "okay nabu", limit: int | None = None) -> list[Sample]:
    """The phrase by every speaker of the split: alone, before a command and after a
    leading word, each clean, noisy and reverberant. `limit` takes an even spread."""
    babble = babble_track(split)
    out: list[Sample] = []
    plan = [(speaker, form) for speaker in speakers(split) for form in range(3)]
    if limit is not None:  # every form and several speakers, not every third entry
        count = min(-(-limit // 3), len(plan))
        plan = [plan[index * len(plan) // count] for index in range(count)]
    for turn, (speaker, form) in enumerate(plan):
        command = COMMANDS[turn % len(COMMANDS)]
        text = (
            phrase,
            f"{phrase}, {command}",
            f"{LEADS[turn % len(LEADS)]} {phrase}, {command}",
        )[form]
        clean = clips.padded(synthesized(speaker, text), lead=0.5, tail=1.0)
        end = audio_effects.speech_end(clean) if form == 0 else None
        for variant in range(3):
            name, pcm = condition(clean, variant, _seed(text, speaker.name, variant), babble)
            out.append(Sample(text, speaker.name, split, name, pcm, phrase, end))
    return out[:limit] if limit is not None else out


def near_miss_samples(split: str, texts: tuple[str, ...] = NABU_NEAR_MISSES) -> list[Sample]:
    """Each near miss by a rotation of the split's speakers, clean and noisy."""
    voices = speakers(split)
    out: list[Sample] = []
    for turn, text in enumerate(texts):
        for offset in (0, len(voices) // 2):
            speaker = voices[(turn + offset) % len(voices)]
            clean = clips.padded(synthesized(speaker, text), lead=0.5, tail=1.0)
            variant = offset % 2 or turn % 3
            name, pcm = condition(clean, variant, _seed(text, speaker.name), None)
            out.append(Sample(text, speaker.name, split, name, pcm))
    return out


def negative_hours(split: str, minutes: float) -> bytes:
    """`minutes` of ordinary talk, near misses, babble and music by the split's voices:
    sentences synthesized once and concatenated under changing conditions. Cached,
    with what each stretch holds in a .json beside it (negative_segments)."""
    path = _negatives_path(split, minutes)
    if path.exists():
        return path.read_bytes()
    print(f"Generating {minutes:g} min of {split} negatives into {path} ...", flush=True)
    voices = speakers(split)
    texts = TALK + NABU_NEAR_MISSES
    babble = babble_track(split)
    rng = np.random.default_rng(_seed(split, "negatives"))
    target = int(minutes * 60 * 16000)
    parts: list[bytes] = []
    segments: list[tuple[float, str]] = []  # (start in seconds, what)
    size = turn = 0
    while size < target:
        if turn % 25 == 24:  # a stretch of TV babble or music
            seconds = float(rng.uniform(5, 20))
            kind = "babble" if turn % 50 == 49 else "music"
            audio = audio_effects.noise(kind, int(seconds * 16000), rng, babble)
            pcm = audio_effects.to_pcm(audio_effects.at_level(audio, float(rng.uniform(-40, -20))))
            label = kind
        else:
            text = texts[turn % len(texts)]
            # three speakers per sentence, so that synthesis stays a few minutes
            cycle = turn // len(texts) % 3
            speaker = voices[(turn % len(texts) * 7 + cycle * 5) % len(voices)]
            name, pcm = condition(synthesized(speaker, text), turn % 3, _seed(turn, split), babble)
            label = f"{speaker.name} [{name}]: {text!r}"
        segments.append((size / 16000, label))
        pause = audio_effects.to_pcm(rng.normal(0, 30, int(rng.uniform(0.2, 1.5) * 16000)))
        parts += [pcm, pause]
        size += (len(pcm) + len(pause)) // 2
        turn += 1
        if turn % 200 == 0:
            print(f"  {size / 16000 / 60:.1f} of {minutes:g} min", flush=True)
    stream = b"".join(parts)[: target * 2]
    path.with_suffix(".json").write_text(json.dumps(segments))
    path.write_bytes(stream)
    return stream


def _negatives_path(split: str, minutes: float) -> Path:
    key = _seed(split, f"{minutes:g}", TALK, NABU_NEAR_MISSES, clips.CLIPS_VERSION, "v1")
    return BENCH_DIR / f"wake-negatives-{split}-{minutes:g}min-{key % 10**12}.pcm"


def negative_segment(split: str, minutes: float, seconds: float) -> str:
    """What the negative stream holds at `seconds` (for reporting a false accept)."""
    segments = json.loads(_negatives_path(split, minutes).with_suffix(".json").read_text())
    before = [label for start, label in segments if start <= seconds]
    return before[-1] if before else "?"
