"""Echo cancellation benchmark: the satellite's EchoCanceller on simulated rooms, and
whether the wake word still behaves with the satellite's own replies in the microphone.

    PYTHONPATH=. .venv/bin/python -m bench.echo [--json]

A reply (Piper or Kokoro speech at -18 dBFS) plays through a simulated device and room:
a device delay of 10-80 ms, a room impulse response of RT60 0.2-0.6 s
(testkit/audio_effects.py), an echo gain of -12 to 0 dB relative to what was played,
and microphone noise 45 dB under the echo. `played()` gets 20 ms chunks at the device's
pace and `process()` 64 ms chunks at the microphone's, interleaved as in real time.
Per engine (WebRTC AEC3 through livekit, speexdsp through pyaec, each where it imports) and
filter length it prints ERLE after convergence (single talk, from 2 s on), the time
to 10 dB ERLE, the double-talk signal-to-distortion ratio of a user's voice under the
echo (with the echo left in, and after cancellation) and the CPU real-time factor;
with the delay estimate right, 20 ms short or 20 ms long. Then the default detector
(wyoming_wake.embedded): (a) replies, one of them saying "okay nabu", heard only as
echo: wakes without and with AEC; (b) a user saying "okay nabu, turn off the lights"
at -25 to -20 dBFS over a reply whose echo is at 0 to -6 dB: detection rate.
"""

import argparse
import functools
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from testkit import clips
from testkit.audio_effects import at_level, reverberant, samples, to_pcm, with_noise
from testkit.report import Column, Report, arguments, run
from wyoming_satellite.echo import (
    DEFAULT_DELAY_MS,
    DEFAULT_FILTER_MS,
    ENGINES,
    FRAME,
    EchoCanceller,
)
from wyoming_wake.embedded import EmbeddedWake

RATE = 16000
PLAY_CHUNK = 320  # 20 ms: what a playback callback takes
MIC_CHUNK = 1024  # 64 ms: what a microphone delivers (2048 bytes)
WAKE_CHUNK = 2048  # bytes, what the detector is fed
REPLY_DBFS = -18.0
NOISE_DB = 45.0  # microphone noise under the echo
LEAD = 1.0  # seconds of microphone before the reply starts

REPLIES = (
    "You said okay nabu, so I am listening. The kitchen lights are now off.",
    "Okay nabu is my name. I turned on the living room lamp and set the heating to twenty.",
    "The weather today is sunny with a high of twenty four degrees and a light breeze.",
)
ERLE_REPLY = (
    "Here is the forecast for the week. Monday will be cloudy with some rain in the "
    "afternoon. Tuesday and Wednesday stay dry and mild, and the weekend looks warm."
)
USER_COMMAND = "okay nabu, turn off the lights"
USER_VOICES = ("am_michael", "bf_emma", "af_heart")


@dataclass(frozen=True)
class Room:
    """A device and room between the speaker and the microphone."""

    delay_ms: float  # from played() to the echo's direct sound in the microphone stream
    rt60: float
    gain_db: float  # echo level relative to the played signal
    seed: int = 0


ROOMS = (
    Room(10, 0.2, -12, 1),
    Room(20, 0.3, -6, 2),
    Room(40, 0.4, 0, 3),
    Room(40, 0.6, -6, 4),
    Room(60, 0.3, -3, 5),
    Room(80, 0.5, 0, 6),
)


def echo_of(played: np.ndarray, room: Room) -> np.ndarray:
    """What the microphone hears of `played` (a whole timeline): delayed, reverberant,
    at the room's gain, plus noise 45 dB under it."""
    rng = np.random.default_rng(room.seed)
    shift = round(room.delay_ms * RATE / 1000)
    delayed = np.concatenate([np.zeros(shift), played])[: len(played)]
    wet = reverberant(delayed, room.rt60, 8.0, rng)
    power = float(np.mean(played**2)) or 1.0
    wet *= np.sqrt(power / (float(np.mean(wet**2)) or 1.0)) * 10 ** (room.gain_db / 20)
    return with_noise(wet, "white", NOISE_DB, rng)


def reply_timeline(reply: bytes, seconds: float | None = None) -> tuple[np.ndarray, int]:
    """The played signal on the microphone's timeline (zeros before and after) and
    where playback starts."""
    audio = at_level(samples(reply), REPLY_DBFS)
    start = int(LEAD * RATE)
    total = int((seconds or LEAD + len(audio) / RATE + 1.0) * RATE)
    timeline = np.zeros(total)
    end = min(total, start + len(audio))
    timeline[start:end] = audio[: end - start]
    return timeline, start


