"""The agent's rules without a model: home context, parsing, validation, grammar, memory."""

import time

import pytest

from testkit.llm_cases import home_context
from wyoming_llm import constraints, prompt
from wyoming_llm.home import ContextError, Home
from wyoming_llm.intents import ACTIONS, INTENTS, Command
from wyoming_llm.line_end import LineEnds
from wyoming_llm.memory import Memory, Turn
from wyoming_llm.output import Line, OutputError, parse_compact_line, parse_json, render_json
from wyoming_llm.thread_tuner import ThreadTuner
from wyoming_llm.validate import InvalidLine, UnknownTarget, Validator

HOME = Home.from_context({"home": home_context()})
assert HOME is not None


def check(text: str, heard: str = "", area: str | None = None, home: Home | None = HOME):
    return Validator(home, area, heard).check(parse_compact_line(text))


def test_the_issue_lists_these_intents():
    wanted = [
        "HassTurnOn",
        "HassTurnOff",
        "HassToggle",
        "HassLightSet",
        "HassSetPosition",
        "HassGetState",
        "HassClimateSetTemperature",
        "HassClimateGetTemperature",
        "HassStartTimer",
        "HassCancelTimer",
        "HassTimerStatus",
        "HassMediaPause",
        "HassMediaUnpause",
        "HassMediaNext",
        "HassSetVolume",
        "HassGetCurrentTime",
        "HassGetWeather",
        "HassNevermind",
    ]
    assert set(wanted) <= set(INTENTS)


def test_aliases_and_loose_names_become_canonical_names():
    assert check("TurnOn name=kitchen lamp").slots == {"name": "Kitchen Lights", "domain": "light"}
    assert check("TurnOff name=kitchen light").slots["name"] == "Kitchen Lights"
    assert check("TurnOff area=lounge;domain=light").slots == {
        "area": "Living Room",
        "domain": "light",
    }


def test_slots_are_typed_and_checked():
    command = check("LightSet name=Desk Lamp;brightness=40%")
    assert command.slots == {"name": "Desk Lamp", "domain": "light", "brightness": 40}
    assert command.text == "Set Desk Lamp to 40%."
    assert check("StartTimer minutes=10", heard="a 10 minute timer").slots == {"minutes": 10}
    assert check("ClimateSetTemperature temperature=21.5").slots == {"temperature": 21.5}
    with pytest.raises(InvalidLine):
        check("LightSet name=Desk Lamp;brightness=140")
    with pytest.raises(InvalidLine):
        check("StartTimer minutes=ten")


def test_intent_and_domain_must_fit():
    with pytest.raises(InvalidLine):
        check("LightSet name=Thermostat;brightness=40")  # not a light
    with pytest.raises(InvalidLine):
        check("SetPosition name=Front Door;position=50")
    with pytest.raises(InvalidLine):
        check("TurnOn domain=sensor")


def test_unknown_slots_are_dropped_and_targets_required():
    assert check("TurnOn name=Coffee Maker;password=1234").slots == {
        "name": "Coffee Maker",
        "domain": "switch",
    }
    with pytest.raises(InvalidLine):
        check("TurnOn")


def test_names_outside_the_home():
    found = check("TurnOn name=pool heater", heard="turn on the pool heater")
    assert found == UnknownTarget("device", "pool heater")
    assert "Kitchen Lights" in found.sentence(HOME)
    with pytest.raises(InvalidLine):  # invented by the model, not said by the user
        check("TurnOn name=Bank Vault", heard="turn it on")
    assert isinstance(check("TurnOn area=Attic;domain=light", heard="the attic"), UnknownTarget)


def test_device_area_fills_a_domain_only_target():
    command = check("TurnOn domain=light", area="Living Room")
    assert command.slots == {"domain": "light", "area": "Living Room"}


def test_questions_are_answered_from_the_states():
    question = "is the front door locked"
    assert check("GetState Front Door;state=locked", heard=question).text == "Front Door is locked."
    assert check("ClimateGetTemperature").text == "It is 21.5 °C at Thermostat."
    assert check(
        "GetState area=Kitchen;domain=light;state=on", heard="any light on in the kitchen?"
    ).text.startswith("Yes")


def test_without_a_home_names_come_from_the_words():
    command = check("TurnOff name=kitchen lights", home=None)
    assert command.slots == {"name": "kitchen lights"}


def test_parsing_rejects_malformed_lines():
    for text in ("Dance name=x", "TurnOn Lamp;bright", "Say", "TurnOn =x"):
        with pytest.raises(OutputError):
            parse_compact_line(text)
    lines = [Line("TurnOff", {"name": "Desk Lamp"}), Line("Say", text="Hi")]
    assert parse_json(render_json(lines)) == lines
    with pytest.raises(OutputError):
        parse_json('{"commands": [{"intent": "HassDeleteEverything"}]}')


