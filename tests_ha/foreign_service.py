"""Wyoming servers for the failure paths: a service that is not Local Voice, and a
conversation service whose connection drops mid-request."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from wyoming.event import async_read_event, async_write_event
from wyoming.info import (
    AsrModel,
    AsrProgram,
    Attribution,
    Describe,
    HandleModel,
    HandleProgram,
    Info,
)

ATTRIBUTION = Attribution(name="test", url="https://example.com")
FASTER_WHISPER = Info(
    asr=[
        AsrProgram(
            name="faster-whisper",
            description="Faster Whisper",
            attribution=ATTRIBUTION,
            installed=True,
            version="2.5.0",
            models=[
                AsrModel(
                    name="tiny-int8",
                    description="tiny",
                    attribution=ATTRIBUTION,
                    installed=True,
                    languages=["en"],
                    version="1",
                )
            ],
        )
    ]
)
DROPPING_CONVERSATION = Info(
    handle=[
        HandleProgram(
            name="local-voice-llm",
            description="drops every request",
            attribution=ATTRIBUTION,
            installed=True,
            version="0",
            models=[
                HandleModel(
                    name="none",
                    description="none",
                    attribution=ATTRIBUTION,
                    installed=True,
                    languages=["en"],
                    version="0",
                )
            ],
        )
    ]
)


def _handler(info: Info) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while (event := await async_read_event(reader)) is not None:
                if Describe.is_type(event.type):
                    await async_write_event(info.event(), writer)
                else:
                    break  # anything else: drop the connection
        writer.close()

    return serve


@contextlib.asynccontextmanager
async def wyoming_server(info: Info = FASTER_WHISPER) -> AsyncIterator[int]:
    """Serve on a free 127.0.0.1 port; yields the port."""
    server = await asyncio.start_server(_handler(info), "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()
