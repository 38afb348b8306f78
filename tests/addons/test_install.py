"""addons/install.sh, the images' install steps, run here into a clean virtualenv from
a copy of the checkout (as the image does from the release's source archive); then the
wake-word add-on's run script starts the service from it, and the health check passes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from testkit import ROOT
from testkit.addon_scripts import ADDONS_DIR

from .helpers import ADDONS
from .test_run_scripts import started, wait_described

# What a source archive of the project holds that the install needs.
SERVICES = ("stt", "tts", "wake", "llm", "satellite")
SOURCE_PARTS: tuple[str, ...] = ("pyproject.toml", "README.md", "LICENSE", "local_voice", "addons")
SOURCE_PARTS += tuple(f"wyoming_{name}" for name in SERVICES)


def source_copy(target: Path) -> Path:
    """The checkout's package source (no caches, no build output), like `git archive`."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    target.mkdir()
    for part in SOURCE_PARTS:
        path = ROOT / part
        if path.is_dir():
            shutil.copytree(path, target / part, ignore=ignore)
        else:
            shutil.copy2(path, target / part)
    return target


def test_install_sh_refuses_bad_arguments(tmp_path: Path):
    script = str(ADDONS_DIR / "install.sh")
    for args, message in [
        ([], "usage: install.sh SOURCE EXTRA"),
        ([str(tmp_path), "wake"], "has no pyproject.toml"),
        ([str(ROOT), "everything"], "unknown extra 'everything'"),
    ]:
        done = subprocess.run(
            ["bash", script, *args], capture_output=True, text=True, check=False, timeout=30
        )
        assert done.returncode == 1 and message in done.stderr, done.stderr


@pytest.mark.slow
@pytest.mark.timeout(1200)
@pytest.mark.skipif(shutil.which("jq") is None, reason="the bashio stand-in needs jq")
def test_install_sh_builds_a_wake_word_addon_that_starts_offline(tmp_path: Path):
    source = source_copy(tmp_path / "src")
    venv, cache, home = tmp_path / "venv", tmp_path / "cache", tmp_path / "home"
    home.mkdir()
    env = {
        **os.environ,
        "LOCAL_VOICE_VENV": str(venv),
        "LOCAL_VOICE_CACHE": str(cache),
        "LOCAL_VOICE_APT": "0",
        # The image's python3, not the test's venv.
        "PATH": os.pathsep.join(
            p for p in os.environ["PATH"].split(os.pathsep) if Path(p) != Path(sys.prefix) / "bin"
        ),
    }
    env.pop("VIRTUAL_ENV", None)
    done = subprocess.run(
        ["bash", str(source / "addons" / "install.sh"), str(source), "wake"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=1100,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (venv / "bin" / "local-voice-wake").exists()
    assert (cache / "models" / "openwakeword").is_dir()  # assembled at build time

    addon = ADDONS["wake"]
    options = addon.config()["options"]
    # A fresh HOME: nothing from this machine's ~/.cache; the models come from the image.
    with started(
        addon, tmp_path, options, bin_dir=venv / "bin", LOCAL_VOICE_CACHE=str(cache), HOME=str(home)
    ) as (process, port, log):
        info = wait_described(process, port, log)
        models = {model.name for model in info.wake[0].models}
        assert {"okay_nabu_fused", "ok_nabu_v0.1"} <= models
        health = subprocess.run(
            [str(venv / "bin" / "local-voice-healthcheck"), str(port)],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        assert health.returncode == 0, health.stderr
        assert "healthy: local-voice-wake" in health.stdout
    unhealthy = subprocess.run(
        [str(venv / "bin" / "local-voice-healthcheck"), str(port)],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert unhealthy.returncode == 1
