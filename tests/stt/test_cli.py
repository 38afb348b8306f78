"""Command-line behaviour: option checks, the stdio transport, defaults."""

import subprocess
import sys

import pytest
from wyoming.event import Event, read_event, write_event

from testkit import ROOT, clips
from testkit.client import transcribe, transcript_text
from testkit.processes import run_server
from testkit.wer import word_error_rate


def run_cli(
    *args: str, stdin: bytes = b"", timeout: float = 60
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "wyoming_stt", *args],
        input=stdin,
        capture_output=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "huge"], "unknown model 'huge'"),
        (["--model", "tiny.en", "--language", "de"], "does not transcribe --language 'de'"),
        (["--device", "gpu"], "--device must be cpu, cuda or cuda:N"),
        (["--beam-size", "0"], "--beam-size must be greater than zero"),
        (["--uri", "http://127.0.0.1:1"], "Only 'stdio://', 'unix://', or 'tcp://'"),
        (["--uri", "stdio://", "--zeroconf"], "--zeroconf needs a tcp:// URI"),
    ],
)
def test_bad_options_are_refused_clearly(args, message):
    result = run_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr.decode()


def test_port_in_use(tmp_path):
    with run_server("wyoming_stt", tmp_path) as server:
        result = run_cli("--uri", f"tcp://127.0.0.1:{server.port}")
    assert result.returncode == 1
    assert "Can't listen on" in result.stderr.decode()


def encode(*events: Event) -> bytes:
    from io import BytesIO

    out = BytesIO()
    for event in events:
        write_event(event, out)
    return out.getvalue()


def decode_all(data: bytes) -> list[Event]:
    from io import BytesIO

    stream, events = BytesIO(data), []
    while (event := read_event(stream)) is not None:
        events.append(event)
    return events


def test_stdio_transport():
    pcm = clips.padded(clips.piper("turn off the kitchen lights"))
    fmt = {"rate": 16000, "width": 2, "channels": 1}
    requests = encode(
        Event("describe"),
        Event("transcribe", {"language": "en"}),
        Event("audio-start", fmt),
        *(Event("audio-chunk", fmt, pcm[i : i + 4096]) for i in range(0, len(pcm), 4096)),
        Event("audio-stop"),
        Event("audio-stop"),  # a bad request: answered with an error, no crash
    )
    result = run_cli("--uri", "stdio://", stdin=requests)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    events = decode_all(result.stdout)
    types = [event.type for event in events]
    assert types[0] == "info" and types[-1] == "error", types
    assert "without audio-start" in events[-1].data["text"]
    assert word_error_rate("turn off the kitchen lights", transcript_text(events)) == 0


async def test_language_option_is_normalised(tmp_path):
    pcm = clips.padded(clips.piper("turn off the kitchen lights"))
    with run_server("wyoming_stt", tmp_path, "--language", "en-US") as server:
        events = await transcribe(server.port, pcm, language=None)
    assert events[-2].data["language"] == "en"
    assert word_error_rate("turn off the kitchen lights", transcript_text(events)) == 0


async def test_silence_and_noise_give_empty_transcripts_quickly(stt_server):
    import numpy as np

    noise = (np.random.default_rng(3).normal(0, 2000, 3 * 16000)).astype(np.int16).tobytes()
    for audio in (b"", clips.silence(2.0), noise):
        events = await transcribe(stt_server.port, audio)
        assert transcript_text(events) == ""
    log = stt_server.log
    assert "(too-short)" in log and "(silence)" in log
