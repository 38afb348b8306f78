"""The benchmark script still runs (numbers are checked by reading its output, not here)."""

import subprocess
import sys

import pytest

from testkit import ROOT
from testkit.processes import free_port


@pytest.mark.slow
def test_stt_benchmark_runs_on_a_small_corpus():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.stt",
            "--clips",
            "3",
            "--no-peer",
            "--modes",
            "burst",
            "--port",
            "10391",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [
        line for line in result.stdout.splitlines() if line.startswith("| local-voice | burst |")
    ]
    assert rows, result.stdout
    failed = rows[-1].rstrip(" |").split("|")[-1].strip()
    assert failed == "0", rows[-1]


@pytest.mark.slow
def test_tts_benchmark_runs_briefly():
    result = subprocess.run(
        [
            *(sys.executable, "-m", "bench.tts", "--rounds", "1", "--texts", "2", "--no-peer"),
            *("--kokoro", "af_heart", "--port", str(free_port())),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| local-voice |")]
    assert len(rows) == 4, result.stdout  # Piper and Kokoro, streaming and not
    assert all(row.rstrip(" |").split("|")[-1].strip() == "0" for row in rows), rows
