"""Wake-word test fixtures: clips (cached under .bench/wake-clips) and a real server."""

from collections.abc import Iterator

import pytest

from bench import wake_corpus
from tests.helpers import ROOT, ServerProcess, run_server

CLIP_CACHE = ROOT / ".bench" / "wake-clips"
PIPER_VOICES = ["piper", "piper-slow", "piper-fast"]
KOKORO_VOICES = ["kokoro-af_heart", "kokoro-bm_george"]
MICRO_MODELS = ["okay_nabu", "hey_jarvis", "hey_mycroft", "alexa"]
OWW_MODELS = [
    "ok_nabu_v0.1",
    "hey_jarvis_v0.1",
    "hey_mycroft_v0.1",
    "alexa_v0.1",
    "hey_rhasspy_v0.1",
]
ALL_MODELS = MICRO_MODELS + OWW_MODELS


def positives(**kwargs: object) -> list[wake_corpus.WakeClip]:
    return wake_corpus.positives(cache=CLIP_CACHE, **kwargs)  # type: ignore[arg-type]


def negatives(**kwargs: object) -> list[wake_corpus.WakeClip]:
    return wake_corpus.negatives(cache=CLIP_CACHE, **kwargs)  # type: ignore[arg-type]


def phrase_clip(phrase: str, voice: str = "kokoro-af_heart") -> bytes:
    """One clean clip of the phrase followed by a command, in a voice that wakes every
    model of the phrase (test_neural_voices_wake_both_engines checks it)."""
    return positives(phrases=[phrase], voices=[voice], noise=(False,))[0].pcm


@pytest.fixture(scope="module")
def wake_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server with defaults, both engines loaded at start."""
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
