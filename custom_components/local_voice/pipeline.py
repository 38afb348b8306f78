"""The "Local Voice" Assist pipeline: created once, updated on setup, removed with the entry."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from homeassistant.components.assist_pipeline import (
    Pipeline,
    async_get_pipelines,
    async_update_pipeline,
)
from homeassistant.components.assist_pipeline.pipeline import KEY_ASSIST_PIPELINE
from homeassistant.core import HomeAssistant

from .const import PIPELINE_NAME

_LOGGER = logging.getLogger(__name__)
HOME_ASSISTANT_AGENT = "conversation.home_assistant"


@dataclass(frozen=True)
class PipelineSettings:
    """Engines and languages of the pipeline."""

    language: str
    conversation_engine: str
    conversation_language: str
    stt_engine: str | None
    stt_language: str | None
    tts_engine: str | None
    tts_language: str | None
    wake_word_entity: str | None
    wake_word_id: str | None
    prefer_local_intents: bool


def best_language(wanted: str, available: list[str]) -> str | None:
    """The available language closest to `wanted` ("en" matches "en_US" and "en-GB")."""
    if not available:
        return None
    normal = {lang: lang.replace("_", "-").lower() for lang in available}
    want = wanted.replace("_", "-").lower()
    for lang, norm in normal.items():
        if norm == want:
            return lang
    base = want.split("-")[0]
    for lang, norm in normal.items():
        if norm.split("-")[0] == base:
            return lang
    return available[0]


def _find(hass: HomeAssistant, pipeline_id: str | None) -> Pipeline | None:
    pipelines = async_get_pipelines(hass)
    by_id = next((p for p in pipelines if pipeline_id and p.id == pipeline_id), None)
    return by_id or next((p for p in pipelines if p.name == PIPELINE_NAME), None)


async def async_ensure_pipeline(
    hass: HomeAssistant, pipeline_id: str | None, settings: PipelineSettings
) -> str:
    """Create the pipeline or update the existing one; return its id."""
    values = {
        "conversation_engine": settings.conversation_engine,
        "conversation_language": settings.conversation_language,
        "language": settings.language,
        "name": PIPELINE_NAME,
        "stt_engine": settings.stt_engine,
        "stt_language": settings.stt_language,
        "tts_engine": settings.tts_engine,
        "tts_language": settings.tts_language,
        "tts_voice": None,
        "wake_word_entity": settings.wake_word_entity,
        "wake_word_id": settings.wake_word_id,
        "prefer_local_intents": settings.prefer_local_intents,
    }
    if (existing := _find(hass, pipeline_id)) is not None:
        if any(getattr(existing, key) != value for key, value in values.items()):
            await async_update_pipeline(hass, existing, **values)  # type: ignore[arg-type]
            _LOGGER.info("Updated the %s pipeline", PIPELINE_NAME)
        return existing.id
    store = hass.data[KEY_ASSIST_PIPELINE].pipeline_store
    created = await store.async_create_item(values)
    _LOGGER.info("Created the %s pipeline", PIPELINE_NAME)
    return created.id


async def async_remove_pipeline(hass: HomeAssistant, pipeline_id: str | None) -> None:
    """Delete the pipeline; if it is the preferred one, prefer another first."""
    if (pipeline := _find(hass, pipeline_id)) is None:
        return
    store = hass.data[KEY_ASSIST_PIPELINE].pipeline_store
    if store.async_get_preferred_item() == pipeline.id:
        others = [p for p in async_get_pipelines(hass) if p.id != pipeline.id]
        if not others:
            _LOGGER.warning("Kept the %s pipeline: it is the only one", PIPELINE_NAME)
            return
        store.async_set_preferred_item(others[0].id)
    await store.async_delete_item(pipeline.id)
    _LOGGER.info("Removed the %s pipeline", PIPELINE_NAME)
