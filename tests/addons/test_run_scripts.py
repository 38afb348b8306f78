"""Every add-on's s6 `run` script, on this host with a bashio stand-in.

First with a stand-in service that records its arguments (each option becomes the
flag the service's own parser reads back), then with the real service from .venv:
it starts, answers `describe` on the add-on's port and serves what the options say."""

from __future__ import annotations

import asyncio
import importlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from wyoming.info import Info

from local_voice.info import describe
from testkit.addon_scripts import BASHIO
from testkit.processes import free_port

from .helpers import ADDONS, VENV_BIN, Addon, ScriptResult, run_recorded, script_env

pytestmark = pytest.mark.skipif(shutil.which("jq") is None, reason="the bashio stand-in needs jq")

ADDON_LIST = list(ADDONS.values())
IDS = list(ADDONS)


def changed_options(addon: Addon, tmp_path: Path) -> dict[str, Any]:
    """A value other than the default for every option (valid for the service)."""
    folder = tmp_path / "user-data"
    folder.mkdir(exist_ok=True)
    prompt = folder / "prompt.txt"
    prompt.write_text("Be brief.")
    changed: dict[str, dict[str, Any]] = {
        "stt": {
            "model": "tiny.en",
            "language": "en",
            "beam_size": 2,
            "compute_type": "int8",
            "cpu_threads": 1,
            "workers": 2,
            "initial_prompt": "Kitchen lights",
        },
        "tts": {
            "voice": "af_heart",
            "speaker": "0",
            "speed": 1.2,
            "custom_voices_dir": str(folder),
            "max_loaded_voices": 2,
            "workers": 1,
        },
        "wake": {
            "wake_words": ["hey_jarvis", "alexa"],
            "threshold": 0.7,
            "custom_model_dir": str(folder),
            "trigger_level": 2,
            "refractory_seconds": 3.5,
            "vad": True,
        },
        "llm": {
            "model": "0.5b",
            "home_from_home_assistant": False,
            "max_history_turns": 2,
            "history_seconds": 60.0,
            "n_ctx": 2048,
            "n_threads": 1,
            "temperature": 0.3,
            "max_tokens": 64,
            "timeout": 30.0,
            "system_prompt_file": str(prompt),
            "openai_base_url": "http://127.0.0.1:8080/v1",
            "openai_model": "qwen",
            "openai_api_key": "sk-test",
        },
        "satellite": {
            "name": "Kitchen satellite",
            "area": "Kitchen",
            "wake_words": ["hey_jarvis"],
            "mic_command": "sleep 3600",
            "mic_volume_multiplier": 2.0,
            "mic_auto_gain": 10,
            "mic_noise_suppression": 2,
            "snd_command": "cat",
            "snd_volume_multiplier": 0.5,
            "silence_seconds": 0.8,
            "echo_cancel": False,
            "echo_engine": "webrtc",
            "awake_tone": True,
            "tones": False,
        },
    }
    return {**addon.config()["options"], **changed[addon.service], "debug_logging": True}


def parse(addon: Addon, argv: list[str]) -> Any:
    parser = importlib.import_module(f"{addon.module}.__main__").get_parser()
    return parser.parse_args(argv)


def assert_flags_match(addon: Addon, options: dict[str, Any], argv: list[str]) -> None:
    """The service's parser reads back each option from the flags."""
    args = parse(addon, argv)
    defaults = parse(addon, [])
    assert args.uri == f"tcp://0.0.0.0:{addon.port}"
    for name, flag in addon.flags.items():
        got = getattr(args, flag.dest)
        if name not in options:
            assert got == getattr(defaults, flag.dest), name
        elif flag.kind == "flag":
            assert got is options[name], name
        elif flag.kind == "negate":
            assert got is (not options[name]), name
        elif flag.kind == "list":
            expected = options[name] or None
            assert got == expected or (got is None and expected == []), name
        elif flag.kind == "dir":
            assert [str(path) for path in got] == (
                [options[name]] if Path(options[name]).is_dir() else []
            ), name
        elif flag.kind == "env":
            continue
        elif isinstance(options[name], float):
            assert float(got) == pytest.approx(options[name]), name
        else:
            assert str(got) == str(options[name]), name


def recorded(result: ScriptResult) -> list[str]:
    assert result.returncode == 0, result.output
    assert result.argv is not None, result.output
    return result.argv


