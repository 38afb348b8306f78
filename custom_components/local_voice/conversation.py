"""The Local Voice conversation agent: the service understands, Home Assistant acts."""

from __future__ import annotations

import logging
from typing import Any, Literal

from homeassistant.components import conversation
from homeassistant.const import MATCH_ALL
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import area_registry as ar
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import floor_registry as fr
from homeassistant.helpers import intent
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.start import async_at_started
from homeassistant.util.ulid import ulid_now

from .client import ConversationReply, async_converse
from .const import CONVERSATION_TIMEOUT, DOMAIN, ServiceKind
from .home_context import async_device_area, async_home_context
from .models import LocalVoiceConfigEntry, info_languages

_LOGGER = logging.getLogger(__name__)
PROTOCOL = 1  # local_voice.protocol: this client runs every intent of a reply
WARM_UP_TEXT = "what time is it"
# Registry edits come in bursts (an integration adding its entities, a rename in the UI):
# the prefix is warmed once they have been quiet this long.
REWARM_COOLDOWN = 10.0
HOME_CHANGED_EVENTS = (
    er.EVENT_ENTITY_REGISTRY_UPDATED,
    ar.EVENT_AREA_REGISTRY_UPDATED,
    fr.EVENT_FLOOR_REGISTRY_UPDATED,
)

