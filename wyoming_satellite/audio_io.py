"""The satellite's microphone and speaker: shell commands (arecord/aplay) or PortAudio.

Every microphone yields 16 kHz 16-bit mono PCM in fixed-size chunks and never raises for
a device that goes away: it logs and retries with back-off, so a satellite whose USB mic
is unplugged comes back by itself. Every sink plays one playback at a time and can be
stopped at once (abort) without a pipe buffer or PortAudio buffer talking on.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import shlex
import threading
import time
import warnings
from collections import deque
from collections.abc import AsyncIterator
from typing import Any, Protocol

from wyoming.audio import AudioChunk, AudioChunkConverter

from local_voice.audio import AudioFormatError, PcmConverter, PcmFormat, to_int16_mono

with warnings.catch_warnings():  # audioop is deprecated in 3.11-3.12, gone in 3.13
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import audioop
    except ImportError:  # pragma: no cover - Python 3.13: wyoming's pure-Python copy
        from wyoming import pyaudioop as audioop  # type: ignore[no-redef]

_LOGGER = logging.getLogger(__name__)

MIC_RATE, MIC_WIDTH, MIC_CHANNELS = 16000, 2, 1

BACKOFF_START_S = 0.5
BACKOFF_MAX_S = 10.0
BACKOFF_RESET_AFTER_S = 30.0
TERM_GRACE_S = 0.05  # SIGTERM, then SIGKILL: abort must be immediate
DRAIN_MARGIN_S = 2.0
WRITE_TIMEOUT_S = 2.0  # a sink process that stops reading for this long is broken
_STDERR_LINES = 5


class AudioDeviceError(Exception):
    """A microphone or speaker that can't be used; the message is meant for the log."""


class MicSource(Protocol):
    """16 kHz 16-bit mono PCM from a microphone, in chunks, until close()."""

    def chunks(self) -> AsyncIterator[bytes]: ...

    async def close(self) -> None: ...


class SoundSink(Protocol):
    """A speaker taking PCM in (rate, width, channels), one playback at a time."""

    rate: int
    width: int
    channels: int

    async def write(self, pcm: bytes) -> None: ...

    async def drain(self) -> None: ...

    async def abort(self) -> None: ...


def apply_volume(pcm: bytes, width: int, volume: float) -> bytes:
    """Scale samples by `volume`, clipping at full scale (8-bit PCM is unsigned)."""
    if volume == 1.0 or not pcm:
        return pcm
    if width == 1:
        signed = audioop.bias(pcm, 1, -128)
        return bytes(audioop.bias(audioop.mul(signed, 1, volume), 1, 128))
    return bytes(audioop.mul(pcm, width, volume))


class StreamConverter:
    """Converts one stream between PCM formats, piece by piece.

    The resampler's state is kept between pieces (wyoming's converter holds it), so a
    sound cut into 20 ms pieces has no seams. Down-mixing averages the channels
    (local_voice.audio.to_int16_mono) instead of summing them like wyoming's converter,
    which would clip loud stereo audio.
    """

    def __init__(self, source: PcmFormat, target: PcmFormat) -> None:
        source.check()
        target.check()
        if target.channels not in (1, 2) and target.channels != source.channels:
            raise AudioFormatError(
                f"cannot convert {source.channels} channels to {target.channels}"
            )
        self.source = source
        self.target = target
        self._converter = AudioChunkConverter(
            rate=target.rate, width=target.width, channels=target.channels
        )

    def convert(self, pcm: bytes) -> bytes:
        source = self.source
        if source == self.target:
            return pcm
        if len(pcm) % source.frame_bytes:
            raise AudioFormatError(
                f"audio of {len(pcm)} bytes is not a whole number of "
                f"{source.frame_bytes}-byte frames"
            )
        rate, width, channels = source.rate, source.width, source.channels
        if channels > 1 and self.target.channels != channels:
            pcm = to_int16_mono(pcm, source).tobytes()
            width, channels = 2, 1
        return self._converter.convert(AudioChunk(rate, width, channels, pcm)).audio


def _split_command(command: str, what: str) -> list[str]:
    """shlex-split a --mic-command/--snd-command (no shell), refusing an empty one."""
    try:
        argv = shlex.split(command)
    except ValueError as err:
        raise ValueError(f"{what} {command!r} can't be parsed: {err}") from err
    if not argv:
        raise ValueError(f"{what} is empty")
    return argv


