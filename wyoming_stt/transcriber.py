"""Whisper transcription with a short encoder window for voice commands.

Whisper pads every clip to a 30 s window, so a 2 s command costs as much to
encode as 30 s of speech. For clips that fit in one window this module encodes
only the audio plus a little silence, and fills the rest of the encoder output
with a cached encoding of a silent 30 s window. The decoder still sees a full
window that ends in silence, so it stops where the speech stops. Output that
looks wrong (repetition, low confidence, runaway length) is decoded again the
standard way, over the full window.
"""

import logging
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from local_voice.audio import SAMPLE_RATE, Float32Array

from .models import ModelSource

_LOGGER = logging.getLogger(__name__)

WINDOW_SECONDS = 30
SILENCE_PAD_SECONDS = 2.0  # zeros encoded after the audio (measured: best WER at 1-2 s)
MAX_SHORT_SECONDS = WINDOW_SECONDS - SILENCE_PAD_SECONDS
COMPRESSION_RATIO_LIMIT = 2.4
NO_SPEECH_LIMIT = 0.6
# Temperatures the full-window decode retries with when its output looks wrong;
# faster-whisper's default goes to 1.0, which costs seconds on noise.
FALLBACK_TEMPERATURES = (0.0, 0.2, 0.4, 0.6)
_WORDS = re.compile(r"[\w']+")


@dataclass(frozen=True)
class DecodeOptions:
    """What a request asks of the decoder."""

    language: str | None
    beam_size: int
    prompt: str | None = None


