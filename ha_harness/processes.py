"""Local Voice services and a Home Assistant core as child processes on free ports."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wyoming.info import Info

from local_voice.launcher import describe

from .home import home_config

ROOT = Path(__file__).resolve().parent.parent
SERVICE_PYTHON = ROOT / ".venv" / "bin" / "python"  # the services' Python 3.11 venv
COMPONENT = ROOT / "custom_components" / "local_voice"


def installed_programs(info: Info) -> list[Any]:
    groups = (info.asr, info.tts, info.wake, info.handle, info.intent)
    return [program for group in groups for program in group if program.installed]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Child:
    """A child process with its log file."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _spawn(command: list[str], log_path: Path, cwd: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        return subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


async def async_wait_described(
    child: Child, timeout: float = 300.0, ready_log: str | None = None
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
        if info and ready and any(p.installed for p in installed_programs(info)):
            return info
        await asyncio.sleep(0.2)
    raise TimeoutError(f"service on {child.port} did not answer describe:\n{child.log[-3000:]}")


@contextlib.contextmanager
def service(module: str, log_dir: Path, *args: str) -> Iterator[Child]:
    """`python -m module --uri tcp://127.0.0.1:PORT ARGS` from the services' venv."""
    port = free_port()
    log_path = log_dir / f"{module}-{port}.log"
    command = [str(SERVICE_PYTHON), "-m", module, "--uri", f"tcp://127.0.0.1:{port}", *args]
    child = Child(_spawn(command, log_path, ROOT), port, log_path)
    try:
        yield child
    finally:
        child.stop()


def write_config(config_dir: Path, http_port: int) -> None:
    """A minimal offline configuration with the test home and the component installed."""
    config: dict[str, Any] = {
        "http": {"server_host": "127.0.0.1", "server_port": http_port},
        "api": {},
        "websocket_api": {},
        "config": {},
        "conversation": {},
        "intent": {},
        "assist_pipeline": {},
        "stt": {},
        "tts": {},
        "wake_word": {},
        "logger": {
            "default": "warning",
            "logs": {"custom_components.local_voice": "debug"},
        },
        **home_config(),
    }
    config_dir.mkdir(parents=True, exist_ok=True)
    # JSON is YAML: no YAML writer needed.
    (config_dir / "configuration.yaml").write_text(json.dumps(config, indent=2))
    target = config_dir / "custom_components" / "local_voice"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(COMPONENT, target, ignore=shutil.ignore_patterns("__pycache__"))


@contextlib.contextmanager
def home_assistant(python: str, config_dir: Path) -> Iterator[Child]:
    """`python -m homeassistant -c CONFIG_DIR` on a free port; stopped with SIGTERM."""
    port = free_port()
    write_config(config_dir, port)
    log_path = config_dir / "ha-console.log"
    command = [python, "-m", "homeassistant", "-c", str(config_dir), "--skip-pip"]
    child = Child(_spawn(command, log_path, config_dir), port, log_path)
    try:
        yield child
    finally:
        child.stop()
