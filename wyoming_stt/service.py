"""State shared by all connections: settings, models (loaded in the background), info."""

import concurrent.futures
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from wyoming.info import Info

from .models import ModelSource
from .transcriber import DecodeOptions, WhisperTranscriber
from .vocabulary import Vocabulary

_LOGGER = logging.getLogger(__name__)
PROGRAM_NAME = "local-voice-stt"


@dataclass(frozen=True)
class Settings:
    """Server-wide behaviour chosen on the command line."""

    early_decode: bool = True
    max_audio_seconds: float = 120.0
    stream_timeout: float = 30.0


@dataclass(frozen=True)
class Request:
    """One transcription's model, decoder options and vocabulary."""

    model: str
    options: DecodeOptions
    vocabulary: Vocabulary = field(default_factory=Vocabulary)


class SttService:
    """Holds the models; each is loaded once, in a background thread, on first need."""

    def __init__(
        self,
        info: Info,
        models: dict[str, ModelSource],
        default_request: Request,
        settings: Settings,
        load: Callable[[ModelSource], WhisperTranscriber],
    ) -> None:
        self._info = info
        self.models = models
        self.default_request = default_request
        self.settings = settings
        self._load = load
        self._loader = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="model-load")
        self._loaded: dict[str, concurrent.futures.Future[WhisperTranscriber]] = {}

    def info(self) -> Info:
        return self._info

    def model(self, name: str) -> "concurrent.futures.Future[WhisperTranscriber]":
        """The model's future; loading starts now if it hasn't yet. A failed load is retried."""
        future = self._loaded.get(name)
        if future is None or (future.done() and future.exception() is not None):
            future = self._loader.submit(self._load_logged, self.models[name])
            self._loaded[name] = future
        return future

    def _load_logged(self, source: ModelSource) -> WhisperTranscriber:
        try:
            return self._load(source)
        except Exception:
            _LOGGER.exception("Loading model %s failed", source.name)
            raise

    def close(self) -> None:
        self._loader.shutdown(wait=False, cancel_futures=True)
