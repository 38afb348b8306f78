"""Test and benchmark tooling shared by tests/ and bench/; not part of the services' wheel.

Spoken clips, word error rate, corpora, child processes on free ports, raw Wyoming
clients and a Home Assistant driver (`testkit.ha`). It imports the services, never the
other way round.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / ".bench"  # peers' venvs, clip caches and benchmark logs
