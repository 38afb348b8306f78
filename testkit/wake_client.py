"""Helpers for the wake-word tests: stream a clip, collect what the server said."""

import asyncio
import contextlib

from wyoming.event import Event, async_read_event

from .client import CURRENT_VERSION, RawClient

CHUNK_BYTES = 2048


async def detect(
    port: int,
    pcm: bytes,
    names: list[str] | None = None,
    *,
    version: str = CURRENT_VERSION,
    chunk_bytes: int = CHUNK_BYTES,
    stop: bool = True,
    **audio: int,
) -> list[Event]:
    """detect(names), the clip, audio-stop (unless `stop` is False), then a ping: every
    event the server sent before its pong or closing the connection."""
    client = await RawClient.connect(port, version)
    try:
        fmt = {key: audio.get(key, default) for key, default in RATE_WIDTH_CHANNELS}
        with contextlib.suppress(ConnectionError):  # a server that refused may have closed
            await client.send("detect", {"names": names} if names is not None else None)
            await client.send("audio-start", fmt)
            for start in range(0, len(pcm), chunk_bytes):
                await client.send("audio-chunk", fmt, pcm[start : start + chunk_bytes])
            if stop:
                await client.send("audio-stop")
            await client.send("ping", {"text": "end"})
        return await read_until_pong(client.reader)
    finally:
        await client.close()


RATE_WIDTH_CHANNELS = (("rate", 16000), ("width", 2), ("channels", 1))


async def read_until_pong(reader: asyncio.StreamReader, timeout: float = 60) -> list[Event]:
    events: list[Event] = []
    with contextlib.suppress(ConnectionError):
        while (event := await asyncio.wait_for(async_read_event(reader), timeout)) is not None:
            events.append(event)
            if event.type == "pong":
                break
    return events


def detections(events: list[Event]) -> list[str]:
    return [str(event.data.get("name")) for event in events if event.type == "detection"]
