"""Bad input gets a clear error (or a clean close); the server keeps serving everyone."""

import asyncio
import json

import pytest

from testkit import clips
from testkit.client import RawClient, transcribe, transcript_text
from testkit.processes import ServiceProcess, run_server
from testkit.stt_corpus import FIXTURE_COMMANDS
from testkit.wer import word_error_rate

GOOD_TEXT = FIXTURE_COMMANDS[0]
FMT = {"rate": 16000, "width": 2, "channels": 1}


async def still_serves(server: ServiceProcess, piper_clips: dict[str, bytes]) -> None:
    events = await transcribe(server.port, piper_clips[GOOD_TEXT])
    assert word_error_rate(GOOD_TEXT, transcript_text(events)) == 0


async def expect_error(client: RawClient, code: str) -> str:
    events = await client.receive_until("error", timeout=10)
    assert events[-1].data.get("code") == code, events[-1].data
    return str(events[-1].data["text"])


@pytest.fixture
async def client(stt_server):
    connection = await RawClient.connect(stt_server.port)
    yield connection
    await connection.close()


async def test_chunk_before_audio_start(client, stt_server, piper_clips):
    await client.send("audio-chunk", FMT, bytes(2048))
    await client.send("audio-chunk", FMT, bytes(2048))  # only one error per stray stream
    assert "before audio-start" in await expect_error(client, "no-stream")
    # The same connection goes on to work normally.
    await client.send("transcribe", {"language": "en"})
    await client.stream_audio(piper_clips[GOOD_TEXT])
    events = await client.receive_until("transcript-stop")
    assert [e.type for e in events if e.type == "error"] == []
    assert word_error_rate(GOOD_TEXT, transcript_text(events)) == 0


async def test_audio_stop_without_start(client):
    await client.send("audio-stop")
    assert "without audio-start" in await expect_error(client, "no-stream")
    assert await client.is_closed()  # a client waiting for a transcript is not left hanging


@pytest.mark.parametrize(
    ("fmt", "message"),
    [
        ({"rate": 16000, "width": 5, "channels": 1}, "sample width"),
        ({"rate": 0, "width": 2, "channels": 1}, "sample rate"),
        ({"rate": 16000, "width": 2, "channels": 0}, "channel count"),
        ({"rate": "fast", "width": 2, "channels": 1}, "'rate' must be an integer"),
        ({"width": 2, "channels": 1}, "'rate' must be an integer"),
    ],
)
async def test_unusable_audio_format_is_refused(client, fmt, message):
    await client.send("audio-start", fmt)
    assert message in await expect_error(client, "bad-audio-format")
    assert await client.is_closed()


async def test_chunk_with_half_a_sample(client, stt_server, piper_clips):
    await client.send("audio-start", FMT)
    await client.send("audio-chunk", FMT, bytes(1001))
    assert "half a 16-bit sample" in await expect_error(client, "bad-audio")
    assert await client.is_closed()
    await still_serves(stt_server, piper_clips)


@pytest.mark.parametrize(
    ("rate", "width", "channels"), [(44100, 2, 2), (8000, 1, 1), (48000, 3, 1), (22050, 4, 6)]
)
async def test_other_audio_formats_are_converted(stt_server, rate, width, channels):
    """Audio in other formats is converted to 16 kHz/16-bit/mono before decoding."""
    import numpy as np

    from local_voice.audio import PcmConverter, PcmFormat

    mono16k = np.frombuffer(clips.padded(clips.piper(GOOD_TEXT)), np.int16)
    # Make the clip in the client's format: resample, then widen and duplicate channels.
    resampled = np.frombuffer(
        PcmConverter(rate).convert(mono16k.tobytes(), PcmFormat(16000, 2, 1)), np.int16
    ).astype(np.int32)
    if width == 1:
        samples = ((resampled >> 8) + 128).astype(np.uint8).tobytes()
    elif width == 2:
        samples = resampled.astype("<i2").tobytes()
    elif width == 3:
        samples = b"".join(int(v << 8).to_bytes(3, "little", signed=True) for v in resampled)
    else:
        samples = (resampled << 16).astype("<i4").tobytes()
    frame = np.frombuffer(samples, np.uint8).reshape(-1, width)
    pcm = np.repeat(frame, channels, axis=0).tobytes()
    events = await transcribe(
        stt_server.port,
        pcm,
        rate=rate,
        width=width,
        channels=channels,
        chunk_bytes=width * channels * 1024,
    )
    heard = transcript_text(events)
    # 8-bit audio at 8 kHz is telephone quality: allow one word in five to slip.
    assert word_error_rate(GOOD_TEXT, heard) <= (0.2 if rate == 8000 else 0), heard


async def test_garbage_instead_of_json(client, stt_server, piper_clips):
    await client.send_raw(b"this is not json at all\n")
    assert "not valid JSON" in await expect_error(client, "protocol-error")
    assert await client.is_closed()
    await still_serves(stt_server, piper_clips)


