"""The test home: template lights backed by input_booleans/input_numbers, in named areas."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Light:
    """A template light; `dimmable` ones keep their level in an input_number."""

    slug: str
    name: str
    area_id: str
    dimmable: bool = False

    @property
    def entity_id(self) -> str:
        return f"light.{self.slug}"

    @property
    def power(self) -> str:
        return f"input_boolean.{self.slug}_power"

    @property
    def level(self) -> str:
        return f"input_number.{self.slug}_level"


LIGHTS = (
    Light("kitchen_lights", "Kitchen Lights", "kitchen"),
    Light("bedroom_lights", "Bedroom Lights", "bedroom"),
    Light("living_room_lamp", "Living Room Lamp", "living_room", dimmable=True),
)
AREAS = {"kitchen": "Kitchen", "bedroom": "Bedroom", "living_room": "Living Room"}


def _action(service: str, entity_id: str, **data: Any) -> dict[str, Any]:
    return {
        "action": service,
        "target": {"entity_id": entity_id},
        **({"data": data} if data else {}),
    }


def _template_light(light: Light) -> dict[str, Any]:
    config: dict[str, Any] = {
        "friendly_name": light.name,
        "unique_id": light.slug,
        "value_template": f"{{{{ is_state('{light.power}', 'on') }}}}",
        "turn_on": [_action("input_boolean.turn_on", light.power)],
        "turn_off": [_action("input_boolean.turn_off", light.power)],
    }
    if light.dimmable:
        config["level_template"] = (
            f"{{{{ (states('{light.level}') | float(0) * 2.55) | round(0) | int }}}}"
        )
        config["set_level"] = [
            _action(
                "input_number.set_value", light.level, value="{{ (brightness / 2.55) | round }}"
            ),
            _action("input_boolean.turn_on", light.power),
        ]
    return config


def home_config(initially_on: bool = True) -> dict[str, Any]:
    """Configuration for the input_boolean, input_number and light (template) integrations."""
    return {
        "input_boolean": {
            f"{light.slug}_power": {"name": f"{light.name} power", "initial": initially_on}
            for light in LIGHTS
        },
        "input_number": {
            f"{light.slug}_level": {
                "name": f"{light.name} level",
                "min": 0,
                "max": 100,
                "step": 1,
                "initial": 100,
            }
            for light in LIGHTS
            if light.dimmable
        },
        "light": [
            {
                "platform": "template",
                "lights": {light.slug: _template_light(light) for light in LIGHTS},
            }
        ],
    }