def simulate(
    canceller: EchoCanceller, played: np.ndarray, start: int, mic: np.ndarray
) -> tuple[np.ndarray, float]:
    """Run `canceller` as the satellite would: 20 ms of `played` (from `start` until its
    last sound) handed over when it starts playing, 64 ms of `mic` when it has been
    captured. Returns the output, index for index with `mic`, and the CPU seconds."""
    audible = np.flatnonzero(played)
    stop = int(audible[-1]) + 1 if len(audible) else start
    play_pcm, mic_pcm = to_pcm(played), to_pcm(mic)
    events = [(t, 1) for t in range(start, stop, PLAY_CHUNK)]
    events += [(t, 0) for t in range(MIC_CHUNK, len(mic) + MIC_CHUNK, MIC_CHUNK)]
    out: list[bytes] = []
    cpu = time.process_time()
    for t, kind in sorted(events):
        if kind == 1:
            canceller.played(play_pcm[2 * t : 2 * min(t + PLAY_CHUNK, stop)])
        else:
            out.append(canceller.process(mic_pcm[2 * (t - MIC_CHUNK) : 2 * t]))
    cpu = time.process_time() - cpu
    cleaned = samples(b"".join(out))
    return np.concatenate([cleaned, np.zeros(len(mic) - len(cleaned))]), cpu


def power_db(audio: np.ndarray) -> float:
    return 10 * float(np.log10(float(np.mean(audio**2)) + 1e-9))


def erle_db(mic: np.ndarray, out: np.ndarray) -> float:
    return power_db(mic) - power_db(out)


def convergence_s(mic: np.ndarray, out: np.ndarray, start: int) -> float | None:
    """Seconds from the reply's start until ERLE over 250 ms first reaches 10 dB (only
    over windows where the echo is within 30 dB of its loudest)."""
    window = RATE // 4
    spans = range(start, len(mic) - window, FRAME)
    loud = max(power_db(mic[i : i + window]) for i in spans)
    for i in spans:
        part = slice(i, i + window)
        if power_db(mic[part]) > loud - 30 and erle_db(mic[part], out[part]) >= 10:
            return (i + window - start) / RATE
    return None


def sdr_db(near: np.ndarray, out: np.ndarray, span: slice, low_hz: float = 0) -> float:
    """Signal-to-distortion ratio of the user's voice in `out` (residual echo and
    distortion alike count against it), above `low_hz`."""
    want, error = near[span], out[span] - near[span]
    if low_hz:
        cut = round(low_hz * len(want) / RATE)
        want, error = (np.fft.irfft(_cut(np.fft.rfft(x), cut), len(x)) for x in (want, error))
    return power_db(want) - power_db(error)


def _cut(spectrum: np.ndarray, bins: int) -> np.ndarray:
    spectrum[:bins] = 0
    return spectrum


# -- engines -----------------------------------------------------------------------


Factory = Callable[..., EchoCanceller]


def engines() -> dict[str, Factory]:
    """Each engine that imports here (webrtc needs livekit, speex pyaec)."""
    found: dict[str, Factory] = {}
    for name in ENGINES:
        try:
            EchoCanceller(engine=name)
        except ImportError:
            continue
        found[name] = functools.partial(EchoCanceller, engine=name)
    return found


# -- cancellation quality ----------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    engine: str
    filter_ms: float
    delay_error_ms: float | None  # None: the default delay_ms, whatever the room


def settings(names: Sequence[str]) -> list[Setting]:
    rows = []
    if "webrtc" in names:  # AEC3's filter length is its own: filter_ms only sets `active`
        rows += [Setting("webrtc", DEFAULT_FILTER_MS, e) for e in (0, -20, 20, None)]
    if "speex" in names:
        rows += [Setting("speex", ms, 0) for ms in (100, 200, 300, 400)]
        rows += [Setting("speex", DEFAULT_FILTER_MS, e) for e in (-20, 20, None)]
    return rows


