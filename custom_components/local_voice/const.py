"""Constants of the Local Voice integration."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

DOMAIN: Final = "local_voice"
WYOMING_DOMAIN: Final = "wyoming"
PIPELINE_NAME: Final = "Local Voice"
PROGRAM_PREFIX: Final = "local-voice"  # every Local Voice program's name starts with this

CONF_STT_PORT: Final = "stt_port"
CONF_TTS_PORT: Final = "tts_port"
CONF_WAKE_PORT: Final = "wake_port"
CONF_CONVERSATION_PORT: Final = "conversation_port"
CONF_SERVICES: Final = "services"
CONF_PREFER_LOCAL: Final = "prefer_local_intents"
CONF_HISTORY_TURNS: Final = "history_turns"

# What setup created, kept in the entry's data so removal undoes exactly that.
DATA_WYOMING_ENTRIES: Final = "wyoming_entries"
DATA_PIPELINE_ID: Final = "pipeline_id"

DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_HISTORY_TURNS: Final = 4
MAX_HISTORY_TURNS: Final = 20
# Longer than the service's own limit (20 s by default), which then answers itself.
CONVERSATION_TIMEOUT: Final = 60.0


class ServiceKind(StrEnum):
    """The four Local Voice services."""

    STT = "stt"
    TTS = "tts"
    WAKE = "wake"
    CONVERSATION = "conversation"


PORT_KEYS: Final = {
    ServiceKind.STT: CONF_STT_PORT,
    ServiceKind.TTS: CONF_TTS_PORT,
    ServiceKind.WAKE: CONF_WAKE_PORT,
    ServiceKind.CONVERSATION: CONF_CONVERSATION_PORT,
}
DEFAULT_PORTS: Final = {
    ServiceKind.STT: 10300,
    ServiceKind.TTS: 10200,
    ServiceKind.WAKE: 10400,
    ServiceKind.CONVERSATION: 10500,
}
# Services Home Assistant's own `wyoming` integration serves for us.
WYOMING_KINDS: Final = (ServiceKind.STT, ServiceKind.TTS, ServiceKind.WAKE)
