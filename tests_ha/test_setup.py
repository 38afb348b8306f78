"""Setup wires Wyoming entries and one "Local Voice" pipeline; removal undoes it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from homeassistant.components import wake_word
from homeassistant.components.assist_pipeline import async_get_pipelines
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.local_voice.const import CONF_PREFER_LOCAL, CONF_SERVICES, DOMAIN
from testkit.ha.session import speak
from testkit.processes import ServiceProcess, free_port

HOST = "127.0.0.1"


def _pipelines(hass: HomeAssistant) -> list[str]:
    return [p.name for p in async_get_pipelines(hass) if p.name == "Local Voice"]


def _state(entry: MockConfigEntry) -> ConfigEntryState:
    return entry.state  # type: ignore[no-any-return]


async def _add(hass: HomeAssistant, data: dict[str, object], **kwargs: object) -> MockConfigEntry:
    entry = MockConfigEntry(domain=DOMAIN, unique_id=HOST, data=data, **kwargs)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def test_setup_wires_wyoming_and_pipeline(
    hass: HomeAssistant, stt_service: ServiceProcess
) -> None:
    entry = await _add(hass, {"host": HOST, "stt_port": stt_service.port})
    assert entry.state is ConfigEntryState.LOADED

    wyoming = hass.config_entries.async_entries("wyoming")
    assert len(wyoming) == 1
    assert wyoming[0].data == {"host": HOST, "port": stt_service.port}
    assert entry.data["wyoming_entries"] == {"stt": wyoming[0].entry_id}
    stt_entities = [
        e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), wyoming[0].entry_id)
    ]
    assert len(stt_entities) == 1 and stt_entities[0].startswith("stt.")

    pipelines = [p for p in async_get_pipelines(hass) if p.name == "Local Voice"]
    assert len(pipelines) == 1
    pipeline = pipelines[0]
    assert pipeline.id == entry.data["pipeline_id"]
    assert pipeline.stt_engine == stt_entities[0]
    assert pipeline.stt_language == "en"
    assert pipeline.prefer_local_intents is True
    assert pipeline.conversation_engine == "conversation.home_assistant"

    # Reloading (as after a restart) neither duplicates the pipeline nor the Wyoming entry.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert _pipelines(hass) == ["Local Voice"]
    assert len(hass.config_entries.async_entries("wyoming")) == 1

    # Unload keeps what was created; removal takes it away.
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert _state(entry) is ConfigEntryState.NOT_LOADED
    assert _pipelines(hass) == ["Local Voice"]
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert _pipelines(hass) == []
    assert hass.config_entries.async_entries("wyoming") == []


async def test_existing_pipeline_and_wyoming_entry_are_reused(
    hass: HomeAssistant, stt_service: ServiceProcess
) -> None:
    """A user's own Wyoming entry is reused (and kept on removal); a pipeline named
    "Local Voice" is updated, not duplicated."""
    own = MockConfigEntry(domain="wyoming", data={"host": HOST, "port": stt_service.port})
    own.add_to_hass(hass)
    assert await async_setup_component(hass, "assist_pipeline", {})
    store = hass.data["assist_pipeline"].pipeline_store
    await store.async_create_item(
        {
            "conversation_engine": "conversation.home_assistant",
            "conversation_language": "en",
            "language": "en",
            "name": "Local Voice",
            "stt_engine": None,
            "stt_language": None,
            "tts_engine": None,
            "tts_language": None,
            "tts_voice": None,
            "wake_word_entity": None,
            "wake_word_id": None,
            "prefer_local_intents": False,
        }
    )
    entry = await _add(hass, {"host": HOST, "stt_port": stt_service.port})
    assert entry.state is ConfigEntryState.LOADED
    assert [e.entry_id for e in hass.config_entries.async_entries("wyoming")] == [own.entry_id]
    assert entry.data.get("wyoming_entries", {}) == {}
    pipelines = [p for p in async_get_pipelines(hass) if p.name == "Local Voice"]
    assert len(pipelines) == 1
    assert pipelines[0].prefer_local_intents is True
    assert pipelines[0].stt_engine is not None

    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert [e.entry_id for e in hass.config_entries.async_entries("wyoming")] == [own.entry_id]
    assert _pipelines(hass) == []


async def test_options_switch_services_and_local_handling(
    hass: HomeAssistant, stt_service: ServiceProcess
) -> None:
    entry = await _add(hass, {"host": HOST, "stt_port": stt_service.port})
    assert len(hass.config_entries.async_entries("wyoming")) == 1
    hass.config_entries.async_update_entry(
        entry, options={CONF_SERVICES: [], CONF_PREFER_LOCAL: False}
    )
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    # The Wyoming entry Local Voice made for the switched-off service is gone.
    assert hass.config_entries.async_entries("wyoming") == []
    pipeline = next(p for p in async_get_pipelines(hass) if p.name == "Local Voice")
    assert pipeline.stt_engine is None
    assert pipeline.prefer_local_intents is False


async def test_setup_retries_when_a_service_is_down(hass: HomeAssistant) -> None:
    entry = await _add(hass, {"host": HOST, "stt_port": free_port()})
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert hass.config_entries.async_entries("wyoming") == []
    assert _pipelines(hass) == []


async def test_diagnostics(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, stt_service: ServiceProcess
) -> None:
    entry = await _add(hass, {"host": HOST, "stt_port": stt_service.port})
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["entry"]["data"]["stt_port"] == stt_service.port
    assert diagnostics["pipeline_id"] == entry.data["pipeline_id"]
    assert diagnostics["wyoming_entries"] == {"stt": entry.data["wyoming_entries"]["stt"]}
    programs = diagnostics["services"]["stt"]["asr"]
    assert programs[0]["name"] == "local-voice-stt"


async def test_pipeline_uses_tts_with_its_language(
    hass: HomeAssistant, stt_service: ServiceProcess, tts_service: ServiceProcess
) -> None:
    entry = await _add(
        hass, {"host": HOST, "stt_port": stt_service.port, "tts_port": tts_service.port}
    )
    assert entry.state is ConfigEntryState.LOADED
    pipeline = next(p for p in async_get_pipelines(hass) if p.name == "Local Voice")
    assert pipeline.tts_engine is not None and pipeline.tts_engine.startswith("tts.")
    assert pipeline.tts_language is not None and pipeline.tts_language.lower().startswith("en")
    assert len(hass.config_entries.async_entries("wyoming")) == 2


async def test_reconfigured_host_replaces_the_wyoming_entries(
    hass: HomeAssistant, stt_service: ServiceProcess
) -> None:
    """ "localhost" reaches the same service under another host name."""
    entry = await _add(hass, {"host": HOST, "stt_port": stt_service.port})
    old = entry.data["wyoming_entries"]["stt"]
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"host": "localhost", "stt_port": stt_service.port}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.unique_id == "localhost"
    wyoming = hass.config_entries.async_entries("wyoming")
    assert [e.data["host"] for e in wyoming] == ["localhost"]
    assert entry.data["wyoming_entries"] == {"stt": wyoming[0].entry_id} != {"stt": old}
    pipelines = [p for p in async_get_pipelines(hass) if p.name == "Local Voice"]
    assert len(pipelines) == 1
    assert pipelines[0].stt_engine is not None


async def test_pipeline_wake_word(
    hass: HomeAssistant, stt_service: ServiceProcess, wake_service: ServiceProcess
) -> None:
    """The real wake service becomes the pipeline's wake word engine and hears its phrase."""
    entry = await _add(
        hass, {"host": HOST, "stt_port": stt_service.port, "wake_port": wake_service.port}
    )
    assert entry.state is ConfigEntryState.LOADED
    pipeline = next(p for p in async_get_pipelines(hass) if p.name == "Local Voice")
    assert pipeline.wake_word_entity is not None
    assert pipeline.wake_word_entity.startswith("wake_word.")
    assert pipeline.wake_word_id == "okay_nabu_fused"  # the service's default, listed first
    engine = wake_word.async_get_wake_word_detection_entity(hass, pipeline.wake_word_entity)
    assert engine is not None
    assert "okay_nabu_fused" in [w.id for w in await engine.get_supported_wake_words()]
    pcm = await hass.async_add_executor_job(speak, "okay nabu", 2.0)

    async def chunks() -> AsyncIterator[tuple[bytes, int]]:
        chunk = 2048  # 64 ms of 16 kHz mono s16
        for start in range(0, len(pcm), chunk):
            # at four times a microphone's pace: Home Assistant stops reading the
            # service's answers when the audio ends
            await asyncio.sleep(0.016)
            yield pcm[start : start + chunk], start // 32

    detected = await engine.async_process_audio_stream(chunks(), pipeline.wake_word_id)
    assert detected is not None and detected.wake_word_id == "okay_nabu_fused"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_agent_follows_the_services_option(
    hass: HomeAssistant, llm_service: ServiceProcess
) -> None:
    entry = await _add(hass, {"host": HOST, "conversation_port": llm_service.port})
    pipeline = next(p for p in async_get_pipelines(hass) if p.name == "Local Voice")
    assert pipeline.conversation_engine == "conversation.local_voice"
    assert pipeline.conversation_language == "en"
    hass.config_entries.async_update_entry(entry, options={CONF_SERVICES: []})
    await hass.async_block_till_done()
    pipeline = next(p for p in async_get_pipelines(hass) if p.name == "Local Voice")
    assert pipeline.conversation_engine == "conversation.home_assistant"
    assert er.async_get(hass).async_get("conversation.local_voice") is None


async def test_removing_the_preferred_pipeline(
    hass: HomeAssistant, stt_service: ServiceProcess
) -> None:
    """If the user made "Local Voice" the preferred pipeline, removal prefers another first."""
    entry = await _add(hass, {"host": HOST, "stt_port": stt_service.port})
    store = hass.data["assist_pipeline"].pipeline_store
    store.async_set_preferred_item(entry.data["pipeline_id"])
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert _pipelines(hass) == []
    assert store.async_get_preferred_item() in {p.id for p in async_get_pipelines(hass)}
