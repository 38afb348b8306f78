"""A room for the satellite's tests and benchmark: a fake microphone the test speaks
into, a fake speaker that records what was heard, and optionally the speaker's sound
fed back into the microphone (testkit/fake_mic.py, testkit/fake_speaker.py)."""

from __future__ import annotations

import shlex
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from .processes import SERVICE_PYTHON


@dataclass
class Heard:
    """One playback process's audio: when it started and stopped being heard."""

    path: Path
    start: float  # unix time of the first 20 ms
    end: float  # unix time of the last 20 ms
    pcm: bytes
    rate: int

    @property
    def seconds(self) -> float:
        return len(self.pcm) / 2 / self.rate


class Room:
    def __init__(self, directory: Path, echo_db: float | None = None, rate: int = 22050) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.mic_socket = directory / "mic.sock"
        self.heard_dir = directory / "heard"
        self.echo_db = echo_db
        self.rate = rate
        self._clips = 0
        self._sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)

    def satellite_args(self, python: Path = SERVICE_PYTHON) -> list[str]:
        mic = f"{shlex.quote(str(python))} -m testkit.fake_mic {shlex.quote(str(self.mic_socket))}"
        snd = [str(python), "-m", "testkit.fake_speaker", str(self.heard_dir), str(self.rate)]
        if self.echo_db is not None:
            snd += [str(self.mic_socket), str(self.echo_db)]
        return [
            *("--mic-command", mic),
            *("--snd-command", shlex.join(snd)),
            *("--snd-command-rate", str(self.rate)),
        ]

    def _send(self, message: bytes) -> None:
        deadline = time.monotonic() + 10
        while True:
            try:
                self._sender.sendto(message, str(self.mic_socket))
                return
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)  # the microphone command is (re)starting

    def say(self, pcm: bytes) -> float:
        """Speak 16 kHz mono PCM into the microphone now; its length in seconds."""
        self._clips += 1
        path = self.directory / f"said-{self._clips}.pcm"
        path.write_bytes(pcm)
        self._send(b"P" + str(path).encode())
        return len(pcm) / 32000

    def kill_mic(self) -> None:
        """The microphone command exits, as a device unplugged would."""
        self._send(b"X")

    def heard(self) -> list[Heard]:
        """Every playback so far, oldest first."""
        out = []
        for log in sorted(self.heard_dir.glob("*.log")):
            lines = log.read_text().split()
            if not lines:
                continue
            pcm = log.with_suffix(".pcm").read_bytes()
            out.append(Heard(log, float(lines[0]), float(lines[-2]) + 0.02, pcm, self.rate))
        return out
