"""Test helpers for the text-to-speech server: requests, timing and the audio they return."""

import asyncio
import time
from dataclasses import dataclass, field

from wyoming.event import Event

from local_voice.audio import PcmConverter, PcmFormat

from .client import RawClient, transcribe, transcript_text


@dataclass
class Answer:
    """The events of one TTS answer, when each arrived, and its audio."""

    events: list[Event] = field(default_factory=list)
    times: list[float] = field(default_factory=list)

    @property
    def types(self) -> list[str]:
        return [event.type for event in self.events]

    def non_audio(self) -> list[str]:
        return [t for t in self.types if t != "audio-chunk"]

    @property
    def format(self) -> PcmFormat:
        start = next(e for e in self.events if e.type == "audio-start")
        return PcmFormat(start.data["rate"], start.data["width"], start.data["channels"])

    @property
    def pcm(self) -> bytes:
        return b"".join(e.payload or b"" for e in self.events if e.type == "audio-chunk")

    @property
    def seconds(self) -> float:
        fmt = self.format
        return len(self.pcm) / (fmt.rate * fmt.width * fmt.channels)

    def first_audio_time(self) -> float:
        return next(t for e, t in zip(self.events, self.times, strict=True) if e.payload)

    def pcm16k(self) -> bytes:
        return PcmConverter().convert(self.pcm, self.format)


async def receive(client: RawClient, answer: Answer, *until: str, timeout: float = 120) -> None:
    """Read events into `answer` up to and including one of `until`."""
    while True:
        event = await client.receive(timeout)
        if event is None:
            raise ConnectionError(f"closed before {until}; got {answer.non_audio()}")
        answer.events.append(event)
        answer.times.append(time.monotonic())
        if event.type in until:
            return


async def synthesize(
    port: int, text: str, voice: dict[str, str] | None = None, version: str = "1.10.2"
) -> Answer:
    """One non-streaming request; events up to audio-stop (or error)."""
    client = await RawClient.connect(port, version)
    try:
        data: dict[str, object] = {"text": text}
        if voice:
            data["voice"] = voice
        await client.send("synthesize", data)
        answer = Answer()
        await receive(client, answer, "audio-stop", "error")
        return answer
    finally:
        await client.close()


@dataclass
class StreamResult:
    answer: Answer
    last_chunk_sent: float


async def synthesize_streaming(
    port: int, pieces: list[str], voice: dict[str, str] | None = None, delay: float = 0.05
) -> StreamResult:
    """Send text piece by piece (as an LLM writes it) while reading the answer."""
    client = await RawClient.connect(port)
    answer = Answer()
    try:
        await client.send("synthesize-start", {"voice": voice} if voice else None)
        reading = asyncio.create_task(receive(client, answer, "synthesize-stopped", "error"))
        for piece in pieces:
            await client.send("synthesize-chunk", {"text": piece})
            await asyncio.sleep(delay)
        last_sent = time.monotonic()
        await client.send("synthesize", {"text": "".join(pieces)})  # what new clients also send
        await client.send("synthesize-stop")
        await reading
        return StreamResult(answer, last_sent)
    finally:
        await client.close()


async def heard(stt_port: int, answer: Answer) -> str:
    """What the project's speech-to-text server hears in the answer's audio."""
    pcm = bytes(3200) + answer.pcm16k() + bytes(16000)  # 0.1 s before, 0.5 s after
    return transcript_text(await transcribe(stt_port, pcm, version="1.5.4"))


def words(text: str) -> list[str]:
    return text.split(" ")
