"""The satellite's PortAudio paths for real: sounddevice → libportaudio2 → ALSA, with
ALSA's own `file` and `null` plugins standing in for a sound card.

ALSA's null plugin never waits: it reports its whole buffer free (or full) whenever it
is asked, so over it alone PortAudio runs its callbacks as fast as the CPU allows (a
16 kHz mono capture ran at 600 times real time). What paces these devices is the file
plugin in front of it: given a descriptor number (`infile 5`, `file 6`) instead of a
path, it reads its input from and writes its output to that descriptor with blocking
calls, and here each is a pipe (of one page, 21 ms) to this process, written (the
microphone) or read (the speaker) at real-time pace. A number, not a path: PortAudio
opens every pcm while it lists the devices, and the file plugin opens an `infile` path
at once (a FIFO blocks it until a writer comes), while it leaves a descriptor alone until
audio flows. (A regular `infile` isn't paced, and at its end the plugin hands over its
last buffer again and again; a regular output `file` grows at hundreds of MB/s.)

Over each file pcm a `plug` pcm converts, as ALSA's `default` does on a real machine:
the microphone pcm holds 48 kHz stereo, read by the satellite's 16 kHz mono stream
through ALSA's rate and route plugins; the speaker pcm takes 48 kHz stereo whatever
rate the satellite plays at.

PortAudio reads ALSA's configuration once, when it starts, so every check runs in a
process of its own with ALSA_CONFIG_PATH pointing at this test's configuration.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from testkit import ROOT
from testkit.client import LEGACY_VERSION, RawClient
from testkit.processes import SERVICE_PYTHON, ServiceProcess, async_wait_described, free_port
from wyoming_satellite import audio_io

MIC_PCM, SPEAKER_PCM = "lv_mic", "lv_speaker"
FILE_RATE, FILE_CHANNELS = 48000, 2  # what the file pcms hold: 16-bit stereo at 48 kHz
FILE_FRAME = 2 * FILE_CHANNELS
FILE_BYTES_PER_S = FILE_RATE * FILE_FRAME
# 20 ms a write: under PIPE_BUF (4096), so each write is atomic and whole frames.
BLOCK = FILE_RATE // 50 * FILE_FRAME
# The pipes hold one page, 21 ms: the pcm's output reaches this process 21 ms after it
# left ALSA, and an idle microphone has only that much of a head start.
PIPE_BYTES = 4096
PLAY_RATE = 22050  # the satellite's default --snd rate (Home Assistant's TTS audio)

# `plug` over `file` over `null`. `</usr/share/alsa/alsa.conf>` first: a configuration of
# our own replaces ALSA's, and the plugins' definitions live there. The inner file pcms
# are named too (lv_mic_file, lv_speaker_file), so "lv_mic" matches two of PortAudio's
# devices and the lookup (sounddevice's, given the satellite's name) must pick the exact one.
ALSA_CONFIG = """\
</usr/share/alsa/alsa.conf>
pcm.{mic}_file {{
    type file
    slave.pcm "null"
    file "/dev/null"
    infile {mic_fd}
    format "raw"
}}
pcm.{mic} {{
    type plug
    slave {{ pcm "{mic}_file" rate {rate} channels {channels} format S16_LE }}
}}
pcm.{speaker}_file {{
    type file
    slave.pcm "null"
    file {speaker_fd}
    format "raw"
}}
pcm.{speaker} {{
    type plug
    slave {{ pcm "{speaker}_file" rate {rate} channels {channels} format S16_LE }}
}}
"""

# What runs in the child: one device check, its findings as JSON on the last line of
# stdout. A heartbeat task measures how long the event loop is ever held up.
CHILD = r"""
import asyncio, json, sys, time
from wyoming_satellite.audio_io import AudioDeviceError, SoundDeviceMic, SoundDeviceSink
from wyoming_satellite.audio_io import _sounddevice

async def heartbeat(report):
    last = time.monotonic()
    while True:
        await asyncio.sleep(0.005)
        now = time.monotonic()
        report["max_stall"] = max(report.get("max_stall", 0.0), now - last)
        last = now