@dataclass(frozen=True)
class Transcription:
    """A transcript with what it took to make it."""

    text: str
    language: str
    segments: tuple[str, ...]
    method: str  # "short-window", "full-window", "silence" or "too-short"
    seconds: float


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def is_repetitive(text: str) -> bool:
    """True when the text ends in the same phrase twice ('open it. open it.')."""
    words = [word.lower() for word in _WORDS.findall(text)]
    for period in range(2, len(words) // 2 + 1):
        if words[-period:] == words[-2 * period : -period]:
            return True
    return False


class WhisperTranscriber:
    """A loaded Whisper model; `transcribe` is thread-safe and blocking."""

    def __init__(
        self,
        source: ModelSource,
        *,
        device: str = "cpu",
        device_index: int = 0,
        compute_type: str = "auto",
        cpu_threads: int = 2,
        workers: int = 1,
        short_window: bool = True,
    ) -> None:
        from faster_whisper import WhisperModel

        started = time.monotonic()
        if compute_type == "auto":
            compute_type = "int8" if device == "cpu" else "default"
        self.name = source.name
        self.languages = source.languages
        self.fallback_logprob = source.fallback_logprob
        self.model = WhisperModel(
            str(source.path()),
            device=device,
            device_index=device_index,
            compute_type=compute_type,
            cpu_threads=cpu_threads,
            num_workers=workers,
            local_files_only=True,
        )
        self.multilingual: bool = self.model.model.is_multilingual
        self.device: str = self.model.model.device
        # The silence trick splices encoder outputs on the host: CPU only. On a GPU
        # the full window costs a few milliseconds anyway.
        self.short_window = short_window and self.device == "cpu"
        self._silence: np.ndarray[Any, Any] | None = None
        if self.short_window:
            silence = np.zeros(WINDOW_SECONDS * SAMPLE_RATE, np.float32)
            self._silence = np.asarray(self._encode(silence))
        # Warm-up: the first decode allocates; let that happen before any request.
        self.transcribe(np.zeros(SAMPLE_RATE, np.float32), DecodeOptions("en", 1), speech=False)
        _LOGGER.info(
            "Loaded model %s (%s, %s) in %.1f s",
            self.name,
            self.device,
            compute_type,
            time.monotonic() - started,
        )

    def _encode(self, audio: Float32Array) -> Any:
        samples = len(audio) - len(audio) % 320  # whole encoder frames
        features = self.model.feature_extractor(audio[:samples], padding=0)
        return self.model.encode(features[:, : samples // 160])

    def _tokenizer(self, language: str) -> Any:
        from faster_whisper.tokenizer import Tokenizer

        return Tokenizer(
            self.model.hf_tokenizer, self.multilingual, task="transcribe", language=language
        )

    def transcribe(
        self,
        audio: Float32Array,
        options: DecodeOptions,
        speech: bool = True,
        on_segment: Callable[[str], None] | None = None,
    ) -> Transcription:
        """Transcribe 16 kHz mono float audio; `on_segment` sees each segment's text.

        `speech` says whether voice activity detection found speech. When it did
        not, a transcript Whisper also thinks is no speech becomes "" at once
        instead of being decoded again over the full window.
        """
        started = time.monotonic()
        seconds = len(audio) / SAMPLE_RATE
        if self.short_window and seconds <= MAX_SHORT_SECONDS:
            result = self._transcribe_short(audio, options, speech)
            if result is not None:
                text, language, method = result
                if text and on_segment is not None:
                    on_segment(text)
                return Transcription(
                    text, language, (text,) if text else (), method, time.monotonic() - started
                )
        segments, language = self._transcribe_full(audio, options, on_segment)
        text = " ".join(segments)
        return Transcription(text, language, segments, "full-window", time.monotonic() - started)

    def _transcribe_short(
        self, audio: Float32Array, options: DecodeOptions, speech: bool
    ) -> tuple[str, str, str] | None:
        import ctranslate2
        from faster_whisper.transcribe import get_suppressed_tokens

        assert self._silence is not None
        padded = np.concatenate(
            [audio, np.zeros(int(SILENCE_PAD_SECONDS * SAMPLE_RATE), np.float32)]
        )
        short = np.asarray(self._encode(padded))
        frames = short.shape[1]
        encoded = ctranslate2.StorageView.from_array(
            np.ascontiguousarray(np.concatenate([short, self._silence[:, frames:]], axis=1))
        )
        language = options.language or self._detect_language(encoded)
        tokenizer = self._tokenizer(language)
        prompt = self._prompt(tokenizer, options.prompt)
        max_new = min(16 + int(12 * len(audio) / SAMPLE_RATE), 200)
        result = self.model.model.generate(
            encoded,
            [prompt],
            beam_size=options.beam_size,
            max_length=len(prompt) + max_new,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=list(get_suppressed_tokens(tokenizer, [-1])),
        )[0]
        tokens = [token for token in result.sequences_ids[0] if token < tokenizer.eot]
        text = tokenizer.decode(tokens).strip()
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
        no_speech = result.no_speech_prob > NO_SPEECH_LIMIT
        if no_speech and not speech:
            return "", language, "silence"
        suspicious = (
            no_speech
            or len(tokens) >= max_new - 1
            or avg_logprob < self.fallback_logprob
            or compression_ratio(text) > COMPRESSION_RATIO_LIMIT
            or is_repetitive(text)
        )
        if suspicious:
            _LOGGER.debug("Short-window output %r looks unreliable; using the full window", text)
            return None
        return text, language, "short-window"

    def _prompt(self, tokenizer: Any, bias: str | None) -> list[int]:
        prompt: list[int] = []
        if bias:
            bias_tokens = tokenizer.encode(" " + bias.strip())[: self.model.max_length // 2 - 1]
            prompt = [tokenizer.sot_prev, *bias_tokens]
        return [*prompt, *tokenizer.sot_sequence, tokenizer.no_timestamps]

    def _detect_language(self, encoded: Any) -> str:
        if not self.multilingual:
            return "en"
        ranked = self.model.model.detect_language(encoded)[0]
        for token, _probability in ranked:
            code = token[2:-2]
            if code in self.languages:
                return str(code)
        return self.languages[0]

    def _transcribe_full(
        self,
        audio: Float32Array,
        options: DecodeOptions,
        on_segment: Callable[[str], None] | None,
    ) -> tuple[tuple[str, ...], str]:
        segments, info = self.model.transcribe(
            audio,
            language=options.language if self.multilingual else "en",
            beam_size=options.beam_size,
            initial_prompt=options.prompt,
            condition_on_previous_text=False,
            vad_filter=False,
            temperature=FALLBACK_TEMPERATURES,
        )
        texts: list[str] = []
        for segment in segments:  # decoded lazily, window by window
            if text := segment.text.strip():
                texts.append(text)
                if on_segment is not None:
                    on_segment(text)
        return tuple(texts), info.language