def test_grammar_and_schema_list_only_the_homes_names():
    grammar = constraints.grammar(HOME)
    assert '"Kitchen Lights"' in grammar and '"kitchen lamp"' in grammar
    light_names = next(line for line in grammar.splitlines() if line.startswith("name-lightset"))
    assert "Kitchen Lights" in light_names and "Front Door" not in light_names
    schema = constraints.json_schema(HOME)
    variants = schema["properties"]["commands"]["items"]["anyOf"]
    intents = {v["properties"]["intent"]["const"] for v in variants}
    assert intents == set(INTENTS) | set(ACTIONS) | {"Say", "Unknown"}
    lock = next(v for v in variants if v["properties"]["intent"]["const"] == "Unlock")
    assert lock["properties"]["name"]["enum"] == ["Front Door"]
    light_set = next(v for v in variants if v["properties"]["intent"]["const"] == "HassLightSet")
    assert "Front Door" not in light_set["properties"]["name"]["enum"]


def test_hostile_names_are_cleaned():
    home = home_context()
    home["entities"].append({"name": 'Evil"; root ::= x\nTurnOn', "domain": "switch"})
    hostile = Home.from_context({"home": home})
    assert hostile is not None
    names = [entity.name for entity in hostile.entities]
    assert "Evil root :: x TurnOn" in names
    assert all("\n" not in name and '"' not in name for name in names)


def test_bad_context_shapes():
    with pytest.raises(ContextError):
        Home.from_context({"home": []})
    with pytest.raises(ContextError):
        Home.from_context({"home": {"areas": "Kitchen"}})
    assert Home.from_context({}) is None


def test_prefix_is_cached_per_home_and_ignores_states():
    changed = home_context()
    changed["entities"][0]["state"] = "off"
    other = Home.from_context({"home": changed})
    assert other is not None and HOME is not None and other.key == HOME.key
    assert prompt.prefix(HOME, True) is prompt.prefix(other, True)


def test_memory_is_bounded_and_expires():
    memory = Memory(max_turns=2, max_tokens=1000, ttl=0.2)
    for index in range(4):
        memory.add("a", Turn(f"turn {index}", (Line("Nevermind"),)))
    assert [turn.user for turn in memory.history("a")] == ["turn 2", "turn 3"]
    time.sleep(0.3)
    assert memory.history("a") == []
    small = Memory(max_turns=10, max_tokens=30)
    for index in range(5):
        small.add("b", Turn("x" * 60 + str(index), ()))
    assert 1 <= len(small.history("b")) < 5


def test_memory_history_honours_a_per_request_limit():
    memory = Memory(max_turns=3, max_tokens=1000)
    for index in range(5):
        memory.add("a", Turn(f"turn {index}", (Line("Nevermind"),)))
    assert memory.history("a", 0) == []
    assert [turn.user for turn in memory.history("a", 1)] == ["turn 4"]
    # Never more than the server keeps (--max-history-turns).
    assert [turn.user for turn in memory.history("a", 10)] == ["turn 2", "turn 3", "turn 4"]


def test_a_name_the_user_said_beats_an_area():
    command = check("TurnOn area=Living Room;domain=light", heard="turn on the living room lamp")
    assert command.slots == {"name": "Living Room Lamp", "domain": "light"}
    command = check("TurnOn area=Kitchen;domain=light", heard="turn on the lights in the kitchen")
    assert command.slots == {"area": "Kitchen", "domain": "light"}


def test_near_miss_verbs_are_understood():
    assert parse_compact_line("SetTemperature Thermostat;temperature=20").verb == (
        "ClimateSetTemperature"
    )
    assert parse_compact_line("turnoff Desk Lamp") == Line("TurnOff", {"name": "Desk Lamp"})
    assert parse_compact_line("Shut Garage Door").verb == "Close"
    assert check("Lock Front Door", heard="lock the front door").intent == "HassTurnOn"


def test_numbers_and_questions_must_come_from_the_words():
    with pytest.raises(InvalidLine):
        check("StartTimer minutes=5", heard="start the coffee machine")
    assert check("StartTimer minutes=5", heard="a five minute timer").slots == {"minutes": 5}
    assert check("StartTimer minutes=10", heard="timer for 10 minutes").slots == {"minutes": 10}
    assert check("StartTimer minutes=1", heard="a timer for a minute").slots == {"minutes": 1}
    with pytest.raises(InvalidLine):
        check("SetVolume volume_level=100", heard="skip to the next song")
    with pytest.raises(InvalidLine):
        check("GetState Kitchen Lights;state=on", heard="how are you today")
    assert check("GetState Garage Door;state=open", heard="is the garage door open").intent


