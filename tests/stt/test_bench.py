"""The speech-to-text benchmark still runs (its numbers are read from its output, not checked)."""

import pytest

from testkit.processes import free_port
from testkit.report import run_benchmark


@pytest.mark.slow
def test_stt_benchmark_runs_on_a_small_corpus():
    report = run_benchmark(
        *("bench.stt", "--clips", "3", "--no-peer", "--modes", "burst"),
        *("--port", str(free_port())),
        timeout=300,
    )
    assert [(row["server"], row["mode"]) for row in report["rows"]] == [("local-voice", "burst")], (
        report
    )
    row = report["rows"][0]
    assert row["failed"] == 0, row
    assert row["median_ms"] is not None, row
    assert row["wer"] is not None, row
    assert report["settings"]["clips"] == 3, report["settings"]
