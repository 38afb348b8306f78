"""The conversation agent with Home Assistant 2025.4's own client library (wyoming 1.5.4)."""

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT, ServerProcess

CLIENT_PYTHON = ROOT / ".venv-wyoming-1.5.4" / "bin" / "python"
CLIENT = Path(__file__).parent / "compat" / "ha_conversation_client.py"


def run_client(port: int, text: str) -> dict[str, Any]:
    if not CLIENT_PYTHON.exists():
        pytest.fail("run script/test: it creates .venv-wyoming-1.5.4 for this test")
    result = subprocess.run(
        [str(CLIENT_PYTHON), str(CLIENT), str(port), text],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


@pytest.mark.parametrize("text", ["turn off the kitchen lights", "kill the kitchen lights"])
def test_home_assistant_2025_4_gets_one_intent(llm_server: ServerProcess, text):
    """Stock HA sends no home context: the slots come from the user's words."""
    answer = run_client(llm_server.port, text)
    assert answer["wyoming"] == "1.5.4"
    # An installed intent program is what gives the agent home control in HA 2025.4.
    assert answer["intent_program"] == "local-voice-llm"
    assert answer["handle_program"] == "local-voice-llm"
    assert answer["languages"] == ["en"]
    assert answer["events"] == ["intent"] and answer["extra_event"] is None
    assert answer["intent"] == "HassTurnOff"
    assert "kitchen" in json.dumps(answer["slots"]).lower()
    assert answer["text"]


def test_home_assistant_2025_4_gets_a_plain_answer(llm_server: ServerProcess):
    answer = run_client(llm_server.port, "tell me a joke")
    assert answer["events"] == ["handled"] and answer["handled"]
