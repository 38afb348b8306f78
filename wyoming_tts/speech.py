"""One answer being spoken: text in (at once or piece by piece), audio events out.

Sentences are synthesized in order on the service's pool. While one sentence's
audio is being sent, the next is already being synthesized (prefetch); at most
one finished sentence waits to be sent, so memory stays bounded however long
the text is. Cancelling the speech (the client left) stops all further work.
"""

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event

from .engines import Int16Array
from .sentences import SentenceSplitter
from .service import TtsService, Voice
from .text import speakable

WriteEvent = Callable[[Event], Awaitable[None]]
WIDTH, CHANNELS = 2, 1


@dataclass
class SpeechStats:
    """What one answer took, for the request's log line."""

    started: float
    first_audio: float | None = None
    sentences: int = 0
    characters: int = 0
    audio_seconds: float = 0.0
    synthesis_seconds: float = 0.0

    def summary(self) -> str:
        elapsed = time.monotonic() - self.started
        first = f"{self.first_audio - self.started:.3f} s" if self.first_audio else "none"
        rtf = self.synthesis_seconds / self.audio_seconds if self.audio_seconds else 0.0
        return (
            f"{self.characters} chars, {self.sentences} sentences, {self.audio_seconds:.2f} s "
            f"of audio; first audio after {first}, done after {elapsed:.3f} s; RTF {rtf:.3f}"
        )


class Speech:
    """Speaks text as it is added; sends audio-start, audio-chunks and audio-stop."""

    def __init__(self, service: TtsService, voice: Voice, write_event: WriteEvent) -> None:
        self.service = service
        self.voice = voice
        self.write_event = write_event
        self.stats = SpeechStats(time.monotonic())
        self.has_text = False
        self._splitter = SentenceSplitter()
        self._sentences: asyncio.Queue[str | None] = asyncio.Queue()
        self._task = asyncio.create_task(self._run())

    def add(self, text: str) -> None:
        """Add text; complete sentences start being spoken at once."""
        self.stats.characters += len(text)
        self.has_text = self.has_text or not text.isspace()
        for sentence in self._splitter.add(text):
            self._sentences.put_nowait(sentence)

    def finish(self) -> None:
        """No more text comes: the rest is spoken too."""
        for sentence in self._splitter.finish():
            self._sentences.put_nowait(sentence)
        self._sentences.put_nowait(None)

    async def done(self) -> SpeechStats:
        """Wait until the last audio-stop is sent."""
        await self._task
        return self.stats

    async def cancel(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task

    async def _run(self) -> None:
        ready: asyncio.Queue[Int16Array] = asyncio.Queue(maxsize=1)
        producer = asyncio.create_task(self._synthesize(ready))
        try:
            rate = await self.service.sample_rate(self.voice)
            while not (producer.done() and ready.empty()):
                getting = asyncio.ensure_future(ready.get())
                await asyncio.wait({getting, producer}, return_when=asyncio.FIRST_COMPLETED)
                if getting.done():
                    await self._send(getting.result(), rate)
                else:
                    getting.cancel()
            producer.result()  # raise what failed in synthesis
            if self.stats.first_audio is None:  # nothing speakable: still one start/stop pair
                await self.write_event(AudioStart(rate, WIDTH, CHANNELS).event())
            await self.write_event(AudioStop().event())
        finally:
            producer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await producer

    async def _synthesize(self, ready: asyncio.Queue[Int16Array]) -> None:
        language = self.voice.source.language
        while (sentence := await self._sentences.get()) is not None:
            text = speakable(sentence, language)
            if not any(ch.isalnum() for ch in text):
                continue
            started = time.monotonic()
            audio = await self.service.speak(text, self.voice)
            self.stats.synthesis_seconds += time.monotonic() - started
            self.stats.sentences += 1
            await ready.put(audio)  # waits while the previous sentence is still queued

    async def _send(self, audio: Int16Array, rate: int) -> None:
        step = self.service.settings.samples_per_chunk
        for start in range(0, len(audio), step):
            if self.stats.first_audio is None:
                self.stats.first_audio = time.monotonic()
                await self.write_event(AudioStart(rate, WIDTH, CHANNELS).event())
            chunk = audio[start : start + step].tobytes()
            await self.write_event(AudioChunk(rate, WIDTH, CHANNELS, chunk).event())
        self.stats.audio_seconds += len(audio) / rate
