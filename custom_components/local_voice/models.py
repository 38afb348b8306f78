"""Runtime data of a Local Voice config entry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

from homeassistant.config_entries import ConfigEntry
from wyoming.info import Info

from .const import ServiceKind


@dataclass
class LocalVoiceData:
    """What setup found and wired, kept on the entry as runtime_data."""

    host: str
    infos: dict[ServiceKind, Info]
    wyoming_entry_ids: dict[ServiceKind, str] = field(default_factory=dict)
    history_turns: int = 0
    conversation_port: int | None = None
    pipeline_id: str | None = None


LocalVoiceConfigEntry: TypeAlias = ConfigEntry[LocalVoiceData]


def info_languages(info: Info) -> list[str]:
    """Languages of the installed models/voices an `info` lists, in order, without repeats."""
    languages: list[str] = []
    for program in (*info.asr, *info.handle, *info.intent, *info.wake):
        if program.installed:
            for model in program.models:
                if model.installed:
                    languages.extend(model.languages)
    for tts in info.tts:
        if tts.installed:
            for voice in tts.voices:
                if voice.installed:
                    languages.extend(voice.languages)
    return list(dict.fromkeys(languages))
