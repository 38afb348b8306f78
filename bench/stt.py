"""Speech-to-text benchmark: Local Voice's server against wyoming-faster-whisper.

    .venv/bin/python -m bench.stt [--model base] [--beam-size 5] [--clips 50] [--json]

Both servers get the same model files, compute type, beam size and threads, and
the same spoken corpus (Piper and espeak-ng voices, some with noise). Each clip
is streamed twice: in real time, as a satellite sends it (0.3 s of silence
before the command and 0.7 s after, the end-of-speech silence Home Assistant
waits for), and as fast as the connection takes it. The peer is installed from
PyPI into its own virtual environment (.bench/) on first run. With --json the
figures come as one JSON document (testkit/report.py).
"""

import argparse
import asyncio
import subprocess
import sys
import time
from dataclasses import dataclass, field

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error

from local_voice.info import describe
from testkit import BENCH_DIR
from testkit.measure import cpu_seconds, peak_rss_mb
from testkit.peers import peer_python
from testkit.processes import running
from testkit.report import Column, Report, Table, arguments, median_ms, p95_ms, run
from testkit.stt_corpus import Clip, build
from testkit.wer import word_errors
from wyoming_stt.models import resolve

PEER = "wyoming-faster-whisper==3.8.1"
PEER_PINS = ("av==15.1.0",)  # av 19 breaks 3.8.1 (see shared/MODELS.md)
CHUNK_SAMPLES = 1024


@dataclass
class Result:
    """What one server did with the corpus in one mode."""

    latencies: list[float] = field(default_factory=list)  # audio-stop -> transcript
    walls: list[float] = field(default_factory=list)  # audio-start -> transcript
    errors: int = 0
    words: int = 0
    audio_seconds: float = 0.0
    cpu_seconds: float = 0.0
    failures: int = 0

    @property
    def wer(self) -> float:
        return self.errors / max(self.words, 1)


async def ready(port: int, process: subprocess.Popen[bytes], clip: Clip) -> None:
    """Wait until the server answers and has transcribed once (its model is loaded)."""
    deadline = time.monotonic() + 300
    while await describe("127.0.0.1", port) is None:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"server on port {port} did not start")
        await asyncio.sleep(0.2)
    await send(port, clip, realtime=False)


async def send(port: int, clip: Clip, realtime: bool) -> tuple[str, float, float]:
    """Stream one clip; return (transcript, seconds after audio-stop, seconds in all)."""
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Transcribe(language="en").event())
        started = time.monotonic()
        await client.write_event(AudioStart(16000, 2, 1).event())
        step = CHUNK_SAMPLES * 2
        for index, offset in enumerate(range(0, len(clip.pcm), step)):
            chunk = AudioChunk(16000, 2, 1, clip.pcm[offset : offset + step])
            await client.write_event(chunk.event())
            if realtime:
                due = started + (index + 1) * CHUNK_SAMPLES / 16000
                await asyncio.sleep(max(due - time.monotonic(), 0))
        stopped = time.monotonic()
        await client.write_event(AudioStop().event())
        while (event := await client.read_event()) is not None:
            if Transcript.is_type(event.type):
                done = time.monotonic()
                return Transcript.from_event(event).text, done - stopped, done - started
            if Error.is_type(event.type):
                raise RuntimeError(Error.from_event(event).text)
    raise ConnectionError("server closed the connection without a transcript")


async def run_corpus(
    port: int, pid: int, corpus: list[Clip], realtime: bool, verbose: bool
) -> Result:
    result = Result()
    before = cpu_seconds(pid)
    for clip in corpus:
        try:
            text, latency, wall = await send(port, clip, realtime)
        except (RuntimeError, ConnectionError) as err:
            print(f"  failed: {clip.text!r} ({clip.voice}): {err}")
            result.failures += 1
            continue
        errors, words = word_errors(clip.text, text)
        result.errors += errors
        result.words += words
        result.latencies.append(latency)
        result.walls.append(wall)
        result.audio_seconds += clip.seconds
        if verbose and errors:
            print(f"  {clip.voice:12s} {clip.text!r} -> {text!r}")
    result.cpu_seconds = cpu_seconds(pid) - before
    return result


