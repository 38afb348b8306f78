"""Services (and a Home Assistant core) as child processes on free ports, with their logs."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from wyoming.info import Info

from local_voice.info import describe, programs

from . import ROOT

SERVICE_PYTHON = ROOT / ".venv" / "bin" / "python"  # the services' Python 3.11 venv


def free_port() -> int:
    """A TCP port nothing listens on now (tests never use fixed ports)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServiceProcess:
    """A child process, the port it serves and its log file."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in (log := self.log):
                return log
            time.sleep(0.05)
        raise AssertionError(f"{text!r} not in server log:\n{self.log[-3000:]}")

    def stop(self, timeout: float = 20.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def spawn(command: list[str], log_path: Path, cwd: Path = ROOT) -> subprocess.Popen[bytes]:
    """Start `command` with stdout and stderr in `log_path`, unbuffered."""
    with log_path.open("wb") as log:
        return subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


def wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listens on port {port}")


@contextlib.contextmanager
def run_server(
    module: str,
    log_dir: Path,
    *args: str,
    python: str | Path = sys.executable,
    debug: bool = True,
    wait: bool = True,
) -> Iterator[ServiceProcess]:
    """`python -m module --uri tcp://127.0.0.1:PORT ARGS` on a free port, stopped after.

    `wait`: return once the port accepts connections (the model may still be loading)."""
    port = free_port()
    log_path = log_dir / f"{module}-{port}.log"
    command = [str(python), "-m", module, "--uri", f"tcp://127.0.0.1:{port}", *args]
    if debug:
        command.append("--debug")
    server = ServiceProcess(spawn(command, log_path), port, log_path)
    try:
        if wait:
            wait_listening(port, server.process)
        yield server
    finally:
        server.stop()


async def async_wait_described(
    child: ServiceProcess, timeout: float = 300.0, ready_log: str | None = None
) -> Info:
    """Wait until the service answers `describe` with an installed program (and, if given,
    `ready_log` appears in its log, e.g. the conversation service's "Warmed up")."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            raise RuntimeError(
                f"service exited with {child.process.returncode}:\n{child.log[-3000:]}"
            )
        info = await describe("127.0.0.1", child.port)
        ready = ready_log is None or ready_log in child.log
        if info and ready and any(p.installed for p in programs(info)):
            return info
        await asyncio.sleep(0.2)
    raise TimeoutError(f"service on {child.port} did not answer describe:\n{child.log[-3000:]}")


@contextlib.contextmanager
def running(command: list[str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Any server command, ours or a peer's, with its output in `log_path`; stopped after."""
    child = ServiceProcess(spawn(command, log_path), 0, log_path)
    try:
        yield child.process
    finally:
        child.stop()
