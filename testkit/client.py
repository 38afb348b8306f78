"""A Wyoming client that writes events by hand, and the speech-to-text request built on it."""

import asyncio
import contextlib
import json
from collections.abc import Mapping

from wyoming.event import Event, async_read_event
from wyoming.info import Info

from local_voice.audio import SAMPLE_RATE
from local_voice.protocol import version_tuple

LEGACY_VERSION = "1.5.4"  # what Home Assistant 2025.4 sends
CURRENT_VERSION = "1.10.2"


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


async def describe(port: int, timeout: float = 30.0) -> Info:
    """`describe` sent as a current client does; the `info` answer (fails if none comes)."""
    client = await RawClient.connect(port)
    try:
        await client.send("describe")
        events = await client.receive_until("info", timeout=timeout)
        return Info.from_event(events[-1])
    finally:
        await client.close()
