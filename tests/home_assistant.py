"""Runs a tests/compat/ script under .venv-wyoming-1.5.4 (Home Assistant 2025.4's pin)."""

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT

CLIENT_PYTHON = ROOT / ".venv-wyoming-1.5.4" / "bin" / "python"
COMPAT_DIR = Path(__file__).parent / "compat"


def run_ha_client(script: str, *args: object, timeout: float = 120) -> dict[str, Any]:
    """Runs compat/`script` with `args`; the JSON it prints. Fails if it fails."""
    if not CLIENT_PYTHON.exists():
        pytest.fail("run script/test: it creates .venv-wyoming-1.5.4 for this test")
    result = subprocess.run(
        [str(CLIENT_PYTHON), str(COMPAT_DIR / script), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},  # for tests.compat.ha_info
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer
