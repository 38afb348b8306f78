"""Fixtures for the Home Assistant tests: real Local Voice services on 127.0.0.1."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_socket
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from testkit.processes import SERVICE_PYTHON, ServiceProcess, async_wait_described, run_server

pytest_plugins = ["pytest_homeassistant_custom_component"]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom_components/local_voice from this checkout."""


@pytest.fixture(autouse=True)
async def core_integration(hass: HomeAssistant) -> None:
    """Home Assistant's core integration (exposed entities), as a real instance has."""
    assert await async_setup_component(hass, "homeassistant", {})


@pytest.fixture(autouse=True)
def auto_socket_enabled(socket_enabled: None) -> None:
    """The tests talk to real services on 127.0.0.1."""


def _installed(module: str) -> bool:
    """Whether the services' venv can run `module`."""
    check = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    return subprocess.run([str(SERVICE_PYTHON), "-c", check], check=False).returncode == 0


def _start(
    module: str, log_dir: Path, *args: str, ready_log: str | None = None
) -> Iterator[ServiceProcess]:
    if not SERVICE_PYTHON.exists() or not _installed(module):
        pytest.skip(f"{module} is not installed in .venv (run script/test)")
    pytest_socket.enable_socket()  # session fixtures start before the per-test switch
    with run_server(
        module, log_dir, *args, python=SERVICE_PYTHON, debug=False, wait=False
    ) as child:
        asyncio.run(async_wait_described(child, ready_log=ready_log))
        yield child


@pytest.fixture(scope="session")
def stt_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    yield from _start("wyoming_stt", tmp_path_factory.mktemp("stt"))


@pytest.fixture(scope="session")
def tts_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    yield from _start("wyoming_tts", tmp_path_factory.mktemp("tts"))


@pytest.fixture(scope="session")
def wake_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    yield from _start("wyoming_wake", tmp_path_factory.mktemp("wake"))


@pytest.fixture(scope="session")
def llm_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    # A generous timeout: the machine running the suite may be busy with other work.
    yield from _start(
        "wyoming_llm", tmp_path_factory.mktemp("llm"), "--timeout", "90", ready_log="Warmed up"
    )