COLUMNS = (
    Column("server", "{server}"),
    Column("mode", "{mode}"),
    Column("median ms after audio-stop", "{median_ms:.0f}"),
    Column("p95 ms", "{p95_ms:.0f}"),
    Column("WER", "{wer:.1%}"),
    Column("CPU RTF", "{cpu_rtf:.3f}"),
    Column("wall RTF", "{wall_rtf:.2f}"),
    Column("peak MB", "{peak_mb:.0f}"),
    Column("failed", "{failed}"),
)


def add_row(table: Table, name: str, mode: str, result: Result, memory: float) -> str:
    """The figures of one server in one mode, as a row of `table`; its Markdown line."""
    audio = result.audio_seconds
    row = table.add(
        server=name,
        mode=mode,
        median_ms=median_ms(result.latencies),
        p95_ms=p95_ms(result.latencies),
        wer=result.wer if result.words else None,
        cpu_rtf=result.cpu_seconds / audio if audio else None,
        wall_rtf=sum(result.walls) / audio if audio else None,
        peak_mb=memory,
        failed=result.failures,
    )
    return table.line(row)


async def bench(args: argparse.Namespace, report: Report) -> None:
    source = resolve(args.model)
    model_dir = source.path()
    corpus = build(BENCH_DIR / "corpus", args.clips)
    audio = sum(clip.seconds for clip in corpus)
    print(f"Corpus: {len(corpus)} clips, {audio:.0f} s of audio; model {args.model} ({model_dir})")
    report.settings = {
        "model": args.model,
        "model_dir": str(model_dir),
        "beam_size": args.beam_size,
        "compute_type": args.compute_type,
        "cpu_threads": args.cpu_threads,
        "clips": len(corpus),
        "audio_seconds": round(audio, 1),
    }
    table = report.table(
        "rows",
        COLUMNS,
        caption=f"Model {args.model}, beam {args.beam_size}, {args.compute_type}, "
        f"{args.cpu_threads} threads, {len(corpus)} clips ({audio:.0f} s)",
    )
    common = [
        "--beam-size",
        str(args.beam_size),
        "--cpu-threads",
        str(args.cpu_threads),
        "--language",
        "en",
    ]
    servers = {
        "local-voice": [
            sys.executable,
            "-m",
            "wyoming_stt",
            "--uri",
            "tcp://127.0.0.1:{port}",
            "--model",
            args.model,
            "--compute-type",
            args.compute_type,
            *common,
            *args.ours,
        ],
    }
    if not args.no_peer:
        servers["wyoming-faster-whisper 3.8.1"] = [
            str(peer_python("wyoming-faster-whisper", PEER, *PEER_PINS)),
            "-m",
            "wyoming_faster_whisper",
            "--uri",
            "tcp://127.0.0.1:{port}",
            "--model",
            str(model_dir),
            "--data-dir",
            str(BENCH_DIR / "peer-data"),
            "--local-files-only",
            "--stt-library",
            "faster-whisper",
            "--compute-type",
            args.compute_type,
            *common,
        ]
    (BENCH_DIR / "peer-data").mkdir(parents=True, exist_ok=True)
    for index, (name, template) in enumerate(servers.items()):
        port = args.port + index
        command = [part.replace("{port}", str(port)) for part in template]
        with running(command, BENCH_DIR / f"stt-{index}.log") as process:
            await ready(port, process, corpus[0])
            for mode in args.modes:
                print(f"{name}: {mode} ...", flush=True)
                result = await run_corpus(
                    port, process.pid, corpus, mode == "realtime", args.verbose
                )
                print(add_row(table, name, mode, result, peak_rss_mb(process.pid)), flush=True)


def main() -> None:
    parser = arguments("bench.stt", __doc__)
    parser.add_argument("--model", default="base")
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--compute-type", default="int8")
    parser.add_argument("--cpu-threads", type=int, default=2)
    parser.add_argument("--clips", type=int, default=50)
    parser.add_argument(
        "--modes", nargs="+", default=["realtime", "burst"], choices=["realtime", "burst"]
    )
    parser.add_argument("--port", type=int, default=10390)
    parser.add_argument("--no-peer", action="store_true", help="Only measure Local Voice")
    parser.add_argument("--verbose", action="store_true", help="Print each misrecognised clip")
    parser.add_argument(
        "--ours", nargs=argparse.REMAINDER, default=[], help="Extra flags for our server"
    )
    run("stt", parser, bench)


if __name__ == "__main__":
    main()
