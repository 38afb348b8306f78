"""The home's context sent with each transcript: exposed entities, areas and floors."""

from __future__ import annotations

from typing import Any

from homeassistant.components.homeassistant.exposed_entities import async_should_expose
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import area_registry as ar
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import floor_registry as fr

ASSISTANT = "conversation"
# State attributes worth the model's tokens, renamed where HA's name is long.
ATTRIBUTES = {
    "brightness": "brightness",
    "current_temperature": "current_temperature",
    "temperature": "temperature",
    "current_position": "position",
    "volume_level": "volume_level",
    "unit_of_measurement": "unit",
}


def _area_id(entity: er.RegistryEntry | None, devices: dr.DeviceRegistry) -> str | None:
    if entity is None:
        return None
    if entity.area_id:
        return entity.area_id
    if entity.device_id and (device := devices.async_get(entity.device_id)):
        return device.area_id
    return None


def _entity_context(
    state: State,
    entity: er.RegistryEntry | None,
    area: ar.AreaEntry | None,
    floors: fr.FloorRegistry,
) -> dict[str, Any]:
    floor = floors.async_get_floor(area.floor_id) if area and area.floor_id else None
    attributes = {
        short: value
        for name, short in ATTRIBUTES.items()
        if (value := state.attributes.get(name)) is not None
    }
    return {
        "entity_id": state.entity_id,
        "name": state.name,
        "aliases": sorted(entity.aliases) if entity else [],
        "domain": state.domain,
        "device_class": state.attributes.get("device_class"),
        "area": area.name if area else None,
        "floor": floor.name if floor else None,
        "state": state.state,
        "attributes": attributes,
    }


def async_home_context(hass: HomeAssistant) -> dict[str, Any]:
    """Areas, floors and every entity exposed to Assist, in the contract's shape."""
    areas = ar.async_get(hass)
    floors = fr.async_get(hass)
    devices = dr.async_get(hass)
    entities = er.async_get(hass)
    exposed: list[dict[str, Any]] = []
    for state in sorted(hass.states.async_all(), key=lambda s: s.entity_id):
        if not async_should_expose(hass, ASSISTANT, state.entity_id):
            continue
        entity = entities.async_get(state.entity_id)
        area_id = _area_id(entity, devices)
        area = areas.async_get_area(area_id) if area_id else None
        exposed.append(_entity_context(state, entity, area, floors))
    return {
        "areas": [
            {
                "name": area.name,
                "aliases": sorted(area.aliases),
                "floor": (
                    f.name
                    if area.floor_id and (f := floors.async_get_floor(area.floor_id))
                    else None
                ),
            }
            for area in areas.async_list_areas()
        ],
        "floors": [
            {"name": floor.name, "aliases": sorted(floor.aliases)}
            for floor in floors.async_list_floors()
        ],
        "entities": exposed,
    }


def async_device_area(
    hass: HomeAssistant, device_id: str | None, satellite_id: str | None
) -> str | None:
    """The area name of the device (or satellite entity) that heard the command."""
    devices = dr.async_get(hass)
    if satellite_id and not device_id:
        entity = er.async_get(hass).async_get(satellite_id)
        device_id = entity.device_id if entity else None
        if (
            entity
            and entity.area_id
            and (area := ar.async_get(hass).async_get_area(entity.area_id))
        ):
            return area.name
    if device_id and (device := devices.async_get(device_id)) and device.area_id:
        area = ar.async_get(hass).async_get_area(device.area_id)
        return area.name if area else None
    return None
