"""End-of-command benchmark: how soon the satellite sends `audio-stop` after the last
word, against how often it cuts a command short at a pause.

    PYTHONPATH=. .venv/bin/python -m bench.speech_end [--json] [--split held-out] [--quick]

Commands are spoken by the wake-word corpus's voices (testkit/wake_corpus.py: Kokoro,
espeak-ng and Piper at speeds 0.8, 1 and 1.25), fluently and with a hesitation of 0.3,
0.5 or 0.8 s of pause in the middle ("turn off the … kitchen lights"), each in a quiet
room, in noise (white, pink, brown, babble, music at 5-25 dB SNR) or in a reverberant
room with milder noise, at -35 to -15 dBFS. Each clip runs through wyoming_satellite's
SpeechEnd (microVAD) as the satellite feeds it.

For each silence (0.7 s is Home Assistant's own default) it reports the delay from
the last word's end to `audio-stop` (median, p95, and the median per room), fluent
commands ended before their last word, and hesitations cut (the stream stopped in the
pause: the words after it are lost). Tuning voices choose the default; `--split
held-out` checks it on voices it was not chosen on.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
from dataclasses import dataclass, replace

import numpy as np
from pymicro_vad import MicroVad

from testkit import audio_effects, wake_corpus
from testkit.report import Column, Report, arguments, median_ms, p95_ms
from wyoming_satellite.speech_end import FRAME_BYTES, SpeechEnd, SpeechEndSettings

COMMANDS = (
    ("turn off the", "kitchen lights"),
    ("set the bedroom lights", "to forty percent"),
    ("what is the temperature", "in the living room"),
    ("start a timer", "for five minutes"),
    ("is the front", "door locked"),
    ("turn on the fan", "in the bedroom"),
)
PAUSES = (0.3, 0.5, 0.8)  # seconds of hesitation in the middle
LEAD = 0.2  # from the command's start (the phrase's end) to the first word
TAIL = 3.0
SILENCES = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
HOME_ASSISTANT_SILENCE = 0.7  # its VAD's silence at the default sensitivity
VAD = MicroVad()  # one for the whole run: pymicro-vad never frees one
ROOMS = ("quiet", "noise", "reverb")


@dataclass(frozen=True)
class Clip:
    """A command in its room: the scored frames and where the words are (seconds from
    the command's start)."""

    label: str
    room: str  # "quiet", "noise" or "reverb"
    pause: float  # 0: fluent
    pause_start: float  # where the hesitation begins (fluent: the end)
    end: float  # the last word's end
    probabilities: tuple[float, ...]  # microVAD, one per 10 ms of the command


def _room(
    speech: np.ndarray, variant: int, seed: int, babble: np.ndarray
) -> tuple[str, np.ndarray]:
    """`speech` (with its quiet around it) clean, in noise, or reverberant with noise."""
    rng = np.random.default_rng(seed)
    audio, parts = speech, []
    if variant == 2:
        rt60 = float(rng.uniform(*wake_corpus.RT60_RANGE))
        drr = float(rng.uniform(*wake_corpus.DRR_RANGE))
        audio = audio_effects.reverberant(audio, rt60, drr, rng)[: len(speech)]
        parts.append(f"reverb {rt60:.1f} s")
    if variant:
        kind = str(rng.choice(audio_effects.NOISES))
        low, high = wake_corpus.SNR_RANGE
        snr = float(rng.uniform(low if variant == 1 else (low + high) / 2, high))
        audio = audio_effects.with_noise(audio, kind, snr, rng, babble, speech=speech)
        parts.append(f"{kind} {snr:.0f} dB")
    else:  # a quiet room is never digital silence
        audio = audio_effects.with_noise(audio, "pink", 45.0, rng, speech=speech)
        parts.append("quiet room")
    dbfs = float(rng.uniform(*wake_corpus.DBFS_RANGE))
    return " + ".join([*parts, f"{dbfs:.0f} dBFS"]), audio_effects.at_level(audio, dbfs)


def _spoken(speaker: wake_corpus.Speaker, text: str) -> np.ndarray:
    pcm = wake_corpus.synthesized(speaker, text)
    end = audio_effects.speech_end(pcm)
    return audio_effects.samples(pcm)[: int(end * 16000)]


def _score(
    label: str, room: str, pause: float, pause_start: float, end: float, command: bytes
) -> Clip:
    VAD.reset()
    probabilities = [
        VAD.process_10ms(command[start : start + FRAME_BYTES])
        for start in range(0, len(command) - FRAME_BYTES + 1, FRAME_BYTES)
    ]
    return Clip(label, room, pause, pause_start, end, tuple(probabilities))


def clips(split: str, babble: np.ndarray, quick: bool = False) -> list[Clip]:
    """Every voice of the split says every command; `quick`: one voice per synthesizer,
    two commands."""
    out = []
    speakers = wake_corpus.speakers(split)
    if quick:
        speakers = [next(s for s in speakers if s.synth == synth) for synth in ("kokoro", "espeak")]
    for speaker in speakers:
        for first, second in COMMANDS[:2] if quick else COMMANDS:
            head, tail = _spoken(speaker, first), _spoken(speaker, second)
            whole = _spoken(speaker, f"{first} {second}")
            forms = [(0.0, whole, None)] + [(pause, head, tail) for pause in PAUSES]
            for pause, part, rest in forms:
                quiet = np.zeros(int(pause * 16000))
                words = part if rest is None else np.concatenate([part, quiet, rest])
                lead = np.zeros(int(LEAD * 16000))
                speech = np.concatenate([lead, words, np.zeros(int(TAIL * 16000))])
                key = f"{speaker.name} {first} {second} {pause}"
                seed = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little")
                for variant in range(3):
                    room, audio = _room(speech, variant, seed + variant, babble)
                    pause_start = LEAD + len(part) / 16000
                    end = LEAD + len(words) / 16000
                    label = f"{speaker.name} [{room}] {first} … {second} ({pause:g} s)"
                    pcm = audio_effects.to_pcm(audio)
                    out.append(_score(label, ROOMS[variant], pause, pause_start, end, pcm))
    return out


def ended_at(clip: Clip, settings: SpeechEndSettings) -> float | None:
    """Seconds into the command at which SpeechEnd sends `audio-stop` (None: never)."""
    speech = SpeechEnd(settings, VAD)
    for index, probability in enumerate(clip.probabilities):
        if speech.step(probability):
            return (index + 1) * 0.01 if speech.ended == "silence" else None
    return None


def _key(pause: float) -> str:
    return f"cut_{pause * 1000:.0f}ms"


def evaluate(
    clips_: list[Clip], settings: SpeechEndSettings, early_out: list[str] | None = None
) -> dict[str, float | int | None]:
    delays: dict[str, list[float]] = {room: [] for room in ROOMS}
    early, never = 0, 0
    cut = {pause: 0 for pause in PAUSES}
    fluent = [c for c in clips_ if not c.pause]
    for clip in clips_:
        at = ended_at(clip, settings)
        if clip.pause:
            if at is not None and at < clip.pause_start + clip.pause:
                cut[clip.pause] += 1
            continue
        if at is None:
            never += 1
        elif at < clip.end:
            early += 1
            if early_out is not None:
                early_out.append(f"{clip.label}: stopped {clip.end - at:.2f} s early")
        else:
            delays[clip.room].append(at - clip.end)
    every = [d for room in ROOMS for d in delays[room]]
    return {
        "fluent": len(fluent),
        "median_ms": median_ms(every),
        "p95_ms": p95_ms(every),
        **{f"{room}_median_ms": median_ms(delays[room]) for room in ROOMS},
        "early": early,
        "never": never,
        **{_key(pause): cut[pause] for pause in PAUSES},
        "hesitations": (len(clips_) - len(fluent)) // len(PAUSES),
    }


def parser() -> argparse.ArgumentParser:
    result = arguments("bench.speech_end", __doc__)
    result.add_argument("--split", choices=wake_corpus.SPLITS, default=wake_corpus.TUNING)
    result.add_argument(
        "--quick", action="store_true", help="One Kokoro and one espeak-ng voice, two commands"
    )
    return result


def main() -> None:
    args = parser().parse_args()
    with Report("speech_end", args.json) as report:
        babble = wake_corpus.babble_track(args.split)
        corpus = clips(args.split, babble, args.quick)
        report.settings.update(split=args.split, clips=len(corpus), pauses=list(PAUSES))
        table = report.table(
            "rows",
            [
                Column("silence s", "{silence:g} {note}"),
                Column("last word → audio-stop ms (median, p95)", "{median_ms:.0f}, {p95_ms:.0f}"),
                Column(
                    "median ms: quiet, noise, reverb",
                    "{quiet_median_ms:.0f}, {noise_median_ms:.0f}, {reverb_median_ms:.0f}",
                ),
                Column("ended early", "{early}/{fluent}"),
                *[
                    Column(f"{pause:g} s pause cut", f"{{{_key(pause)}}}/{{hesitations}}")
                    for pause in PAUSES
                ],
            ],
            caption=f"{len(corpus)} clips of the {args.split} voices",
        )
        for silence in SILENCES:
            settings = replace(SpeechEndSettings(), silence_seconds=silence)
            note = "default" if silence == SpeechEndSettings.silence_seconds else ""
            if silence == HOME_ASSISTANT_SILENCE:
                note = "Home Assistant's default"
            row = table.add(note=note, silence=silence, **evaluate(corpus, settings))
            print(table.line(row), flush=True)
        default = SpeechEndSettings()
        early: list[str] = []
        figures = evaluate(corpus, default, early)
        for line in early:
            print(f"default ended early: {line}", flush=True)
        report.summary.update(
            default_silence=default.silence_seconds,
            default_median_ms=figures["median_ms"],
            default_p95_ms=figures["p95_ms"],
            median_clip_seconds=statistics.median(len(c.probabilities) / 100 for c in corpus),
        )


if __name__ == "__main__":
    main()
