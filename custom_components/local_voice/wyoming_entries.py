"""Speech-to-text, text-to-speech and wake word through Home Assistant's own `wyoming` entries."""

from __future__ import annotations

import logging

from homeassistant.config_entries import SOURCE_USER, ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import entity_registry as er

from .const import WYOMING_DOMAIN, ServiceKind

_LOGGER = logging.getLogger(__name__)

ENTITY_DOMAINS = {
    ServiceKind.STT: "stt",
    ServiceKind.TTS: "tts",
    ServiceKind.WAKE: "wake_word",
}


def find_entry(hass: HomeAssistant, host: str, port: int) -> ConfigEntry | None:
    """The `wyoming` entry for host:port, whoever made it."""
    for entry in hass.config_entries.async_entries(WYOMING_DOMAIN, include_ignore=False):
        if entry.data.get(CONF_HOST) == host and entry.data.get(CONF_PORT) == port:
            return entry
    return None


def entry_matches(hass: HomeAssistant, entry_id: str, host: str, port: int | None) -> bool:
    """Whether the `wyoming` entry exists and serves host:port."""
    entry = hass.config_entries.async_get_entry(entry_id)
    return (
        entry is not None
        and port is not None
        and entry.data.get(CONF_HOST) == host
        and entry.data.get(CONF_PORT) == port
    )


async def async_ensure_entry(hass: HomeAssistant, host: str, port: int) -> tuple[str, bool]:
    """The id of the `wyoming` entry for host:port, and whether this call created it."""
    if (existing := find_entry(hass, host, port)) is not None:
        return existing.entry_id, False
    result = await hass.config_entries.flow.async_init(
        WYOMING_DOMAIN, context={"source": SOURCE_USER}, data={CONF_HOST: host, CONF_PORT: port}
    )
    if result["type"] is not FlowResultType.CREATE_ENTRY:
        raise ConfigEntryNotReady(
            f"Home Assistant's Wyoming integration could not add {host}:{port}: "
            f"{result.get('reason') or result.get('errors')}"
        )
    entry = result["result"]
    _LOGGER.info("Added Wyoming entry %s for %s:%s", entry.entry_id, host, port)
    return str(entry.entry_id), True


def engine_entity_id(hass: HomeAssistant, entry_id: str, kind: ServiceKind) -> str | None:
    """The stt/tts/wake_word entity a `wyoming` entry made for this service."""
    domain = ENTITY_DOMAINS[kind]
    for entity in er.async_entries_for_config_entry(er.async_get(hass), entry_id):
        if entity.domain == domain:
            return entity.entity_id
    return None


async def async_remove_entries(hass: HomeAssistant, entry_ids: list[str]) -> None:
    """Remove the `wyoming` entries Local Voice created (never the user's own)."""
    for entry_id in entry_ids:
        if hass.config_entries.async_get_entry(entry_id) is not None:
            await hass.config_entries.async_remove(entry_id)
            _LOGGER.info("Removed Wyoming entry %s", entry_id)
