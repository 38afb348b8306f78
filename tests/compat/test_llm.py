"""The conversation agent with Home Assistant 2025.4's own client library (wyoming 1.5.4)."""

import json

import pytest

from testkit.processes import ServiceProcess


@pytest.mark.parametrize("text", ["turn off the kitchen lights", "kill the kitchen lights"])
def test_home_assistant_2025_4_gets_one_intent(ha_client, llm_server: ServiceProcess, text):
    """Stock HA sends no home context: the slots come from the user's words."""
    answer = ha_client("ha_conversation_client.py", llm_server.port, text)
    assert answer["wyoming"] == "1.5.4"
    # An installed intent program is what gives the agent home control in HA 2025.4.
    assert answer["intent_program"] == "local-voice-llm"
    assert answer["handle_program"] == "local-voice-llm"
    assert answer["languages"] == ["en"]
    assert answer["events"] == ["intent"] and answer["extra_event"] is None
    assert answer["intent"] == "HassTurnOff"
    assert "kitchen" in json.dumps(answer["slots"]).lower()
    assert answer["text"]


def test_home_assistant_2025_4_gets_a_plain_answer(ha_client, llm_server: ServiceProcess):
    answer = ha_client("ha_conversation_client.py", llm_server.port, "tell me a joke")
    assert answer["events"] == ["handled"] and answer["handled"]
