"""Fixtures shared by every part: spoken clips and one real server per service on 127.0.0.1."""

from collections.abc import Iterator

import pytest

from testkit import ROOT, clips
from testkit.processes import ServiceProcess, run_server
from testkit.stt_corpus import FIXTURE_COMMANDS

LLM_HOME = ROOT / "tests" / "data" / "llm_home.json"


@pytest.fixture(scope="session")
def piper_clips() -> dict[str, bytes]:
    """Each command spoken by the embedded Piper voice, padded like a real stream."""
    return {text: clips.padded(clips.piper(text)) for text in FIXTURE_COMMANDS}


@pytest.fixture(scope="session")
def espeak_clips() -> dict[str, bytes]:
    """Each command spoken by espeak-ng, padded like a real stream."""
    return {text: clips.padded(clips.espeak(text, speed=150)) for text in FIXTURE_COMMANDS}


@pytest.fixture(scope="session")
def stt_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
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
def tts_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """The text-to-speech server with its defaults (Piper joe; Kokoro voices from set-up)."""
    with run_server("wyoming_tts", tmp_path_factory.mktemp("tts-logs")) as server:
        yield server


@pytest.fixture(scope="session")
def llm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """The conversation agent on its embedded model, loaded and warmed up."""
    logs = tmp_path_factory.mktemp("llm-logs")
    with run_server(
        "wyoming_llm", logs, "--timeout", "120", "--home-file", str(LLM_HOME)
    ) as server:
        server.wait_for_log("Warmed up", timeout=300)
        yield server


@pytest.fixture(scope="module")
def wake_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """A wake-word server with defaults, both engines loaded at start."""
    with run_server(
        "wyoming_wake",
        tmp_path_factory.mktemp("wake-logs"),
        "--preload-model",
        "okay_nabu",
        "--preload-model",
        "ok_nabu_v0.1",
    ) as server:
        server.wait_for_log("Loaded okay_nabu, ok_nabu_v0.1", timeout=60)
        yield server