@pytest.mark.parametrize("addon", ADDON_LIST, ids=IDS)
def test_default_options_become_the_clis_defaults(addon: Addon, tmp_path: Path):
    options = addon.config()["options"]
    argv = recorded(run_recorded(addon, tmp_path, options))
    assert_flags_match(addon, options, argv)
    if addon.service != "satellite":  # announced by default, under --name
        assert "--zeroconf" in argv
    assert "--debug" not in argv


@pytest.mark.parametrize("addon", ADDON_LIST, ids=IDS)
def test_changed_options_become_flags(addon: Addon, tmp_path: Path):
    options = changed_options(addon, tmp_path)
    result = run_recorded(addon, tmp_path, options)
    assert_flags_match(addon, options, recorded(result))
    assert "--debug" in recorded(result)


def test_llm_api_key_goes_in_a_file_under_data(tmp_path: Path):
    addon = ADDONS["llm"]
    options = changed_options(addon, tmp_path)
    argv = recorded(run_recorded(addon, tmp_path, options))
    assert "sk-test" not in argv
    key_file = Path(parse(addon, argv).openai_api_key_file)
    assert key_file == tmp_path / "data" / "openai_api_key"
    assert key_file.read_text().strip() == "sk-test"
    assert key_file.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("load_home", [True, False])
def test_llm_home_from_home_assistant_keeps_or_drops_the_supervisor_token(
    tmp_path: Path, load_home: bool
):
    """local-voice-llm loads the home from http://supervisor/core whenever it has
    $SUPERVISOR_TOKEN (homeassistant_api); the option decides whether it gets it."""
    addon = ADDONS["llm"]
    options = {**addon.config()["options"], "home_from_home_assistant": load_home}
    result = run_recorded(addon, tmp_path, options, SUPERVISOR_TOKEN="supervisor-secret")
    argv = recorded(result)
    assert "--ha-url" not in argv and "--ha-token-file" not in argv
    assert ("SUPERVISOR_TOKEN" in result.env) is load_home


def test_llm_with_the_home_on_but_no_supervisor_warns(tmp_path: Path):
    result = run_recorded(ADDONS["llm"], tmp_path, ADDONS["llm"].config()["options"])
    recorded(result)
    assert "No Supervisor token" in result.output


def test_satellite_with_a_wake_word_service(tmp_path: Path):
    addon = ADDONS["satellite"]
    options = {**addon.config()["options"], "wake_uri": "tcp://local-voice-wake:10400"}
    args = parse(addon, recorded(run_recorded(addon, tmp_path, options)))
    assert args.wake_uri == "tcp://local-voice-wake:10400"
    assert args.wake_word_name == ["okay_nabu_fused"]
    assert args.wake_word is None


BAD_OPTIONS: list[tuple[str, dict[str, Any], str]] = [
    ("stt", {"model": "medium"}, "model: 'medium' is not tiny.en, base"),
    ("stt", {"model": "/share/nowhere"}, "model: /share/nowhere is not a directory"),
    ("tts", {"length_scale": 1.1, "speed": 1.2}, "length_scale (Piper voices) and speed"),
    ("llm", {"model": "/share/nowhere.gguf"}, "model: no file /share/nowhere.gguf"),
    ("llm", {"openai_base_url": "ftp://x"}, "openai_base_url: 'ftp://x' is not an http://"),
    ("llm", {"system_prompt_file": "/share/none.txt"}, "system_prompt_file: no file"),
    ("satellite", {"wake_uri": "core-openwakeword"}, "wake_uri: 'core-openwakeword' is not"),
]


@pytest.mark.parametrize(
    ("service", "bad", "message"),
    BAD_OPTIONS,
    ids=[f"{s}-{next(iter(b))}" for s, b, _ in BAD_OPTIONS],
)
def test_a_bad_option_is_a_clear_error(
    tmp_path: Path, service: str, bad: dict[str, Any], message: str
):
    addon = ADDONS[service]
    result = run_recorded(addon, tmp_path, {**addon.config()["options"], **bad})
    assert result.returncode == 1
    assert result.argv is None  # the service was not started
    assert "FATAL" in result.output and message in result.output, result.output


@pytest.mark.parametrize("addon", ADDON_LIST, ids=IDS)
def test_finish_stops_the_addon_only_when_the_service_failed(addon: Addon, tmp_path: Path):
    finish = addon.s6_dir / addon.service / "finish"
    env = script_env(tmp_path, {}, [])
    ok = subprocess.run(
        [str(BASHIO), str(finish), "0"], env=env, capture_output=True, text=True, check=False
    )
    assert ok.returncode == 0 and "stopped" in ok.stderr
    failed = subprocess.run(
        [str(BASHIO), str(finish), "2"], env=env, capture_output=True, text=True, check=False
    )
    assert failed.returncode != 0  # no s6 here: it reached the halt
    assert "exited with status 2: stopping the add-on" in failed.stderr


