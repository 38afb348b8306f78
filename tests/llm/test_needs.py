"""Stated needs ("it's pitch dark in here") turned into actions by rule, in a home unlike
the benchmark's, in phrasings of our own; anything else is left to the model."""

import pytest

from wyoming_llm.home import Home
from wyoming_llm.intents import Command
from wyoming_llm.needs import line_for
from wyoming_llm.validate import Several, Validator

HOME = Home.from_context(
    {
        "home": {
            "areas": [{"name": n} for n in ("Study", "Ensuite", "Lounge", "Cellar", "Kitchen")],
            "entities": [
                {"entity_id": "light.study", "name": "Study Lamp", "area": "Study"},
                {"entity_id": "light.lounge_main", "name": "Lounge Light", "area": "Lounge"},
                {"entity_id": "light.lounge_reading", "name": "Reading Light", "area": "Lounge"},
                {
                    "entity_id": "fan.ensuite",
                    "name": "Ensuite Vent",
                    "area": "Ensuite",
                    "domain": "fan",
                },
                {"entity_id": "switch.study_fan", "name": "Desk Fan", "area": "Study"},
                {
                    "entity_id": "switch.cellar_dryer",
                    "name": "Cellar Dehumidifier",
                    "area": "Cellar",
                },
                {"entity_id": "switch.coffee", "name": "Coffee Machine", "area": "Kitchen"},
                {
                    "entity_id": "cover.lounge_shutters",
                    "name": "Lounge Shutters",
                    "area": "Lounge",
                    "device_class": "shutter",
                },
                {"entity_id": "cover.garage", "name": "Garage Door", "device_class": "garage"},
                {"entity_id": "lock.back", "name": "Back Door", "area": "Kitchen"},
                {"entity_id": "media_player.radio", "name": "Kitchen Radio", "area": "Kitchen"},
            ],
        }
    }
)
assert HOME is not None


def acted(text: str, area: str | None = None) -> tuple[str, dict[str, object]] | None:
    line = line_for(text, HOME, area)
    if line is None:
        return None
    command = Validator(HOME, area, text).check(line)
    if isinstance(command, Several):  # "everything" in an area: here, one command
        (command,) = command.commands
    assert isinstance(command, Command), command
    return command.intent, {k: v for k, v in command.slots.items() if k != "domain"}


@pytest.mark.parametrize(
    ("text", "area", "expected"),
    [
        ("it's gloomy in the study, too dark to read", None, ("HassTurnOn", {"area": "Study"})),
        ("I can't see anything in here", "Lounge", ("HassTurnOn", {"area": "Lounge"})),
        ("we need some light in the lounge", None, ("HassTurnOn", {"area": "Lounge"})),
        (
            "the reading light is blinding me",
            None,
            ("HassLightSet", {"name": "Reading Light", "brightness": 30}),
        ),
        (
            "it's way too bright in the lounge",
            None,
            ("HassLightSet", {"area": "Lounge", "brightness": 30}),
        ),
        ("the sun is in my eyes", "Lounge", ("HassTurnOff", {"name": "Lounge Shutters"})),
        ("the ensuite mirror is all steamy", None, ("HassTurnOn", {"name": "Ensuite Vent"})),
        ("it smells of burnt toast in the study", None, ("HassTurnOn", {"name": "Desk Fan"})),
        ("it's so hot in here", "Study", ("HassTurnOn", {"name": "Desk Fan"})),
        ("the cellar feels clammy", None, ("HassTurnOn", {"name": "Cellar Dehumidifier"})),
        ("I could really use a cup of coffee", None, ("HassTurnOn", {"name": "Coffee Machine"})),
        ("that desk fan is driving me up the wall", None, ("HassTurnOff", {"name": "Desk Fan"})),
        (
            "the kitchen radio is so loud, make it stop",
            None,
            ("HassMediaPause", {"name": "Kitchen Radio"}),
        ),
        (
            "I'm done reading, the study lamp can go off",
            None,
            ("HassTurnOff", {"name": "Study Lamp"}),
        ),
    ],
)
def test_needs_become_the_action_they_ask_for(text, area, expected):
    assert acted(text, area) == expected


@pytest.mark.parametrize(
    ("text", "area"),
    [
        ("is it too dark in the study?", None),  # a question: the model or the states answer
        ("why is the lounge so dark", None),
        ("don't turn anything on, it's not too dark in the study", None),
        ("it's stuffy in the kitchen", None),  # no fan in the kitchen
        ("it's pitch dark", None),  # no place named, no satellite area
        ("I'd love a cup of tea", None),  # no kettle in this home
        ("the soup is too hot", "Study"),  # heat of a thing, not of the room
        ("the garage door is so noisy, make it stop", None),  # never moves a door
        ("the back door can go off", None),
    ],
)
def test_what_no_rule_fits_goes_to_the_model(text, area):
    assert line_for(text, HOME, area) is None


def test_without_a_home_nothing_is_guessed():
    assert line_for("it's pitch dark in the study", None, "Study") is None
