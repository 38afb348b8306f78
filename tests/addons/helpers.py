"""The add-ons under addons/, what their options mean as flags, and running their s6
scripts on this host with a bashio stand-in (testkit/bashio)."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from local_voice.ports import LLM_PORT, SATELLITE_PORT, STT_PORT, TTS_PORT, WAKE_PORT
from testkit import ROOT
from testkit.addon_scripts import ADDONS_DIR, BASHIO, discovery_script

SCHEMA_DIR = ROOT / "tests" / "data" / "addon-schema"
VENV_BIN = ROOT / ".venv" / "bin"


@dataclass(frozen=True)
class Flag:
    """How an option reaches the service: `dest` is the argparse destination.

    kind: value (--flag VALUE), list (--flag per item), flag (store_true when true),
    negate (store_true when false), dir (--flag DIR when the directory exists),
    env (not a flag: run script and environment, tested on its own)."""

    dest: str
    kind: str = "value"


@dataclass(frozen=True)
class Addon:
    folder: str
    module: str  # python -m MODULE
    port: int
    flags: dict[str, Flag]
    # What the CLI does when a flag is absent, where its parser default is None / [].
    effective_defaults: dict[str, Any] = field(default_factory=dict)
    # Optional options whose CLI default depends on the machine (cores, host name).
    computed_defaults: frozenset[str] = frozenset()

    @property
    def path(self) -> Path:
        return ADDONS_DIR / self.folder

    @property
    def service(self) -> str:
        return self.folder

    @property
    def command(self) -> str:
        return f"local-voice-{self.service}"

    @property
    def s6_dir(self) -> Path:
        return self.path / "rootfs" / "etc" / "s6-overlay" / "s6-rc.d"

    @property
    def run_script(self) -> Path:
        return self.s6_dir / self.service / "run"

    @property
    def discovery_script(self) -> Path:
        return discovery_script(self.folder)

    def config(self) -> dict[str, Any]:
        return load_yaml(self.path / "config.yaml")


DEBUG = {"debug_logging": Flag("debug", "flag")}
ADDONS = {
    "stt": Addon(
        "stt",
        "wyoming_stt",
        STT_PORT,
        {
            "model": Flag("model"),
            "language": Flag("language"),
            "beam_size": Flag("beam_size"),
            "compute_type": Flag("compute_type"),
            "cpu_threads": Flag("cpu_threads"),
            "workers": Flag("workers"),
            "initial_prompt": Flag("initial_prompt"),
            **DEBUG,
        },
        computed_defaults=frozenset({"cpu_threads"}),
    ),
    "tts": Addon(
        "tts",
        "wyoming_tts",
        TTS_PORT,
        {
            "voice": Flag("voice"),
            "speaker": Flag("speaker"),
            "length_scale": Flag("length_scale"),
            "speed": Flag("speed"),
            "custom_voices_dir": Flag("data_dir", "dir"),
            "max_loaded_voices": Flag("max_loaded_voices"),
            "workers": Flag("workers"),
            **DEBUG,
        },
        effective_defaults={"voice": "en_US-joe-medium"},
    ),
    "wake": Addon(
        "wake",
        "wyoming_wake",
        WAKE_PORT,
        {
            "wake_words": Flag("model", "list"),
            "threshold": Flag("threshold"),
            "custom_model_dir": Flag("custom_model_dir", "dir"),
            "trigger_level": Flag("trigger_level"),
            "refractory_seconds": Flag("refractory_seconds"),
            "vad": Flag("vad", "flag"),
            **DEBUG,
        },
        effective_defaults={"wake_words": ["okay_nabu_fused"]},
    ),
    "llm": Addon(
        "llm",
        "wyoming_llm",
        LLM_PORT,
        {
            "model": Flag("model"),
            "home_from_home_assistant": Flag("ha_url", "env"),
            "max_history_turns": Flag("max_history_turns"),
            "history_seconds": Flag("history_seconds"),
            "n_ctx": Flag("n_ctx"),
            "n_threads": Flag("n_threads"),
            "temperature": Flag("temperature"),
            "max_tokens": Flag("max_tokens"),
            "timeout": Flag("timeout"),
            "system_prompt_file": Flag("system_prompt_file"),
            "openai_base_url": Flag("openai_base_url"),
            "openai_model": Flag("openai_model"),
            "openai_api_key": Flag("openai_api_key_file", "env"),
            **DEBUG,
        },
        computed_defaults=frozenset({"n_threads"}),
    ),
    "satellite": Addon(
        "satellite",
        "wyoming_satellite",
        SATELLITE_PORT,
        {
            "name": Flag("name"),
            "area": Flag("area"),
            "wake_words": Flag("wake_word", "list"),
            "wake_uri": Flag("wake_uri"),
            "mic_device": Flag("mic_device"),
            "mic_command": Flag("mic_command"),
            "mic_volume_multiplier": Flag("mic_volume_multiplier"),
            "mic_auto_gain": Flag("mic_auto_gain"),
            "mic_noise_suppression": Flag("mic_noise_suppression"),
            "snd_device": Flag("snd_device"),
            "snd_command": Flag("snd_command"),
            "snd_volume_multiplier": Flag("snd_volume_multiplier"),
            "silence_seconds": Flag("silence_seconds"),
            "echo_cancel": Flag("no_echo_cancel", "negate"),
            "echo_engine": Flag("echo_engine"),
            "awake_tone": Flag("awake_tone", "flag"),
            "tones": Flag("no_tones", "negate"),
            **DEBUG,
        },
        effective_defaults={"wake_words": ["okay_nabu_fused"]},
        computed_defaults=frozenset({"name"}),
    ),
}


def load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


@dataclass
class ScriptResult:
    returncode: int
    output: str
    argv: list[str] | None  # what the service was exec'd with (None: not exec'd)
    env: dict[str, str]


def write_options(directory: Path, options: dict[str, Any]) -> Path:
    path = directory / "options.json"
    path.write_text(json.dumps(options), encoding="utf-8")
    return path


def script_env(
    tmp_path: Path, options: dict[str, Any], path_first: list[Path], **extra: str
) -> dict[str, str]:
    """The environment a script runs in: options.json, /data and the port under tmp_path."""
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "SUPERVISOR_TOKEN"}
    env.update(
        BASHIO_OPTIONS_FILE=str(write_options(data, options)),
        LOCAL_VOICE_ADDON_DATA=str(data),
        PATH=os.pathsep.join([*map(str, path_first), env.get("PATH", "")]),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def run_recorded(
    addon: Addon, tmp_path: Path, options: dict[str, Any], **extra: str
) -> ScriptResult:
    """Run the add-on's `run` script with a stand-in service on PATH that records the
    arguments (and environment) it is exec'd with instead of serving."""
    fake_bin = tmp_path / "fake-bin"
    fake_bin.mkdir(exist_ok=True)
    record = tmp_path / "argv.json"
    record.unlink(missing_ok=True)
    fake = fake_bin / addon.command
    fake.write_text(
        "#!/usr/bin/env python3\n"
        "import json, os, sys\n"
        f"open({str(record)!r}, 'w').write(json.dumps("
        "{'argv': sys.argv[1:], 'env': dict(os.environ)}))\n",
        encoding="utf-8",
    )
    fake.chmod(0o755)
    env = script_env(tmp_path, options, [fake_bin], **extra)
    done = subprocess.run(
        [str(BASHIO), str(addon.run_script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    argv, child_env = None, {}
    if record.exists():
        recorded = json.loads(record.read_text())
        argv, child_env = recorded["argv"], recorded["env"]
    return ScriptResult(done.returncode, done.stdout + done.stderr, argv, child_env)
