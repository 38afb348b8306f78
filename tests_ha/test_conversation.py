"""The conversation agent against a real wyoming_llm server acting on real template lights."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from homeassistant.components import conversation
from homeassistant.components.homeassistant.exposed_entities import async_expose_entity
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import area_registry as ar
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import intent
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.local_voice.const import DOMAIN
from custom_components.local_voice.conversation import REWARM_COOLDOWN, WARM_UP_TEXT
from custom_components.local_voice.home_context import async_device_area, async_home_context
from testkit.ha.home import AREAS, LIGHTS, home_config
from testkit.processes import ServiceProcess

from .foreign_service import DROPPING_CONVERSATION, wyoming_server

HOST = "127.0.0.1"
AGENT = "conversation.local_voice"


async def _home(hass: HomeAssistant) -> None:
    """The template lights of testkit.ha.home in their areas; helpers hidden from Assist."""
    config = home_config()
    for domain in ("input_boolean", "input_number", "light"):
        assert await async_setup_component(hass, domain, {domain: config[domain]})
    await hass.async_block_till_done()
    areas = ar.async_get(hass)
    entities = er.async_get(hass)
    ids = {area_id: areas.async_get_or_create(name).id for area_id, name in AREAS.items()}
    for light in LIGHTS:
        entities.async_update_entity(light.entity_id, area_id=ids[light.area_id])
    entities.async_update_entity("light.bedroom_lights", aliases={"sleeping room light"})


@pytest.fixture
async def agent(hass: HomeAssistant, llm_service: ServiceProcess) -> MockConfigEntry:
    await _home(hass)
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=HOST,
        data={"host": HOST, "conversation_port": llm_service.port},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(AGENT) is not None
    return entry


async def _say(
    hass: HomeAssistant, text: str, conversation_id: str | None = None
) -> conversation.ConversationResult:
    return await conversation.async_converse(
        hass, text, conversation_id, Context(), language="en", agent_id=AGENT
    )


async def test_home_context_follows_the_contract(hass: HomeAssistant) -> None:
    await _home(hass)
    context = async_home_context(hass)
    by_id = {e["entity_id"]: e for e in context["entities"]}
    # input_boolean/input_number are not exposed to Assist by default.
    assert set(by_id) == {light.entity_id for light in LIGHTS}
    kitchen = by_id["light.kitchen_lights"]
    assert kitchen["name"] == "Kitchen Lights"
    assert kitchen["area"] == "Kitchen"
    assert kitchen["domain"] == "light"
    assert kitchen["state"] == "on"
    assert by_id["light.bedroom_lights"]["aliases"] == ["sleeping room light"]
    assert by_id["light.living_room_lamp"]["attributes"]["brightness"] == 255
    assert {a["name"] for a in context["areas"]} >= set(AREAS.values())


async def test_turns_off_a_light(hass: HomeAssistant, agent: MockConfigEntry) -> None:
    result = await _say(hass, "turn off the kitchen lights")
    assert result.response.response_type is intent.IntentResponseType.ACTION_DONE, (
        result.response.as_dict()
    )
    assert hass.states.get("light.kitchen_lights").state == "off"  # type: ignore[union-attr]
    assert hass.states.get("light.bedroom_lights").state == "on"  # type: ignore[union-attr]
    assert result.response.speech["plain"]["speech"]
    assert result.conversation_id


async def test_paraphrase_the_builtin_agent_misses(
    hass: HomeAssistant, agent: MockConfigEntry
) -> None:
    result = await _say(hass, "kill the kitchen lights")
    assert hass.states.get("light.kitchen_lights").state == "off", (  # type: ignore[union-attr]
        result.response.as_dict()
    )


async def test_runs_every_intent_of_a_multi_command(
    hass: HomeAssistant, agent: MockConfigEntry
) -> None:
    result = await _say(hass, "turn off the kitchen lights and turn off the bedroom lights")
    states = {light.entity_id: hass.states.get(light.entity_id).state for light in LIGHTS}  # type: ignore[union-attr]
    assert states["light.kitchen_lights"] == "off", result.response.as_dict()
    assert states["light.bedroom_lights"] == "off", result.response.as_dict()
    assert states["light.living_room_lamp"] == "on"
    speech = result.response.speech["plain"]["speech"].lower()
    assert "kitchen" in speech and "bedroom" in speech, speech  # one answer per intent


async def test_unexposed_entities_are_not_touched(
    hass: HomeAssistant, agent: MockConfigEntry
) -> None:
    async_expose_entity(hass, "conversation", "light.kitchen_lights", False)
    result = await _say(hass, "turn off the kitchen lights")
    assert hass.states.get("light.kitchen_lights").state == "on"  # type: ignore[union-attr]
    assert result.response.speech["plain"]["speech"]


async def test_conversation_id_is_kept(hass: HomeAssistant, agent: MockConfigEntry) -> None:
    first = await _say(hass, "turn off the kitchen lights")
    second = await _say(hass, "turn them back on", first.conversation_id)
    assert second.conversation_id == first.conversation_id


async def test_dropped_connection_is_an_error_response(hass: HomeAssistant) -> None:
    """The agent answers with an Assist error, never an exception, when the service drops."""
    await _home(hass)
    async with wyoming_server(DROPPING_CONVERSATION) as port:
        entry = MockConfigEntry(
            domain=DOMAIN, unique_id=HOST, data={"host": HOST, "conversation_port": port}
        )
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        result = await _say(hass, "turn off the kitchen lights")
    assert result.response.response_type is intent.IntentResponseType.ERROR
    assert result.response.error_code is intent.IntentResponseErrorCode.UNKNOWN
    assert "not reachable" in result.response.speech["plain"]["speech"]
    assert hass.states.get("light.kitchen_lights").state == "on"  # type: ignore[union-attr]


async def test_device_area_of_the_device_that_heard_it(hass: HomeAssistant) -> None:
    await _home(hass)
    entry = MockConfigEntry(domain="test")
    entry.add_to_hass(hass)
    kitchen = ar.async_get(hass).async_get_or_create("Kitchen")
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={("test", "satellite")}
    )
    dr.async_get(hass).async_update_device(device.id, area_id=kitchen.id)
    assert async_device_area(hass, device.id, None) == "Kitchen"
    satellite = er.async_get(hass).async_get_or_create(
        "assist_satellite", "test", "sat-1", device_id=device.id
    )
    assert async_device_area(hass, None, satellite.entity_id) == "Kitchen"
    assert async_device_area(hass, None, None) is None


async def _warm_ups(service: ServiceProcess, more_than: int) -> int:
    """The number of warm-up requests in the service's log, once it exceeds `more_than`."""
    for _ in range(600):
        if (count := service.log.count(f"'{WARM_UP_TEXT}' ->")) > more_than:
            return count
        await asyncio.sleep(0.1)
    raise AssertionError(f"no warm-up request after {more_than}:\n{service.log[-2000:]}")


async def test_a_changed_home_is_warmed_again(
    hass: HomeAssistant, agent: MockConfigEntry, llm_service: ServiceProcess
) -> None:
    """A new alias changes the prompt prefix: the agent warms the service again once the
    registry has been quiet, so the next command does not evaluate the whole prefix."""
    started = await _warm_ups(llm_service, 0)  # the warm-up once Home Assistant runs
    er.async_get(hass).async_update_entity("light.kitchen_lights", aliases={"cooker lights"})
    await hass.async_block_till_done()
    assert llm_service.log.count(f"'{WARM_UP_TEXT}' ->") == started  # not before the cooldown
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=REWARM_COOLDOWN + 1))
    await hass.async_block_till_done()
    assert await _warm_ups(llm_service, started) == started + 1
    result = await _say(hass, "turn off the cooker lights")
    assert result.response.response_type is intent.IntentResponseType.ACTION_DONE
    assert hass.states.get("light.kitchen_lights").state == "off"  # type: ignore[union-attr]