async def main(mode, device, *args):
    report = {}
    beat = asyncio.create_task(heartbeat(report))
    await asyncio.sleep(0.01)
    if mode == "probe":
        try:
            sd = _sounddevice()
        except AudioDeviceError as err:
            report["error"] = str(err)
        else:
            report["devices"] = [
                [d["name"], d["max_input_channels"], d["max_output_channels"]]
                for d in sd.query_devices()
            ]
    elif mode == "mic":
        count, path = int(args[0]), args[1]
        mic = SoundDeviceMic(device)
        chunks, times = [], []
        async with asyncio.timeout(10):
            async for chunk in mic.chunks():
                chunks.append(chunk)
                times.append(time.monotonic())
                if len(chunks) == count:
                    break
        began = time.monotonic()
        await mic.close()
        report.update(close_s=time.monotonic() - began, times=times, restarts=mic.restarts)
        with open(path, "wb") as out:
            out.write(b"".join(chunks))
        report["sizes"] = sorted({len(chunk) for chunk in chunks})
    elif mode == "play":
        with open(args[0], "rb") as sound:
            pcm = sound.read()
        sink = SoundDeviceSink(device, rate=int(args[1]))
        report["started"] = time.monotonic()
        await sink.write(pcm)
        report["written"] = time.monotonic()
        report["latency"] = sink._stream.latency
        await sink.drain()
        report["drained"] = time.monotonic()
    elif mode == "abort":
        with open(args[0], "rb") as sound:
            pcm = sound.read()
        with open(args[3], "rb") as sound:
            after = sound.read()
        sink = SoundDeviceSink(device, rate=int(args[1]))
        report["started"] = time.monotonic()
        await sink.write(pcm)
        await asyncio.sleep(float(args[2]))
        report["aborting"] = time.monotonic()
        await sink.abort()
        report["aborted"] = time.monotonic()
        await asyncio.sleep(0.8)  # the output must stay still meanwhile
        report["again"] = time.monotonic()
        await sink.write(after)  # the next playback opens the device afresh
        await sink.drain()
        report["drained"] = time.monotonic()
    beat.cancel()
    print(json.dumps(report))