def quality(setting: Setting, factory: Factory, reply: bytes, near: bytes) -> dict[str, Any]:
    """ERLE, convergence, double-talk SDR and CPU over every room."""
    erles, times, raw_sdrs, sdrs, band_sdrs, cpu, seconds = [], [], [], [], [], 0.0, 0.0
    played, start = reply_timeline(reply)
    user = at_level(samples(near), -22)
    talk = slice(start + 3 * RATE, start + 3 * RATE + len(user))
    for room in ROOMS:
        error = setting.delay_error_ms
        delay = DEFAULT_DELAY_MS if error is None else max(0.0, room.delay_ms + error)
        echo = echo_of(played, room)
        canceller = factory(delay_ms=delay, filter_ms=setting.filter_ms)
        out, used = simulate(canceller, played, start, echo)
        converged = slice(start + 2 * RATE, start + len(samples(reply)))
        erles.append(erle_db(echo[converged], out[converged]))
        times.append(convergence_s(echo, out, start))
        cpu, seconds = cpu + used, seconds + len(echo) / RATE
        near_line = np.zeros(len(echo))
        near_line[talk] = reverberant(user, room.rt60, 8.0, np.random.default_rng(9))
        mic = echo + near_line
        out, _ = simulate(factory(delay_ms=delay, filter_ms=setting.filter_ms), played, start, mic)
        raw_sdrs.append(sdr_db(near_line, mic, talk, 300))
        band_sdrs.append(sdr_db(near_line, out, talk, 300))
        sdrs.append(sdr_db(near_line, out, talk))
    known = [t for t in times if t is not None]
    return {
        "engine": setting.engine,
        "filter_ms": setting.filter_ms,
        "delay": "default" if setting.delay_error_ms is None else f"{setting.delay_error_ms:+.0f}",
        "erle_median_db": statistics.median(erles),
        "erle_min_db": min(erles),
        "converge_s": max(known) if len(known) == len(times) else None,
        "sdr_raw_db": statistics.median(raw_sdrs),
        "sdr_db": statistics.median(sdrs),
        "sdr_band_db": statistics.median(band_sdrs),
        "rtf": cpu / seconds,
    }


def keep_versus_reset(factory: Factory, reply: bytes) -> dict[str, Any]:
    """ERLE over the first two seconds of a second reply, with the filter kept across
    the idle pause between them or reset."""
    room = ROOMS[2]
    first, start = reply_timeline(reply)
    pause = 3 * RATE
    played = np.concatenate([first, np.zeros(pause), first])
    result: dict[str, Any] = {}
    for keep in (True, False):
        canceller = factory(delay_ms=room.delay_ms)
        echo = echo_of(played, room)
        mid = len(first) + pause
        simulate(canceller, played[:mid], start, echo[:mid])
        if not keep:
            canceller.reset()
        out_b, _ = simulate(canceller, played[mid:], start, echo[mid:])
        second = slice(start, start + 2 * RATE)
        result["kept" if keep else "reset"] = erle_db(echo[mid:][second], out_b[second])
    return result


# -- the wake word -----------------------------------------------------------------


def wakes(wake: EmbeddedWake, pcm: bytes) -> list[float]:
    """Where the default detector fires on this stream (its end_ms, in seconds)."""
    stream = wake.stream()
    found = [
        hit.end_ms / 1000
        for i in range(0, len(pcm), WAKE_CHUNK)
        for hit in stream.process(pcm[i : i + WAKE_CHUNK])
    ]
    stream.close()
    return found


def self_wake_cases(replies: Sequence[bytes]) -> list[tuple[np.ndarray, int, np.ndarray]]:
    """(a): each reply through each room at 0 to -12 dB: (played, start, mic)."""
    cases = []
    for reply in replies:
        played, start = reply_timeline(reply)
        for room in ROOMS:
            cases.append((played, start, echo_of(played, room)))
    return cases


def barge_in_cases(
    reply: bytes, users: Sequence[bytes]
) -> list[tuple[np.ndarray, int, np.ndarray, float]]:
    """(b): a user's command at -25 to -20 dBFS, 1.5 to 4 s into a reply whose echo is at
    0 to -6 dB: (played, start, mic, where the user stops speaking in seconds)."""
    cases = []
    played, start = reply_timeline(reply, seconds=LEAD + 9)
    loud = [room for room in ROOMS if room.gain_db >= -6]
    for i, user in enumerate(users):
        for j, room in enumerate(loud):
            rng = np.random.default_rng(100 * i + j)
            voice = at_level(samples(user), float(rng.uniform(-25, -20)))
            voice = reverberant(voice, room.rt60, 6.0, rng)
            at = start + int(rng.uniform(1.5, 4.0) * RATE)
            mic = echo_of(played, room)
            mic[at : at + len(voice)] += voice[: len(mic) - at]
            cases.append((played, start, mic, (at + len(voice)) / RATE))
    return cases