@pytest.mark.parametrize(
    "header",
    [
        b'["a", "list"]\n',
        b'{"data": {}}\n',
        b'{"type": "audio-chunk", "payload_length": -5}\n',
        b'{"type": "audio-chunk", "data": "text"}\n',
        b"\n",
    ],
)
async def test_malformed_headers(client, header):
    await client.send_raw(header)
    await expect_error(client, "protocol-error")
    assert await client.is_closed()


async def test_payload_far_beyond_any_chunk(client, stt_server, piper_clips):
    header = {"type": "audio-chunk", "data": FMT, "payload_length": 10 * 1024**3}
    await client.send_raw(json.dumps(header).encode() + b"\n" + bytes(4096))
    text = await expect_error(client, "payload-too-large")
    assert "10737418240" in text and "limit" in text
    assert await client.is_closed()
    await still_serves(stt_server, piper_clips)


async def test_header_without_newline(client, stt_server, piper_clips):
    await client.send_raw(b"x" * 200_000)
    assert "too long" in await expect_error(client, "protocol-error")
    await still_serves(stt_server, piper_clips)


async def test_data_block_that_is_not_json(client):
    await client.send_raw(b'{"type": "transcribe", "data_length": 5}\n' + b"\xff\xfe{{{")
    assert "data is not valid JSON" in await expect_error(client, "protocol-error")


async def test_unknown_model(client):
    await client.send("transcribe", {"name": "large-v9"})
    text = await expect_error(client, "unknown-model")
    assert "large-v9" in text and "base" in text and "tiny.en" in text
    assert await client.is_closed()


async def test_language_the_model_does_not_know(client):
    await client.send("transcribe", {"name": "tiny.en", "language": "de"})
    text = await expect_error(client, "unsupported-language")
    assert "tiny.en" in text and "'de'" in text and "en" in text


async def test_dropped_connection_mid_stream(stt_server, piper_clips):
    client = await RawClient.connect(stt_server.port)
    await client.send("transcribe", {"language": "en"})
    await client.send("audio-start", FMT)
    pcm = piper_clips[GOOD_TEXT]
    await client.send("audio-chunk", FMT, pcm[: len(pcm) // 4 * 2])
    # Hang up in the middle of an event: header announces more payload than is sent.
    await client.send_raw(
        json.dumps({"type": "audio-chunk", "data": FMT, "payload_length": 4096}).encode()
        + b"\n"
        + bytes(100)
    )
    await client.close()
    await still_serves(stt_server, piper_clips)
    stt_server.wait_for_log("client left mid-stream")


async def test_missing_audio_stop_times_out(client, stt_server, piper_clips):
    await client.send("audio-start", FMT)
    await client.send("audio-chunk", FMT, piper_clips[GOOD_TEXT])
    # The test server drops streams idle for 3 s.
    assert "no audio or audio-stop for 3 s" in await expect_error(client, "stream-timeout")
    assert await client.is_closed()
    await still_serves(stt_server, piper_clips)


async def test_stream_longer_than_the_limit(client, stt_server, piper_clips):
    await client.send("audio-start", FMT)
    second = bytes(32000)
    for _ in range(46):  # the test server takes at most 45 s
        await client.send("audio-chunk", FMT, second)
    assert "passed 45 s" in await expect_error(client, "audio-too-long")
    assert await client.is_closed()
    await still_serves(stt_server, piper_clips)


async def test_bad_clients_do_not_disturb_a_good_one(stt_server, piper_clips):
    async def misbehave(index: int) -> None:
        client = await RawClient.connect(stt_server.port)
        if index % 2:
            await client.send_raw(b"\x00\x01garbage\n")
        else:
            await client.send("audio-start", FMT)
            await client.send("audio-chunk", FMT, bytes(32000))
        await client.close()

    good = asyncio.create_task(transcribe(stt_server.port, piper_clips[GOOD_TEXT], realtime=True))
    await asyncio.gather(*(misbehave(i) for i in range(20)))
    assert word_error_rate(GOOD_TEXT, transcript_text(await good)) == 0


async def test_unknown_event_types_are_ignored(client, stt_server, piper_clips):
    await client.send("synthesize", {"text": "hello"})
    await client.send("transcribe", {"language": "en"})
    await client.stream_audio(piper_clips[GOOD_TEXT])
    events = await client.receive_until("transcript-stop")
    assert not [e for e in events if e.type == "error"]


async def test_model_that_fails_to_load(tmp_path, piper_clips):
    """A corrupt model: describe still works; a request gets an error and a clean close."""
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "model.bin").write_bytes(b"not a model")
    (broken / "config.json").write_text("{}")
    with run_server("wyoming_stt", tmp_path, "--model", str(broken)) as server:
        client = await RawClient.connect(server.port)
        try:
            await client.send("transcribe", {"language": "en"})
            await client.stream_audio(piper_clips[GOOD_TEXT])
            assert "transcription failed" in await expect_error(client, "transcription-failed")
            assert await client.is_closed()
        finally:
            await client.close()
        assert "Loading model broken-model failed" in server.log
