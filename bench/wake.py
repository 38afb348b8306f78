"""Wake-word benchmark: Local Voice's server (both engines) against wyoming-openwakeword.

    .venv/bin/python -m bench.wake [--negative-minutes 30] [--seconds 20] [--no-peer] [--json]

Everything goes through the servers over TCP. Per engine and model it prints the
detection rate on spoken positives (testkit/wake_corpus.py: every voice, clean and
with noise), accepts on near misses, false accepts per hour on a long negative
stream (generated speech and noise, cached under .bench/), the CPU real-time
factor of one stream, and the CPU cost of 1, 4 and 8 simultaneous real-time
streams, with VAD gating off and on. The peer, wyoming-openwakeword 1.8.2, is
installed from PyPI into .bench/venv-wyoming-openwakeword on first run (with
tflite-runtime 2.14 and numpy < 2, as its pins need). With --json the figures
come as one JSON document (testkit/report.py).
"""

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from wyoming.event import Event, async_read_event, async_write_event

from local_voice.info import describe
from testkit import BENCH_DIR, clips, wake_corpus
from testkit.measure import cpu_seconds
from testkit.peers import peer_python
from testkit.report import Column, Report, Table, arguments, run
from testkit.wake_corpus import PHRASES, WakeClip

CLIP_CACHE = BENCH_DIR / "wake-clips"
PEER = "wyoming-openwakeword==1.8.2"
PEER_PINS = ("wyoming==1.2.0", "tflite-runtime==2.14.0", "numpy<2")
CHUNK_BYTES = 2048  # 64 ms, what Home Assistant's satellites send
MICRO = ["okay_nabu", "hey_jarvis", "hey_mycroft", "alexa"]
OWW = ["ok_nabu_v0.1", "hey_jarvis_v0.1", "hey_mycroft_v0.1", "alexa_v0.1", "hey_rhasspy_v0.1"]

# Sentences for the negative stream: household commands and everyday talk.
_ROOMS = ("kitchen", "living room", "bedroom", "office", "hallway", "garage", "bathroom")
_ACTIONS = (
    "turn on the {} lights",
    "switch off the {} fan",
    "what is the temperature in the {}",
    "close the blinds in the {}",
    "dim the {} lamp to half",
    "is the {} window open",
)
_TALK = (
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
    "I think the printer is out of paper again",
)


def negative_sentences() -> list[str]:
    return [action.format(room) for action in _ACTIONS for room in _ROOMS] + list(_TALK)