# -- the real services ----------------------------------------------------------------


@contextmanager
def started(
    addon: Addon,
    tmp_path: Path,
    options: dict[str, Any],
    bin_dir: Path = VENV_BIN,
    **extra: str,
) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    """The run script with the project's venv (or `bin_dir`) first on PATH, on a free port."""
    port = free_port()
    env = script_env(tmp_path, options, [bin_dir], LOCAL_VOICE_ADDON_PORT=str(port), **extra)
    log = tmp_path / f"{addon.service}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(BASHIO), str(addon.run_script)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        yield process, port, log
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_described(
    process: subprocess.Popen[bytes], port: int, log: Path, timeout: float = 180
) -> Info:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        info = asyncio.run(describe("127.0.0.1", port))
        if info is not None:
            return info
        time.sleep(0.3)
    raise AssertionError(f"no describe answer on {port}:\n{log.read_text()[-3000:]}")


def wait_log(log: Path, text: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in (content := log.read_text(errors="replace")):
            return content
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not in log:\n{log.read_text()[-3000:]}")


needs_venv = pytest.mark.skipif(
    not (VENV_BIN / "local-voice-wake").exists(), reason="the services are not in .venv"
)


@needs_venv
def test_wake_addon_serves_its_options(tmp_path: Path):
    addon = ADDONS["wake"]
    options = {**addon.config()["options"], "wake_words": ["hey_jarvis"], "threshold": 0.6}
    with started(addon, tmp_path, options) as (process, port, log):
        info = wait_described(process, port, log)
        assert info.wake and info.wake[0].installed
        assert "hey_jarvis" in {model.name for model in info.wake[0].models}
        content = wait_log(log, "Listening on tcp://0.0.0.0:")
        assert f"--uri tcp://0.0.0.0:{port} --zeroconf --model hey_jarvis" in content


@needs_venv
def test_tts_addon_default_voice_is_the_option(tmp_path: Path):
    addon = ADDONS["tts"]
    with started(addon, tmp_path, {**addon.config()["options"], "voice": "af_heart"}) as (
        process,
        port,
        log,
    ):
        info = wait_described(process, port, log)
        assert info.tts and "af_heart" in {voice.name for voice in info.tts[0].voices}
        wait_log(log, "default af_heart")


@needs_venv
def test_tts_addon_unknown_voice_stops_with_the_services_message(tmp_path: Path):
    addon = ADDONS["tts"]
    options = {**addon.config()["options"], "voice": "nobody"}
    with started(addon, tmp_path, options) as (process, _port, log):
        assert process.wait(60) != 0
    assert "voice 'nobody' is not installed" in log.read_text()


@needs_venv
def test_satellite_addon_is_named_and_placed_by_its_options(tmp_path: Path):
    addon = ADDONS["satellite"]
    options = {
        **addon.config()["options"],
        "name": f"Addon test {os.getpid()}",
        "area": "Kitchen",
        "wake_words": ["hey_jarvis"],
        "mic_command": "sleep 3600",
        "snd_command": "cat",
    }
    with started(addon, tmp_path, options) as (process, port, log):
        info = wait_described(process, port, log)
        assert info.satellite is not None
        assert info.satellite.name == options["name"]
        assert info.satellite.area == "Kitchen"
        assert info.satellite.active_wake_words == ["hey_jarvis"]


@pytest.mark.slow
@needs_venv
def test_stt_addon_serves_the_model_of_its_options(tmp_path: Path):
    addon = ADDONS["stt"]
    options = {**addon.config()["options"], "model": "tiny.en", "beam_size": 1}
    with started(addon, tmp_path, options) as (process, port, log):
        info = wait_described(process, port, log)
        assert info.asr and info.asr[0].models[0].name == "tiny.en"


@pytest.mark.slow
@needs_venv
def test_llm_addon_serves_the_model_of_its_options(tmp_path: Path):
    addon = ADDONS["llm"]
    options = {**addon.config()["options"], "model": "0.5b", "max_history_turns": 2}
    with started(addon, tmp_path, options) as (process, port, log):
        info = wait_described(process, port, log)
        assert info.handle and info.handle[0].models[0].name.startswith("qwen2.5-coder-0.5b")
