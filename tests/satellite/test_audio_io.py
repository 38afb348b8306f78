"""The satellite's mic sources, sound sinks, mic processing and tones, on real processes."""

import asyncio
import itertools
import logging
import os
import shlex
import sys
import threading
import time
import wave
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest

from local_voice.audio import AudioFormatError, PcmFormat
from wyoming_satellite.audio_io import (
    MIC_RATE,
    AudioDeviceError,
    CommandMic,
    CommandSink,
    MicSource,
    SoundDeviceMic,
    SoundDeviceSink,
    SoundSink,
    StreamConverter,
    _Backoff,
)
from wyoming_satellite.mic_processing import MicProcessor
from wyoming_satellite.tones import TONES, default_tone, load_tone

PY = shlex.quote(sys.executable)

# Prints `seconds` of a known pattern at real-time pace, then exits. Mono 16-bit: sample
# i is (i * 7) % 20000 - 10000; otherwise a 440 Hz sine at half scale on every channel.
WRITER = """
import array, math, sys, time
rate, width, channels, seconds, kind = {rate}, {width}, {channels}, {seconds}, {kind!r}
out = sys.stdout.buffer
total = int(rate * seconds)
block = rate // 50
start = time.monotonic()
for first in range(0, total, block):
    n = min(block, total - first)
    if kind == "ramp":
        values = [(i * 7) % 20000 - 10000 for i in range(first, first + n)]
    elif kind == "loud":
        values = [20000 if i % 2 else -1000 for i in range(first, first + n)]
    else:
        full = 2 ** (8 * width - 1) - 1
        values = [
            int(0.5 * full * math.sin(2 * math.pi * 440 * i / rate))
            for i in range(first, first + n) for _ in range(channels)
        ]
    out.write(array.array("h" if width == 2 else "i", values).tobytes())
    out.flush()
    delay = start + (first + n) / rate - time.monotonic()
    if delay > 0:
        time.sleep(delay)
"""


def writer_command(
    seconds: float, rate: int = 16000, width: int = 2, channels: int = 1, kind: str = "ramp"
) -> str:
    code = WRITER.format(rate=rate, width=width, channels=channels, seconds=seconds, kind=kind)
    return f"{PY} -c {shlex.quote(code)}"


def ramp(count: int) -> npt.NDArray[np.int16]:
    return (np.arange(count) * 7 % 20000 - 10000).astype(np.int16)