def negative_stream(minutes: float) -> bytes:
    """Speech by every voice, some with noise, with noisy pauses; cached on disk."""
    key = hashlib.sha256(
        json.dumps([negative_sentences(), list(wake_corpus.VOICES), minutes]).encode()
    ).hexdigest()[:16]
    path = BENCH_DIR / f"wake-negative-{minutes:g}min-{key}.pcm"
    if path.exists():
        return path.read_bytes()
    print(f"Generating {minutes:g} min of negative speech into {path} ...", flush=True)
    rng = np.random.default_rng(1)
    sentences = negative_sentences()
    voices = list(wake_corpus.VOICES)
    target = int(minutes * 60 * 32000)
    parts: list[bytes] = []
    size = index = 0
    while size < target:
        text = sentences[index % len(sentences)]
        voice = voices[(index + index // len(sentences)) % len(voices)]
        snr = (None, 20.0, 10.0)[index % 3]
        pcm = wake_corpus.cached_speech(CLIP_CACHE, text, voice, False)
        if snr is not None:
            pcm = clips.with_noise(pcm, snr, seed=index)
        pause = rng.normal(0, 60, int(rng.uniform(0.3, 2.0) * 16000)).astype(np.int16).tobytes()
        parts += [pcm, pause]
        size += len(pcm) + len(pause)
        index += 1
        if index % 100 == 0:
            print(f"  {size / 32000 / 60:.1f} of {minutes:g} min", flush=True)
    audio = b"".join(parts)[:target]
    path.write_bytes(audio)
    return audio


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
) -> list[str]:
    """Stream one clip (at `speed` x real time, None: as fast as possible); the detections.

    With `drain`, a ping after `audio-stop` and waiting for the pong makes sure the
    server has worked through all the audio (it answers events in order). The
    peer answers no ping: it gets 0.5 s before `audio-stop` and 2 s after.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    found: list[str] = []
    last = "pong" if drain else "not-detected"

    async def read() -> None:
        while (event := await async_read_event(reader)) is not None:
            if event.type == "detection":
                found.append(str(event.data.get("name")))
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
            await async_write_event(
                _event("audio-chunk", fmt, pcm[offset : offset + CHUNK_BYTES]), writer
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
) -> list[list[str]]:
    gate = asyncio.Semaphore(parallel)

    async def one(pcm: bytes, names: list[str] | None) -> list[str]:
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


async def detection_rates(
    server: Server, models: list[str], positives: list[WakeClip], args: argparse.Namespace
) -> dict[str, ModelResult]:
    results = {model: ModelResult() for model in models}
    jobs, keys = [], []
    for clip in positives:
        assert clip.phrase is not None
        for model in PHRASES[clip.phrase]:
            if model in results:
                jobs.append((clip.pcm, [model]))
                keys.append((model, clip))
    found = await run_many(server, jobs, args.speed, args.parallel)
    for (model, clip), names in zip(keys, found, strict=True):
        results[model].positives += 1
        results[model].piper_positives += clip.voice.startswith("piper")
        if model in names:
            results[model].hits += 1
        else:
            results[model].misses.append(clip.label)
    return results


async def near_misses(
    server: Server,
    results: dict[str, ModelResult],
    clips_: list[WakeClip],
    args: argparse.Namespace,
) -> None:
    found = await run_many(
        server, [(clip.pcm, list(results)) for clip in clips_], args.speed, args.parallel
    )
    for names in found:
        for model in results:
            results[model].near_clips += 1
            results[model].near_accepts += model in names


async def false_accepts(
    server: Server, results: dict[str, ModelResult], negative: bytes, args: argparse.Namespace
) -> None:
    """The long negative stream, cut into `parallel` connections, all models armed."""
    step = len(negative) // args.parallel // 2 * 2
    pieces = [negative[i * step : (i + 1) * step] for i in range(args.parallel)]
    found = await run_many(
        server, [(piece, list(results)) for piece in pieces], args.speed, args.parallel
    )
    counts = Counter(name for names in found for name in names)
    for model in results:
        results[model].false_accepts = counts[model]


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
    return Server(name, command + (["--vad"] if vad else []), port, {"micro": MICRO, "oww": OWW})


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
CONCURRENT = (
    Column("server", "{server}"),
    Column("model", "{model}"),
    Column("streams", "{streams}"),
    Column("% of one core", "{core_percent:.1f}%"),
    Column("per stream", "{per_stream_percent:.2f}%"),
)


async def bench(args: argparse.Namespace, report: Report) -> None:
    BENCH_DIR.mkdir(exist_ok=True)
    phrases = args.phrases or list(PHRASES)
    positives = wake_corpus.positives(phrases, args.voices, cache=CLIP_CACHE)
    near = wake_corpus.negatives(wake_corpus.NEAR_MISSES, args.voices, cache=CLIP_CACHE)
    negative = negative_stream(args.negative_minutes)
    hours = len(negative) / 32000 / 3600
    load = os.getloadavg()[0]
    print(
        f"{len(positives)} positive clips, {len(near)} near misses, "
        f"{hours * 60:.1f} min negative stream; load average {load:.1f} on {os.cpu_count()} CPUs",
        flush=True,
    )
    voices = list(args.voices or wake_corpus.VOICES)
    report.settings = {
        "phrases": phrases,
        "voices": voices,
        "positives": len(positives),
        "near_misses": len(near),
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
        caption=f"Positives: {len(positives)} clips ({', '.join(voices)}; "
        f"clean and {wake_corpus.NOISE_SNR_DB:g} dB noise); negative stream "
        f"{hours * 60:.1f} min; load average {load:.1f}",
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
            for engine, models in server.models.items():
                models = [m for m in models if any(m in PHRASES[p] for p in phrases)]
                if not models:
                    continue
                print(f"{server.name}: {engine} ...", flush=True)
                results = await detection_rates(server, models, positives, args)
                await near_misses(server, results, near, args)
                await false_accepts(server, results, negative, args)
                for model, result in results.items():
                    result.cpu_rtf = await cpu_rtf(server, model, rtf_audio, args.speed)
                    print(add_accuracy(accuracy, server.name, model, result, hours), flush=True)
                    if args.verbose and result.misses:
                        print("   missed: " + "; ".join(result.misses))
                for streams in args.streams:
                    core = await concurrent_cpu(server, models[0], streams, args.seconds, negative)
                    row = concurrent.add(
                        server=server.name,
                        model=models[0],
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


def main() -> None:
    parser = arguments("bench.wake", __doc__)
    parser.add_argument("--negative-minutes", type=float, default=30.0)
    parser.add_argument("--seconds", type=float, default=20.0, help="Real-time CPU runs (20)")
    parser.add_argument("--streams", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--rtf-seconds", type=float, default=60.0, help="Audio for CPU RTF (60)")
    parser.add_argument("--speed", type=float, default=4.0, help="x real time for clips (4)")
    parser.add_argument("--parallel", type=int, default=4, help="Clips streamed at once (4)")
    parser.add_argument("--phrases", nargs="+", choices=list(PHRASES))
    parser.add_argument("--voices", nargs="+", choices=list(wake_corpus.VOICES))
    parser.add_argument("--port", type=int, default=10490)
    parser.add_argument("--no-peer", action="store_true", help="Only measure Local Voice")
    parser.add_argument("--no-vad", action="store_true", help="Skip the VAD-gated server")
    parser.add_argument("--no-ours", action="store_true", help="Only measure the peer")
    parser.add_argument("--verbose", action="store_true", help="Print each missed clip")
    run("wake", parser, bench)


if __name__ == "__main__":
    main()
