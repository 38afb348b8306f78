"""Talking Wyoming to the Local Voice services: `describe` checks and conversation requests.

The integration ships on its own (HACS, custom_components/) without the `local_voice`
package, so it keeps this small client instead of importing the services' helpers.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.info import Describe, Info

from .const import PROGRAM_PREFIX, ServiceKind

DESCRIBE_TIMEOUT = 3.0
DESCRIBE_TRIES = 3


class ServiceCheckError(Exception):
    """A service port that cannot be used; `reason` is a config-flow error key."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def async_describe(host: str, port: int, timeout: float = DESCRIBE_TIMEOUT) -> Info | None:
    """The service's `info`, or None when nothing answers in time."""
    try:
        async with asyncio.timeout(timeout), AsyncTcpClient(host, port) as client:
            await client.write_event(Describe().event())
            while (event := await client.read_event()) is not None:
                if Info.is_type(event.type):
                    return Info.from_event(event)
    except (OSError, TimeoutError, ValueError):
        return None
    return None


def program_names(info: Info, kind: ServiceKind) -> list[str]:
    """Names of the installed programs that serve `kind`."""
    groups: dict[ServiceKind, list[Any]] = {
        ServiceKind.STT: list(info.asr),
        ServiceKind.TTS: list(info.tts),
        ServiceKind.WAKE: list(info.wake),
        ServiceKind.CONVERSATION: [*info.handle, *info.intent],
    }
    return [program.name for program in groups[kind] if program.installed]


def all_program_names(info: Info) -> list[str]:
    groups = (info.asr, info.tts, info.wake, info.handle, info.intent)
    return [program.name for group in groups for program in group]


def kind_of(info: Info) -> ServiceKind | None:
    """Which Local Voice service this `info` describes, if any."""
    for kind in ServiceKind:
        if any(name.startswith(PROGRAM_PREFIX) for name in program_names(info, kind)):
            return kind
    return None


async def async_check_service(host: str, port: int, kind: ServiceKind) -> Info:
    """The service's info if `host:port` is the Local Voice service of this kind.

    Raises ServiceCheckError with cannot_connect, not_local_voice or wrong_service.
    """
    info: Info | None = None
    for attempt in range(DESCRIBE_TRIES):
        if (info := await async_describe(host, port)) is not None:
            break
        if attempt < DESCRIBE_TRIES - 1:
            await asyncio.sleep(0.5)
    if info is None:
        raise ServiceCheckError("cannot_connect")
    if not any(name.startswith(PROGRAM_PREFIX) for name in all_program_names(info)):
        raise ServiceCheckError("not_local_voice")
    if kind_of(info) != kind:
        raise ServiceCheckError("wrong_service")
    return info


@dataclass
class ConversationReply:
    """What the conversation service answered to one transcript."""

    kind: str  # "intents", "handled", "not_recognized", "not_handled", "error"
    text: str = ""
    intents: list[dict[str, Any]] = field(default_factory=list)
    conversation_id: str | None = None


def _conversation_id(data: dict[str, Any]) -> str | None:
    context = data.get("context")
    if isinstance(context, dict) and isinstance(context.get("conversation_id"), str):
        return str(context["conversation_id"])
    return None


async def async_converse(
    host: str, port: int, text: str, language: str, context: dict[str, Any], timeout: float
) -> ConversationReply:
    """Send one transcript with its home context; read the reply per the LLM contract.

    Raises OSError / TimeoutError / ConnectionError when the service cannot be reached
    or stops answering.
    """
    request = Event(
        type="transcript", data={"text": text, "language": language, "context": context}
    )
    async with asyncio.timeout(timeout), AsyncTcpClient(host, port) as client:
        await client.write_event(request)
        intents: list[dict[str, Any]] = []
        in_list = False
        while True:
            event = await client.read_event()
            if event is None:
                raise ConnectionError("the conversation service closed the connection")
            data = event.data or {}
            if event.type == "intents-start":
                in_list = True
            elif event.type == "intent":
                intents.append(data)
                if not in_list:
                    return _intents_reply(intents)
            elif event.type == "intents-stop":
                return _intents_reply(intents)
            elif event.type in ("handled", "not-handled", "not-recognized", "error"):
                kind = {
                    "handled": "handled",
                    "not-handled": "not_handled",
                    "not-recognized": "not_recognized",
                    "error": "error",
                }[event.type]
                return ConversationReply(
                    kind, str(data.get("text") or ""), conversation_id=_conversation_id(data)
                )
            # handled-start / handled-chunk / handled-stop and unknown events: keep reading


def _intents_reply(intents: list[dict[str, Any]]) -> ConversationReply:
    conversation_id = next((cid for data in intents if (cid := _conversation_id(data))), None)
    return ConversationReply("intents", intents=intents, conversation_id=conversation_id)
