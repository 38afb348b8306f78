"""State shared by all connections: settings, models (loaded in the background), workers."""

import concurrent.futures
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from wyoming.info import Info

from local_voice.audio import Float32Array

from .models import ModelSource
from .transcriber import DecodeOptions, Transcription, WhisperTranscriber
from .utterance import Decoder, WorkerPools
from .vocabulary import Vocabulary

_LOGGER = logging.getLogger(__name__)
PROGRAM_NAME = "local-voice-stt"


@dataclass(frozen=True)
class Settings:
    """Server-wide behaviour chosen on the command line."""

    early_decode: bool = True
    max_audio_seconds: float = 120.0
    stream_timeout: float = 30.0
    workers: int = 1


@dataclass(frozen=True)
class Request:
    """One transcription's model, decoder options and vocabulary."""

    model: str
    options: DecodeOptions
    vocabulary: Vocabulary = field(default_factory=Vocabulary)


class SttService:
    """Holds the models and the worker threads that every connection shares.

    Each model is loaded once, on a daemon thread, when first needed. Decodes run
    on their own pool (as many threads as the model has workers), and VAD on
    another, so a long decode never holds up another client's VAD.
    """

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
        self._loaded: dict[str, concurrent.futures.Future[WhisperTranscriber]] = {}
        self._lock = threading.Lock()
        self.pools = WorkerPools(
            decode=concurrent.futures.ThreadPoolExecutor(settings.workers, "decode"),
            vad=concurrent.futures.ThreadPoolExecutor(1, "vad"),
        )

    def info(self) -> Info:
        return self._info

    def model(self, name: str) -> "concurrent.futures.Future[WhisperTranscriber]":
        """The model's future; loading starts now if it hasn't yet. A failed load is retried."""
        with self._lock:
            future = self._loaded.get(name)
            if future is None or (future.done() and future.exception() is not None):
                future = concurrent.futures.Future()
                self._loaded[name] = future
                source = self.models[name]
                threading.Thread(
                    target=self._load_into, args=(source, future), name=f"load-{name}", daemon=True
                ).start()
            return future

    def _load_into(
        self, source: ModelSource, future: "concurrent.futures.Future[WhisperTranscriber]"
    ) -> None:
        try:
            future.set_result(self._load(source))
        except Exception as err:
            _LOGGER.exception("Loading model %s failed", source.name)
            future.set_exception(err)

    def decoder(self, request: Request) -> Decoder:
        """A blocking decode function for the decode pool, bound to one request."""
        model = self.model(request.model)
        vocabulary = request.vocabulary

        def decode(
            audio: Float32Array, speech: bool, on_segment: Callable[[str], None] | None
        ) -> Transcription:
            segments: list[str] = []

            def segment_done(text: str) -> None:
                segments.append(vocabulary.snap(text))
                if on_segment is not None:
                    on_segment(segments[-1])

            result = model.result().transcribe(audio, request.options, speech, segment_done)
            return replace(result, text=" ".join(segments), segments=tuple(segments))

        return decode

    def close(self) -> None:
        self.pools.decode.shutdown(wait=False, cancel_futures=True)
        self.pools.vad.shutdown(wait=False, cancel_futures=True)
