"""Local Voice: a local Assist pipeline on the Local Voice Wyoming services."""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, MATCH_ALL, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import entity_registry as er
from wyoming.info import Info

from . import wyoming_entries
from .client import ServiceCheckError, async_check_service
from .const import (
    CONF_HISTORY_TURNS,
    CONF_PREFER_LOCAL,
    CONF_SERVICES,
    DATA_PIPELINE_ID,
    DATA_WYOMING_ENTRIES,
    DEFAULT_HISTORY_TURNS,
    DOMAIN,
    PORT_KEYS,
    WYOMING_KINDS,
    ServiceKind,
)
from .models import LocalVoiceConfigEntry, LocalVoiceData, info_languages
from .pipeline import (
    HOME_ASSISTANT_AGENT,
    PipelineSettings,
    async_ensure_pipeline,
    async_remove_pipeline,
    best_language,
)

_LOGGER = logging.getLogger(__name__)
PLATFORMS = [Platform.CONVERSATION]

__all__ = ["DOMAIN", "async_remove_entry", "async_setup_entry", "async_unload_entry"]


def enabled_kinds(entry: ConfigEntry) -> list[ServiceKind]:
    """Services with a port that the options have not switched off."""
    configured = [kind for kind, key in PORT_KEYS.items() if entry.data.get(key)]
    chosen = entry.options.get(CONF_SERVICES)
    return [kind for kind in configured if chosen is None or kind.value in chosen]


async def _async_infos(entry: ConfigEntry, kinds: list[ServiceKind]) -> dict[ServiceKind, Info]:
    host = entry.data[CONF_HOST]
    infos: dict[ServiceKind, Info] = {}
    for kind in kinds:
        port = int(entry.data[PORT_KEYS[kind]])
        try:
            infos[kind] = await async_check_service(host, port, kind)
        except ServiceCheckError as err:
            raise ConfigEntryNotReady(f"{kind} service at {host}:{port}: {err.reason}") from err
    return infos


async def _async_wire_wyoming(
    hass: HomeAssistant, entry: LocalVoiceConfigEntry, kinds: list[ServiceKind]
) -> dict[ServiceKind, str]:
    """Wyoming entries for the enabled services (reused or created); those we created that
    no longer fit (service switched off, host or port changed) are removed."""
    host = entry.data[CONF_HOST]
    created: dict[str, str] = dict(entry.data.get(DATA_WYOMING_ENTRIES, {}))
    wired: dict[ServiceKind, str] = {}
    for kind in WYOMING_KINDS:
        port = int(entry.data[PORT_KEYS[kind]]) if kind in kinds else None
        # An entry we made that no longer fits (service switched off, host or port changed).
        if kind.value in created and not wyoming_entries.entry_matches(
            hass, created[kind.value], host, port
        ):
            await wyoming_entries.async_remove_entries(hass, [created.pop(kind.value)])
        if port is not None:
            entry_id, new = await wyoming_entries.async_ensure_entry(hass, host, port)
            wired[kind] = entry_id
            if new:
                created[kind.value] = entry_id
    if created != entry.data.get(DATA_WYOMING_ENTRIES, {}):
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, DATA_WYOMING_ENTRIES: created}
        )
    return wired


def _conversation_entity_id(hass: HomeAssistant, entry: ConfigEntry) -> str | None:
    registry = er.async_get(hass)
    return registry.async_get_entity_id(
        Platform.CONVERSATION, DOMAIN, f"{entry.entry_id}-conversation"
    )


def _pipeline_settings(
    hass: HomeAssistant,
    entry: LocalVoiceConfigEntry,
    infos: dict[ServiceKind, Info],
    wired: dict[ServiceKind, str],
) -> PipelineSettings:
    language = hass.config.language or "en"

    def engine(kind: ServiceKind) -> str | None:
        entry_id = wired.get(kind)
        return wyoming_entries.engine_entity_id(hass, entry_id, kind) if entry_id else None

    def lang(kind: ServiceKind) -> str | None:
        return best_language(language, info_languages(infos[kind])) if kind in infos else None

    stt_engine, tts_engine, wake_entity = (engine(k) for k in WYOMING_KINDS)
    agent = _conversation_entity_id(hass, entry) if ServiceKind.CONVERSATION in infos else None
    conversation_language = lang(ServiceKind.CONVERSATION) or MATCH_ALL
    wake_words = (
        [
            m.name
            for p in infos[ServiceKind.WAKE].wake
            if p.installed
            for m in p.models
            if m.installed
        ]
        if ServiceKind.WAKE in infos
        else []
    )
    return PipelineSettings(
        language=language,
        conversation_engine=agent or HOME_ASSISTANT_AGENT,
        conversation_language=language if agent is None else conversation_language,
        stt_engine=stt_engine,
        stt_language=lang(ServiceKind.STT) if stt_engine else None,
        tts_engine=tts_engine,
        tts_language=lang(ServiceKind.TTS) if tts_engine else None,
        wake_word_entity=wake_entity,
        wake_word_id=wake_words[0] if wake_entity and wake_words else None,
        prefer_local_intents=bool(entry.options.get(CONF_PREFER_LOCAL, True)),
    )


async def async_setup_entry(hass: HomeAssistant, entry: LocalVoiceConfigEntry) -> bool:
    """Check the services, wire the Wyoming entries, the agent and the pipeline."""
    kinds = enabled_kinds(entry)
    infos = await _async_infos(entry, kinds)
    wired = await _async_wire_wyoming(hass, entry, kinds)
    entry.runtime_data = LocalVoiceData(
        host=entry.data[CONF_HOST],
        infos=infos,
        wyoming_entry_ids=wired,
        history_turns=int(entry.options.get(CONF_HISTORY_TURNS, DEFAULT_HISTORY_TURNS)),
    )
    if ServiceKind.CONVERSATION in infos:
        entry.runtime_data.conversation_port = int(entry.data[PORT_KEYS[ServiceKind.CONVERSATION]])
        await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    elif (agent_id := _conversation_entity_id(hass, entry)) is not None:
        er.async_get(hass).async_remove(agent_id)  # the options switched the agent off
    settings = _pipeline_settings(hass, entry, infos, wired)
    pipeline_id = await async_ensure_pipeline(hass, entry.data.get(DATA_PIPELINE_ID), settings)
    entry.runtime_data.pipeline_id = pipeline_id
    if entry.data.get(DATA_PIPELINE_ID) != pipeline_id:
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, DATA_PIPELINE_ID: pipeline_id}
        )
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    return True


async def _async_options_updated(hass: HomeAssistant, entry: ConfigEntry) -> None:
    await hass.config_entries.async_reload(entry.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: LocalVoiceConfigEntry) -> bool:
    """Unload the conversation agent; the pipeline and Wyoming entries stay until removal."""
    if entry.runtime_data.conversation_port is None:
        return True
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Remove what setup created: the pipeline and the Wyoming entries."""
    data: dict[str, Any] = dict(entry.data)
    await async_remove_pipeline(hass, data.get(DATA_PIPELINE_ID))
    await wyoming_entries.async_remove_entries(
        hass, list(data.get(DATA_WYOMING_ENTRIES, {}).values())
    )
