"""What a benchmark reports: rows of named figures, as Markdown tables or one JSON document.

A benchmark builds its argument parser with `arguments()` (which adds `--json`), runs inside
`with Report(name, args.json) as report:` (`run()` does both for an async one) and adds
its rows to `report.table(...)`. On a
clean exit the report prints its tables in Markdown or, with `--json`, one JSON document
on stdout: `{"benchmark", "settings", <one list of rows per table>, "summary", "machine"}`.
While a `--json` run goes on, everything else it prints (progress, its child processes'
output) goes to stderr, so stdout holds the document alone. `run_benchmark()` is how the
tests run one and read its fields back.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import statistics
import string
import subprocess
import sys
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeAlias

from . import ROOT
from .measure import percentile

Value: TypeAlias = "str | int | float | bool | list[Value] | dict[str, Value] | None"
Row: TypeAlias = dict[str, Value]


def arguments(module: str, doc: str | None) -> argparse.ArgumentParser:
    """The parser of `python -m module`: described by the docstring's first paragraph,
    with `--json`."""
    result = argparse.ArgumentParser(
        prog=f"python -m {module}", description=(doc or "").split("\n\n")[0] or None
    )
    result.add_argument(
        "--json",
        action="store_true",
        help="Print the figures as one JSON document on stdout (everything else to stderr)",
    )
    return result


def run(
    benchmark: str,
    parser: argparse.ArgumentParser,
    bench: Callable[[argparse.Namespace, Report], Coroutine[Any, Any, None]],
) -> None:
    """Parse the command line and run `bench(args, report)`; then print its report."""
    args = parser.parse_args()
    with Report(benchmark, args.json) as report:
        asyncio.run(bench(args, report))


@dataclass(frozen=True)
class Column:
    """One column of a Markdown table: its title and how a row's cell reads.

    `cell` is a `str.format` template over the row's fields (`"{median_ms:.0f}"`,
    `"{hits}/{clips}"`, `"{categories[timer][right]}"`) or a function of the row. A
    template cell reads `-` when a field it names is None or missing."""

    title: str
    cell: str | Callable[[Row], str]

    def render(self, row: Row) -> str:
        if callable(self.cell):
            text = self.cell(row)
        else:
            try:
                text = _CELLS.format(self.cell, **row)
            except _Missing:
                text = "-"
        return text.replace("|", "\\|")


class _Missing(Exception):
    """A template names a field that is None or absent."""


class _CellFormatter(string.Formatter):
    def get_field(self, field_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        try:
            value, used = super().get_field(field_name, args, kwargs)
        except (KeyError, IndexError, TypeError) as err:
            raise _Missing(field_name) from err
        if value is None:
            raise _Missing(field_name)
        return value, used


_CELLS = _CellFormatter()


def markdown(columns: Sequence[Column], rows: Sequence[Row]) -> str:
    """A Markdown table: header, separator and one line per row."""
    lines = ["| " + " | ".join(column.title for column in columns) + " |"]
    lines.append("|" + "---|" * len(columns))
    lines += ["| " + " | ".join(column.render(row) for column in columns) + " |" for row in rows]
    return "\n".join(lines)


@dataclass
class Table:
    """Rows of named figures; `caption` is printed above their Markdown table, `footer`
    below (neither goes into the JSON document)."""

    columns: Sequence[Column]
    caption: str = ""
    footer: str = ""
    rows: list[Row] = field(default_factory=list)

    def add(self, **fields: Value) -> Row:
        """Append a row; it is returned (print `table.line(row)` to show progress)."""
        self.rows.append(dict(fields))
        return self.rows[-1]

    def line(self, row: Row) -> str:
        """One row as a line of this table."""
        return "| " + " | ".join(column.render(row) for column in self.columns) + " |"

    def markdown(self) -> str:
        return markdown(self.columns, self.rows)


class Report:
    """A benchmark's tables, printed when its `with` block ends without an error."""

    def __init__(self, benchmark: str, as_json: bool) -> None:
        self.benchmark = benchmark
        self.as_json = as_json
        self.settings: dict[str, Value] = {}  # what was measured, and how
        self.summary: dict[str, Value] = {}  # figures over all rows
        self.tables: dict[str, Table] = {}
        self._saved_stdout: int | None = None
        self._redirect: contextlib.redirect_stdout[Any] | None = None

    def table(
        self, key: str, columns: Sequence[Column], caption: str = "", footer: str = ""
    ) -> Table:
        """A new table; its rows go into the JSON document as `key` (the main one: "rows")."""
        self.tables[key] = Table(columns, caption, footer)
        return self.tables[key]

    def document(self) -> dict[str, Value]:
        """What `--json` prints: settings, each table's rows, summary and machine."""
        document: dict[str, Value] = {
            "benchmark": self.benchmark,
            "settings": self.settings,
            **{key: list(table.rows) for key, table in self.tables.items()},
            "summary": self.summary,
            "machine": machine(),
        }
        return {key: _finite(value) for key, value in document.items()}

    def print(self) -> None:
        if self.as_json:
            print(json.dumps(self.document(), indent=2, allow_nan=False), flush=True)
            return
        for table in self.tables.values():
            print()
            if table.caption:
                print(table.caption)
            print(table.markdown())
            if table.footer:
                print(table.footer)
        sys.stdout.flush()

    def __enter__(self) -> Report:
        if self.as_json:  # file descriptor 1 too, for child processes and native code
            sys.stdout.flush()
            self._saved_stdout = os.dup(1)
            os.dup2(2, 1)
            self._redirect = contextlib.redirect_stdout(sys.stderr)
            self._redirect.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._redirect is not None and self._saved_stdout is not None:
            self._redirect.__exit__(kind, error, traceback)
            sys.stdout.flush()
            os.dup2(self._saved_stdout, 1)
            os.close(self._saved_stdout)
            self._redirect = self._saved_stdout = None
        if error is None:
            self.print()


def _finite(value: Value) -> Value:
    """`value` with every NaN or infinite float replaced by None (JSON has neither)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def machine() -> dict[str, Value]:
    """The machine the figures come from: cores, CPU model, Python, load average now."""
    return {
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "load_average": round(os.getloadavg()[0], 2),
    }


def cpu_model() -> str | None:
    """The CPU's model name from /proc/cpuinfo (None where it names none)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "Hardware") and value.strip():
                return value.strip()
    return platform.processor() or None


def median_ms(seconds: Sequence[float]) -> float | None:
    """The median of `seconds` in milliseconds; None if there are none."""
    return statistics.median(seconds) * 1000 if seconds else None


def p95_ms(seconds: Sequence[float]) -> float | None:
    """The 95th percentile (nearest rank) of `seconds` in milliseconds; None if none."""
    return percentile(list(seconds), 0.95) * 1000 if seconds else None


def run_benchmark(module: str, *args: str, timeout: float) -> dict[str, Any]:
    """Run `python -m module --json ARGS` from the repository root; its JSON document.

    Raises AssertionError, with what it printed, if it fails or prints no document."""
    result = subprocess.run(
        [sys.executable, "-m", module, "--json", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )
    printed = f"stdout:\n{result.stdout[-5000:]}\nstderr:\n{result.stderr[-5000:]}"
    if result.returncode != 0:
        raise AssertionError(f"{module} exited with {result.returncode}\n{printed}")
    try:
        document = json.loads(result.stdout)
    except json.JSONDecodeError as err:
        raise AssertionError(f"{module} printed no JSON document ({err})\n{printed}") from err
    if not isinstance(document, dict):
        raise AssertionError(f"{module} printed JSON that is not an object\n{printed}")
    return document
