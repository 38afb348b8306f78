"""Text-to-speech benchmark: Local Voice's server against wyoming-piper.

    .venv/bin/python -m bench.tts [--rounds 3] [--no-peer] [--kokoro af_heart bm_george] [--json]

Both servers speak the same texts (assistant answers, as an LLM writes them)
with the same Piper voice, en_US-joe-medium, on 2 threads. Each text is sent
twice: as one `synthesize` event, and streamed word by word (`synthesize-start`,
one `synthesize-chunk` per word every `--word-delay` seconds, `synthesize-stop`),
the way Home Assistant 2025.7+ passes on an LLM's reply. Our Kokoro voices are
measured the same way. The peer is installed from PyPI into its own virtual
environment (.bench/) on first run. With --json the figures come as one JSON
document (testkit/report.py).
"""

import argparse
import asyncio
import contextlib
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from wyoming.audio import AudioChunk, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeStopped,
    SynthesizeVoice,
)

from local_voice.info import describe
from testkit import BENCH_DIR
from testkit.measure import cpu_seconds, peak_rss_mb
from testkit.peers import peer_python
from testkit.processes import running
from testkit.report import Column, Report, Table, arguments, median_ms, run
from wyoming_tts.models import DEFAULT_VOICE, catalog

PEER = "wyoming-piper==2.5.2"

TEXTS = (
    "Your timer for ten minutes has started.",
    "I turned off the kitchen lights and locked the front door. "
    "Is there anything else you would like me to do?",
    "The living room is at twenty one degrees right now, and the heating is set to twenty "
    "two. It should warm up within half an hour.",
    "Sure, here is the forecast for today: cloudy in the morning, with light rain expected "
    "in the afternoon and a fresh breeze from the west. Temperatures will reach about "
    "fifteen degrees, so you may want to take a jacket when you leave.",
)


@dataclass
class Measure:
    """One server, one voice, one way of sending: what each request took."""

    first_audio: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    audio_seconds: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0
    failures: int = 0

    @property
    def rtf(self) -> float:
        """Seconds of work per second of audio (first byte sent to last audio received)."""
        return sum(self.total) / max(sum(self.audio_seconds), 1e-9)


def peer_data_dir() -> Path:
    """The peer's --data-dir holding our embedded joe voice (linked, not copied)."""
    source = catalog([])[DEFAULT_VOICE]
    assert source.config is not None
    data = BENCH_DIR / "piper-data"
    data.mkdir(parents=True, exist_ok=True)
    for path in (source.model, source.config):
        link = data / path.name
        if not link.exists():
            link.symlink_to(path)
    return data


async def request(
    port: int, text: str, voice: str, streaming: bool, word_delay: float
) -> tuple[float, float, float]:
    """Speak one text; (seconds to first audio, seconds to the end, seconds of audio)."""
    async with AsyncTcpClient("127.0.0.1", port) as client:
        chosen = SynthesizeVoice(name=voice)
        started = time.monotonic()
        first: float | None = None
        samples, rate = 0, 1
        if streaming:
            await client.write_event(SynthesizeStart(voice=chosen).event())
            sender = asyncio.create_task(stream_words(client, text, chosen, word_delay))
            final = SynthesizeStopped.is_type
        else:
            await client.write_event(Synthesize(text=text, voice=chosen).event())
            final = AudioStop.is_type
        while (event := await client.read_event()) is not None:
            if AudioChunk.is_type(event.type):
                chunk = AudioChunk.from_event(event)
                first = first or time.monotonic()
                samples += len(chunk.audio) // (chunk.width * chunk.channels)
                rate = chunk.rate
            elif Error.is_type(event.type):
                raise RuntimeError(Error.from_event(event).text)
            elif final(event.type):
                break
        else:
            raise ConnectionError("server closed the connection")
        if streaming:
            await sender
        if first is None:
            raise RuntimeError("no audio")
        done = time.monotonic()
        return first - started, done - started, samples / rate


async def stream_words(
    client: AsyncTcpClient, text: str, voice: SynthesizeVoice, delay: float
) -> None:
    words = text.split(" ")
    for index, word in enumerate(words):
        chunk = word if index == 0 else " " + word
        await client.write_event(SynthesizeChunk(text=chunk).event())
        await asyncio.sleep(delay)
    await client.write_event(Synthesize(text=text, voice=voice).event())
    await client.write_event(SynthesizeStop().event())


async def ready(port: int, process: subprocess.Popen[bytes], voice: str) -> None:
    """Wait until the server answers and has spoken once with this voice (it is loaded)."""
    deadline = time.monotonic() + 300
    while await describe("127.0.0.1", port) is None:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"server on port {port} did not start")
        await asyncio.sleep(0.2)
    await request(port, "Ready.", voice, False, 0)


