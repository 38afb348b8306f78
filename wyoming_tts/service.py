"""State shared by all connections: the voices, the loaded engines (LRU) and the workers."""

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from wyoming.info import Info

from .engines import Engine, Int16Array, SpeechOptions, engine_key, load_engine
from .models import VoiceSource

_LOGGER = logging.getLogger(__name__)
PROGRAM_NAME = "local-voice-tts"


@dataclass(frozen=True)
class Settings:
    """Server-wide behaviour chosen on the command line."""

    default_voice: str
    default_speaker: str | None = None
    speed: float = 1.0
    max_loaded: int = 3
    threads: int = 2
    workers: int = 2
    samples_per_chunk: int = 1024


class UnknownVoice(ValueError):
    """A voice or speaker this server doesn't have."""


@dataclass(frozen=True)
class Voice:
    """The voice, speaker and speed one request is spoken with."""

    source: VoiceSource
    options: SpeechOptions


class TtsService:
    """Loads engines on demand (keeping the most recently used ones) and runs synthesis.

    Loading and synthesis run on a thread pool; the event loop only waits on them.
    Voices that share a model (all Kokoro voices) share one loaded engine.
    """

    def __init__(
        self,
        info: Info,
        voices: dict[str, VoiceSource],
        settings: Settings,
        load: Callable[[VoiceSource, int], Engine] = load_engine,
    ) -> None:
        self._info = info
        self.voices = voices
        self.settings = settings
        self._load = load
        self._engines: OrderedDict[str, concurrent.futures.Future[Engine]] = OrderedDict()
        self._lock = threading.Lock()
        self.pool = concurrent.futures.ThreadPoolExecutor(settings.workers, "synthesize")

    def info(self) -> Info:
        return self._info

    def voice(
        self,
        name: str | None,
        speaker: str | None = None,
        language: str | None = None,
        speed: float | None = None,
    ) -> Voice:
        """The voice a request asks for (by name, else by language, else the default)."""
        if name:
            source = self.voices.get(name)
            if source is None:
                raise UnknownVoice(
                    f"unknown voice '{name}'; this server has: {', '.join(self.voices)}"
                )
        elif language:
            source = self._voice_for_language(language)
        else:
            source = self.voices[self.settings.default_voice]
        if speaker is None and source.name == self.settings.default_voice:
            speaker = self.settings.default_speaker
        if speaker and not _has_speaker(source, speaker):
            known = ", ".join(source.speakers) or "none (it has one speaker)"
            raise UnknownVoice(
                f"voice '{source.name}' has no speaker '{speaker}'; speakers: {known}"
            )
        return Voice(source, SpeechOptions(speaker or None, speed or self.settings.speed))

    def _voice_for_language(self, language: str) -> VoiceSource:
        wanted = language.replace("-", "_").lower()
        default = self.voices[self.settings.default_voice]
        candidates = [default, *self.voices.values()]
        for source in candidates:  # the exact language, else the same language elsewhere
            if source.language.lower() == wanted:
                return source
        for source in candidates:
            if source.language.lower().split("_")[0] == wanted.split("_")[0]:
                return source
        languages = sorted({source.language for source in self.voices.values()})
        raise UnknownVoice(
            f"no voice for language '{language}'; this server speaks: {', '.join(languages)}"
        )

    def engine(self, source: VoiceSource) -> concurrent.futures.Future[Engine]:
        """The engine for a voice; loading starts now if needed. A failed load is retried."""
        key = engine_key(source)
        with self._lock:
            future = self._engines.get(key)
            if future is None or (future.done() and future.exception() is not None):
                future = self.pool.submit(self._timed_load, source)
                self._engines[key] = future
            self._engines.move_to_end(key)
            while len(self._engines) > self.settings.max_loaded:
                evicted, _ = self._engines.popitem(last=False)
                _LOGGER.info("Unloading %s (least recently used)", evicted)
            return future

    def preload(self, source: VoiceSource) -> None:
        """Start loading a voice's engine in the background."""
        self.engine(source)

    def _timed_load(self, source: VoiceSource) -> Engine:
        started = time.monotonic()
        engine = self._load(source, self.settings.threads)
        engine.speak("Ready.", source, SpeechOptions())  # warm up the session
        _LOGGER.info("Loaded %s in %.2f s", engine_key(source), time.monotonic() - started)
        return engine

    async def sample_rate(self, voice: Voice) -> int:
        engine = await asyncio.wrap_future(self.engine(voice.source))
        return engine.sample_rate(voice.source)

    async def speak(self, text: str, voice: Voice) -> Int16Array:
        """Synthesize one piece of text on the pool."""
        engine = await asyncio.wrap_future(self.engine(voice.source))
        future = self.pool.submit(engine.speak, text, voice.source, voice.options)
        try:
            return await asyncio.wrap_future(future)
        finally:
            future.cancel()  # if we were cancelled before it started, it never runs

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def _has_speaker(source: VoiceSource, speaker: str) -> bool:
    """A speaker by name, or by number for multi-speaker Piper voices."""
    if speaker in source.speakers:
        return True
    return speaker.isdigit() and int(speaker) < len(source.speakers)
