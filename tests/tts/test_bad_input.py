"""Bad input to the text-to-speech server: each gets a clear answer and loses nothing."""

import asyncio
import time
from pathlib import Path

import pytest
from wyoming.event import Event

from testkit.client import RawClient
from testkit.processes import ServiceProcess
from testkit.tts_client import Answer, receive, synthesize
from wyoming_tts.__main__ import build_info
from wyoming_tts.models import DEFAULT_VOICE, catalog
from wyoming_tts.service import Settings, TtsService
from wyoming_tts.speech import Speech

LONG_TEXT = " ".join(
    f"Paragraph {n}: the weather station reports light rain, a gentle breeze and clouds."
    for n in range(250)
)  # about 20,000 characters


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100


async def becomes_idle(pid: int, timeout: float = 40.0) -> bool:
    """Whether the process spends under 0.2 s of CPU in some 1 s window before `timeout`.

    A piece already running on the pool can't be interrupted and may take several
    seconds on a loaded machine; all the rest of a 20-minute answer would take minutes.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        await asyncio.sleep(1.0)
        if cpu_seconds(pid) - before < 0.2:
            return True
    return False


async def still_serves(port: int) -> None:
    answer = await synthesize(port, "Still here.")
    assert answer.non_audio() == ["audio-start", "audio-stop"] and answer.seconds > 0.3


@pytest.mark.parametrize("text", ["", "   \n\t "])
async def test_empty_text_is_an_error_and_closes(tts_server: ServiceProcess, text: str):
    client = await RawClient.connect(tts_server.port, "1.5.4")
    await client.send("synthesize", {"text": text})
    event = await client.receive()
    assert event is not None and event.type == "error"
    assert event.data["code"] == "empty-text"
    assert await client.is_closed()  # HA 2025.4 ignores errors: don't leave it waiting
    await still_serves(tts_server.port)


async def test_unknown_voice_names_the_voices_there_are(tts_server: ServiceProcess):
    answer = await synthesize(tts_server.port, "Hello.", {"name": "en_US-lessac-high"})
    assert answer.types == ["error"]
    error = answer.events[0].data
    assert error["code"] == "unknown-voice"
    assert "en_US-lessac-high" in error["text"]
    assert "en_US-joe-medium" in error["text"] and "af_heart" in error["text"]


async def test_unknown_speaker_and_language_are_errors(tts_server: ServiceProcess):
    answer = await synthesize(tts_server.port, "Hello.", {"name": "af_heart", "speaker": "bob"})
    assert answer.types == ["error"] and "no speaker 'bob'" in answer.events[0].data["text"]
    answer = await synthesize(tts_server.port, "Hallo.", {"language": "de_DE"})
    assert answer.types == ["error"]
    assert "de_DE" in answer.events[0].data["text"] and "en_US" in answer.events[0].data["text"]


async def test_emoji_only_text_gives_an_empty_answer_not_a_crash(tts_server: ServiceProcess):
    answer = await synthesize(tts_server.port, "👍🏽 🎉")
    assert answer.types == ["audio-start", "audio-stop"]


async def test_stream_events_out_of_order(tts_server: ServiceProcess):
    client = await RawClient.connect(tts_server.port)
    try:
        await client.send("synthesize-chunk", {"text": "Hello."})
        event = await client.receive()
        assert event is not None and event.type == "error" and event.data["code"] == "no-stream"
        await client.send("synthesize-stop")
        event = await client.receive()
        assert event is not None and event.type == "error" and event.data["code"] == "no-stream"
        await client.send("synthesize-start")
        await client.send("synthesize-start")
        event = await client.receive()
        assert event is not None and event.type == "error" and event.data["code"] == "stream-open"
        await client.send("synthesize-stop")
        answer = Answer()
        await receive(client, answer, "synthesize-stopped")
        assert answer.types == ["error", "synthesize-stopped"]  # the stream had no text
        # An empty stream: an error, then synthesize-stopped; the connection stays usable.
        await client.send("synthesize-start")
        await client.send("synthesize-chunk", {"text": "  "})
        await client.send("synthesize-stop")
        answer = Answer()
        await receive(client, answer, "synthesize-stopped")
        assert answer.types == ["error", "synthesize-stopped"]
        assert answer.events[0].data["code"] == "empty-text"
        await client.send("synthesize", {"text": "Now it works."})
        answer = Answer()
        await receive(client, answer, "audio-stop")
        assert answer.seconds > 0.5
    finally:
        await client.close()


async def test_malformed_voice_is_an_error(tts_server: ServiceProcess):
    client = await RawClient.connect(tts_server.port)
    await client.send("synthesize", {"text": "Hi", "voice": {"name": 5}})
    event = await client.receive()
    assert event is not None and event.type == "error"
    await client.close()


async def test_20000_characters_stream_out_sentence_by_sentence(tts_server: ServiceProcess):
    pid = tts_server.process.pid
    client = await RawClient.connect(tts_server.port)
    try:
        await client.send("synthesize-start", {"voice": {"name": "en_US-joe-medium"}})
        for start in range(0, len(LONG_TEXT), 200):
            await client.send("synthesize-chunk", {"text": LONG_TEXT[start : start + 200]})
        await client.send("synthesize-stop")
        answer = Answer()
        started = time.monotonic()
        while answer.types.count("audio-chunk") * 1024 / 22050 < 30:  # the first 30 s of audio
            await receive(client, answer, "audio-chunk", "error")
        assert "error" not in answer.types
        assert time.monotonic() - started < 60
        gaps = [b - a for a, b in zip(answer.times, answer.times[1:], strict=False)]
        assert sum(gap > 0.02 for gap in gaps) >= 3  # sentence by sentence, not all at the end
        assert rss_mb(pid) < 1000
    finally:
        await client.close()
    # The rest of the 20 minutes of speech is not synthesized for nobody.
    tts_server.wait_for_log("client left", timeout=10)
    assert await becomes_idle(pid)
    await still_serves(tts_server.port)


async def test_disconnect_mid_synthesis_cancels_the_work(tts_server: ServiceProcess):
    pid = tts_server.process.pid
    client = await RawClient.connect(tts_server.port, "1.5.4")
    await client.send("synthesize", {"text": LONG_TEXT, "voice": {"name": "af_heart"}})
    answer = Answer()
    await receive(client, answer, "audio-chunk", "error", timeout=120)
    assert answer.types == ["audio-start", "audio-chunk"]
    await client.close()
    tts_server.wait_for_log("client left", timeout=20)
    assert await becomes_idle(pid)
    await still_serves(tts_server.port)


async def test_synthesis_stays_at_most_two_sentences_ahead_of_a_slow_client():
    """Memory is bounded by design: a client that doesn't read stops the synthesis."""
    voices = catalog([])
    service = TtsService(build_info(voices), voices, Settings(DEFAULT_VOICE))
    sent: list[str] = []
    reading = asyncio.Event()

    async def slow_client(event: Event) -> None:
        if event.type == "audio-chunk":
            await reading.wait()  # the socket is full: writes block
        sent.append(event.type)

    speech = Speech(service, service.voice(None), slow_client)
    try:
        speech.add(LONG_TEXT)
        speech.finish()
        await asyncio.sleep(8)
        assert 1 <= speech.stats.sentences <= 3  # one being sent, one queued, one synthesized
        reading.set()
        await asyncio.sleep(1)
        assert speech.stats.sentences > 1 and "audio-chunk" in sent
    finally:
        await speech.cancel()
        service.close()
