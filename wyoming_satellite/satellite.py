"""The satellite's state machine: listen for the wake word, stream the command, play
the reply, and stay interruptible while it talks.

One microphone loop runs for the life of the process: it cleans each chunk (noise
suppression and gain, then echo cancellation against what the speaker plays), keeps
it in a ring buffer and feeds the wake word and the stop word. The Home Assistant
connection that sent `run-satellite` owns the satellite; its events arrive through
`on_event`.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import Enum

import numpy as np
from pymicro_vad import MicroVad
from wyoming.asr import Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.pipeline import PipelineStage, RunPipeline
from wyoming.snd import Played
from wyoming.timer import TimerCancelled, TimerFinished, TimerStarted, TimerUpdated
from wyoming.tts import Synthesize
from wyoming.vad import VoiceStopped
from wyoming.wake import Detection

from local_voice.audio import SAMPLE_CHANNELS, SAMPLE_RATE, SAMPLE_WIDTH

from .audio_io import MicSource
from .echo import EchoCanceller
from .mic_processing import MicProcessor
from .player import Player, Sound
from .ring import MicRing
from .speech_end import SpeechEnd, SpeechEndSettings
from .wake import LocalWake, WakeHit, WakeWords

_LOGGER = logging.getLogger(__name__)
SEND_SAMPLES = 1024  # per audio-chunk sent to Home Assistant
REPLY_WAIT_SECONDS = 30.0  # after the command, how long a reply may take to start
OWN_VOICE_SECONDS = 1.5  # a detection this close to the played wake word is an echo
BARGE_IN_KINDS = ("reply", "announcement", "timer")  # the wake word interrupts these


class State(Enum):
    IDLE = "idle"  # wake word armed
    STREAMING = "streaming"  # the command goes to Home Assistant
    WAITING = "waiting"  # the command ended; the reply has not started
    RESPONDING = "responding"  # the reply plays


@dataclass
class Tones:
    """PCM (16-bit mono) and rate of each feedback sound; None: silent."""

    sounds: dict[str, tuple[bytes, int] | None]
    timer_repeat: int = 15
    timer_pause: float = 0.5


@dataclass
class Turn:
    """Times of one command, for its log line (monotonic seconds)."""

    name: str
    detected: float
    backlog_seconds: float  # audio from the phrase's end that had already been heard
    barge_in: bool
    held: float | None = None  # when playback was held, before the detection
    stopped: float | None = None
    stop_reason: str = ""
    transcript: str | None = None
    transcript_at: float | None = None
    reply_text: str | None = None
    first_audio: float | None = None
    played: float | None = None
    error: str | None = None

    def line(self) -> str:
        def after(moment: float | None) -> str:
            return "-" if moment is None else f"{(moment - self.detected) * 1000:.0f} ms"

        barge_in = ""
        if self.barge_in:
            ahead = None if self.held is None else (self.detected - self.held) * 1000
            held = "" if ahead is None else f", playback held {ahead:.0f} ms before"
            barge_in = f" (barge-in{held})"
        parts = [
            f"wake {self.name!r}{barge_in}",
            f"streamed from {self.backlog_seconds * 1000:.0f} ms before the detection",
            f"end of speech {after(self.stopped)} ({self.stop_reason or '-'})",
            f"transcript {after(self.transcript_at)} {self.transcript!r}",
            f"first reply audio {after(self.first_audio)}",
            f"played {after(self.played)}",
        ]
        if self.error:
            parts.append(f"error {self.error!r}")
        return "Turn: " + "; ".join(parts)


Writer = Callable[[Event], Awaitable[None]]
FRAME = SAMPLE_RATE // 100  # 10 ms


def command_start(ring: MicRing, phrase_end: int) -> int:
    """Where the command starts: the quiet between the wake phrase and the command.

    The detector's phrase end lies 0-150 ms after the phrase really ended (up to ~400
    ms for slow voices), often inside the command's first word. Between -300 and +100 ms
    around it, the latest 10 ms frame within 1.5x of the quietest is the pause after
    "nabu" (or the closure before a first consonant); without a clear dip, 150 ms early.
    """
    first = phrase_end - 30 * FRAME
    audio = np.frombuffer(ring.since(first)[: 40 * FRAME * 2], np.int16).astype(np.float32)
    count = len(audio) // FRAME
    if count < 10:
        return phrase_end - 15 * FRAME
    energy = np.convolve(
        (audio[: count * FRAME].reshape(count, FRAME) ** 2).mean(axis=1), np.ones(3) / 3, "same"
    )
    quietest = float(energy.min())
    if quietest > 0.25 * float(np.median(energy)):
        return phrase_end - 15 * FRAME
    latest = int(np.nonzero(energy <= 1.5 * quietest + 1.0)[0][-1])
    return max(first, ring.oldest) + latest * FRAME


@dataclass
class Timer:
    id: str
    name: str | None
    total_seconds: int
    started: float = field(default_factory=time.monotonic)


class Satellite:
    def __init__(
        self,
        mic: MicSource,
        processor: MicProcessor,
        echo: EchoCanceller,
        wake: WakeWords,
        player: Player,
        tones: Tones,
        speech_end: SpeechEndSettings,
    ) -> None:
        self.mic = mic
        self.processor = processor
        self.echo = echo
        self.wake = wake
        self.player = player
        self.tones = tones
        self.speech_end_settings = speech_end
        self.ring = MicRing()
        self.state = State.IDLE
        self.paused = True  # until a Home Assistant connection runs the satellite
        self.owner: object | None = None
        self._write: Writer | None = None
        self._speech: SpeechEnd | None = None
        self._vad: MicroVad | None = None  # reused by every command's SpeechEnd
        self._turn: Turn | None = None
        self._reply: Sound | None = None  # the reply or announcement arriving / playing
        self._discarding = False  # the rest of an interrupted reply's audio
        self._reply_expected = False
        self._waiting_since = 0.0
        self._sent_samples = 0
        self.timers: dict[str, Timer] = {}
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="satellite-dsp")
        self._task: asyncio.Task[None] | None = None
        self.chunks = 0  # microphone chunks processed (tests and logs read it)
        # The wake word in what the speaker plays: a detection on the microphone near
        # one of these is the satellite hearing itself (echo cancellation leaves some).
        self._own_voice = wake.wake.twin() if isinstance(wake.wake, LocalWake) else None
        self._own_voice_position = 0
        self._own_hits: list[float] = []  # monotonic times the played wake word is heard
        self._own_rising = -100.0  # ... and when it last began to fire there

    # -- life cycle ------------------------------------------------------------------

    def start(self) -> None:
        self.player.start()
        self._task = asyncio.create_task(self._mic_loop())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.mic.close()
        await self.player.close()
        await self.wake.close()
        self._executor.shutdown(wait=False)

    def attach(self, owner: object, write: Writer) -> None:
        """A Home Assistant connection sent `run-satellite`: it owns the satellite now."""
        self.owner, self._write = owner, write
        self.paused = False
        _LOGGER.info("Home Assistant is running the satellite; listening for %s", self.wake.names)

    async def detach(self, owner: object) -> None:
        """The owner's connection ended: stop streaming, keep playing what was heard."""
        if owner is not self.owner:
            return
        self.owner, self._write = None, None
        self.paused = True
        if self.state == State.STREAMING:
            self._end_turn("disconnected")
        self.state = State.IDLE if not self.player.playing("reply") else self.state
        _LOGGER.info("Home Assistant disconnected; wake word disarmed until it reconnects")

    async def _send(self, event: Event) -> None:
        if self._write is None:
            return
        try:
            await self._write(event)
        except (ConnectionError, RuntimeError) as err:
            _LOGGER.warning("Sending %s to Home Assistant: %s", event.type, err)

    # -- the microphone --------------------------------------------------------------

    async def _mic_loop(self) -> None:
        chunks = self.mic.chunks()
        try:
            async for chunk in chunks:
                await self._on_mic(chunk)
        finally:
            if isinstance(chunks, AsyncGenerator):
                await chunks.aclose()  # stops the mic command now, not at interpreter exit

    async def _on_mic(self, chunk: bytes) -> None:
        loop = asyncio.get_running_loop()
        position = self.ring.position
        clean = await loop.run_in_executor(self._executor, self._clean, chunk)
        self.ring.append(clean)
        self.chunks += 1
        try:
            wake_hits, stop_hits = await self.wake.process(self._executor, clean, position)
            await self._hold_for_wake(confirmed=bool(wake_hits))
            if self.state == State.STREAMING:
                await self._stream(clean)
            for hit in stop_hits:
                await self._on_stop_word(hit)
            for hit in wake_hits:
                await self._on_wake(hit)
            self._check_waiting()
        except Exception:
            _LOGGER.exception("Microphone chunk")

    def _clean(self, chunk: bytes) -> bytes:
        return self.echo.process(self.processor.process(chunk))

    def on_played(self, pcm: bytes) -> None:
        """The player hands this (16 kHz mono) to the speaker now."""
        self.echo.played(pcm)
        if self._own_voice is not None:
            heard_at = time.monotonic() + self.player.lead
            self._executor.submit(self._find_own_wake_word, pcm, heard_at)

    def _find_own_wake_word(self, pcm: bytes, heard_at: float) -> None:
        assert self._own_voice is not None
        position, self._own_voice_position = (
            self._own_voice_position,
            self._own_voice_position + len(pcm) // 2,
        )
        if self._own_voice.process(pcm, position):
            self._own_hits = [t for t in self._own_hits if t > heard_at - 10] + [heard_at]
        if self._own_voice.awaiting:
            self._own_rising = heard_at

    def _own_voice_said_it(self) -> bool:
        now = time.monotonic()
        return any(abs(now - heard) < OWN_VOICE_SECONDS for heard in self._own_hits)

    # -- wake word, stop word, barge-in ----------------------------------------------

    async def _hold_for_wake(self, confirmed: bool) -> None:
        """Barge-in starts before the wake word is sure: the fused detector's first model
        fires at about the phrase's end, its confirmation a median 150 ms later. Playback
        pauses at the first and goes on if no confirmation comes within the window (a
        confirmed one stops it: `_on_wake`)."""
        player = self.player
        current = player.current
        if self.wake.awaiting:
            if (
                current is not None
                and current.kind in BARGE_IN_KINDS
                and self._write is not None
                and not self.paused
                and abs(time.monotonic() - self._own_rising) >= OWN_VOICE_SECONDS
                and not self._own_voice_said_it()
                and await player.hold()
            ):
                _LOGGER.debug("Wake word beginning: %s held", current.kind)
        elif player.held_since is not None and not confirmed:
            held_ms = (time.monotonic() - player.held_since) * 1000
            player.resume()
            what = current.kind if current is not None else "playback"
            _LOGGER.info("Wake word not confirmed: %s resumed after %.0f ms", what, held_ms)

    async def _on_wake(self, hit: WakeHit) -> None:
        if self.paused or self._write is None:
            why = "is muted" if self._write is not None else "is not connected"
            _LOGGER.info("Wake word %r while Home Assistant %s: ignored", hit.name, why)
            return
        if self.state == State.STREAMING:
            return
        if self._own_voice_said_it():
            _LOGGER.info("Wake word %r in the satellite's own playback: ignored", hit.name)
            return
        held = self.player.held_since
        barge_in = await self._silence_for_wake()
        if self._turn is not None:  # the command before still waited for its reply
            self._end_turn("no reply before the next wake word")
        now = time.monotonic()
        start = command_start(self.ring, hit.phrase_end)
        backlog = self.ring.since(start)
        self._turn = Turn(hit.name, now, (self.ring.position - start) / SAMPLE_RATE, barge_in, held)
        timestamp = hit.detected * 1000 // SAMPLE_RATE
        await self._send(Detection(name=hit.name, timestamp=timestamp).event())
        await self._send(
            RunPipeline(
                start_stage=PipelineStage.ASR,
                end_stage=PipelineStage.TTS,
                wake_word_name=hit.name,
            ).event()
        )
        self.state = State.STREAMING
        self._speech = SpeechEnd(self.speech_end_settings, self._vad)
        self._vad = self._speech.vad
        self._sent_samples = 0
        self._tone("awake")
        await self._stream(backlog)

    async def _silence_for_wake(self) -> bool:
        """Barge-in: whatever plays stops now; an interrupted reply counts as played."""
        if not self.player.busy:
            return False
        stopped = await self.player.stop()
        if self._reply is not None and not self._reply.complete:
            self._discarding = True  # Home Assistant may still be sending it
        for sound in stopped:  # `played` goes out before the new run starts
            await self._tell_played(sound)
        if self._turn is not None:
            self._end_turn("interrupted")
        return any(s.kind in BARGE_IN_KINDS for s in stopped)

    async def _on_stop_word(self, hit: WakeHit) -> None:
        sound = self.player.playing(*BARGE_IN_KINDS)
        if sound is None:
            return
        _LOGGER.info("Stop word %r: %s stopped", hit.name, sound.kind)
        if self._reply is not None and not self._reply.complete:
            self._discarding = True
        await self.player.stop()

    # -- streaming the command -------------------------------------------------------

    async def _stream(self, pcm: bytes) -> None:
        for start in range(0, len(pcm), SEND_SAMPLES * 2):
            piece = pcm[start : start + SEND_SAMPLES * 2]
            timestamp = self._sent_samples * 1000 // SAMPLE_RATE
            await self._send(
                AudioChunk(
                    SAMPLE_RATE, SAMPLE_WIDTH, SAMPLE_CHANNELS, piece, timestamp=timestamp
                ).event()
            )
            self._sent_samples += len(piece) // 2
        if self._speech is not None and (reason := self._speech.process(pcm)):
            await self._stop_streaming(reason)

    async def _stop_streaming(self, reason: str) -> None:
        if self.state != State.STREAMING:
            return
        await self._send(AudioStop().event())
        self.state = State.WAITING
        self._waiting_since = time.monotonic()
        if self._turn is not None:
            self._turn.stopped = time.monotonic()
            self._turn.stop_reason = reason

    def _check_waiting(self) -> None:
        waited = time.monotonic() - self._waiting_since
        if (
            self.state == State.WAITING
            and not self.player.playing("reply")
            and (waited > REPLY_WAIT_SECONDS)
        ):
            _LOGGER.warning("No reply within %.0f s; listening again", REPLY_WAIT_SECONDS)
            self._end_turn("no reply")

    def _end_turn(self, error: str | None = None) -> None:
        turn, self._turn = self._turn, None
        self.state = State.IDLE
        self._speech = None
        if turn is not None:
            turn.error = turn.error or error
            _LOGGER.info("%s", turn.line())

    # -- events from Home Assistant --------------------------------------------------

    async def on_event(self, event: Event) -> None:
        if AudioStart.is_type(event.type):
            self._audio_start(AudioStart.from_event(event))
        elif AudioChunk.is_type(event.type):
            self._audio_chunk(AudioChunk.from_event(event))
        elif AudioStop.is_type(event.type):
            self._audio_stop()
        elif Transcript.is_type(event.type):
            text = Transcript.from_event(event).text
            if self._turn is not None:
                self._turn.transcript, self._turn.transcript_at = text, time.monotonic()
            await self._stop_streaming("transcript")
            self._tone("done")
        elif VoiceStopped.is_type(event.type):
            await self._stop_streaming("Home Assistant's VAD")
        elif Synthesize.is_type(event.type):
            self._reply_expected = True  # the next audio is this turn's reply
            if self._turn is not None:
                self._turn.reply_text = Synthesize.from_event(event).text
        elif Error.is_type(event.type):
            error = Error.from_event(event)
            _LOGGER.warning("Home Assistant: %s (%s)", error.text, error.code)
            if self._turn is not None:
                self._turn.error = f"{error.code}: {error.text}"
            if self.state in (State.STREAMING, State.WAITING):
                await self._stop_streaming("error")
                self._end_turn()
            self._tone("error")
        elif TimerStarted.is_type(event.type):
            timer = TimerStarted.from_event(event)
            self.timers[timer.id] = Timer(timer.id, timer.name, timer.total_seconds)
            _LOGGER.info("Timer %s started: %s s", timer.name or timer.id, timer.total_seconds)
        elif TimerUpdated.is_type(event.type):
            updated = TimerUpdated.from_event(event)
            if updated.id in self.timers:
                self.timers[updated.id].total_seconds = updated.total_seconds
        elif TimerCancelled.is_type(event.type):
            self.timers.pop(TimerCancelled.from_event(event).id, None)
        elif TimerFinished.is_type(event.type):
            timer_id = TimerFinished.from_event(event).id
            finished = self.timers.pop(timer_id, None)
            _LOGGER.info("Timer %s finished: ringing", finished.name if finished else timer_id)
            self._ring()
        elif event.type == "pause-satellite":
            await self.pause()
        else:
            _LOGGER.debug("Not handled: %s", event.type)

    async def pause(self) -> None:
        """Muted in Home Assistant: stop listening and talking until `run-satellite`."""
        self.paused = True
        if self.state == State.STREAMING:
            await self._stop_streaming("paused")
        self._end_turn("paused")
        await self.player.stop()
        _LOGGER.info("Paused by Home Assistant (muted)")

    def _audio_start(self, start: AudioStart) -> None:
        if self._discarding:
            self._discarding = False  # a new sound: the interrupted one has ended
        if self._reply is not None and not self._reply.complete:
            # Home Assistant streams a reply and an announcement on separate tasks; a new
            # start ends the sound before it rather than leaving it waiting for its stop
            self._reply.finish()
        # a reply follows `synthesize`; an announcement arrives bare, whenever it comes
        kind = "reply" if self._reply_expected else "announcement"
        self._reply_expected = False
        if kind == "reply" and self._turn is not None:
            self.state = State.RESPONDING
        self._reply = self.player.play(
            Sound(kind, start.rate, start.width, start.channels, on_end=self._played)
        )

    def _audio_chunk(self, chunk: AudioChunk) -> None:
        if self._discarding or self._reply is None or self._reply.complete:
            return
        if self._turn is not None and self._turn.first_audio is None:
            self._turn.first_audio = time.monotonic()
        self._reply.add(chunk.audio)

    def _audio_stop(self) -> None:
        if self._discarding:
            self._discarding = False
            return
        if self._reply is not None:
            self._reply.finish()

    def _played(self, sound: Sound) -> None:
        """The player finished (or cut short) a reply or announcement."""
        # on_end stays set until `played` is sent: a barge-in that stopped this sound
        # sends it itself, before its detection, if this task has not run by then
        asyncio.get_running_loop().create_task(self._tell_played(sound))

    async def _tell_played(self, sound: Sound) -> None:
        """Home Assistant keeps the satellite "responding" until it hears `played`."""
        if sound.on_end is None:
            return  # told already
        sound.on_end = None
        if sound is self._reply:
            self._reply = None
        await self._send(Played().event())
        if sound.kind == "reply" and self._turn is not None:
            self._turn.played = time.monotonic()
            if self.state == State.RESPONDING:
                self._end_turn("interrupted" if sound.stopped else None)

    def _tone(self, kind: str) -> None:
        tone = self.tones.sounds.get(kind)
        if tone is not None:
            self.player.tone(kind, tone[0], tone[1])

    def _ring(self) -> None:
        tone = self.tones.sounds.get("timer")
        if tone is None:
            return
        self.player.tone(
            "timer",
            tone[0],
            tone[1],
            repeat=self.tones.timer_repeat,
            pause_seconds=self.tones.timer_pause,
        )