ERROR_CODES = {
    "not_recognized": intent.IntentResponseErrorCode.NO_INTENT_MATCH,
    "not_handled": intent.IntentResponseErrorCode.FAILED_TO_HANDLE,
    "error": intent.IntentResponseErrorCode.UNKNOWN,
}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: LocalVoiceConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Add the conversation agent of this entry."""
    async_add_entities([LocalVoiceConversationEntity(entry)])


class LocalVoiceConversationEntity(conversation.ConversationEntity):
    """Sends the transcript with the home's context; runs every returned intent in order."""

    _attr_has_entity_name = True
    _attr_name = None
    _attr_supported_features = conversation.ConversationEntityFeature.CONTROL

    def __init__(self, entry: LocalVoiceConfigEntry) -> None:
        self._entry = entry
        data = entry.runtime_data
        self._host = data.host
        self._port = data.conversation_port or 0
        self._languages = info_languages(data.infos[ServiceKind.CONVERSATION])
        self._history_turns = data.history_turns
        self._attr_unique_id = f"{entry.entry_id}-conversation"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry.entry_id)},
            name="Local Voice",
            manufacturer="Local Voice",
            model="Conversation service",
            entry_type=DeviceEntryType.SERVICE,
        )

    @property
    def supported_languages(self) -> list[str] | Literal["*"]:
        return self._languages or MATCH_ALL

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(async_at_started(self.hass, self._async_schedule_warm_up))
        # A new name, alias, area or exposed entity changes the service's prompt prefix:
        # warm it again so the next command does not evaluate the whole prefix.
        rewarm: Debouncer[Any] = Debouncer(
            self.hass,
            _LOGGER,
            cooldown=REWARM_COOLDOWN,
            immediate=False,
            function=self._async_warm_up,
            background=True,
        )
        self.async_on_remove(rewarm.async_shutdown)

        @callback
        def _home_changed(_event: Event[Any]) -> None:
            rewarm.async_schedule_call()

        for event_type in HOME_CHANGED_EVENTS:
            self.async_on_remove(self.hass.bus.async_listen(event_type, _home_changed))

    @callback
    def _async_schedule_warm_up(self, hass: HomeAssistant) -> None:
        self._entry.async_create_background_task(
            hass, self._async_warm_up(), "local_voice conversation warm-up"
        )

    async def _async_warm_up(self) -> None:
        """One request with this home's context, its reply discarded (nothing is executed):
        the service caches the prompt prefix built from the home, so the user's first
        command does not pay for evaluating it."""
        context = {
            "conversation_id": f"local-voice-warm-up-{ulid_now()}",
            "local_voice": {"protocol": PROTOCOL, "history_turns": 0},
            "home": async_home_context(self.hass),
        }
        try:
            await async_converse(
                self._host, self._port, WARM_UP_TEXT, "en", context, CONVERSATION_TIMEOUT
            )
        except (OSError, TimeoutError, ValueError) as err:
            _LOGGER.debug("Warm-up of %s:%s failed: %r", self._host, self._port, err)

    def _request_context(
        self, user_input: conversation.ConversationInput, conversation_id: str
    ) -> dict[str, Any]:
        context: dict[str, Any] = {
            "conversation_id": conversation_id,
            "local_voice": {"protocol": PROTOCOL, "history_turns": self._history_turns},
            "home": async_home_context(self.hass),
        }
        satellite_id = getattr(user_input, "satellite_id", None)  # newer Home Assistant
        if area := async_device_area(self.hass, user_input.device_id, satellite_id):
            context["device_area"] = area
        return context

    async def _async_handle_message(
        self,
        user_input: conversation.ConversationInput,
        chat_log: conversation.ChatLog,
    ) -> conversation.ConversationResult:
        """Called through ConversationEntity.async_process with the chat log (2025.4+)."""
        conversation_id = chat_log.conversation_id
        if self._history_turns == 0:
            # No history: every request starts a fresh conversation at the service.
            request_id = f"{conversation_id}-{len(chat_log.content)}"
        else:
            request_id = conversation_id
        response = await self._async_respond(user_input, request_id)
        speech = response.speech.get("plain", {}).get("speech", "")
        chat_log.async_add_assistant_content_without_tools(
            conversation.AssistantContent(agent_id=user_input.agent_id, content=speech)
        )
        return conversation.ConversationResult(
            response=response,
            conversation_id=conversation_id,
            continue_conversation=chat_log.continue_conversation,
        )

    async def _async_respond(
        self, user_input: conversation.ConversationInput, conversation_id: str
    ) -> intent.IntentResponse:
        response = intent.IntentResponse(language=user_input.language)
        try:
            reply = await async_converse(
                self._host,
                self._port,
                user_input.text,
                user_input.language,
                self._request_context(user_input, conversation_id),
                CONVERSATION_TIMEOUT,
            )
        except (OSError, TimeoutError, ValueError) as err:
            _LOGGER.warning("Conversation service %s:%s failed: %r", self._host, self._port, err)
            response.async_set_error(
                intent.IntentResponseErrorCode.UNKNOWN,
                "The Local Voice conversation service is not reachable.",
            )
            return response
        if reply.kind == "intents":
            return await self._async_run_intents(user_input, reply)
        if reply.kind == "handled":
            response.async_set_speech(reply.text)
            return response
        response.async_set_error(ERROR_CODES[reply.kind], reply.text or "Sorry, I can't do that.")
        return response

    async def _async_run_intents(
        self, user_input: conversation.ConversationInput, reply: ConversationReply
    ) -> intent.IntentResponse:
        """Run each intent in spoken order; speak HA's own response or the service's text."""
        done: list[intent.IntentResponse] = []
        speech: list[str] = []
        failure: intent.IntentResponse | None = None
        for data in reply.intents:
            name = str(data.get("name", ""))
            slots = {
                str(slot["name"]): {"value": slot["value"]}
                for slot in data.get("entities") or []
                if isinstance(slot, dict) and "name" in slot and "value" in slot
            }
            conversation.async_conversation_trace_append(
                conversation.ConversationTraceEventType.TOOL_CALL,
                {"intent_name": name, "slots": slots},
            )
            try:
                result = await intent.async_handle(
                    self.hass,
                    DOMAIN,
                    name,
                    slots,
                    text_input=user_input.text,
                    context=user_input.context,
                    language=user_input.language,
                    assistant=conversation.DOMAIN,  # only entities exposed to Assist
                    device_id=user_input.device_id,
                    conversation_agent_id=user_input.agent_id,
                )
            except intent.IntentError as err:
                _LOGGER.info("Intent %s %s failed: %s", name, slots, err)
                failure = intent.IntentResponse(language=user_input.language)
                failure.async_set_error(_error_code(err), _error_text(err))
                speech.append(_error_text(err))
                continue
            done.append(result)
            own = result.speech.get("plain", {}).get("speech")
            text = own or str(data.get("text") or "")
            if text:
                speech.append(text)
        if not done:
            assert failure is not None or not reply.intents
            if failure is None:
                failure = intent.IntentResponse(language=user_input.language)
                failure.async_set_error(
                    intent.IntentResponseErrorCode.NO_INTENT_MATCH, "Sorry, I can't do that."
                )
            failure.async_set_speech(_sentences(speech) or "Sorry, I can't do that.")
            return failure
        response = done[0]
        response.async_set_speech(_sentences(speech) or "Done.")
        return response


def _sentences(texts: list[str]) -> str:
    """One spoken answer from each intent's text ("Turned off the light" gets its period)."""
    return " ".join(t if t.rstrip().endswith((".", "!", "?")) else f"{t.rstrip()}." for t in texts)


def _error_code(err: intent.IntentError) -> intent.IntentResponseErrorCode:
    if isinstance(err, intent.MatchFailedError | intent.NoStatesMatchedError):
        return intent.IntentResponseErrorCode.NO_VALID_TARGETS
    if isinstance(err, intent.UnknownIntent):
        return intent.IntentResponseErrorCode.NO_INTENT_MATCH
    return intent.IntentResponseErrorCode.FAILED_TO_HANDLE


def _error_text(err: intent.IntentError) -> str:
    if isinstance(err, intent.MatchFailedError | intent.NoStatesMatchedError):
        return "Sorry, I couldn't find that device."
    if isinstance(err, intent.UnknownIntent):
        return "Sorry, I can't do that."
    return f"Sorry, that didn't work: {err}"
