"""The wake-word server with Home Assistant 2025.4's own client library (wyoming 1.5.4)."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from testkit import clips
from testkit.processes import ServiceProcess
from testkit.wake_corpus import ALL_MODELS, phrase_clip
from wyoming_wake.models import DEFAULT_MODEL


def run_client(
    ha_client: Callable[..., dict[str, Any]], port: int, pcm: bytes, model: str, tmp_path: Path
) -> dict[str, Any]:
    clip = tmp_path / f"{model}.pcm"
    clip.write_bytes(pcm)
    return ha_client("ha_wake_client.py", port, clip, model)


@pytest.mark.parametrize(
    ("model", "phrase"),
    [("okay_nabu", "okay nabu"), ("ok_nabu_v0.1", "okay nabu"), ("hey_jarvis_v0.1", "hey jarvis")],
)
def test_home_assistant_2025_4_wake_client(
    ha_client, wake_server: ServiceProcess, tmp_path, model, phrase
):
    pcm = phrase_clip(phrase) + clips.silence(3)
    answer = run_client(ha_client, wake_server.port, pcm, model, tmp_path)
    assert answer["wyoming"] == "1.5.4"
    assert answer["programs"] == ["local-voice-wake"]
    assert sorted(answer["models"]) == sorted([*ALL_MODELS, DEFAULT_MODEL])
    assert answer["models"]["okay_nabu"]["phrase"] == "Okay Nabu"
    assert answer["detection"] is not None and answer["detection"]["name"] == model
    assert answer["detection"]["timestamp"] > 0


def test_home_assistant_client_hears_nothing_in_ordinary_speech(ha_client, wake_server, tmp_path):
    pcm = clips.padded(clips.piper("turn off the kitchen lights")) + clips.silence(2)
    answer = run_client(ha_client, wake_server.port, pcm, "okay_nabu", tmp_path)
    assert answer["detection"] is None
