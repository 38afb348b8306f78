"""The conversation benchmark still runs (its numbers are read from its output, not checked)."""

import subprocess
import sys

import pytest

from testkit import ROOT
from testkit.processes import free_port


@pytest.mark.slow
def test_llm_benchmark_runs_briefly():
    result = subprocess.run(
        [sys.executable, "-m", "bench.llm", "--cases", "6", "--port", str(free_port())],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    row = [line for line in result.stdout.splitlines() if line.startswith("| embedded")][-1]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[1].endswith("/6)")  # overall accuracy over the 6 utterances
    assert cells[-1] == "0"  # no reply outside the home's names and the intent list