def barge_in_echoes(cases: Sequence[tuple[np.ndarray, int, np.ndarray, float]]) -> list[np.ndarray]:
    """The echo alone in each of `barge_in_cases`, to hear the user without it."""
    loud = [room for room in ROOMS if room.gain_db >= -6]
    return [echo_of(case[0], loud[i % len(loud)]) for i, case in enumerate(cases)]


def wake_rows(factories: dict[str, Factory], wake: EmbeddedWake) -> list[dict[str, Any]]:
    replies = [clips.piper(text) for text in REPLIES]
    replies.append(clips.kokoro(REPLIES[0], "bf_emma"))
    users = [clips.kokoro(USER_COMMAND, voice) for voice in USER_VOICES]
    rows: list[dict[str, Any]] = []
    own = self_wake_cases(replies)
    barge = barge_in_cases(clips.piper(REPLIES[2]), users)
    alone = sum(
        any(end - 3.0 <= t <= end + 0.5 for t in wakes(wake, to_pcm(mic - echo)))
        for (played, _, mic, end), echo in zip(barge, barge_in_echoes(barge), strict=True)
    )
    rows.append({"aec": "user alone, no reply", "detected": alone, "barge_ins": len(barge)})
    variants: dict[str, Factory | None] = {"none": None, **factories}
    for name, factory in variants.items():
        self_wakes = 0
        for played, start, mic in own:
            out = mic if factory is None else simulate(factory(), played, start, mic)[0]
            self_wakes += len(wakes(wake, to_pcm(out)))
        detected = 0
        for played, start, mic, end in barge:
            out = mic if factory is None else simulate(factory(), played, start, mic)[0]
            detected += any(end - 3.0 <= t <= end + 0.5 for t in wakes(wake, to_pcm(out)))
        rows.append(
            {
                "aec": name,
                "self_wakes": self_wakes,
                "replies": len(own),
                "detected": detected,
                "barge_ins": len(barge),
            }
        )
    return rows


async def bench(args: argparse.Namespace, report: Report) -> None:
    found = engines()
    report.settings.update(
        rooms=[f"{r.delay_ms:.0f} ms, RT60 {r.rt60} s, {r.gain_db:+.0f} dB" for r in ROOMS],
        default_delay_ms=DEFAULT_DELAY_MS,
        default_filter_ms=DEFAULT_FILTER_MS,
        engines=list(found),
    )
    reply, near = clips.piper(ERLE_REPLY), clips.kokoro(USER_COMMAND, "am_michael")
    table = report.table(
        "rows",
        [
            Column("engine", "{engine}"),
            Column("filter ms", "{filter_ms:.0f}"),
            Column("delay error ms", "{delay}"),
            Column("ERLE dB (median, min)", "{erle_median_db:.1f}, {erle_min_db:.1f}"),
            Column("to 10 dB s", "{converge_s:.2f}"),
            Column(
                "double-talk SDR dB > 300 Hz (echo left, AEC)",
                "{sdr_raw_db:.1f}, {sdr_band_db:.1f}",
            ),
            Column("SDR dB full band (AEC)", "{sdr_db:.1f}"),
            Column("CPU RTF", "{rtf:.3f}"),
        ],
        caption=f"Cancellation over {len(ROOMS)} rooms (settings.rooms); "
        "'to 10 dB' is the slowest room; delay 'default' is delay_ms="
        f"{DEFAULT_DELAY_MS:.0f} in every room",
    )
    for setting in settings(list(found)):
        print(table.line(table.add(**quality(setting, found[setting.engine], reply, near))))
    kept = {name: keep_versus_reset(factory, reply) for name, factory in found.items()}
    report.summary.update(
        {f"second_reply_erle_db_{k}_{n}": v for n, d in kept.items() for k, v in d.items()}
    )
    wake_table = report.table(
        "wake",
        [
            Column("AEC", "{aec}"),
            Column("(a) self-wakes / replies", "{self_wakes}/{replies}"),
            Column("(b) user's wake detected", "{detected}/{barge_ins}"),
        ],
        caption="The default wake detector on the microphone stream",
        footer="ERLE over the first 2 s of a second reply, engine state kept across the "
        "pause / reset(): "
        + "; ".join(f"{n} {d['kept']:.1f} / {d['reset']:.1f} dB" for n, d in kept.items()),
    )
    for row in wake_rows(found, EmbeddedWake()):
        print(wake_table.line(wake_table.add(**row)))


def main() -> None:
    run("echo", arguments("bench.echo", __doc__), bench)


if __name__ == "__main__":
    main()
