"""Test helpers: a real server process and a client that can also misbehave."""

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from wyoming.event import Event, async_read_event

from local_voice.audio import SAMPLE_RATE
from local_voice.protocol import version_tuple

ROOT = Path(__file__).resolve().parent.parent
LEGACY_VERSION = "1.5.4"  # what Home Assistant 2025.4 sends
CURRENT_VERSION = "1.10.2"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in (log := self.log):
                return log
            time.sleep(0.05)
        raise AssertionError(f"{text!r} not in server log:\n{self.log[-3000:]}")


def wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listens on port {port}")


@contextlib.contextmanager
def run_server(module: str, log_dir: Path, *args: str) -> Iterator[ServerProcess]:
    """Start `python -m module --uri tcp://127.0.0.1:PORT ARGS` and stop it after."""
    port = free_port()
    log_path = log_dir / f"{module}-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", module, "--uri", f"tcp://127.0.0.1:{port}", "--debug", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    server = ServerProcess(process, port, log_path)
    try:
        wait_listening(port, process)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class RawClient:
    """A Wyoming client that writes events by hand, so it can claim any version or break rules."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, version: str
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.version = version

    @staticmethod
    async def connect(port: int, version: str = CURRENT_VERSION) -> "RawClient":
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return RawClient(reader, writer, version)

    async def send(
        self, event_type: str, data: Mapping[str, object] | None = None, payload: bytes = b""
    ) -> None:
        header: dict[str, object] = {"type": event_type, "version": self.version}
        body = json.dumps(data).encode() if data else b""
        if body:
            header["data_length"] = len(body)
        if payload:
            header["payload_length"] = len(payload)
        self.writer.write(json.dumps(header).encode() + b"\n" + body + payload)
        await self.writer.drain()

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def receive(self, timeout: float = 30.0) -> Event | None:
        return await asyncio.wait_for(async_read_event(self.reader), timeout)

    async def receive_until(self, *types: str, timeout: float = 30.0) -> list[Event]:
        """Events up to and including the first of one of `types`."""
        events: list[Event] = []
        while True:
            event = await self.receive(timeout)
            if event is None:
                raise ConnectionError(f"closed before {types}; got {[e.type for e in events]}")
            events.append(event)
            if event.type in types:
                return events

    async def is_closed(self, timeout: float = 5.0) -> bool:
        try:
            return await asyncio.wait_for(self.reader.read(1), timeout) == b""
        except (ConnectionError, TimeoutError):
            return False

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()

    async def stream_audio(
        self,
        pcm: bytes,
        *,
        rate: int = SAMPLE_RATE,
        width: int = 2,
        channels: int = 1,
        chunk_bytes: int = 2048,
        realtime: bool = False,
    ) -> None:
        fmt = {"rate": rate, "width": width, "channels": channels}
        await self.send("audio-start", fmt)
        bytes_per_second = rate * width * channels
        for start in range(0, len(pcm), chunk_bytes):
            piece = pcm[start : start + chunk_bytes]
            await self.send("audio-chunk", fmt, piece)
            if realtime:
                await asyncio.sleep(len(piece) / bytes_per_second)
        await self.send("audio-stop")


async def transcribe(
    port: int,
    pcm: bytes,
    *,
    version: str = CURRENT_VERSION,
    language: str | None = "en",
    realtime: bool = False,
    extra: dict[str, object] | None = None,
    **audio: int,
) -> list[Event]:
    """Send one request; return every event up to the transcript (or its stream's end)."""
    client = await RawClient.connect(port, version)
    try:
        data: dict[str, object] = {"language": language} if language else {}
        data.update(extra or {})
        await client.send("transcribe", data)
        await client.stream_audio(pcm, realtime=realtime, **audio)
        final = "transcript-stop" if version_tuple(version) >= (1, 7) else "transcript"
        return await client.receive_until(final, "error", timeout=60)
    finally:
        await client.close()


def transcript_text(events: list[Event]) -> str:
    texts = [event.data["text"] for event in events if event.type == "transcript"]
    assert len(texts) == 1, [(event.type, event.data) for event in events]
    return str(texts[0])
