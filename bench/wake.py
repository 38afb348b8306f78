"""Wake-word benchmark: Local Voice's server (the fused default and both engines)
against wyoming-openwakeword.

    .venv/bin/python -m bench.wake [--negative-minutes 60] [--seconds 20] [--no-peer] [--json]

Everything goes through the servers over TCP. Per engine and model it prints the
detection rate on spoken positives of every phrase (testkit/wake_corpus.py: every
voice, clean and with noise) and accepts on near misses. For "okay nabu" it streams
the held-out split of the generated corpus (voices, speeds, levels, noise, rooms)
and its near misses to the fused default, each engine's model alone and the peer,
with the latency from the phrase's end to the detection, and the verdict against
the target (95 % detected, no false accept). All models are armed together over the
held-out negative stream (an hour by default) for false accepts per hour. Then the
CPU real-time factor of one stream and the CPU of 1, 4 and 8 simultaneous real-time
streams, with VAD gating off and on. The peer, wyoming-openwakeword 1.8.2, is
installed from PyPI into .bench/venv-wyoming-openwakeword on first run (with
tflite-runtime 2.14 and numpy < 2, as its pins need) and runs the same model files.
With --json the figures come as one JSON document (testkit/report.py).
"""

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from wyoming.event import Event, async_read_event, async_write_event

from local_voice.info import describe
from testkit import BENCH_DIR, wake_corpus
from testkit.measure import cpu_seconds
from testkit.peers import peer_python
from testkit.report import Column, Report, Table, arguments, run
from testkit.wake_corpus import (
    HELD_OUT,
    PHRASES,
    Sample,
    WakeClip,
    near_miss_samples,
    negative_hours,
    negative_segment,
    wake_samples,
)
from wyoming_wake.models import DEFAULT_MODEL

CLIP_CACHE = BENCH_DIR / "wake-clips"
PEER = "wyoming-openwakeword==1.8.2"
PEER_PINS = ("wyoming==1.2.0", "tflite-runtime==2.14.0", "numpy<2")
CHUNK_BYTES = 2048  # 64 ms, what Home Assistant's satellites send
DEFAULT_PHRASE = "okay nabu"  # the phrase of the fused default
MICRO = ["okay_nabu", "hey_jarvis", "hey_mycroft", "alexa"]
OWW = ["ok_nabu_v0.1", "hey_jarvis_v0.1", "hey_mycroft_v0.1", "alexa_v0.1", "hey_rhasspy_v0.1"]


