"""The text-to-speech benchmark still runs (its numbers are read from its output, not checked)."""

import pytest

from testkit.processes import free_port
from testkit.report import run_benchmark


@pytest.mark.slow
def test_tts_benchmark_runs_briefly():
    report = run_benchmark(
        *("bench.tts", "--rounds", "1", "--texts", "2", "--no-peer"),
        *("--kokoro", "af_heart", "--port", str(free_port())),
        timeout=300,
    )
    rows = report["rows"]
    assert len(rows) == 4, rows  # Piper and Kokoro, streaming and not
    assert {row["server"] for row in rows} == {"local-voice"}, rows
    assert {row["mode"] for row in rows} == {"streaming", "synthesize"}, rows
    assert all(row["failed"] == 0 for row in rows), rows
    assert all(row["first_audio_ms"] is not None for row in rows), rows
