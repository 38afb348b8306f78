"""Every config-flow path against real services on 127.0.0.1."""

from __future__ import annotations

from ipaddress import ip_address

import pytest_socket
from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
from homeassistant.helpers.service_info.zeroconf import ZeroconfServiceInfo
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.local_voice.config_flow import _async_default_ports
from custom_components.local_voice.const import (
    CONF_HISTORY_TURNS,
    CONF_PREFER_LOCAL,
    CONF_SERVICES,
    DOMAIN,
)
from testkit.processes import ServiceProcess, free_port

from .foreign_service import wyoming_server

HOST = "127.0.0.1"


async def _start_user_flow(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    return str(result["flow_id"])


async def test_user_flow_creates_entry(hass: HomeAssistant, stt_service: ServiceProcess) -> None:
    flow_id = await _start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"host": HOST, "stt_port": stt_service.port}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    assert result["data"] == {"host": HOST, "stt_port": stt_service.port}
    entry = result["result"]
    assert entry.unique_id == HOST
    assert entry.title == f"Local Voice ({HOST})"


async def test_user_flow_cannot_connect(hass: HomeAssistant) -> None:
    flow_id = await _start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"host": HOST, "stt_port": free_port()}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"stt_port": "cannot_connect"}


async def test_user_flow_not_local_voice(hass: HomeAssistant) -> None:
    flow_id = await _start_user_flow(hass)
    async with wyoming_server() as port:
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"host": HOST, "stt_port": port}
        )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"stt_port": "not_local_voice"}


async def test_user_flow_wrong_service(hass: HomeAssistant, stt_service: ServiceProcess) -> None:
    """The speech-to-text service given as the text-to-speech port."""
    flow_id = await _start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"host": HOST, "tts_port": stt_service.port, "conversation_port": stt_service.port}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"tts_port": "wrong_service", "conversation_port": "wrong_service"}


async def test_user_flow_with_the_wake_service(
    hass: HomeAssistant, wake_service: ServiceProcess
) -> None:
    """The real wake service is refused on another service's port and taken on its own."""
    flow_id = await _start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"host": HOST, "stt_port": wake_service.port}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"stt_port": "wrong_service"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"host": HOST, "wake_port": wake_service.port}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    assert result["data"] == {"host": HOST, "wake_port": wake_service.port}


async def test_user_flow_needs_a_service(hass: HomeAssistant) -> None:
    flow_id = await _start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {"host": HOST})
    assert result["errors"] == {"base": "no_services"}


async def test_user_flow_recovers_after_error(
    hass: HomeAssistant, stt_service: ServiceProcess
) -> None:
    flow_id = await _start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"host": HOST, "stt_port": free_port()}
    )
    assert result["errors"] == {"stt_port": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"host": HOST, "stt_port": stt_service.port}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_user_flow_already_configured(
    hass: HomeAssistant, stt_service: ServiceProcess
) -> None:
    MockConfigEntry(domain=DOMAIN, unique_id=HOST, data={"host": HOST}).add_to_hass(hass)
    flow_id = await _start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"host": HOST, "stt_port": stt_service.port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


def _zeroconf(port: int) -> ZeroconfServiceInfo:
    return ZeroconfServiceInfo(
        ip_address=ip_address(HOST),
        ip_addresses=[ip_address(HOST)],
        port=port,
        hostname="voice.local.",
        type="_wyoming._tcp.local.",
        name="local-voice-stt._wyoming._tcp.local.",
        properties={},
    )


async def test_zeroconf_prefills_the_form(hass: HomeAssistant, stt_service: ServiceProcess) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_ZEROCONF}, data=_zeroconf(stt_service.port)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["data_schema"] is not None
    schema = result["data_schema"].schema
    suggested = {str(key): (key.description or {}).get("suggested_value") for key in schema}
    assert suggested["stt_port"] == stt_service.port
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": HOST, "stt_port": stt_service.port}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].data["stt_port"] == stt_service.port


async def test_zeroconf_other_service_aborts(hass: HomeAssistant) -> None:
    async with wyoming_server() as port:
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": config_entries.SOURCE_ZEROCONF}, data=_zeroconf(port)
        )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_local_voice"


async def test_zeroconf_already_configured(
    hass: HomeAssistant, stt_service: ServiceProcess
) -> None:
    MockConfigEntry(domain=DOMAIN, unique_id=HOST, data={"host": HOST}).add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_ZEROCONF}, data=_zeroconf(stt_service.port)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_hassio_prefills_the_form(hass: HomeAssistant, stt_service: ServiceProcess) -> None:
    info = HassioServiceInfo(
        config={"uri": f"tcp://{HOST}:{stt_service.port}"},
        name="Local Voice",
        slug="local_voice",
        uuid="1234",
    )
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_HASSIO}, data=info
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": HOST, "stt_port": stt_service.port}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_hassio_bad_uri_aborts(hass: HomeAssistant) -> None:
    info = HassioServiceInfo(config={"uri": "nonsense"}, name="x", slug="x", uuid="5678")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_HASSIO}, data=info
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_local_voice"


async def test_reconfigure(hass: HomeAssistant, stt_service: ServiceProcess) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=HOST,
        data={"host": HOST, "stt_port": free_port(), "pipeline_id": "kept"},
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": HOST, "stt_port": free_port()}
    )
    assert result["errors"] == {"stt_port": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": HOST, "stt_port": stt_service.port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["stt_port"] == stt_service.port
    await hass.async_block_till_done()


async def test_options_flow(hass: HomeAssistant, stt_service: ServiceProcess) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id=HOST, data={"host": HOST, "stt_port": stt_service.port}
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_SERVICES: ["stt"], CONF_PREFER_LOCAL: False, CONF_HISTORY_TURNS: 2},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        CONF_SERVICES: ["stt"],
        CONF_PREFER_LOCAL: False,
        CONF_HISTORY_TURNS: 2,
    }


async def test_form_suggests_every_default_port_when_none_answers(hass: HomeAssistant) -> None:
    """127.0.0.2 is loopback where nothing listens (the services bind 127.0.0.1)."""
    pytest_socket.socket_allow_hosts(["127.0.0.1", "127.0.0.2"])
    assert await _async_default_ports("127.0.0.2") == {
        "stt_port": 10300,
        "tts_port": 10200,
        "wake_port": 10400,
        "conversation_port": 10500,
    }