async def eventually(condition: Callable[[], object], timeout: float) -> None:
    """Wait until condition() holds, failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    for _ in itertools.count():
        if condition():
            return
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def collect(mic: MicSource, count: int, timeout: float = 10.0) -> list[bytes]:
    chunks = []
    async with asyncio.timeout(timeout):
        async for chunk in mic.chunks():
            chunks.append(chunk)
            if len(chunks) == count:
                break
    return chunks


# --- CommandMic -----------------------------------------------------------------------


async def test_command_mic_yields_the_commands_audio_in_20_ms_chunks():
    mic = CommandMic(writer_command(0.5))
    try:
        chunks = await collect(mic, 20)
    finally:
        await mic.close()
    assert {len(chunk) for chunk in chunks} == {640}
    audio = np.frombuffer(b"".join(chunks), np.int16)
    np.testing.assert_array_equal(audio, ramp(len(audio)))
    assert mic.restarts == 0


async def test_command_mic_converts_48_khz_stereo_32_bit_to_16_khz_mono():
    mic = CommandMic(writer_command(0.6, 48000, 4, 2, "sine"), 48000, 4, 2, chunk_ms=30)
    try:
        chunks = await collect(mic, 15)
    finally:
        await mic.close()
    assert {len(chunk) for chunk in chunks} == {960}  # 30 ms at 16 kHz, 16-bit
    audio = np.frombuffer(b"".join(chunks), np.int16).astype(np.float64)[1600:]
    rms = np.sqrt(np.mean(audio**2))
    assert rms == pytest.approx(0.5 * 32767 / np.sqrt(2), rel=0.05)
    spectrum = np.abs(np.fft.rfft(audio))
    peak_hz = np.argmax(spectrum) * MIC_RATE / len(audio)
    assert peak_hz == pytest.approx(440, abs=10)


async def test_command_mic_restarts_an_exited_command_with_back_off(caplog):
    caplog.set_level(logging.WARNING, "wyoming_satellite.audio_io")
    mic = CommandMic(writer_command(0.1))
    received = []

    async def consume() -> None:
        async for chunk in mic.chunks():
            received.append(chunk)

    task = asyncio.create_task(consume())
    try:
        await eventually(lambda: mic.restarts >= 2, 8)
        count = len(received)
        # Each run gives 100 ms (5 chunks); nothing arrives while it's down.
        assert 10 <= count <= 15
    finally:
        await mic.close()
        async with asyncio.timeout(2):
            await task
    delays = [r.getMessage() for r in caplog.records if "Restarting mic" in r.getMessage()]
    assert delays[:2] == ["Restarting mic command in 0.5 s", "Restarting mic command in 1.0 s"]
    assert any("exited with code 0" in r.getMessage() for r in caplog.records)


async def test_a_missing_mic_command_is_logged_and_retried_without_raising(caplog):
    caplog.set_level(logging.WARNING, "wyoming_satellite.audio_io")
    mic = CommandMic("/nonexistent/arecord -r 16000")
    task = asyncio.create_task(collect(mic, 1, timeout=30))
    try:
        await eventually(lambda: mic.restarts >= 1, 3)
        assert not task.done()
    finally:
        await mic.close()
        assert await asyncio.wait_for(task, 2) == []
    assert "failed to start" in caplog.text
    assert "/nonexistent/arecord" in caplog.text


async def test_mic_volume_multiplier_scales_and_clips():
    mic = CommandMic(writer_command(0.2, kind="loud"), volume=2.0)
    try:
        chunks = await collect(mic, 5)
    finally:
        await mic.close()
    audio = np.frombuffer(b"".join(chunks), np.int16)
    assert set(audio[1::2]) == {32767}  # 20000 x 2 clips
    assert set(audio[0::2]) == {-2000}


async def test_close_stops_a_mic_that_delivers_faster_than_real_time():
    mic: MicSource = CommandMic("cat /dev/zero")
    received = 0

    async def consume() -> None:
        nonlocal received
        async for _chunk in mic.chunks():
            received += 1

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.2)
    await mic.close()
    await asyncio.wait_for(task, 1)
    assert received > 10


def test_back_off_doubles_to_10_s_and_resets_after_a_long_run():
    backoff = _Backoff()
    assert [backoff.next_delay(0.1) for _ in range(7)] == [0.5, 1, 2, 4, 8, 10, 10]
    assert backoff.next_delay(31.0) == 0.5
    assert backoff.next_delay(1.0) == 1.0


def test_an_empty_or_unparsable_mic_command_is_refused():
    with pytest.raises(ValueError, match="empty"):
        CommandMic("  ")
    with pytest.raises(ValueError, match="parsed"):
        CommandMic("arecord 'unclosed")


# --- CommandSink ----------------------------------------------------------------------

# Copies stdin to a file, 20 ms of 22050 Hz 16-bit mono every 20 ms (an aplay stand-in).
SLOW_READER = """
import os, sys, time
with open({pid!r}, "w") as f:
    f.write(str(os.getpid()))
with open({out!r}, "wb") as out:
    while data := sys.stdin.buffer.read(882):
        out.write(data)
        out.flush()
        time.sleep(0.02)
