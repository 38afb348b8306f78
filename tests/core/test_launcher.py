"""script/run: installs what is missing, starts the services, stops them on a signal."""

import os
import signal
import subprocess
import time

import pytest

from local_voice.info import describe
from local_voice.ports import LLM_PORT, SATELLITE_PORT, STT_PORT, TTS_PORT, WAKE_PORT
from testkit import ROOT
from testkit.processes import free_port


def start_run(offset: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(ROOT / "script" / "run"), "--port-offset", str(offset)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        start_new_session=True,
    )


def read_until(process: subprocess.Popen[str], marker: str, timeout: float = 120) -> str:
    assert process.stdout is not None
    output = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        output += line
        if marker in line:
            return output
    raise AssertionError(f"{marker!r} not printed; output:\n{output}")


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
async def test_script_run_serves_stt_and_stops_cleanly(stop_signal):
    offset = free_port() - STT_PORT  # every port shifted into free space: no fixed ports
    process = start_run(offset)
    try:
        output = read_until(process, "All services are running")
        uri = f"tcp://127.0.0.1:{STT_PORT + offset}"
        assert f"speech-to-text: {uri}" in output
        assert f"text-to-speech: tcp://127.0.0.1:{TTS_PORT + offset}" in output
        assert f"conversation agent: tcp://127.0.0.1:{LLM_PORT + offset}" in output
        info = await describe("127.0.0.1", STT_PORT + offset, timeout=5)
        assert info is not None and info.asr[0].models[0].name == "base"
        assert f"wake-word: tcp://127.0.0.1:{WAKE_PORT + offset}" in output
        wake = await describe("127.0.0.1", WAKE_PORT + offset, timeout=5)
        assert wake is not None and wake.wake[0].name == "local-voice-wake"
        assert f"satellite: tcp://127.0.0.1:{SATELLITE_PORT + offset}" in output
        satellite = await describe("127.0.0.1", SATELLITE_PORT + offset, timeout=5)
        assert satellite is not None and satellite.satellite is not None
        os.killpg(process.pid, stop_signal)  # what Ctrl-C in a terminal does
        assert process.wait(30) == 0
        assert "Stopped." in (process.stdout.read() if process.stdout else "")
        assert await describe("127.0.0.1", STT_PORT + offset, timeout=1) is None
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
