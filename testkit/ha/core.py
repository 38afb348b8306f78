"""A Home Assistant core as a child process: an offline configuration with the test home."""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from testkit import ROOT
from testkit.processes import ServiceProcess, free_port, spawn

from .home import home_config

COMPONENT = ROOT / "custom_components" / "local_voice"


def write_config(config_dir: Path, http_port: int) -> None:
    """A minimal offline configuration with the test home and the component installed."""
    config: dict[str, Any] = {
        # media URLs (TTS for announcements) must point where HTTP listens, not the LAN
        "homeassistant": {"internal_url": f"http://127.0.0.1:{http_port}"},
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
            "logs": {
                "custom_components.local_voice": "debug",
                "homeassistant.components.wyoming": "debug",
                "homeassistant.components.assist_satellite": "debug",
            },
        },
        **home_config(),
    }
    config_dir.mkdir(parents=True, exist_ok=True)
    # JSON is YAML: no YAML writer needed.
    (config_dir / "configuration.yaml").write_text(json.dumps(config, indent=2))
    target = config_dir / "custom_components" / "local_voice"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(COMPONENT, target, ignore=shutil.ignore_patterns("__pycache__"))


def start_core(python: str, config_dir: Path, port: int) -> ServiceProcess:
    """`python -m homeassistant -c CONFIG_DIR` (the configuration written for `port`)."""
    log_path = config_dir / "ha-console.log"
    command = [python, "-m", "homeassistant", "-c", str(config_dir), "--skip-pip"]
    return ServiceProcess(spawn(command, log_path, config_dir), port, log_path)


@contextlib.contextmanager
def home_assistant(python: str, config_dir: Path) -> Iterator[ServiceProcess]:
    """A core on a free port; stopped with SIGTERM."""
    port = free_port()
    write_config(config_dir, port)
    child = start_core(python, config_dir, port)
    try:
        yield child
    finally:
        child.stop()
