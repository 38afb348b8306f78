"""Questions about states answered by rule from the request's home, in each kind's words."""

import pytest

from testkit.llm_cases import home_context
from wyoming_llm.home import Home
from wyoming_llm.questions import answer
from wyoming_llm.states import state_words

HOME = Home.from_context(
    {
        "home": {
            "areas": [{"name": n} for n in ("Kitchen", "Bedroom", "Patio", "Garage", "Hallway")],
            "entities": [
                {"entity_id": "light.kitchen", "name": "Kitchen Lights", "area": "Kitchen",
                 "state": "on"},
                {"entity_id": "light.bedroom", "name": "Bedroom Light", "area": "Bedroom",
                 "state": "on"},
                {"entity_id": "light.desk", "name": "Desk Lamp", "area": "Bedroom", "state": "off"},
                {"entity_id": "switch.bedroom_fan", "name": "Bedroom Fan", "area": "Bedroom",
                 "state": "off"},
                {"entity_id": "binary_sensor.patio_door", "name": "Patio Door", "area": "Patio",
                 "device_class": "door", "state": "on"},
                {"entity_id": "binary_sensor.hall_motion", "name": "Hall Motion",
                 "area": "Hallway", "device_class": "motion", "state": "off"},
                {"entity_id": "cover.garage_door", "name": "Garage Door", "area": "Garage",
                 "device_class": "garage", "state": "closed"},
                {"entity_id": "lock.front_door", "name": "Front Door", "area": "Hallway",
                 "state": "unlocked"},
                {"entity_id": "sensor.bedroom_temperature", "name": "Bedroom Temperature",
                 "area": "Bedroom", "device_class": "temperature", "state": "21.5",
                 "attributes": {"unit_of_measurement": "°C"}},
                {"entity_id": "sensor.bedroom_humidity", "name": "Bedroom Humidity",
                 "area": "Bedroom", "device_class": "humidity", "state": "45",
                 "attributes": {"unit_of_measurement": "%"}},
                {"entity_id": "sensor.outdoor_temperature", "name": "Outdoor Temperature",
                 "device_class": "temperature", "state": "3.0",
                 "attributes": {"unit_of_measurement": "°C"}},
            ],
        }
    }
)  # fmt: skip
assert HOME is not None


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("is the patio door closed?", "No, Patio Door is open."),
        ("Is the patio door open?", "Yes, Patio Door is open."),
        ("is the front door locked?", "No, Front Door is unlocked."),
        ("is the front door closed?", "No, Front Door is unlocked."),
        ("is the garage open?", "No, Garage Door is closed."),
        ("the garage door open?", "No, Garage Door is closed."),
        ("is the bedroom fan on?", "No, Bedroom Fan is off."),
        ("is there motion in the hallway?", None),
        ("what lights are still on?", "Kitchen Lights and Bedroom Light are on."),
        ("which lights are off?", "Desk Lamp is off."),
        ("how many lamps are burning?", "Two lamps are on: Kitchen Lights and Bedroom Light."),
        (
            "how many lights are on in the kitchen?",
            "One light is on in the Kitchen: Kitchen Lights.",
        ),
        ("are any lights on in the kitchen?", "Yes, Kitchen Lights is on in the Kitchen."),
        (
            "are the lights in the bedroom off?",
            "No, Bedroom Light is on in the Bedroom; Desk Lamp is off.",
        ),
        ("are all the lights on?", "No, Desk Lamp is off."),
        ("which doors are open?", "Patio Door is open."),
        ("how warm is it in the bedroom?", "It is 21.5 degrees in the Bedroom."),
        ("what's the temperature in here?", "It is 21.5 degrees in the Bedroom."),
        ("how cold is it outside?", "It is 3 degrees outside."),
        ("what's the humidity in the bedroom?", "The humidity is 45 percent in the Bedroom."),
    ],
)
def test_questions_are_answered_from_the_states(question: str, expected: str | None) -> None:
    assert answer(question, HOME, "Bedroom") == expected


@pytest.mark.parametrize(
    "text",
    ["turn on the lights", "open the garage door", "what time is it?", "tell me a joke", ""],
)
def test_requests_and_other_questions_go_to_the_model(text: str) -> None:
    assert answer(text, HOME, "Bedroom") is None


def test_no_home_no_rule_answer() -> None:
    assert answer("is the patio door closed?", None, None) is None


def test_states_in_the_words_of_each_kind() -> None:
    assert HOME is not None
    words = {e.name: state_words(e) for e in HOME.entities}
    assert words["Patio Door"] == "open"
    assert words["Hall Motion"] == "clear"
    assert words["Bedroom Temperature"] == "21.5 degrees"
    assert words["Bedroom Humidity"] == "45 percent"
    assert words["Front Door"] == "unlocked"


def test_a_fragment_naming_one_device_gets_its_state() -> None:
    assert answer("the garage door.", HOME, None) == "Garage Door is closed."
    assert answer("patio door", HOME, None) == "Patio Door is open."
    assert answer("turn on the garage", HOME, None) is None  # a request, not a fragment


def test_a_device_is_found_by_its_distinctive_words() -> None:
    large = Home.from_context({"home": home_context("llm_home_large.json")})
    assert answer("is the shed locked?", large, None) == "Yes, Shed Lock is locked."
    assert answer("is the dehumidifier running", large, None) == (
        "Yes, Basement Dehumidifier is on."
    )
