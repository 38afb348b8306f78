"""The end-of-speech benchmark still runs, and what it reports hangs together."""

import itertools

import pytest

from testkit.report import run_benchmark


@pytest.mark.slow
def test_speech_end_benchmark_runs_on_a_small_corpus() -> None:
    report = run_benchmark("bench.speech_end", "--quick", timeout=600)
    rows = report["rows"]
    assert [row["silence"] for row in rows] == sorted(row["silence"] for row in rows)
    assert report["settings"]["clips"] == 2 * 2 * 4 * 3  # voices, commands, forms, rooms
    for row in rows:
        assert row["fluent"] == 12 and row["hesitations"] == 12, row
        assert row["median_ms"] is not None and row["median_ms"] > row["silence"] * 1000
    # a longer silence never cuts more, and ends later
    for shorter, longer in itertools.pairwise(rows):
        assert longer["cut_800ms"] <= shorter["cut_800ms"], (shorter, longer)
        assert longer["median_ms"] >= shorter["median_ms"], (shorter, longer)
    assert report["summary"]["default_silence"] == 0.5