"""


def tone_bytes(seconds: float, rate: int = 22050) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return (8000 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes()


async def test_command_sink_write_and_drain_delivers_the_exact_bytes(tmp_path):
    out = tmp_path / "played.raw"
    sink: SoundSink = CommandSink(f"sh -c {shlex.quote(f'cat > {shlex.quote(str(out))}')}")
    assert (sink.rate, sink.width, sink.channels) == (22050, 2, 1)
    audio = tone_bytes(1.0)
    for start in range(0, len(audio), 4410):
        await sink.write(audio[start : start + 4410])
    await sink.drain()
    assert out.read_bytes() == audio
    # The next playback is a fresh process.
    await sink.write(audio[:1000])
    await sink.drain()
    assert out.read_bytes() == audio[:1000]


async def test_command_sink_volume_is_applied(tmp_path):
    out = tmp_path / "played.raw"
    sink = CommandSink(f"sh -c {shlex.quote(f'cat > {shlex.quote(str(out))}')}", volume=0.5)
    audio = np.array([1000, -1000, 30000], "<i2").tobytes()
    await sink.write(audio)
    await sink.drain()
    assert np.frombuffer(out.read_bytes(), "<i2").tolist() == [500, -500, 15000]


async def test_command_sink_abort_kills_the_playback_at_once(tmp_path):
    out, pid_file = tmp_path / "played.raw", tmp_path / "pid"
    code = SLOW_READER.format(pid=str(pid_file), out=str(out))
    sink = CommandSink(f"{PY} -c {shlex.quote(code)}")
    audio = tone_bytes(1.0)  # 44100 bytes: fits in the pipe, so write() doesn't wait
    await sink.write(audio)
    await eventually(lambda: pid_file.exists() and pid_file.read_text(), 5)
    await asyncio.sleep(0.2)
    started = time.monotonic()
    await sink.abort()
    assert time.monotonic() - started < 0.2
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)
    size = out.stat().st_size
    await asyncio.sleep(0.1)
    assert out.stat().st_size == size < len(audio) // 2
    # The next playback starts a fresh process.
    pid_file.unlink()
    await sink.write(audio[:882])
    await sink.drain()
    assert out.read_bytes() == audio[:882]


async def play_slowly(sink: SoundSink, audio: bytes) -> None:
    """Two writes with time between them, so a command that dies has died by the second."""
    await sink.write(audio)
    await asyncio.sleep(0.3)
    await sink.write(audio)
    await sink.drain()


async def test_a_failing_sound_command_raises_and_the_next_playback_works(tmp_path):
    flag, out = tmp_path / "failed-once", tmp_path / "played.raw"
    script = f"if [ -e {flag} ]; then cat > {out}; else touch {flag}; echo no card >&2; exit 1; fi"
    sink = CommandSink(f"sh -c {shlex.quote(script)}")
    audio = tone_bytes(0.1)
    with pytest.raises(AudioDeviceError, match="exited with code 1: no card"):
        await play_slowly(sink, audio)
    await sink.write(audio)
    await sink.drain()
    assert out.read_bytes() == audio


async def test_false_and_a_missing_binary_raise_audio_device_error():
    sink = CommandSink("false")
    with pytest.raises(AudioDeviceError, match="code 1"):
        await play_slowly(sink, tone_bytes(0.05))
    await sink.drain()  # nothing left over
    missing = CommandSink("/nonexistent/aplay -r 22050")
    for _ in range(2):
        with pytest.raises(AudioDeviceError, match="failed to start"):
            await missing.write(tone_bytes(0.05))


# --- PortAudio, with no sound devices on this machine ----------------------------------


async def test_sounddevice_mic_without_a_device_logs_and_retries(caplog):
    caplog.set_level(logging.WARNING, "wyoming_satellite.audio_io")
    mic = SoundDeviceMic("no such mic")
    as_protocol: MicSource = mic  # the satellite holds either kind as a MicSource
    assert as_protocol is mic
    task = asyncio.create_task(collect(mic, 1, timeout=30))
    try:
        await eventually(lambda: mic.restarts >= 1, 3)
        assert not task.done()
    finally:
        await mic.close()
        assert await asyncio.wait_for(task, 2) == []
    assert "can't open input device 'no such mic'" in caplog.text
    assert "Reopening mic in 0.5 s" in caplog.text


async def test_sounddevice_sink_without_a_device_raises_audio_device_error():
    for device in (None, "no such speaker", "7"):
        sink: SoundSink = SoundDeviceSink(device)
        with pytest.raises(AudioDeviceError, match=r"can't open .*output device"):
            await sink.write(tone_bytes(0.05))
        await sink.drain()
        await sink.abort()


# --- convert ----------------------------------------------------------------------------


def test_stream_converter_resamples_and_mixes_down_without_clipping():
    stereo = np.repeat(np.frombuffer(tone_bytes(0.5), "<i2")[:, None], 2, axis=1) * 3
    down = StreamConverter(PcmFormat(22050, 2, 2), PcmFormat(16000, 2, 1))
    mono = np.frombuffer(down.convert(stereo.astype("<i2").tobytes()), "<i2")
    assert abs(len(mono) - 8000) <= 2
    assert np.max(np.abs(mono)) == pytest.approx(24000, rel=0.02)
    same = tone_bytes(0.1)
    assert StreamConverter(PcmFormat(22050, 2, 1), PcmFormat(22050, 2, 1)).convert(same) is same
    wide = StreamConverter(PcmFormat(22050, 2, 1), PcmFormat(48000, 4, 2)).convert(same)
    assert abs(len(wide) - 4800 * 8) <= 16
    with pytest.raises(AudioFormatError, match="whole number"):
        down.convert(b"\x00" * 6)


def test_stream_converter_in_pieces_equals_converting_the_whole():
    """Resampler state carries across pieces: 20 ms pieces join without seams."""
    pcm = tone_bytes(1.0)
    whole = StreamConverter(PcmFormat(22050, 2, 1), PcmFormat(48000, 2, 1)).convert(pcm)
    pieces = StreamConverter(PcmFormat(22050, 2, 1), PcmFormat(48000, 2, 1))
    step = 441 * 2  # 20 ms at 22.05 kHz
    joined = b"".join(pieces.convert(pcm[i : i + step]) for i in range(0, len(pcm), step))
    assert joined == whole


# --- MicProcessor -----------------------------------------------------------------------


def test_mic_processor_off_is_an_exact_passthrough():
    processor = MicProcessor()
    pcm = ramp(1234).tobytes()
    assert processor.process(pcm) is pcm


def test_mic_processor_checks_its_ranges():
    with pytest.raises(ValueError, match="--mic-auto-gain must be an integer from 0 to 31"):
        MicProcessor(auto_gain=32)
    with pytest.raises(ValueError, match=r"--mic-noise-suppression .* 0 to 4"):
        MicProcessor(noise_suppression=5)
    with pytest.raises(ValueError, match="got -1"):
        MicProcessor(noise_suppression=-1)
    with pytest.raises(ValueError, match="got True"):
        MicProcessor(auto_gain=True)


def speech_and_noise(
    seconds: float = 6.0,
) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.bool_]]:
    """Bursts of a voiced, vowel-like sound every other second, over steady white noise."""
    rng = np.random.default_rng(1)
    t = np.arange(int(MIC_RATE * seconds)) / MIC_RATE
    voice = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 20))
    syllables = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t)
    on = (t % 2.0) < 1.0
    noise = rng.normal(0, 600, len(t))
    signal = 2500 * voice * syllables * on + noise
    return np.clip(signal, -32768, 32767).astype(np.int16), on


def test_noise_suppression_lowers_the_noise_floor_and_keeps_the_length():
    audio, speaking = speech_and_noise()
    processor = MicProcessor(noise_suppression=2)
    pcm = audio.tobytes()
    out, position, size = [], 0, 37
    while position < len(pcm):
        piece = pcm[position : position + size * 2]
        result = processor.process(piece)
        assert len(result) == len(piece)
        out.append(result)
        position += len(piece)
        size = size * 3 % 997 + 1  # odd, changing chunk sizes
    processed = np.frombuffer(b"".join(out), np.int16).astype(np.float64)
    assert len(processed) == len(audio)
    # The last pause (5-6 s), trimmed at its edges: noise only.
    pause = slice(int(5.1 * MIC_RATE), int(5.9 * MIC_RATE))
    assert not speaking[pause].any()
    before = np.sqrt(np.mean(audio[pause].astype(np.float64) ** 2))
    after = np.sqrt(np.mean(processed[pause] ** 2))
    assert after < 0.5 * before
    # Speech survives (4-5 s).
    voiced = slice(int(4.1 * MIC_RATE), int(4.9 * MIC_RATE))
    assert np.sqrt(np.mean(processed[voiced] ** 2)) > 5 * after


def test_mic_processor_lags_under_10_ms():
    processor = MicProcessor(auto_gain=5)
    first = processor.process(bytes(640))
    assert len(first) == 640
    pulse = np.zeros(1600, np.int16)
    pulse[0] = 1  # tiny, so gain control barely moves it
    assert len(processor.process(pulse.tobytes())) == 3200
    with pytest.raises(ValueError, match="half a 16-bit sample"):
        processor.process(b"\x00")


# --- Tones -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [("awake", 0.2, 0.3), ("done", 0.2, 0.3), ("error", 0.25, 0.5), ("timer", 0.9, 1.1)],
)
def test_default_tones_have_their_length_rate_and_peak(name, low, high):
    pcm, rate = default_tone(name)
    assert rate == 22050
    samples = np.frombuffer(pcm, "<i2").astype(np.float64)
    assert low <= len(samples) / rate <= high
    peak_dbfs = 20 * np.log10(np.max(np.abs(samples)) / 32768)
    assert -13 <= peak_dbfs <= -11
    assert abs(samples[0]) < 100
    assert abs(samples[-1]) < 100  # faded out: repeating or cutting it doesn't click


def test_the_tones_are_distinct_and_unknown_names_are_refused():
    assert len({default_tone(name)[0] for name in TONES}) == len(TONES)
    with pytest.raises(ValueError, match="unknown tone"):
        default_tone("beep")


def test_load_tone_reads_a_44_khz_stereo_wav(tmp_path):
    path = tmp_path / "awake.wav"
    left = np.frombuffer(tone_bytes(0.5, 44100), "<i2")
    stereo = np.stack([left, left], axis=1).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setframerate(44100)
        wav.setsampwidth(2)
        wav.setnchannels(2)
        wav.writeframes(stereo.tobytes())
    pcm, rate = load_tone(path, "awake")
    assert rate == 44100
    np.testing.assert_array_equal(np.frombuffer(pcm, "<i2"), left)
    assert load_tone(None, "done") == default_tone("done")


def test_load_tone_refuses_missing_and_non_wav_files(tmp_path):
    missing = tmp_path / "missing.wav"
    with pytest.raises(ValueError, match=str(missing)):
        load_tone(missing, "awake")
    text = tmp_path / "notes.wav"
    text.write_text("not a wav")
    with pytest.raises(ValueError, match=str(text)):
        load_tone(text, "done")
    with pytest.raises(ValueError, match=str(tmp_path)):
        load_tone(tmp_path, "timer")


class FakePortAudio:
    """Stands in for the sounddevice module (third-party): streams run their callback in
    a thread every 20 ms, as PortAudio does, so the thread hand-off is exercised."""

    PortAudioError = OSError

    def __init__(self) -> None:
        self.played = bytearray()

    def RawInputStream(self, **kwargs: object) -> "FakeStream":
        return FakeStream(self, output=False, **kwargs)

    def RawOutputStream(self, **kwargs: object) -> "FakeStream":
        return FakeStream(self, output=True, **kwargs)


class FakeStream:
    def __init__(self, fake: FakePortAudio, output: bool, **kwargs: object) -> None:
        self.fake, self.output, self.kwargs = fake, output, kwargs
        self.active, self.latency = False, 0.01
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.active = True
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        frames, sample = 320, 0
        callback = self.kwargs["callback"]
        assert callable(callback)
        while self.active:
            if self.output:
                buffer = bytearray(frames * 2)
                callback(buffer, frames, None, None)
                self.fake.played.extend(buffer)
            else:
                callback(ramp(sample + frames)[sample:].tobytes(), frames, None, None)
                sample += frames
            time.sleep(0.02)

    def stop(self) -> None:
        self.abort()

    def abort(self) -> None:
        self.active = False
        if self.thread is not None:
            self.thread.join()
        finished = self.kwargs.get("finished_callback")
        if callable(finished):
            finished()

    def close(self) -> None:
        pass


async def test_sounddevice_classes_hand_audio_across_the_portaudio_thread():
    fake = FakePortAudio()
    mic = SoundDeviceMic("1", volume=0.5)
    mic._sd = fake
    chunks = await collect(mic, 5, timeout=5)
    await mic.close()
    assert [len(chunk) for chunk in chunks] == [640] * 5
    expected = (ramp(1600).astype(np.int32) // 2).astype(np.int16)
    np.testing.assert_allclose(np.frombuffer(b"".join(chunks), np.int16), expected, atol=1)

    sink = SoundDeviceSink(None, rate=16000)
    sink._sd = fake
    audio = np.full(4000, 1000, "<i2").tobytes()  # 250 ms
    await sink.write(audio)
    await sink.drain()
    assert bytes(fake.played).strip(b"\x00") == audio
    fake.played.clear()
    await sink.write(audio)
    await sink.abort()
    assert len(bytes(fake.played).strip(b"\x00")) < len(audio)
