"""Reading Wyoming events from untrusted clients, with limits and clear errors.

The `wyoming` library's reader silently drops a connection on bad JSON and will
buffer any payload length a client announces. Services read through this module
instead, so every framing problem becomes a `ProtocolError` with a message that
can be logged and sent back to the client as an `error` event.
"""

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from wyoming.event import Event


class ProtocolError(Exception):
    """The client broke the Wyoming framing; the connection can't continue."""

    def __init__(self, message: str, code: str = "protocol-error") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class EventLimits:
    """Largest sizes a service accepts from one event."""

    max_data_bytes: int = 1024 * 1024
    max_payload_bytes: int = 1024 * 1024


@dataclass(frozen=True)
class ReceivedEvent:
    """An event and the wyoming library version its sender stamped on it."""

    event: Event
    version: str | None


def _length(header: dict[str, Any], key: str, limit: int) -> int:
    value = header.get(key)
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProtocolError(f"'{key}' must be a non-negative integer, got {value!r}")
    if value > limit:
        raise ProtocolError(
            f"'{key}' of {value} bytes exceeds this server's limit of {limit} bytes",
            code="payload-too-large",
        )
    return value


def parse_header(line: bytes) -> dict[str, Any]:
    """Decode one header line, checking it is a JSON object with a string type."""
    try:
        header = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ProtocolError(f"event header is not valid JSON: {err}") from err
    if not isinstance(header, dict):
        raise ProtocolError("event header must be a JSON object")
    event_type = header.get("type")
    if not isinstance(event_type, str) or not event_type:
        raise ProtocolError("event header has no 'type' string")
    data = header.get("data")
    if data is not None and not isinstance(data, dict):
        raise ProtocolError("event 'data' must be a JSON object")
    return header


async def read_event(reader: asyncio.StreamReader, limits: EventLimits) -> ReceivedEvent | None:
    """Read one event; None at a clean end of stream.

    Raises ProtocolError for malformed or oversize input, and
    asyncio.IncompleteReadError when the peer hangs up inside an event.
    """
    try:
        line = await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as err:
        if not err.partial.strip():
            return None
        raise
    except asyncio.LimitOverrunError as err:
        raise ProtocolError(
            "event header line is too long (no newline within the stream limit of 64 KiB)"
        ) from err

    if not line.strip():
        raise ProtocolError("empty event header line")
    header = parse_header(line)
    data_length = _length(header, "data_length", limits.max_data_bytes)
    payload_length = _length(header, "payload_length", limits.max_payload_bytes)

    data: dict[str, Any] = dict(header.get("data") or {})
    if data_length:
        extra = await reader.readexactly(data_length)
        try:
            extra_data = json.loads(extra)
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ProtocolError(f"event data is not valid JSON: {err}") from err
        if not isinstance(extra_data, dict):
            raise ProtocolError("event data must be a JSON object")
        data.update(extra_data)

    payload = await reader.readexactly(payload_length) if payload_length else None
    version = header.get("version")
    return ReceivedEvent(
        Event(type=header["type"], data=data, payload=payload),
        version if isinstance(version, str) else None,
    )


def version_tuple(version: str | None) -> tuple[int, ...]:
    """'1.7.2' -> (1, 7, 2); unknown or unparsable versions sort lowest."""
    if not version:
        return ()
    parts = []
    for piece in version.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)