asyncio.run(main(*sys.argv[1:]))
"""


class AlsaDevices:
    """The two ALSA pcms over pipes to this process, for one child process.

    lv_mic reads `mic_audio` (48 kHz stereo) and then silence, written in real time;
    what lv_speaker plays arrives in `played`, read in real time. Along with ALSA's own
    buffer, the pipes' one page (21 ms) is this "sound card's" buffer.
    """

    def __init__(self, directory: Path, mic_audio: bytes = b"") -> None:
        assert len(mic_audio) % FILE_FRAME == 0
        self.directory = directory
        self.mic_audio = mic_audio
        self.mic_written = 0  # bytes the microphone pcm has taken from its pipe
        self.played: list[tuple[float, bytes]] = []  # (monotonic time read, bytes)
        self._mic_read, self._mic_write = os.pipe()
        self._speaker_read, self._speaker_write = os.pipe()
        for fd in (self._mic_write, self._speaker_write):  # the "card's" own buffer
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        self.config = directory / "asound.conf"
        self.config.write_text(
            ALSA_CONFIG.format(
                mic=MIC_PCM,
                speaker=SPEAKER_PCM,
                mic_fd=self._mic_read,
                speaker_fd=self._speaker_write,
                rate=FILE_RATE,
                channels=FILE_CHANNELS,
            )
        )
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._feed_mic, daemon=True),
            threading.Thread(target=self._read_speaker, daemon=True),
        ]

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "ALSA_CONFIG_PATH": str(self.config), "PYTHONUNBUFFERED": "1"}

    @property
    def pass_fds(self) -> tuple[int, int]:
        return self._mic_read, self._speaker_write

    def start(self) -> None:
        """Once the child has its ends of the pipes: close ours, start pacing."""
        os.close(self._mic_read)
        os.close(self._speaker_write)
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """After the child has exited (the speaker pipe is at its end); once only."""
        if self._stop.is_set():
            return
        self._stop.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(5)
        if not self._threads[0].ident:  # never started: the child's ends are still ours
            os.close(self._mic_read)
            os.close(self._speaker_write)
        os.close(self._mic_write)
        os.close(self._speaker_read)

    def _feed_mic(self) -> None:
        silence = bytes(BLOCK)
        due = time.monotonic()
        offset = 0
        while not self._stop.is_set():
            block = self.mic_audio[offset : offset + BLOCK] or silence
            offset += len(block)
            try:
                os.write(self._mic_write, block)  # blocks while the pipe is full
            except OSError:  # the child has gone
                return
            self.mic_written += len(block)
            due += len(block) / FILE_BYTES_PER_S
            delay = due - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
            elif delay < -0.04:  # held up by a full pipe: real time again, no burst
                due = time.monotonic()

    def _read_speaker(self) -> None:
        due = time.monotonic()
        while data := os.read(self._speaker_read, BLOCK):  # b"": the child has exited
            self.played.append((time.monotonic(), data))
            due += len(data) / FILE_BYTES_PER_S
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -0.04:  # nothing was playing: real time from now on
                due = time.monotonic()

    def played_audio(self) -> npt.NDArray[np.int16]:
        """What the speaker pcm wrote: one row a frame, one column a channel."""
        data = b"".join(piece for _, piece in self.played)
        data = data[: len(data) - len(data) % FILE_FRAME]
        return np.frombuffer(data, "<i2").reshape(-1, FILE_CHANNELS)

    def last_sound_at(self) -> float:
        """When the last piece holding more than silence came out of the speaker pcm."""
        loud = [at for at, piece in self.played if piece.strip(b"\x00")]
        return loud[-1] if loud else 0.0


@contextlib.contextmanager
def devices(directory: Path, mic_audio: bytes = b"") -> Iterator[AlsaDevices]:
    alsa = AlsaDevices(directory, mic_audio)
    try:
        yield alsa
    finally:
        alsa.stop()


def run_child(alsa: AlsaDevices, *args: str, timeout: float = 20.0) -> dict[str, Any]:
    """Run one CHILD check against `alsa`'s pcms; its report."""
    process = subprocess.Popen(
        [str(SERVICE_PYTHON), "-c", CHILD, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=alsa.env,
        pass_fds=alsa.pass_fds,
    )
    alsa.start()
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise AssertionError(f"{args[0]} check timed out:\n{err.decode()[-3000:]}") from None
    alsa.stop()
    assert process.returncode == 0, err.decode()[-3000:]
    report: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return report


@pytest.fixture(scope="module")
def portaudio(tmp_path_factory: pytest.TempPathFactory) -> list[list[Any]]:
    """PortAudio's device list under this configuration; skips without PortAudio/ALSA."""
    with devices(tmp_path_factory.mktemp("probe")) as alsa:
        report = run_child(alsa, "probe", "")
    if "error" in report:
        pytest.skip(str(report["error"]))
    listed: list[list[Any]] = report["devices"]
    names = [name for name, _, _ in listed]
    if MIC_PCM not in names or SPEAKER_PCM not in names:
        pytest.skip(f"ALSA's file/null plugins gave PortAudio no {MIC_PCM}/{SPEAKER_PCM}: {names}")
    return listed


def stereo_source(seconds: float) -> npt.NDArray[np.int16]:
    """48 kHz stereo: a 300 Hz to 3 kHz sweep on the left (it matches itself at one offset
    only), 1 kHz on the right (so a wrong mixdown shows)."""
    left = chirp(seconds, FILE_RATE, 300.0, 3000.0, peak=8000)
    t = np.arange(len(left)) / FILE_RATE
    right = np.round(6000 * np.sin(2 * np.pi * 1000 * t)).astype("<i2")
    return np.stack([left, right], axis=1)


def chirp(
    seconds: float,
    rate: int = PLAY_RATE,
    low: float = 300.0,
    high: float = 3000.0,
    peak: float = 8000.0,
) -> npt.NDArray[np.int16]:
    """A sweep from `low` to `high` Hz: it matches itself at one offset only."""
    t = np.arange(int(seconds * rate)) / rate
    phase = 2 * np.pi * (low * t + (high - low) * t**2 / (2 * seconds))
    return np.round(peak * np.sin(phase)).astype("<i2")


def sound_span(audio: npt.NDArray[Any], threshold: int = 200) -> tuple[int, int]:
    """First and one past the last sample louder than `threshold`."""
    loud = np.flatnonzero(np.abs(audio.astype(np.int32)) > threshold)
    assert len(loud), "nothing but silence"
    return int(loud[0]), int(loud[-1]) + 1


async def eventually(condition: Any, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


def quiet_frames(audio: npt.NDArray[Any], threshold: int = 200, least: int = 24) -> int:
    """How many frames of `audio` are in runs of at least `least` quiet ones."""
    quiet = np.concatenate([[False], np.abs(audio.astype(np.int32)) <= threshold, [False]])
    edges = np.flatnonzero(np.diff(quiet.astype(np.int8)))
    runs = edges[1::2] - edges[::2]
    return int(runs[runs >= least].sum())


def matching_offset(
    chunk: npt.NDArray[Any], source: npt.NDArray[Any], at: int, tolerance: float = 8.0
) -> int | None:
    """The offset k within ±0.2 s for which `chunk` is source[at + k :: 3][: len(chunk)]
    to within `tolerance`, or None. (Each of the three phases of `source` is searched by
    normalised cross-correlation, then the best place checked sample by sample.)"""
    low = max(0, at - FILE_RATE // 5)
    segment = source[low : at + FILE_RATE // 5 + 3 * len(chunk)].astype(np.float64)
    y = chunk.astype(np.float64)
    best: tuple[float, int] = (np.inf, 0)
    for phase in range(3):
        x = segment[phase::3]
        if len(x) < len(y):
            continue
        n = 1 << int(np.ceil(np.log2(len(x) + len(y))))
        scores = np.fft.irfft(np.fft.rfft(x, n) * np.conj(np.fft.rfft(y, n)), n)
        energy = np.convolve(x**2, np.ones(len(y)), "valid")
        j = int(np.argmax(scores[: len(energy)] / np.sqrt(energy + 1e-9)))
        error = float(np.abs(x[j : j + len(y)] - y).max())
        best = min(best, (error, low + phase + 3 * j - at))
    return best[1] if best[0] <= tolerance else None


def correlation_at_best_offset(got: npt.NDArray[Any], expected: npt.NDArray[Any]) -> float:
    """Normalised cross-correlation of `expected` within `got`, at the best offset."""
    x = got.astype(np.float64)
    y = expected.astype(np.float64)
    n = 1 << int(np.ceil(np.log2(len(x) + len(y))))
    scores = np.fft.irfft(np.fft.rfft(x, n) * np.conj(np.fft.rfft(y, n)), n)[: len(x) - len(y) + 1]
    best = int(np.argmax(scores))
    window = x[best : best + len(y)]
    return float(scores[best] / (np.linalg.norm(window) * np.linalg.norm(y) + 1e-9))


# --- microphone --------------------------------------------------------------------------


def test_mic_device_yields_16_khz_mono_chunks_of_the_alsa_pcms_audio(tmp_path, portaudio):
    """48 kHz stereo in the pcm: 20 ms chunks of 16 kHz mono, sample for sample ALSA's
    conversion (every third frame, the channels averaged), at real-time pace."""
    source = stereo_source(2.5)
    count = 75  # 1.5 s, well within the source
    path = tmp_path / "mic.raw"
    with devices(tmp_path, source.tobytes()) as alsa:
        report = run_child(alsa, "mic", MIC_PCM, str(count), str(path))
    assert report["sizes"] == [640] and report["restarts"] == 0, report
    got = np.frombuffer(path.read_bytes(), "<i2").astype(np.int32)
    assert len(got) == count * 320

    # Chunk by chunk, the expected mixdown (every third frame, the channels averaged) at
    # some 48 kHz offset. While the stream starts (its first 0.1-0.2 s), ALSA's file
    # plugin hands over periods it hasn't filled, or skips some of its input: it reads
    # the pipe with read(), short while the pipe runs nearly dry, and counts the frames it
    # asked for. There the offset jumps by up to 0.1 s; after that it holds.
    mixed = source.astype(np.int32).sum(axis=1) / 2
    offsets = [matching_offset(got[i : i + 320], mixed, 3 * i) for i in range(0, len(got), 320)]
    matched = [offset for offset in offsets if offset is not None]
    assert len(matched) >= 0.8 * count, f"{len(matched)} of {count} chunks are the pcm's audio"
    steady = offsets[-40:]
    assert len(set(steady)) == 1 and steady[0] is not None, f"not one steady offset: {steady}"

    # After the first few (the pipe's page, and ALSA's buffer filled at once) the chunks
    # come at the device's pace, 50 a second; the event loop is never held up.
    times = report["times"]
    assert 0.75 < times[-1] - times[25] < 1.4, times[-1] - times[25]
    assert report["max_stall"] < 0.25, report["max_stall"]
    assert report["close_s"] < 0.5, report["close_s"]


def test_mic_device_by_index(tmp_path, portaudio):
    """--mic-device 3 means PortAudio's device 3: the satellite's index form resolves."""
    index = [name for name, _, _ in portaudio].index(MIC_PCM)
    source = stereo_source(1.5)
    path = tmp_path / "mic.raw"
    with devices(tmp_path, source.tobytes()) as alsa:
        report = run_child(alsa, "mic", str(index), "30", str(path))
    assert report["sizes"] == [640] and report["restarts"] == 0, report
    got = np.frombuffer(path.read_bytes(), "<i2").astype(np.int32)
    mixed = source.astype(np.int32).sum(axis=1) / 2
    steady = [matching_offset(got[i : i + 320], mixed, 3 * i) for i in range(6400, 9600, 320)]
    assert len(set(steady)) == 1 and steady[0] is not None, steady


class FeedingStream:
    """A PortAudio input stream whose callback the test calls itself."""

    def __init__(self, callback: Any, finished_callback: Any, **_: object) -> None:
        self.callback, self.finished, self.active = callback, finished_callback, False

    def start(self) -> None:
        self.active = True

    def abort(self) -> None:
        if self.active:
            self.active = False
            self.finished()

    def close(self) -> None:
        pass


async def test_a_mic_device_consumer_cancelled_as_a_chunk_arrives_ends(monkeypatch):
    """No device needed. The satellite stops its microphone by cancelling the task that
    reads it; a chunk arriving in the same loop turn must not swallow the cancellation
    (asyncio.wait_for on Python 3.11 does: it returns the chunk instead), or the task
    reads on and the satellite never exits on SIGTERM."""
    streams: list[FeedingStream] = []

    def stream(**kwargs: Any) -> FeedingStream:
        streams.append(FeedingStream(**kwargs))
        return streams[-1]

    portaudio = SimpleNamespace(RawInputStream=stream, PortAudioError=OSError)
    monkeypatch.setattr(audio_io, "_sounddevice", lambda: portaudio)
    mic = audio_io.SoundDeviceMic("lv_mic")
    got: list[bytes] = []

    async def read() -> None:
        async for chunk in mic.chunks():
            got.append(chunk)

    task = asyncio.create_task(read())
    try:
        await eventually(lambda: streams and streams[-1].active)
        await asyncio.sleep(0.05)  # waiting for the next chunk
        streams[-1].callback(bytes(640), 320, None, None)  # handed to the loop ...
        asyncio.get_running_loop().call_soon(task.cancel)  # ... and cancelled with it
        await asyncio.wait([task], timeout=3)
        assert task.cancelled(), f"still reading after cancel(), {len(got)} chunk(s) in"
    finally:
        await mic.close()
        await asyncio.wait([task], timeout=3)


# --- speaker ----------------------------------------------------------------------------


def test_snd_device_plays_the_exact_samples_and_drain_waits_for_them(tmp_path, portaudio):
    """A 1 s sweep at 48 kHz, one write: the pcm holds exactly its samples on both
    channels, after the silence PortAudio starts a stream with, then silence; drain()
    returns once the "card" (ALSA's buffer and the pipe) has taken it all."""
    sound = chirp(1.0, rate=FILE_RATE)
    path = tmp_path / "sound.raw"
    path.write_bytes(sound.tobytes())
    with devices(tmp_path) as alsa:
        report = run_child(alsa, "play", SPEAKER_PCM, str(path), str(FILE_RATE))
    played = alsa.played_audio()
    assert np.array_equal(played[:, 0], played[:, 1]), "mono should reach both channels"
    # PortAudio starts a stream with its buffer of silence (its latency, 32 ms here); the
    # sound follows at once: it was buffered before the stream started.
    start = int(np.flatnonzero(played[:, 0])[0]) - int(np.flatnonzero(sound)[0])
    assert 0 <= start <= (report["latency"] + 0.02) * FILE_RATE, (start / FILE_RATE, report)
    assert np.array_equal(played[start : start + len(sound), 0], sound)
    assert not played[start + len(sound) :].any(), "only silence after the sound"

    assert report["written"] - report["started"] < 0.2, report
    # Paced by the device: drain() returns once ALSA has passed it all on, which is 0.1 s
    # or so before this end of the pipe has read it.
    assert 0.7 < report["drained"] - report["started"] < 1.0 + 2.0 + 1.0, report
    assert report["drained"] - 0.1 < alsa.last_sound_at() < report["drained"] + 0.5, report
    assert report["max_stall"] < 0.25, report["max_stall"]


class StartingStream:
    """A PortAudio output stream as it starts: its callback runs before start() returns
    (as it may: PortAudio's thread asks for audio as soon as the device has room)."""

    def __init__(self, callback: Any, **_: object) -> None:
        self.callback, self.active, self.latency = callback, False, 0.0
        self.first = bytearray(640)

    def start(self) -> None:
        self.active = True
        self.callback(self.first, 320, None, None)

    def stop(self) -> None:
        self.active = False

    abort = stop

    def close(self) -> None:
        pass


async def test_snd_device_buffers_the_first_piece_before_the_stream_starts(monkeypatch):
    """No device needed: the first callback of a playback gets its audio, not silence."""
    streams: list[StartingStream] = []

    def stream(**kwargs: Any) -> StartingStream:
        streams.append(StartingStream(**kwargs))
        return streams[-1]

    portaudio = SimpleNamespace(RawOutputStream=stream, PortAudioError=OSError)
    monkeypatch.setattr(audio_io, "_sounddevice", lambda: portaudio)
    sink = audio_io.SoundDeviceSink(None, rate=16000)
    audio = np.full(320, 1000, "<i2").tobytes()
    for _ in range(2):  # and again on the next playback's fresh stream
        await sink.write(audio)
        assert bytes(streams[-1].first) == audio
        await sink.drain()


def test_snd_device_resamples_22050_hz(tmp_path, portaudio):
    """A 1 s sweep at 22050 Hz (the satellite's default rate) comes out as 1 s of 48 kHz
    stereo that follows the sweep (ALSA's linear resampler is not sample-exact, and
    drops a frame here and there: 0.04 %)."""
    sound = chirp(1.0)
    path = tmp_path / "sound.raw"
    path.write_bytes(sound.tobytes())
    with devices(tmp_path) as alsa:
        run_child(alsa, "play", SPEAKER_PCM, str(path), str(PLAY_RATE))
    played = alsa.played_audio()
    assert np.array_equal(played[:, 0], played[:, 1]), "mono should reach both channels"
    first, end = sound_span(played[:, 0])
    assert abs((end - first) - FILE_RATE) <= 0.005 * FILE_RATE, (end - first) / FILE_RATE
    expected = np.interp(
        np.arange(FILE_RATE) / FILE_RATE,
        np.arange(len(sound)) / PLAY_RATE,
        sound.astype(np.float64),
    )
    got = played[first - 100 : end + 100, 0].astype(np.float64)
    block = FILE_RATE // 20  # 50 ms: each near where it belongs, shaped like the sweep
    scores = [
        correlation_at_best_offset(
            got[start : start + block + 200], expected[start : start + block]
        )
        for start in range(0, FILE_RATE - block + 1, block)
    ]
    assert min(scores) > 0.99, scores
    assert np.abs(played[:, 0].astype(np.int32)).max() < 8200  # no gain, no clipping


def test_snd_device_abort_stops_playback_at_once(tmp_path, portaudio):
    """abort() 0.5 s into a 3 s sound: the pcm's output stops within the "card's" buffer,
    and the next playback opens the device again and is played exactly."""
    long, after = chirp(3.0, FILE_RATE, 300, 600), chirp(0.3, FILE_RATE, 2000, 3000)
    long_path, after_path = tmp_path / "long.raw", tmp_path / "after.raw"
    long_path.write_bytes(long.tobytes())
    after_path.write_bytes(after.tobytes())
    with devices(tmp_path) as alsa:
        report = run_child(
            alsa, "abort", SPEAKER_PCM, str(long_path), str(FILE_RATE), "0.5", str(after_path)
        )
    assert report["aborted"] - report["aborting"] < 0.1, report
    # Between the abort and the next playback: nothing once ALSA's buffer and the pipe
    # are through, however much of the sound was left.
    late = [at for at, _ in alsa.played if report["aborted"] + 0.3 < at < report["again"]]
    assert not late, f"output went on {late[-1] - report['aborted']:.2f} s after abort()"

    played = alsa.played_audio()[:, 0]
    times = np.concatenate([np.full(len(piece) // FILE_FRAME, at) for at, piece in alsa.played])
    before = played[times[: len(played)] < report["again"]]
    first, end = sound_span(before)
    assert 0.3 * FILE_RATE < end - first < 0.8 * FILE_RATE, (end - first) / FILE_RATE
    start = first - int(np.flatnonzero(long)[0])
    assert np.array_equal(before[start:end], long[: end - start]), "not the sound's beginning"
    again = played[len(before) :]
    start = int(np.flatnonzero(again)[0]) - int(np.flatnonzero(after)[0])
    assert np.array_equal(again[start : start + len(after)], after)
    assert not again[start + len(after) :].any()
    assert report["max_stall"] < 0.25, report["max_stall"]


# --- the satellite ------------------------------------------------------------------------


@contextlib.contextmanager
def satellite_on(alsa: AlsaDevices, directory: Path) -> Iterator[ServiceProcess]:
    """`python -m wyoming_satellite` on a free port with `alsa`'s pcms; stopped after."""
    port = free_port()
    log_path = directory / "satellite.log"
    command = [
        str(SERVICE_PYTHON),
        *("-m", "wyoming_satellite", "--uri", f"tcp://127.0.0.1:{port}"),
        *("--no-zeroconf", "--no-tones", "--debug"),
        *("--mic-device", MIC_PCM, "--snd-device", SPEAKER_PCM),
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=alsa.env,
            pass_fds=alsa.pass_fds,
        )
    alsa.start()
    satellite = ServiceProcess(process, port, log_path)
    try:
        yield satellite
    finally:
        satellite.stop()


async def test_satellite_with_mic_and_snd_devices(tmp_path, portaudio):
    """`python -m wyoming_satellite --mic-device lv_mic --snd-device lv_speaker`: it
    answers describe, reads the microphone pcm at its pace, and plays an announcement
    through the speaker pcm before it reports `played`."""
    with devices(tmp_path) as alsa, satellite_on(alsa, tmp_path) as satellite:
        info = await async_wait_described(satellite, 30)
        assert info.satellite is not None and info.satellite.installed
        client = await RawClient.connect(satellite.port, LEGACY_VERSION)
        try:
            await client.send("run-satellite")
            await client.send("describe")
            await client.receive_until("info", timeout=10)
            read = alsa.mic_written
            await asyncio.sleep(0.5)
            taken = (alsa.mic_written - read) / FILE_BYTES_PER_S
            assert 0.3 < taken < 0.8, f"the mic pcm gave {taken:.2f} s of audio in 0.5 s"

            sound = chirp(0.5)
            fmt = {"rate": PLAY_RATE, "width": 2, "channels": 1}
            await client.send("audio-start", {**fmt, "timestamp": 0})
            pcm = sound.tobytes()
            for start in range(0, len(pcm), 2048):
                await client.send("audio-chunk", fmt, pcm[start : start + 2048])
            sent = time.monotonic()
            await client.send("audio-stop", {"timestamp": 500})
            await client.receive_until("played", timeout=10)
            assert time.monotonic() - sent > 0.4  # at the device's pace
        finally:
            await client.close()
        satellite.process.terminate()
        try:  # PortAudio's streams, closed on the way out, don't hold the exit up
            code = satellite.process.wait(10)
        except subprocess.TimeoutExpired:
            code = None
        log = satellite.log
        assert code == 0, f"exit code {code} after SIGTERM:\n{log[-3000:]}"
    # The announcement came out whole. The player hands the device 20 ms pieces 60 ms
    # ahead; this "card" takes its buffer's worth at once when a stream starts (a real one
    # starts full of PortAudio's silence), so the first piece can run out before the next
    # comes: allow for brief gaps there.
    played = alsa.played_audio()[:, 0]
    first, end = sound_span(played)
    gaps = quiet_frames(played[first:end])
    assert gaps < 0.06 * FILE_RATE, gaps / FILE_RATE
    sounding = end - first - gaps
    assert abs(sounding - FILE_RATE / 2) <= 0.01 * FILE_RATE, sounding / FILE_RATE
    for trouble in ("can't open", "Mic stream", "Reopening mic", "Traceback", "WARNING"):
        assert trouble not in log, log[-3000:]
