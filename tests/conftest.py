"""Shared fixtures: spoken clips and a real speech-to-text server on 127.0.0.1."""

from collections.abc import Iterator

import pytest

from local_voice import clips
from tests.helpers import ROOT, ServerProcess, run_server

LLM_HOME = ROOT / "tests" / "data" / "llm_home.json"

COMMANDS = (
    "turn off the kitchen lights",
    "set the bedroom lights to forty percent",
    "what is the temperature in the living room",
    "open the garage door",
    "start a timer for five minutes",
    "lock the front door",
)


@pytest.fixture(scope="session")
def piper_clips() -> dict[str, bytes]:
    """Each command spoken by the embedded Piper voice, padded like a real stream."""
    return {text: clips.padded(clips.piper(text)) for text in COMMANDS}


@pytest.fixture(scope="session")
def espeak_clips() -> dict[str, bytes]:
    """Each command spoken by espeak-ng, padded like a real stream."""
    return {text: clips.padded(clips.espeak(text, speed=150)) for text in COMMANDS}


@pytest.fixture(scope="session")
def stt_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the whole session, with short limits so limit tests run fast."""
    with run_server(
        "wyoming_stt",
        tmp_path_factory.mktemp("stt-logs"),
        "--stream-timeout",
        "3",
        "--max-audio-seconds",
        "45",
    ) as server:
        yield server


@pytest.fixture(scope="session")
def tts_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The text-to-speech server with its defaults (Piper joe; Kokoro voices from set-up)."""
    with run_server("wyoming_tts", tmp_path_factory.mktemp("tts-logs")) as server:
        yield server


@pytest.fixture(scope="session")
def llm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The conversation agent on its embedded model, loaded and warmed up."""
    logs = tmp_path_factory.mktemp("llm-logs")
    with run_server(
        "wyoming_llm", logs, "--timeout", "120", "--home-file", str(LLM_HOME)
    ) as server:
        server.wait_for_log("Warmed up", timeout=300)
        yield server
