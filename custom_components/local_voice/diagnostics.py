"""Diagnostics: the entry, what each service reported, and what setup wired."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant

from .models import LocalVoiceConfigEntry


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: LocalVoiceConfigEntry
) -> dict[str, Any]:
    """Entry data and options, service infos, Wyoming entries and the pipeline."""
    data = entry.runtime_data
    return {
        "entry": {"data": dict(entry.data), "options": dict(entry.options)},
        "services": {kind.value: info.to_dict() for kind, info in data.infos.items()},
        "wyoming_entries": {
            kind.value: entry_id for kind, entry_id in data.wyoming_entry_ids.items()
        },
        "pipeline_id": data.pipeline_id,
        "conversation_port": data.conversation_port,
        "history_turns": data.history_turns,
    }
