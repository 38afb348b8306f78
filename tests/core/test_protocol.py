"""The guarded Wyoming event reader."""

import asyncio
import json

import pytest
from wyoming.audio import AudioChunk
from wyoming.event import async_write_event

from local_voice.protocol import EventLimits, ProtocolError, read_event, version_tuple

LIMITS = EventLimits(max_data_bytes=1000, max_payload_bytes=2000)


def reader_with(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


class Collect:
    """A stand-in StreamWriter that keeps what wyoming writes."""

    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    async def drain(self) -> None:
        return None


async def test_reads_what_wyoming_writes():
    out = Collect()
    chunk = AudioChunk(rate=16000, width=2, channels=1, audio=b"\x01\x02" * 100)
    await async_write_event(chunk.event(), out)  # type: ignore[arg-type]
    received = await read_event(reader_with(out.data), LIMITS)
    assert received is not None
    assert received.event.type == "audio-chunk" and received.event.payload == chunk.audio
    assert received.event.data["rate"] == 16000
    assert received.version is not None and version_tuple(received.version) >= (1, 10)


async def test_clean_end_of_stream_is_none():
    assert await read_event(reader_with(b""), LIMITS) is None


async def test_hang_up_inside_an_event():
    header = json.dumps({"type": "audio-chunk", "payload_length": 100}).encode() + b"\n"
    with pytest.raises(asyncio.IncompleteReadError):
        await read_event(reader_with(header + b"x" * 10), LIMITS)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"nope\n", "not valid JSON"),
        (b"[]\n", "must be a JSON object"),
        (b'{"type": 5}\n', "no 'type'"),
        (b'{"type": "x", "payload_length": "5"}\n', "non-negative integer"),
        (b'{"type": "x", "data_length": true}\n', "non-negative integer"),
        (b'{"type": "x", "payload_length": 2001}\n', "exceeds this server's limit of 2000"),
        (b'{"type": "x", "data_length": 1001}\n', "exceeds this server's limit of 1000"),
        (b'{"type": "x", "data_length": 2}\n[]', "must be a JSON object"),
        (b"\n", "empty event header"),
    ],
)
async def test_malformed_input_raises_clear_errors(data, message):
    with pytest.raises(ProtocolError, match=message):
        await read_event(reader_with(data), LIMITS)


async def test_oversize_payload_is_refused_before_reading_it():
    reader = asyncio.StreamReader()
    reader.feed_data(b'{"type": "audio-chunk", "payload_length": 99999999999}\n')
    # No payload and no EOF: a reader that tried to read it would hang here.
    with pytest.raises(ProtocolError) as caught:
        await asyncio.wait_for(read_event(reader, LIMITS), 1)
    assert caught.value.code == "payload-too-large"


def test_version_tuple():
    assert version_tuple("1.5.4") < (1, 7) <= version_tuple("1.7.0") < version_tuple("1.10.2")
    assert version_tuple(None) == () and version_tuple("garbage") == ()
