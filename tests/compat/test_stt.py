"""The server with Home Assistant 2025.4's own client library (wyoming 1.5.4)."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from testkit import clips
from testkit.processes import ServiceProcess, run_server
from testkit.wer import word_error_rate


def run_client(
    ha_client: Callable[..., dict[str, Any]],
    port: int,
    pcm: bytes,
    tmp_path: Path,
    language: str = "en",
) -> dict[str, Any]:
    clip = tmp_path / "clip.pcm"
    clip.write_bytes(pcm)
    return ha_client("ha_stt_client.py", port, clip, language)


def test_home_assistant_2025_4_client(ha_client, stt_server: ServiceProcess, tmp_path):
    text = "turn off the kitchen lights"
    answer = run_client(ha_client, stt_server.port, clips.padded(clips.piper(text)), tmp_path)
    assert answer["wyoming"] == "1.5.4"
    assert answer["program"] == "local-voice-stt" and answer["installed"] is True
    assert "en" in answer["languages"] and "de" in answer["languages"]
    assert answer["events"] == ["transcript"]  # nothing a 1.5.4 client doesn't know
    assert word_error_rate(text, str(answer["text"])) == 0


@pytest.mark.slow
def test_language_of_another_installed_model_is_served(ha_client, tmp_path):
    """With tiny.en as default, Home Assistant still offers (and gets) German via base."""
    german = clips.padded(clips.espeak("schalte das Licht in der Küche aus", voice="de", speed=140))
    with run_server("wyoming_stt", tmp_path, "--model", "tiny.en") as server:
        answer = run_client(ha_client, server.port, german, tmp_path, language="de")
        log = server.wait_for_log("model base")
    assert "de" in answer["languages"]
    assert word_error_rate("schalte das licht in der küche aus", str(answer["text"])) <= 0.35, (
        answer
    )
    assert "model base, beam 5, de" in log
