"""Command-line options: --data-dir voices, --engine, --speaker, --max-loaded-voices, errors."""

import json
import subprocess
import sys

import numpy as np
import pytest

from local_voice.info import describe
from testkit import ROOT
from testkit.processes import run_server
from testkit.tts_client import synthesize
from wyoming_tts.kokoro_voices import kokoro_voices_file
from wyoming_tts.models import DEFAULT_VOICE, catalog


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """A Piper voice with named speakers, a kokoro-js .bin voice and a French .npz voice."""
    directory = tmp_path_factory.mktemp("voices")
    joe = catalog([])[DEFAULT_VOICE]
    assert joe.config is not None
    (directory / "en_GB-test-medium.onnx").symlink_to(joe.model)
    config = json.loads(joe.config.read_text())
    config["language"]["code"] = "en_GB"
    config["speaker_id_map"] = {"alice": 0, "bob": 1}  # one model output; names still checked
    (directory / "en_GB-test-medium.onnx.json").write_text(json.dumps(config))
    (directory / "en_US-broken-low.onnx").write_bytes(b"not a model")
    (directory / "en_US-broken-low.onnx.json").write_text(json.dumps(config))
    with np.load(kokoro_voices_file()) as styles:
        styles["am_michael"].astype("<f4").tofile(directory / "am_custom.bin")
        np.savez(directory / "more.npz", ff_test=styles["bf_emma"])
    return directory


async def test_data_dir_voices_are_listed_and_spoken(tmp_path, data_dir):
    with run_server(
        "wyoming_tts", tmp_path, "--data-dir", str(data_dir), "--max-loaded-voices", "1"
    ) as server:
        info = await describe("127.0.0.1", server.port, timeout=5)
        assert info is not None
        voices = {voice.name: voice for voice in info.tts[0].voices}
        assert voices["en_GB-test-medium"].languages == ["en_GB"]
        assert [s.name for s in voices["en_GB-test-medium"].speakers or []] == ["alice", "bob"]
        assert voices["am_custom"].languages == ["en_US"]
        assert voices["ff_test"].languages == ["fr"]

        bob = await synthesize(
            server.port, "Hello.", {"name": "en_GB-test-medium", "speaker": "bob"}
        )
        assert bob.format.rate == 22050 and bob.seconds > 0.3
        carol = await synthesize(
            server.port, "Hello.", {"name": "en_GB-test-medium", "speaker": "carol"}
        )
        assert carol.types == ["error"] and "alice, bob" in carol.events[0].data["text"]
        custom = await synthesize(server.port, "Hello there.", {"name": "am_custom"})
        assert custom.format.rate == 24000 and custom.seconds > 0.4
        french = await synthesize(server.port, "Bonjour à tous.", {"name": "ff_test"})
        assert french.seconds > 0.4
        again = await synthesize(server.port, "Hello.", {"name": "en_GB-test-medium"})
        assert again.seconds > 0.3
        log = server.wait_for_log("Unloading piper:")  # one model at a time: LRU evicted
        assert "Unloading kokoro:" in log

        broken = await synthesize(server.port, "Hello.", {"name": "en_US-broken-low"})
        assert broken.types == ["error"] and broken.events[0].data["code"] == "synthesis-failed"
        assert (await synthesize(server.port, "Still fine.")).seconds > 0.3


async def test_engine_kokoro_makes_af_heart_the_default(tmp_path):
    with run_server("wyoming_tts", tmp_path, "--engine", "kokoro", "--speed", "1.2") as server:
        answer = await synthesize(server.port, "Good evening.")
        assert answer.format.rate == 24000 and answer.seconds > 0.3
        assert "af_heart" in server.wait_for_log("af_heart [")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--voice", "nosuch"], "voice 'nosuch' is not installed; voices: en_US-joe-medium"),
        (["--engine", "piper", "--voice", "af_heart"], "is a kokoro voice, not piper"),
        (["--speaker", "bob"], "has no speaker 'bob'"),
        (["--speed", "0"], "--speed must be between"),
        (["--speed", "1.1", "--length-scale", "1"], "not allowed with argument"),
        (["--max-loaded-voices", "0"], "--max-loaded-voices must be greater than zero"),
    ],
)
def test_bad_options_are_refused(args, message):
    result = subprocess.run(
        [sys.executable, "-m", "wyoming_tts", "--uri", "tcp://127.0.0.1:1", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and message in result.stderr, result.stderr
