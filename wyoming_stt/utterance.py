"""One spoken request: its audio, where the speech is, and decodes started early.

While audio streams in, a voice activity detector tracks the speech. As soon
as the speaker has been quiet for a moment, the speech so far is decoded in the
background. If nothing new is said before `audio-stop` (the usual case: clients
stop the stream a little after the speaker stops) that result is already there
when the stream ends, so the transcript is sent without waiting for the model.
The audio decoded is always the speech region plus fixed padding, so a result
made early is exactly the result a decode at the end would give.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from local_voice.audio import SAMPLE_RATE, Float32Array, int16_to_float32

from .transcriber import Transcription
from .vad import FRAME_SAMPLES, VadStream

_LOGGER = logging.getLogger(__name__)

SPEECH_THRESHOLD = 0.5
MIN_SPEECH_FRAMES = 2  # a run of 64 ms counts as speech; shorter blips are ignored
LEAD_PAD_SAMPLES = int(0.2 * SAMPLE_RATE)
TAIL_PAD_SAMPLES = int(0.3 * SAMPLE_RATE)
SPECULATE_AFTER_FRAMES = -(-TAIL_PAD_SAMPLES // FRAME_SAMPLES)  # quiet this long: decode early
MIN_DECODE_SAMPLES = int(0.1 * SAMPLE_RATE)  # shorter than this is answered with ""

# decode(audio, speech_found, on_segment) -> Transcription; blocking, for a worker thread
Decoder = Callable[[Float32Array, bool, Callable[[str], None] | None], Transcription]
Cut = tuple[int, int]


class AudioTooLong(Exception):
    """The stream passed the server's length limit without an audio-stop."""


@dataclass(frozen=True)
class WorkerPools:
    """Threads for model work: decodes, and (separately) voice activity detection."""

    decode: Executor
    vad: Executor


@dataclass(frozen=True)
class Outcome:
    """The transcript of an utterance and how it was reached."""

    transcription: Transcription
    audio_seconds: float
    speech_seconds: float
    speculative: bool  # the transcript was ready (or under way) before audio-stop


class Utterance:
    """Collects a request's audio and decodes it, early when it can."""

    def __init__(
        self, decode: Decoder, pools: WorkerPools, *, speculate: bool, max_seconds: float
    ) -> None:
        self._decode = decode
        self._pools = pools
        self._speculate = speculate
        self._max_samples = int(max_seconds * SAMPLE_RATE)
        self._pieces: list[np.ndarray] = []
        self._samples = 0
        self._vad = VadStream()
        self._frames = 0
        self._first_run: int | None = None  # first frame of the first speech run
        self._last_run_end: int | None = None  # frame after the last speech run
        self._run_length = 0
        self._early: tuple[Cut, asyncio.Future[Transcription]] | None = None

    @property
    def seconds(self) -> float:
        return self._samples / SAMPLE_RATE

    async def add(self, pcm: bytes) -> None:
        """Append 16 kHz mono int16 audio, update the speech region, maybe decode early."""
        samples = np.frombuffer(pcm, np.int16)
        if self._samples + len(samples) > self._max_samples:
            raise AudioTooLong(f"audio passed {self._max_samples / SAMPLE_RATE:.0f} s")
        self._pieces.append(samples)
        self._samples += len(samples)
        loop = asyncio.get_running_loop()
        probs = await loop.run_in_executor(
            self._pools.vad, self._vad.process, int16_to_float32(samples)
        )
        self._track(probs)
        self._maybe_decode_early()

    def _track(self, probs: Float32Array) -> None:
        for prob in probs.tolist():
            frame = self._frames
            self._frames += 1
            if prob >= SPEECH_THRESHOLD:
                self._run_length += 1
                if self._run_length >= MIN_SPEECH_FRAMES:
                    if self._first_run is None:
                        self._first_run = frame - self._run_length + 1
                    self._last_run_end = frame + 1
            else:
                self._run_length = 0

    def _cut(self) -> Cut:
        """Sample range to decode: the speech region plus padding, or everything."""
        if self._first_run is None or self._last_run_end is None:
            return 0, self._samples
        start = max(self._first_run * FRAME_SAMPLES - LEAD_PAD_SAMPLES, 0)
        end = min(self._last_run_end * FRAME_SAMPLES + TAIL_PAD_SAMPLES, self._samples)
        return start, end

    def _audio(self, cut: Cut) -> Float32Array:
        audio = np.concatenate(self._pieces) if self._pieces else np.zeros(0, np.int16)
        return int16_to_float32(audio[cut[0] : cut[1]])

    def _run_decode(
        self, cut: Cut, on_segment: Callable[[str], None] | None
    ) -> "asyncio.Future[Transcription]":
        audio = self._audio(cut)
        speech = self._first_run is not None
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(self._pools.decode, self._decode, audio, speech, on_segment)

    def _maybe_decode_early(self) -> None:
        if not self._speculate or self._last_run_end is None:
            return
        if self._frames - self._last_run_end < SPECULATE_AFTER_FRAMES:
            return  # still speaking, or only just stopped
        cut = self._cut()
        if self._early is not None and (self._early[0] == cut or not self._early[1].done()):
            return  # already decoded, or one decode at a time
        future = self._run_decode(cut, None)
        future.add_done_callback(self._early_done)
        self._early = (cut, future)
        _LOGGER.debug("Decoding %.2f s of speech early", (cut[1] - cut[0]) / SAMPLE_RATE)

    def _early_done(self, future: "asyncio.Future[Transcription]") -> None:
        if not future.cancelled() and future.exception() is None:
            self._maybe_decode_early()  # speech may have resumed meanwhile

    async def finish(self, on_segment: Callable[[str], None] | None) -> Outcome:
        """Decode the whole utterance, reusing an early decode of the same audio."""
        self._speculate = False  # from here on, only the final decode runs
        loop = asyncio.get_running_loop()
        self._track(await loop.run_in_executor(self._pools.vad, self._vad.flush))
        cut = self._cut()
        speech_seconds = (cut[1] - cut[0]) / SAMPLE_RATE
        if cut[1] - cut[0] < MIN_DECODE_SAMPLES:
            nothing = Transcription("", "", (), "too-short", 0.0)
            return Outcome(nothing, self.seconds, speech_seconds, speculative=False)
        if self._early is not None and self._early[0] == cut:
            transcription = await self._early[1]
            if on_segment is not None:
                for segment in transcription.segments:
                    on_segment(segment)
            return Outcome(transcription, self.seconds, speech_seconds, speculative=True)
        transcription = await self._run_decode(cut, on_segment)
        return Outcome(transcription, self.seconds, speech_seconds, speculative=False)

    def discard(self) -> None:
        """Drop the audio; an early decode still running finishes unseen."""
        self._speculate = False
        if self._early is not None:
            future = self._early[1]
            future.remove_done_callback(self._early_done)
            future.add_done_callback(_ignore_result)
        self._pieces.clear()


def _ignore_result(future: "asyncio.Future[Transcription]") -> None:
    with contextlib.suppress(asyncio.CancelledError):
        if (error := future.exception()) is not None:
            _LOGGER.debug("Discarded early decode failed: %s", error)
