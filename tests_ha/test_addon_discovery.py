"""What each add-on announces (its discovery script, run against a stand-in Supervisor),
fed to Home Assistant's `wyoming` hassio flow and to the Local Voice integration's: both
create an entry that works with the running service.

The scripts run on this host with the bashio stand-in of tests/addons (bashio and jq);
the service they announce is the session's real one, so only the host name is swapped:
the payload names the add-on's host name, the test reaches the service on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_socket
from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
from homeassistant.util.yaml import load_yaml_dict

from custom_components.local_voice.const import DOMAIN
from testkit.addon_scripts import ADDONS_DIR, fake_supervisor, run_discovery
from testkit.processes import SERVICE_PYTHON, ServiceProcess, async_wait_described, run_server

HOST = "127.0.0.1"

pytestmark = pytest.mark.skipif(
    shutil.which("jq") is None or shutil.which("curl") is None,
    reason="the bashio stand-in needs jq and curl",
)


def discovery_payload(folder: str, port: int, tmp_path: Path) -> Any:
    """Run addons/FOLDER's discovery script (the service listens on `port`); what it
    POSTed to the Supervisor's /discovery."""
    (tmp_path / "options.json").write_text("{}")
    env = {**os.environ, "BASHIO_OPTIONS_FILE": str(tmp_path / "options.json")}
    with fake_supervisor() as supervisor:
        done = run_discovery(folder, env, supervisor, port)
    assert done.returncode == 0, done.stderr
    assert [path for path, _, _ in supervisor.requests] == ["/discovery"], supervisor.requests
    return supervisor.requests[0][2]


def addon_discovery(folder: str, port: int, tmp_path: Path) -> HassioServiceInfo:
    """The HassioServiceInfo Home Assistant builds from the add-on's discovery."""
    payload = discovery_payload(folder, port, tmp_path)
    hostname = socket.gethostname()
    assert payload == {"service": "wyoming", "config": {"uri": f"tcp://{hostname}:{port}"}}
    config = load_yaml_dict(ADDONS_DIR / folder / "config.yaml")
    return HassioServiceInfo(
        config={"uri": f"tcp://{HOST}:{port}"},
        name=str(config["name"]),
        slug=f"0123abcd_{config['slug']}",
        uuid=f"uuid-{folder}",
    )


@pytest.fixture(scope="session")
def satellite_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """The satellite with a silent microphone and a speaker that plays nowhere."""
    pytest_socket.enable_socket()
    with run_server(
        "wyoming_satellite",
        tmp_path_factory.mktemp("satellite"),
        *("--no-zeroconf", "--name", "Addon satellite"),
        *("--mic-command", "sleep 3600", "--snd-command", "cat"),
        python=SERVICE_PYTHON,
        debug=False,
        wait=False,
    ) as child:
        asyncio.run(async_wait_described(child))
        yield child


async def _wyoming_flow(hass: HomeAssistant, info: HassioServiceInfo) -> None:
    result = await hass.config_entries.flow.async_init(
        "wyoming", context={"source": config_entries.SOURCE_HASSIO}, data=info
    )
    assert result["type"] is FlowResultType.FORM, result
    assert result["step_id"] == "hassio_confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    assert result["title"] == info.name
    port = int(info.config["uri"].rsplit(":", 1)[1])
    assert result["data"] == {"host": HOST, "port": port}


async def _local_voice_flow(hass: HomeAssistant, info: HassioServiceInfo, port_key: str) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_HASSIO}, data=info
    )
    assert result["type"] is FlowResultType.FORM, result
    assert result["step_id"] == "user"
    # The form is pre-filled with what the add-on announced (other kinds: default ports).
    schema = result["data_schema"]
    assert schema is not None
    suggested = {
        str(key): key.description["suggested_value"]
        for key in schema.schema
        if key.description and "suggested_value" in key.description
    }
    port = int(info.config["uri"].rsplit(":", 1)[1])
    assert suggested[port_key] == port
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": HOST, port_key: port}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    assert result["data"] == {"host": HOST, port_key: port}
    await hass.async_block_till_done()
    entry = hass.config_entries.async_get_entry(result["result"].entry_id)
    assert entry is not None and entry.state is ConfigEntryState.LOADED


SERVICES = {"stt": "stt_port", "tts": "tts_port", "wake": "wake_port"}


@pytest.fixture(params=list(SERVICES))
def folder(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def services(
    stt_service: ServiceProcess, tts_service: ServiceProcess, wake_service: ServiceProcess
) -> dict[str, ServiceProcess]:
    """The session's running services (conftest), started before any test's loop."""
    return {"stt": stt_service, "tts": tts_service, "wake": wake_service}


@pytest.fixture
def service(services: dict[str, ServiceProcess], folder: str) -> ServiceProcess:
    return services[folder]


async def test_addon_discovery_creates_a_wyoming_entry(
    hass: HomeAssistant, service: ServiceProcess, folder: str, tmp_path: Path
) -> None:
    info = await hass.async_add_executor_job(addon_discovery, folder, service.port, tmp_path)
    await _wyoming_flow(hass, info)
    entry = hass.config_entries.async_entries("wyoming")[0]
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_addon_discovery_creates_a_local_voice_entry(
    hass: HomeAssistant, service: ServiceProcess, folder: str, tmp_path: Path
) -> None:
    info = await hass.async_add_executor_job(addon_discovery, folder, service.port, tmp_path)
    await _local_voice_flow(hass, info, SERVICES[folder])


async def test_satellite_addon_discovery_creates_a_wyoming_entry(
    hass: HomeAssistant, satellite_service: ServiceProcess, tmp_path: Path
) -> None:
    info = await hass.async_add_executor_job(
        addon_discovery, "satellite", satellite_service.port, tmp_path
    )
    await _wyoming_flow(hass, info)


@pytest.mark.slow
async def test_llm_addon_discovery_creates_both_entries(
    hass: HomeAssistant, llm_service: ServiceProcess, tmp_path: Path
) -> None:
    info = await hass.async_add_executor_job(addon_discovery, "llm", llm_service.port, tmp_path)
    await _wyoming_flow(hass, info)
    entry = hass.config_entries.async_entries("wyoming")[0]
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert await hass.config_entries.async_unload(entry.entry_id)
    await _local_voice_flow(hass, info, "conversation_port")
