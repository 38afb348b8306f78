"""Asking a running service what it serves: `describe`, and the programs its `info` lists."""

import asyncio
from typing import Any

from wyoming.client import AsyncTcpClient
from wyoming.info import Describe, Info


async def describe(host: str, port: int, timeout: float = 1.0) -> Info | None:
    """The service's info, or None if it does not answer in time."""
    try:
        async with asyncio.timeout(timeout), AsyncTcpClient(host, port) as client:
            await client.write_event(Describe().event())
            while (event := await client.read_event()) is not None:
                if Info.is_type(event.type):
                    return Info.from_event(event)
    except (OSError, TimeoutError):
        return None
    return None


def programs(info: Info) -> list[Any]:
    """Every program of every kind an `info` lists (asr, tts, wake, handle, intent, and
    a satellite)."""
    groups = (info.asr, info.tts, info.wake, info.handle, info.intent)
    satellite = [info.satellite] if info.satellite is not None else []
    return [program for group in groups for program in group] + satellite
