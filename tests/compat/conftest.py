"""Runs a tests/compat/clients/ script under .venv-wyoming-1.5.4 (Home Assistant 2025.4's pin)."""

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from testkit import ROOT

CLIENT_PYTHON = ROOT / ".venv-wyoming-1.5.4" / "bin" / "python"
CLIENTS_DIR = Path(__file__).parent / "clients"


def _run_ha_client(script: str, *args: object, timeout: float = 120) -> dict[str, Any]:
    """Runs clients/`script` with `args`; the JSON it prints. Fails if it fails."""
    result = subprocess.run(
        [str(CLIENT_PYTHON), str(CLIENTS_DIR / script), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},  # for tests.compat.clients.ha_info
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


@pytest.fixture(scope="session")
def ha_client() -> Callable[..., dict[str, Any]]:
    """Runs a client script with Home Assistant 2025.4's wyoming 1.5.4; returns its JSON."""
    if not CLIENT_PYTHON.exists():
        pytest.fail("run script/test: it creates .venv-wyoming-1.5.4 for this test")
    return _run_ha_client