def quiet_room(seconds: float, speech: bytes, seed: int) -> bytes:
    """A satellite's day: low room noise with speech one third of the time."""
    rng = np.random.default_rng(seed)
    total = int(seconds * 16000)
    audio = rng.normal(0, 30, total).astype(np.int16)
    words = np.frombuffer(speech, np.int16)
    start = int(rng.integers(0, max(len(words) - total, 1)))
    speech_part = words[start : start + total // 3]
    audio[total // 3 : total // 3 + len(speech_part)] += speech_part
    return audio.tobytes()


# -- talking to a server --------------------------------------------------------------


def _event(event_type: str, data: dict[str, object] | None = None, payload: bytes = b"") -> Event:
    return Event(type=event_type, data=data or {}, payload=payload or None)


async def run_stream(
    port: int, pcm: bytes, names: list[str] | None, speed: float | None, drain: bool = True
) -> list[tuple[str, int | None]]:
    """Stream one clip (at `speed` x real time, None: as fast as possible); the detections
    with their timestamps (ms into the stream; every chunk carries its own).

    With `drain`, a ping after `audio-stop` and waiting for the pong makes sure the
    server has worked through all the audio (it answers events in order). The
    peer answers no ping: it gets 0.5 s before `audio-stop` and 2 s after.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    found: list[tuple[str, int | None]] = []
    last = "pong" if drain else "not-detected"

    async def read() -> None:
        while (event := await async_read_event(reader)) is not None:
            if event.type == "detection":
                stamp = event.data.get("timestamp")
                found.append((str(event.data.get("name")), stamp if stamp is None else int(stamp)))
            if event.type == "error":
                raise RuntimeError(event.data.get("text"))
            if event.type == last:
                return

    reading = asyncio.create_task(read())
    try:
        fmt: dict[str, object] = {"rate": 16000, "width": 2, "channels": 1}
        await async_write_event(_event("detect", {"names": names} if names else {}), writer)
        await async_write_event(_event("audio-start", fmt), writer)
        started = time.monotonic()
        for index, offset in enumerate(range(0, len(pcm), CHUNK_BYTES)):
            chunk = {**fmt, "timestamp": offset // 32}
            await async_write_event(
                _event("audio-chunk", chunk, pcm[offset : offset + CHUNK_BYTES]), writer
            )
            if speed:
                due = started + (index + 1) * CHUNK_BYTES / 32000 / speed
                await asyncio.sleep(max(due - time.monotonic(), 0))
        if not drain:
            await asyncio.sleep(0.5)
        await async_write_event(_event("audio-stop"), writer)
        if drain:
            await async_write_event(_event("ping"), writer)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(reading), 600 if drain else 2)
    finally:
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await reading
        writer.close()
    return found


async def run_many(
    server: "Server",
    jobs: Sequence[tuple[bytes, list[str] | None]],
    speed: float | None,
    parallel: int,
) -> list[list[tuple[str, int | None]]]:
    gate = asyncio.Semaphore(parallel)

    async def one(pcm: bytes, names: list[str] | None) -> list[tuple[str, int | None]]:
        async with gate:
            return await run_stream(server.port, pcm, names, speed, server.answers_ping)

    return list(await asyncio.gather(*(one(pcm, names) for pcm, names in jobs)))


# -- servers ---------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    command: list[str]
    port: int
    models: dict[str, list[str]]  # engine -> model names
    answers_ping: bool = True
    process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid


@contextlib.contextmanager
def running(server: Server) -> Iterator[Server]:
    log = BENCH_DIR / f"wake-{server.name.replace(' ', '-')}.log"
    with log.open("wb") as out:
        server.process = subprocess.Popen(server.command, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield server
    finally:
        server.process.terminate()
        try:
            server.process.wait(15)
        except subprocess.TimeoutExpired:
            server.process.kill()


async def ready(server: Server, warmup: bytes) -> None:
    deadline = time.monotonic() + 120
    while await describe("127.0.0.1", server.port) is None:
        assert server.process is not None
        if server.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{server.name} did not start (see .bench/wake-*.log)")
        await asyncio.sleep(0.2)
    for models in server.models.values():  # load every model before measuring
        await run_stream(server.port, warmup, models, None, server.answers_ping)


# -- measurements ----------------------------------------------------------------------


@dataclass
class ModelResult:
    hits: int = 0
    positives: int = 0
    near_accepts: int = 0
    near_clips: int = 0
    false_accepts: int = 0
    cpu_rtf: float = 0.0
    piper_positives: int = 0
    misses: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # s after the phrase's end
    false_labels: list[str] = field(default_factory=list)


def phrase_models(phrase: str) -> tuple[str, ...]:
    """The models that should fire on `phrase`, the fused default among them."""
    return PHRASES[phrase] + ((DEFAULT_MODEL,) if phrase == DEFAULT_PHRASE else ())


def _names(found: list[tuple[str, int | None]]) -> list[str]:
    return [name for name, _ in found]


async def detection_rates(
    server: Server, models: list[str], positives: list[WakeClip], args: argparse.Namespace
) -> dict[str, ModelResult]:
    results = {model: ModelResult() for model in models}
    jobs, keys = [], []
    for clip in positives:
        assert clip.phrase is not None
        for model in phrase_models(clip.phrase):
            if model in results:
                jobs.append((clip.pcm, [model]))
                keys.append((model, clip))
    found = await run_many(server, jobs, args.speed, args.parallel)
    for (model, clip), detected in zip(keys, found, strict=True):
        results[model].positives += 1
        results[model].piper_positives += clip.voice.startswith("piper")
        if model in _names(detected):
            results[model].hits += 1
        else:
            results[model].misses.append(clip.label)
    return results


async def held_out_rates(
    server: Server, models: list[str], samples: list[Sample], args: argparse.Namespace
) -> dict[str, ModelResult]:
    """Each held-out positive streamed to each model; latency where the phrase is alone."""
    results = {model: ModelResult() for model in models}
    jobs = [(sample.pcm, [model]) for sample in samples for model in models]
    found = iter(await run_many(server, jobs, args.speed, args.parallel))
    for sample in samples:
        for model in models:
            result, detected = results[model], next(found)
            result.positives += 1
            stamps = [stamp for name, stamp in detected if name == model]
            if not stamps:
                result.misses.append(sample.label)
                continue
            result.hits += 1
            if sample.phrase_end is not None and stamps[0] is not None:
                result.latencies.append(stamps[0] / 1000 - sample.phrase_end)
    return results


async def near_misses(
    server: Server, results: dict[str, ModelResult], audio: list[bytes], args: argparse.Namespace
) -> None:
    found = await run_many(
        server, [(pcm, list(results)) for pcm in audio], args.speed, args.parallel
    )
    for detected in found:
        for model in results:
            results[model].near_clips += 1
            results[model].near_accepts += model in _names(detected)


async def false_accepts(
    server: Server, results: list[dict[str, ModelResult]], args: argparse.Namespace
) -> None:
    """The negative hour, cut into `parallel` connections, all models armed; what was
    said where each false accept fired."""
    negative = negative_hours(HELD_OUT, args.negative_minutes)
    armed = {model: result for table in results for model, result in table.items()}
    step = len(negative) // args.parallel // 2 * 2
    pieces = [negative[i * step : (i + 1) * step] for i in range(args.parallel)]
    found = await run_many(
        server, [(piece, list(armed)) for piece in pieces], args.speed, args.parallel
    )
    for index, detected in enumerate(found):
        for name, stamp in detected:
            seconds = index * step / 32000 + (stamp or 0) / 1000
            said = negative_segment(HELD_OUT, args.negative_minutes, seconds)
            for table in results:
                if name in table:
                    table[name].false_accepts += 1
                    table[name].false_labels.append(said)


async def cpu_rtf(server: Server, model: str, audio: bytes, speed: float) -> float:
    before = cpu_seconds(server.pid)
    await run_stream(server.port, audio, [model], speed, server.answers_ping)
    return (cpu_seconds(server.pid) - before) / (len(audio) / 32000)


async def concurrent_cpu(
    server: Server, model: str, streams: int, seconds: float, speech: bytes
) -> float:
    """% of one core while `streams` clients stream in real time."""
    jobs = [(quiet_room(seconds, speech, seed), [model]) for seed in range(streams)]
    before, started = cpu_seconds(server.pid), time.monotonic()
    await run_many(server, jobs, 1.0, streams)
    return 100 * (cpu_seconds(server.pid) - before) / (time.monotonic() - started)


def ours(port: int, vad: bool) -> Server:
    command = [sys.executable, "-m", "wyoming_wake", "--uri", f"tcp://127.0.0.1:{port}"]
    name = "local-voice" + (" +VAD" if vad else "")
    engines = {"fused": [DEFAULT_MODEL], "micro": MICRO, "oww": OWW}
    return Server(name, command + (["--vad"] if vad else []), port, engines)


def peer(port: int) -> Server:
    # --no-deps: wyoming-openwakeword pins tflite-runtime-nightly, which has no wheel here
    python = peer_python("wyoming-openwakeword", *PEER_PINS, no_deps=(PEER,))
    command = [str(python), "-m", "wyoming_openwakeword", "--uri", f"tcp://127.0.0.1:{port}"]
    return Server("wyoming-openwakeword 1.8.2", command, port, {"oww": OWW}, answers_ping=False)


ACCURACY = (
    Column("server", "{server}"),
    Column("model", "{model}"),
    Column("detected", "{detection_rate:.0%} ({detected}/{positives})"),
    Column("of them Piper", "{piper_detected}/{piper_positives}"),
    Column("near-miss accepts", "{near_miss_accepts}/{near_misses}"),
    Column("false accepts / h", "{false_accepts_per_hour:.1f} ({false_accepts})"),
    Column("CPU RTF (1 stream)", "{cpu_rtf:.4f}"),
)
HELD_OUT_COLUMNS = (
    Column("server", "{server}"),
    Column("model", "{model}"),
    Column("detected", "{detection_rate:.1%} ({detected}/{positives})"),
    Column("near-miss accepts", "{near_miss_accepts}/{near_misses}"),
    Column("false accepts / h", "{false_accepts_per_hour:.1f} ({false_accepts})"),
    Column("latency after phrase (median)", "{latency_ms:.0f} ms"),
    Column("against the target", "{verdict}"),
)
CONCURRENT = (
    Column("server", "{server}"),
    Column("model", "{model}"),
    Column("streams", "{streams}"),
    Column("% of one core", "{core_percent:.1f}%"),
    Column("per stream", "{per_stream_percent:.2f}%"),
)
TARGET_RATE = 0.95  # and no false accept in the negative hour


def verdict(rate: float, false: int) -> str:
    if rate >= TARGET_RATE and false == 0:
        return "meets it"
    short = [f"{100 * (TARGET_RATE - rate):.1f} points short"] if rate < TARGET_RATE else []
    return ", ".join(short + ([f"{false} false accepts (near misses included)"] if false else []))


async def bench(args: argparse.Namespace, report: Report) -> None:
    BENCH_DIR.mkdir(exist_ok=True)
    phrases = args.phrases or list(PHRASES)
    positives = wake_corpus.positives(phrases, args.voices, cache=CLIP_CACHE)
    near = wake_corpus.negatives(wake_corpus.NEAR_MISSES, args.voices, cache=CLIP_CACHE)
    nabu = wake_samples(HELD_OUT, limit=args.held_out_limit) if DEFAULT_PHRASE in phrases else []
    nabu_near = near_miss_samples(HELD_OUT) if nabu else []
    negative = negative_hours(HELD_OUT, args.negative_minutes)
    hours = len(negative) / 32000 / 3600
    load = os.getloadavg()[0]
    print(
        f"{len(positives)} positive clips, {len(near)} near misses, {len(nabu)} held-out "
        f"'okay nabu' clips, {hours * 60:.1f} min negative stream; load average {load:.1f} "
        f"on {os.cpu_count()} CPUs",
        flush=True,
    )
    voices = list(args.voices or wake_corpus.VOICES)
    report.settings = {
        "phrases": phrases,
        "voices": voices,
        "positives": len(positives),
        "near_misses": len(near),
        "held_out_positives": len(nabu),
        "held_out_near_misses": len(nabu_near),
        "noise_snr_db": wake_corpus.NOISE_SNR_DB,
        "negative_minutes": round(hours * 60, 2),
        "speed": args.speed,
        "parallel": args.parallel,
        "rtf_seconds": args.rtf_seconds,
        "stream_seconds": args.seconds,
        "load_average": round(load, 2),
    }
    accuracy = report.table(
        "rows",
        ACCURACY,
        caption=f"Every phrase: {len(positives)} clips ({', '.join(voices)}; clean and "
        f"{wake_corpus.NOISE_SNR_DB:g} dB noise); held-out negative stream "
        f"{hours * 60:.1f} min; load average {load:.1f}",
    )
    held_out = report.table(
        "held_out",
        HELD_OUT_COLUMNS,
        caption=f"'Okay Nabu', held-out split of testkit/wake_corpus.py: {len(nabu)} clips "
        f"(voices, speeds, levels, noise, rooms), {len(nabu_near)} near misses, "
        f"{hours * 60:.1f} min of negatives; target {TARGET_RATE:.0%} and no false accept",
    )
    concurrent = report.table(
        "concurrent_cpu",
        CONCURRENT,
        caption=f"CPU while N clients stream in real time ({args.seconds:g} s, "
        "quiet room + speech)",
    )
    servers = [] if args.no_ours else [ours(args.port, False)]
    if not args.no_vad and not args.no_ours:
        servers.append(ours(args.port + 1, True))
    if not args.no_peer:
        servers.append(peer(args.port + 2))
    rtf_audio = negative[: int(args.rtf_seconds * 32000) // 2 * 2]
    for server in servers:
        with running(server):
            await ready(server, positives[0].pcm)
            engines = {
                engine: [m for m in models if any(m in phrase_models(p) for p in phrases)]
                for engine, models in server.models.items()
            }
            engines = {engine: models for engine, models in engines.items() if models}
            tables = []
            for engine, models in engines.items():
                print(f"{server.name}: {engine} ...", flush=True)
                results = await detection_rates(server, models, positives, args)
                await near_misses(server, results, [clip.pcm for clip in near], args)
                tables.append(results)
            armed = [m for models in engines.values() for m in models]
            nabu_models = [m for m in (DEFAULT_MODEL, *PHRASES[DEFAULT_PHRASE]) if m in armed]
            if nabu and nabu_models:
                print(f"{server.name}: held-out 'okay nabu' ...", flush=True)
                results = await held_out_rates(server, nabu_models, nabu, args)
                await near_misses(server, results, [sample.pcm for sample in nabu_near], args)
                tables.append(results)
            print(f"{server.name}: {hours * 60:.0f} min of negatives ...", flush=True)
            await false_accepts(server, tables, args)
            for results in tables[: len(engines)]:
                for model, result in results.items():
                    result.cpu_rtf = await cpu_rtf(server, model, rtf_audio, args.speed)
                    print(add_accuracy(accuracy, server.name, model, result, hours), flush=True)
                    if args.verbose and result.misses:
                        print("   missed: " + "; ".join(result.misses))
            for model, result in (
                tables[len(engines)] if len(tables) > len(engines) else {}
            ).items():
                print(add_held_out(held_out, server.name, model, result, hours), flush=True)
                if args.verbose:
                    print("   missed: " + "; ".join(result.misses[:30]))
                    print("   false accepts on: " + "; ".join(result.false_labels))
            for model in dict.fromkeys(models[0] for models in engines.values()):
                for streams in args.streams:
                    core = await concurrent_cpu(server, model, streams, args.seconds, negative)
                    row = concurrent.add(
                        server=server.name,
                        model=model,
                        streams=streams,
                        core_percent=core,
                        per_stream_percent=core / streams,
                    )
                    print(concurrent.line(row), flush=True)


def add_accuracy(table: Table, server: str, model: str, result: ModelResult, hours: float) -> str:
    """One model's detection figures as a row of `table`; its Markdown line."""
    piper = result.piper_positives - sum(m.startswith("piper") for m in result.misses)
    row = table.add(
        server=server,
        model=model,
        detection_rate=result.hits / max(result.positives, 1),
        detected=result.hits,
        positives=result.positives,
        piper_detected=piper,
        piper_positives=result.piper_positives,
        near_miss_accepts=result.near_accepts,
        near_misses=result.near_clips,
        false_accepts=result.false_accepts,
        false_accepts_per_hour=result.false_accepts / hours,
        cpu_rtf=result.cpu_rtf,
    )
    return table.line(row)


def add_held_out(table: Table, server: str, model: str, result: ModelResult, hours: float) -> str:
    rate = result.hits / max(result.positives, 1)
    row = table.add(
        server=server,
        model=model,
        detection_rate=rate,
        detected=result.hits,
        positives=result.positives,
        near_miss_accepts=result.near_accepts,
        near_misses=result.near_clips,
        false_accepts=result.false_accepts,
        false_accepts_per_hour=result.false_accepts / hours,
        latency_ms=1000 * float(np.median(result.latencies)) if result.latencies else float("nan"),
        verdict=verdict(rate, result.false_accepts + result.near_accepts),
    )
    return table.line(row)


def main() -> None:
    parser = arguments("bench.wake", __doc__)
    parser.add_argument("--negative-minutes", type=float, default=60.0)
    parser.add_argument("--seconds", type=float, default=20.0, help="Real-time CPU runs (20)")
    parser.add_argument("--streams", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--rtf-seconds", type=float, default=60.0, help="Audio for CPU RTF (60)")
    parser.add_argument("--speed", type=float, default=4.0, help="x real time for clips (4)")
    parser.add_argument("--parallel", type=int, default=4, help="Clips streamed at once (4)")
    parser.add_argument("--phrases", nargs="+", choices=list(PHRASES))
    parser.add_argument("--voices", nargs="+", choices=list(wake_corpus.VOICES))
    parser.add_argument("--held-out-limit", type=int, help="A spread of N held-out clips")
    parser.add_argument("--port", type=int, default=10490)
    parser.add_argument("--no-peer", action="store_true", help="Only measure Local Voice")
    parser.add_argument("--no-vad", action="store_true", help="Skip the VAD-gated server")
    parser.add_argument("--no-ours", action="store_true", help="Only measure the peer")
    parser.add_argument("--verbose", action="store_true", help="Print each missed clip")
    run("wake", parser, bench)


if __name__ == "__main__":
    main()