def test_lines_that_can_only_end_where_they_are():
    ends_here = LineEnds(HOME).ends_here
    assert ends_here("TurnOff Desk Lamp")
    assert ends_here("TurnOn Garage Door")  # the area Garage does not go on from it
    assert ends_here("TurnOn area=Kitchen;domain=light")
    assert not ends_here("TurnOff Desk Lamp ")  # a space: more words may follow
    assert not ends_here("TurnOff Desk")  # not a name yet
    assert not ends_here("TurnOn Living Room")  # an area, and names go on from it
    assert not ends_here("TurnOn area=Kitchen")  # a domain may follow
    assert not ends_here("TurnOn area=Kitchen;domain=lig")
    assert not ends_here("LightSet Desk Lamp;brightness=5")  # 50 may follow
    assert not ends_here("GetState Ceiling Fan")  # a state may follow
    assert not LineEnds(None).ends_here("TurnOff Desk Lamp")


def test_thread_tuner_drops_to_one_thread_when_tokens_stall():
    tuner = ThreadTuner(2)
    assert tuner.start() == 2
    for seconds in (0.030, 0.045, 0.060, 0.110):  # idle, a grammar's tokens: no change
        assert tuner.observe(seconds) == 2
    assert tuner.observe(0.200) == 1  # a descheduled thread: another process is busy
    assert tuner.start() == 1  # the next requests too, for a while
    assert ThreadTuner(1).observe(1.0) == 1


@pytest.mark.parametrize(
    ("heard", "names"),
    [
        ("turn on the desk lamp and the coffee maker", ["Coffee Maker"]),
        (
            "turn on the desk lamp, the coffee maker and the ceiling fan",
            ["Coffee Maker", "Ceiling Fan"],
        ),
        ("turn on the desk lamp and turn off the coffee maker", []),  # a verb of its own
        ("turn on the desk lamp but not the coffee maker", []),
    ],
)
def test_a_verb_is_shared_by_names_listed_after_it(heard: str, names: list[str]) -> None:
    validator = Validator(HOME, None, heard)
    first = validator.check(parse_compact_line("TurnOn Desk Lamp"))
    assert isinstance(first, Command)
    lines = validator.shared_verb_lines([first])
    assert [line.slots["name"] for line in lines] == names
    assert all(line.verb == "TurnOn" for line in lines)


def test_light_set_sends_only_what_home_assistant_can_run():
    assert check("LightSet name=Desk Lamp;color=light blue").slots["color"] == "light blue"
    on = check("LightSet name=Desk Lamp;color=fairy", heard="put the desk lamp on")
    assert (on.intent, on.slots) == ("HassTurnOn", {"name": "Desk Lamp", "domain": "light"})
    dimmed = check("LightSet name=Desk Lamp;brightness=40;color=sparkly")
    assert (dimmed.intent, dimmed.slots) == (
        "HassLightSet",
        {"name": "Desk Lamp", "domain": "light", "brightness": 40},
    )
    off = check("LightSet name=Desk Lamp;brightness=0", heard="the desk lamp can go off")
    assert (off.intent, off.slots) == ("HassTurnOff", {"name": "Desk Lamp", "domain": "light"})
    with pytest.raises(InvalidLine):
        check("LightSet name=Desk Lamp;color=sparkly", heard="make the desk lamp sparkly")


def test_a_name_is_found_by_its_distinctive_words_and_kind():
    large = Home.from_context({"home": home_context("llm_home_large.json")})
    lights = check("TurnOn name=String Lights", heard="turn on the string lights", home=large)
    assert lights.slots == {"name": "Patio String Lights", "domain": "light"}
    # Not when the words are not the user's, or fit no device of that kind.
    with pytest.raises(InvalidLine):
        check("TurnOn name=String Lights", heard="turn on the lights", home=large)
    assert isinstance(
        check("TurnOn name=String Fan", heard="turn on the string fan", home=large), UnknownTarget
    )


def test_a_device_written_as_an_area_and_a_device_left_unnamed_are_found():
    large = Home.from_context({"home": home_context("llm_home_large.json")})
    lights = check("TurnOn area=Counter Lights", heard="turn on the counter lights", home=large)
    assert (lights.intent, lights.slots["name"]) == ("HassTurnOn", "Counter Lights")
    pause = check("MediaPause", heard="pause the tv", home=large)
    assert pause.slots == {"name": "Living Room TV", "domain": "media_player"}