class _Backoff:
    """Restart delay: 0.5 s doubling to 10 s, back to 0.5 s after a run of 30 s."""

    def __init__(self) -> None:
        self.delay = BACKOFF_START_S

    def next_delay(self, ran_s: float) -> float:
        if ran_s >= BACKOFF_RESET_AFTER_S:
            self.delay = BACKOFF_START_S
        delay = self.delay
        self.delay = min(self.delay * 2, BACKOFF_MAX_S)
        return delay


async def _collect_stderr(stream: asyncio.StreamReader | None, lines: deque[str]) -> None:
    """Keep the last lines a process prints on stderr (so its pipe never fills up)."""
    if stream is None:
        return
    while line := await stream.readline():
        text = line.decode("utf-8", "replace").rstrip()
        if text:
            _LOGGER.debug("audio command: %s", text)
            lines.append(text)


async def _stop_process(proc: asyncio.subprocess.Process, grace: float = TERM_GRACE_S) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds; returns once the process is reaped."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
    if proc.stdin is not None:
        proc.stdin.close()
    # asyncio closes a child's transport only once its pipes have ended too; a killed
    # command's stdout may not have, and would be closed after the event loop.
    transport = getattr(proc, "_transport", None)
    if transport is not None:
        transport.close()


def _describe_exit(argv: list[str], code: int | None, stderr: deque[str]) -> str:
    said = f": {' | '.join(stderr)}" if stderr else ""
    return f"{shlex.join(argv)!r} exited with code {code}{said}"


def _sounddevice() -> Any:
    """Import sounddevice only when it's used: commands work without libportaudio2."""
    try:
        return importlib.import_module("sounddevice")
    except (ImportError, OSError) as err:
        raise AudioDeviceError(
            f"sounddevice/PortAudio is not usable ({err}); install libportaudio2 "
            "or use --mic-command/--snd-command"
        ) from err


def _parse_device(device: str | int | None) -> str | int | None:
    """'2' means device index 2; other text is a PortAudio device name (substring)."""
    if isinstance(device, str):
        device = device.strip()
        if device.isdigit():
            return int(device)
        return device or None
    return device


def _device_error(kind: str, device: str | int | None, err: Exception) -> AudioDeviceError:
    flag = "--mic-device/--mic-command" if kind == "input" else "--snd-device/--snd-command"
    name = f"{kind} device {device!r}" if device is not None else f"default {kind} device"
    return AudioDeviceError(f"can't open {name}: {err} (set {flag})")