async def measure(
    port: int, pid: int, voice: str, streaming: bool, args: argparse.Namespace, result: Measure
) -> None:
    """Speak every text once, adding to `result`."""
    before = cpu_seconds(pid)
    for text in TEXTS[: args.texts]:
        try:
            first, total, audio = await request(port, text, voice, streaming, args.word_delay)
        except (RuntimeError, ConnectionError, OSError) as err:
            print(f"  failed: {text[:30]!r}: {err}", flush=True)
            result.failures += 1
            continue
        result.first_audio.append(first)
        result.total.append(total)
        result.audio_seconds.append(audio)
    result.cpu_seconds += cpu_seconds(pid) - before


COLUMNS = (
    Column("server", "{server}"),
    Column("voice", "{voice}"),
    Column("mode", "{mode}"),
    Column("median ms to first audio", "{first_audio_ms:.0f}"),
    Column("median ms to end", "{total_ms:.0f}"),
    Column("RTF", "{rtf:.3f}"),
    Column("CPU RTF", "{cpu_rtf:.3f}"),
    Column("peak MB", "{peak_mb:.0f}"),
    Column("failed", "{failed}"),
)


def add_row(table: Table, name: str, voice: str, mode: str, result: Measure, memory: float) -> None:
    """The figures of one server, voice and mode, as a row of `table`."""
    spoken = bool(result.first_audio)
    table.add(
        server=name,
        voice=voice,
        mode=mode,
        first_audio_ms=median_ms(result.first_audio),
        total_ms=median_ms(result.total),
        rtf=result.rtf if spoken else None,
        cpu_rtf=result.cpu_seconds / sum(result.audio_seconds) if spoken else None,
        peak_mb=memory,
        failed=result.failures,
    )


async def bench(args: argparse.Namespace, report: Report) -> None:
    ours = [
        sys.executable,
        "-m",
        "wyoming_tts",
        "--uri",
        "tcp://127.0.0.1:{port}",
        "--threads",
        str(args.threads),
    ]
    servers: dict[str, tuple[list[str], list[str]]] = {
        "local-voice": (ours, [DEFAULT_VOICE, *args.kokoro]),
    }
    if not args.no_peer:
        data = peer_data_dir()
        peer = [
            str(peer_python("wyoming-piper", PEER)),
            "-m",
            "wyoming_piper",
            "--uri",
            "tcp://127.0.0.1:{port}",
            "--voice",
            DEFAULT_VOICE,
            "--data-dir",
            str(data),
            "--download-dir",
            str(data),
        ]
        servers[PEER.replace("==", " ")] = (peer, [DEFAULT_VOICE])
    words = sum(len(text.split()) for text in TEXTS[: args.texts])
    print(f"{args.texts} texts ({words} words) x {args.rounds} rounds", flush=True)
    report.settings = {
        "texts": args.texts,
        "words": words,
        "rounds": args.rounds,
        "word_delay_ms": round(args.word_delay * 1000, 1),
        "threads": args.threads,
    }
    results: dict[tuple[str, str, bool], Measure] = {}
    with contextlib.ExitStack() as stack:
        processes = {}
        for index, (name, (template, voices)) in enumerate(servers.items()):
            port = args.port + index
            command = [part.replace("{port}", str(port)) for part in template]
            process = stack.enter_context(running(command, BENCH_DIR / f"tts-{index}.log"))
            processes[name] = (port, process)
            for voice in voices:
                await ready(port, process, voice)
        # Rounds alternate between the servers, so a change in machine load hits both.
        for round_number in range(args.rounds):
            print(f"round {round_number + 1} of {args.rounds} ...", flush=True)
            for name, (_, voices) in servers.items():
                port, process = processes[name]
                for voice in voices:
                    for streaming in (True, False):
                        result = results.setdefault((name, voice, streaming), Measure())
                        await measure(port, process.pid, voice, streaming, args, result)
        memory = {name: peak_rss_mb(process.pid) for name, (_, process) in processes.items()}
    table = report.table(
        "rows",
        COLUMNS,
        caption=f"{args.texts} texts x {args.rounds}, streamed one word every "
        f"{args.word_delay * 1000:.0f} ms; {args.threads} threads",
    )
    for (name, voice, streaming), result in results.items():
        mode = "streaming" if streaming else "synthesize"
        add_row(table, name, voice, mode, result, memory[name])


def main() -> None:
    parser = arguments("bench.tts", __doc__)
    parser.add_argument("--rounds", type=int, default=3, help="Times each text is spoken (3)")
    parser.add_argument(
        "--word-delay", type=float, default=0.03, help="Seconds between streamed words (0.03)"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--kokoro", nargs="*", default=["af_heart", "bm_george"], help="Kokoro voices to measure"
    )
    parser.add_argument("--texts", type=int, default=len(TEXTS), help="Use the first N texts")
    parser.add_argument("--port", type=int, default=10290)
    parser.add_argument("--no-peer", action="store_true", help="Only measure Local Voice")
    run("tts", parser, bench)


if __name__ == "__main__":
    main()
