"""Peers to benchmark against, each installed from PyPI into its own .bench/venv-NAME."""

import subprocess
import sys
from pathlib import Path

from . import BENCH_DIR


def peer_python(name: str, *requirements: str, no_deps: tuple[str, ...] = ()) -> Path:
    """The Python of .bench/venv-NAME, with `requirements` installed on first use.

    `no_deps` are installed first without their dependencies (for a peer whose own
    pins can't be met); `requirements` then supply what it needs."""
    venv = BENCH_DIR / f"venv-{name}"
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    if not marker.exists():
        print(f"Installing {' '.join((*no_deps, *requirements))} into {venv} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        if no_deps:
            subprocess.run([*pip, "--no-deps", *no_deps], check=True)
        subprocess.run([*pip, *requirements], check=True)
        marker.touch()
    return python