class _Rechunker:
    """Cuts a byte stream into fixed-size chunks (resampling gives ragged sizes)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer.extend(data)
        count = len(self._buffer) // self.size
        chunks = [bytes(self._buffer[i * self.size : (i + 1) * self.size]) for i in range(count)]
        del self._buffer[: count * self.size]
        return chunks

    def clear(self) -> None:
        self._buffer.clear()


class CommandMic:
    """A microphone command (e.g. arecord) printing raw PCM on stdout, restarted if it exits."""

    def __init__(
        self,
        command: str,
        rate: int = 16000,
        width: int = 2,
        channels: int = 1,
        chunk_ms: int = 20,
        volume: float = 1.0,
    ) -> None:
        self.argv = _split_command(command, "--mic-command")
        self.format = PcmFormat(rate, width, channels)
        self.format.check()
        if chunk_ms <= 0:
            raise ValueError(f"chunk length must be positive, got {chunk_ms} ms")
        if volume < 0:
            raise ValueError(f"--mic-volume-multiplier must be >= 0, got {volume}")
        self.chunk_ms = chunk_ms
        self.volume = volume
        self.restarts = 0
        self._read_bytes = max(1, rate * chunk_ms // 1000) * self.format.frame_bytes
        self._chunk_bytes = MIC_RATE * chunk_ms // 1000 * MIC_WIDTH
        self._closed = asyncio.Event()
        self._proc: asyncio.subprocess.Process | None = None

    async def chunks(self) -> AsyncIterator[bytes]:
        """16 kHz mono chunks of `chunk_ms`, forever; a dead command is restarted."""
        backoff = _Backoff()
        rechunker = _Rechunker(self._chunk_bytes)
        started = 0
        while not self._closed.is_set():
            if started:
                self.restarts += 1
            started += 1
            began = time.monotonic()
            stderr: deque[str] = deque(maxlen=_STDERR_LINES)
            try:
                proc = await asyncio.create_subprocess_exec(
                    *self.argv,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                    start_new_session=True,  # Ctrl-C stops the satellite, which stops it
                )
            except OSError as err:
                _LOGGER.warning("Mic command %r failed to start: %s", shlex.join(self.argv), err)
            else:
                self._proc = proc
                stderr_task = asyncio.create_task(_collect_stderr(proc.stderr, stderr))
                try:
                    async for chunk in self._read(proc, rechunker):
                        yield chunk
                finally:
                    await _stop_process(proc)
                    await stderr_task
                    self._proc = None
                if self._closed.is_set():
                    return
                _LOGGER.warning(
                    "Mic command %s", _describe_exit(self.argv, proc.returncode, stderr)
                )
            delay = backoff.next_delay(time.monotonic() - began)
            _LOGGER.warning("Restarting mic command in %.1f s", delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), delay)

    async def _read(
        self, proc: asyncio.subprocess.Process, rechunker: _Rechunker
    ) -> AsyncIterator[bytes]:
        """Convert one process's output (fresh resampler state: a new stream)."""
        assert proc.stdout is not None
        converter = PcmConverter(MIC_RATE)
        rechunker.clear()
        pending = b""
        frame = self.format.frame_bytes
        while data := await proc.stdout.read(self._read_bytes):
            # read() doesn't suspend while the pipe has a backlog: let close() and the
            # rest of the loop run.
            await asyncio.sleep(0)
            data = pending + data
            whole = len(data) - len(data) % frame
            pending = data[whole:]
            pcm = apply_volume(converter.convert(data[:whole], self.format), 2, self.volume)
            for chunk in rechunker.feed(pcm):
                yield chunk

    async def close(self) -> None:
        """Stop the command; the chunks() iterator ends."""
        self._closed.set()
        if self._proc is not None:
            await _stop_process(self._proc)


class SoundDeviceMic:
    """A PortAudio input (sounddevice) at 16 kHz mono; reopened with back-off on errors."""

    QUEUE_CHUNKS = 100  # ~2 s at 20 ms: beyond that a stalled consumer loses the oldest

    def __init__(
        self, device: str | int | None = None, chunk_ms: int = 20, volume: float = 1.0
    ) -> None:
        self._sd = _sounddevice()
        if chunk_ms <= 0:
            raise ValueError(f"chunk length must be positive, got {chunk_ms} ms")
        if volume < 0:
            raise ValueError(f"--mic-volume-multiplier must be >= 0, got {volume}")
        self.device = _parse_device(device)
        self.chunk_ms = chunk_ms
        self.volume = volume
        self.restarts = 0
        self._closed = asyncio.Event()
        self._stream: Any = None

    def _open(self, queue: asyncio.Queue[bytes | None]) -> Any:
        loop = asyncio.get_running_loop()

        def push(data: bytes | None) -> None:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(data)

        def callback(indata: Any, _frames: int, _time: Any, status: Any) -> None:
            # PortAudio's thread: hand the audio to the event loop.
            if status:
                _LOGGER.debug("Mic stream status: %s", status)
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(push, bytes(indata))

        def finished() -> None:
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(push, None)

        try:
            stream = self._sd.RawInputStream(
                samplerate=MIC_RATE,
                channels=MIC_CHANNELS,
                dtype="int16",
                blocksize=MIC_RATE * self.chunk_ms // 1000,
                device=self.device,
                callback=callback,
                finished_callback=finished,
            )
            stream.start()
        except (self._sd.PortAudioError, ValueError, OSError) as err:
            raise _device_error("input", self.device, err) from err
        return stream

    async def chunks(self) -> AsyncIterator[bytes]:
        """16 kHz mono chunks, forever; a device that fails or vanishes is reopened."""
        backoff = _Backoff()
        opened = 0
        while not self._closed.is_set():
            if opened:
                self.restarts += 1
            opened += 1
            began = time.monotonic()
            queue: asyncio.Queue[bytes | None] = asyncio.Queue(self.QUEUE_CHUNKS)
            try:
                stream = self._stream = self._open(queue)
            except AudioDeviceError as err:
                _LOGGER.warning("Mic: %s", err)
            else:
                try:
                    while not self._closed.is_set():
                        try:
                            # Not wait_for: on 3.11 it swallows a cancel that comes as
                            # a chunk arrives, and the reading task would read on.
                            async with asyncio.timeout(1.0):
                                data = await queue.get()
                        except TimeoutError:
                            if stream.active and self._stream is stream:
                                continue
                            data = None
                        if data is None:
                            break
                        yield apply_volume(data, 2, self.volume)
                finally:
                    self._close_stream()
                if self._closed.is_set():
                    return
                _LOGGER.warning("Mic stream on %r stopped", self.device)
            delay = backoff.next_delay(time.monotonic() - began)
            _LOGGER.warning("Reopening mic in %.1f s", delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), delay)

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.abort()
            with contextlib.suppress(Exception):
                stream.close()

    async def close(self) -> None:
        """Stop the stream; the chunks() iterator ends."""
        self._closed.set()
        self._close_stream()


