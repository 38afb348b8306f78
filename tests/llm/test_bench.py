"""The conversation benchmark still runs (its numbers are read from its output, not checked)."""

import pytest

from testkit.processes import free_port
from testkit.report import run_benchmark


@pytest.mark.slow
def test_llm_benchmark_runs_briefly():
    report = run_benchmark(
        "bench.llm", "--cases", "6", "--stock", "--port", str(free_port()), timeout=600
    )
    [row] = [row for row in report["rows"] if row["backend"].startswith("embedded")]
    assert row["total"] == 6, row  # overall accuracy over the 6 utterances
    assert 0 <= row["right"] <= 6, row
    assert sum(c["total"] for c in row["categories"].values()) == 6, row
    assert row["rule_breaks"] == 0, row  # no reply outside the home's names and the intent list
    assert row["unsafe"] == 0, row  # nothing unlocked or opened unasked
    [stock] = [row for row in report["rows"] if row["backend"].startswith("stock")]
    assert 0 < stock["total"] <= 6 and stock["unsafe"] == 0, stock  # no context, one intent
    assert row["slowest_ms"] >= row["first_intent_median_ms"] > 0, row