class _Playback:
    """One run of the sound command: the process, its stderr tail and what it was given."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.stderr: deque[str] = deque(maxlen=_STDERR_LINES)
        self.stderr_task = asyncio.create_task(_collect_stderr(proc.stderr, self.stderr))
        self.started = time.monotonic()
        self.written = 0

    async def finish(self) -> None:
        """Wait for the stderr reader (the process has exited, so its pipe is closing)."""
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.stderr_task, 1.0)


class CommandSink:
    """A playback command (e.g. aplay) taking raw PCM on stdin: one process per playback.

    A fresh process each time (as wyoming-satellite does) means abort() can kill it, and
    with it everything still sitting in the pipe and the command's own buffer.
    """

    def __init__(
        self,
        command: str,
        rate: int = 22050,
        width: int = 2,
        channels: int = 1,
        volume: float = 1.0,
    ) -> None:
        self.argv = _split_command(command, "--snd-command")
        PcmFormat(rate, width, channels).check()
        if volume < 0:
            raise ValueError(f"--snd-volume-multiplier must be >= 0, got {volume}")
        self.rate, self.width, self.channels = rate, width, channels
        self.volume = volume
        self._playback: _Playback | None = None

    async def _start(self) -> _Playback:
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as err:
            raise AudioDeviceError(
                f"sound command {shlex.join(self.argv)!r} failed to start: {err}"
            ) from err
        self._playback = _Playback(proc)
        return self._playback

    async def _failed(self, playback: _Playback, err: Exception | None = None) -> AudioDeviceError:
        """Reap a playback whose command died, describing how for the log."""
        if self._playback is playback:
            self._playback = None
        await _stop_process(playback.proc, 0)
        await playback.finish()
        return AudioDeviceError(
            "sound command " + _describe_exit(self.argv, playback.proc.returncode, playback.stderr)
        )

    async def write(self, pcm: bytes) -> None:
        """Queue audio for the current playback, starting the command if needed."""
        playback = self._playback or await self._start()
        proc = playback.proc
        if proc.returncode is not None:
            raise await self._failed(playback)
        assert proc.stdin is not None
        data = apply_volume(pcm, self.width, self.volume)
        try:
            proc.stdin.write(data)
            await asyncio.wait_for(proc.stdin.drain(), WRITE_TIMEOUT_S)
        except (BrokenPipeError, ConnectionResetError) as err:
            if self._playback is not playback:  # aborted meanwhile: nothing to report
                return
            await proc.wait()
            raise await self._failed(playback) from err
        except TimeoutError as err:
            if self._playback is not playback:
                return
            await self._failed(playback)
            raise AudioDeviceError(
                f"sound command {shlex.join(self.argv)!r} stopped reading audio"
            ) from err
        playback.written += len(data)

    async def drain(self) -> None:
        """Close stdin and wait until the command has played everything and exited."""
        playback, self._playback = self._playback, None
        if playback is None:
            return
        proc = playback.proc
        assert proc.stdin is not None
        played = time.monotonic() - playback.started
        remaining = max(0.0, playback.written / (self.rate * self.width * self.channels) - played)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            proc.stdin.close()
            await proc.stdin.wait_closed()
        try:
            await asyncio.wait_for(proc.wait(), remaining + DRAIN_MARGIN_S)
        except TimeoutError:
            _LOGGER.warning(
                "Sound command %r still running %.1f s after its audio should have ended; "
                "killed it",
                shlex.join(self.argv),
                DRAIN_MARGIN_S,
            )
            await _stop_process(proc, 0)
            await playback.finish()
            return
        await playback.finish()
        if proc.returncode != 0:
            raise AudioDeviceError(
                "sound command " + _describe_exit(self.argv, proc.returncode, playback.stderr)
            )

    async def abort(self) -> None:
        """Kill the playback now, discarding whatever it still had to play."""
        playback, self._playback = self._playback, None
        if playback is not None:
            await _stop_process(playback.proc)
            await playback.finish()


class SoundDeviceSink:
    """A PortAudio output (sounddevice), 16-bit mono at `rate`, opened per playback.

    Audio goes through a buffer that PortAudio's callback reads, so write() never blocks
    the event loop and abort() can throw the buffer away.
    """

    width = 2
    channels = 1

    def __init__(
        self, device: str | int | None = None, rate: int = 22050, volume: float = 1.0
    ) -> None:
        self._sd = _sounddevice()
        PcmFormat(rate, 2, 1).check()
        if volume < 0:
            raise ValueError(f"--snd-volume-multiplier must be >= 0, got {volume}")
        self.device = _parse_device(device)
        self.rate = rate
        self.volume = volume
        self._stream: Any = None
        self._lock = threading.Lock()
        self._buffer = bytearray()

    def _open(self) -> Any:
        def callback(outdata: Any, frames: int, _time: Any, status: Any) -> None:
            # PortAudio's thread: take what's buffered, pad with silence.
            wanted = frames * 2
            with self._lock:
                data = bytes(self._buffer[:wanted])
                del self._buffer[:wanted]
            outdata[: len(data)] = data
            if len(data) < wanted:
                outdata[len(data) :] = b"\x00" * (wanted - len(data))

        try:
            stream = self._sd.RawOutputStream(
                samplerate=self.rate,
                channels=1,
                dtype="int16",
                device=self.device,
                callback=callback,
            )
            stream.start()
        except (self._sd.PortAudioError, ValueError, OSError) as err:
            raise _device_error("output", self.device, err) from err
        return stream

    async def write(self, pcm: bytes) -> None:
        """Buffer audio for the current playback, opening the stream if needed."""
        data = apply_volume(pcm, 2, self.volume)
        if self._stream is None:
            # Buffered before the stream starts: its first callbacks would play silence.
            with self._lock:
                self._buffer[:] = data
            self._stream = self._open()
            return
        if not self._stream.active:
            self._close_stream()
            raise AudioDeviceError(f"output stream on {self.device!r} stopped")
        with self._lock:
            self._buffer.extend(data)

    async def drain(self) -> None:
        """Wait until the buffer has been played, then close the stream."""
        if self._stream is None:
            return
        with self._lock:
            remaining = len(self._buffer) / (self.rate * 2)
        deadline = time.monotonic() + remaining + DRAIN_MARGIN_S
        while time.monotonic() < deadline and self._stream.active:
            with self._lock:
                if not self._buffer:
                    break
            await asyncio.sleep(0.02)
        latency = float(getattr(self._stream, "latency", 0.0) or 0.0)
        await asyncio.sleep(min(latency, 0.5))
        stream, self._stream = self._stream, None
        try:
            await asyncio.to_thread(stream.stop)
        except Exception as err:  # any PortAudio failure here is the device's
            raise AudioDeviceError(f"output stream on {self.device!r} failed: {err}") from err
        finally:
            with contextlib.suppress(Exception):
                stream.close()

    async def abort(self) -> None:
        """Stop at once, discarding the buffer (PortAudio's abort skips draining)."""
        with self._lock:
            self._buffer.clear()
        self._close_stream()

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.abort()
            with contextlib.suppress(Exception):
                stream.close()


__all__ = [
    "MIC_CHANNELS",
    "MIC_RATE",
    "MIC_WIDTH",
    "AudioDeviceError",
    "CommandMic",
    "CommandSink",
    "MicSource",
    "SoundDeviceMic",
    "SoundDeviceSink",
    "SoundSink",
    "StreamConverter",
    "apply_volume",
]
