"""Conversation agent benchmark: accuracy per category, latency to the first intent, speed, memory.

    .venv/bin/python -m bench.llm [--model 1.5b|FILE.gguf ...] [--openai-base-url URL]
                                  [--cases N] [--json]

Runs the public utterance set (tests/data/llm_utterances.json) in its homes
(tests/data/llm_home.json, llm_home_large.json) through a real server, as the Local Voice Home
Assistant integration sends it (home context, multi-intent protocol). The
embedded model always runs; each --model (an embedded model, e.g. 1.5b, or a GGUF file)
and --openai-base-url adds a row. With --json the figures come as one JSON document
(testkit/report.py).
"""

import argparse
import asyncio
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_voice.info import describe
from testkit import BENCH_DIR
from testkit.llm_cases import (
    HOME_FILE,
    Case,
    case_home,
    converse,
    correct,
    home_context,
    load_cases,
    unsafe_actions,
    violations,
)
from testkit.measure import peak_rss_mb
from testkit.processes import running
from testkit.report import Column, Report, Row, arguments, markdown, median_ms, p95_ms, run
from wyoming_llm.models import resolve

SINGLE = {
    "direct",
    "paraphrase",
    "indirect",
    "area",
    "brightness",
    "cover_lock",
    "climate",
    "timer",
    "media",
}
# What Home Assistant's own Wyoming integration can't carry: several intents, a
# conversation id, a satellite device.
STOCK_UNSERVABLE = {"multi", "everything", "followup", "timer"}
_STATS = re.compile(r"(\d+) prompt \+ (\d+) generated tokens.*?; ([\d.]+) tok/s")


@dataclass
class Score:
    right: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    total: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    first_intent: list[float] = field(default_factory=list)  # single commands only
    first_event: list[float] = field(default_factory=list)
    violations: int = 0  # replies with intents or slots outside the rules or the home
    unsafe: int = 0  # replies that unlock or open what the user did not ask to
    failures: list[str] = field(default_factory=list)
    slowest: float = 0.0  # seconds, the slowest reply of all


async def ready(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 600
    while "Warmed up" not in await asyncio.to_thread(log.read_text, errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"server did not start; see {log}")
        await asyncio.sleep(0.2)
    assert await describe("127.0.0.1", port) is not None


async def warm_up(port: int, cases: list[Case]) -> None:
    """One discarded request per home, as the Local Voice integration sends when Home
    Assistant starts and when its registries change, so no case pays for a cold prefix."""
    for home in sorted({case.home for case in cases}):
        context = {
            "home": home_context(home),
            "local_voice": {"protocol": 1, "history_turns": 0},
            "conversation_id": f"bench-warm-up-{home}",
        }
        await converse(port, "what time is it", context, timeout=600)


async def run_cases(
    port: int, cases: list[Case], verbose: bool, score: Score | None = None, stock: bool = False
) -> Score:
    """Each case as the Local Voice integration sends it, or with `stock` as Home
    Assistant's own Wyoming integration does (wyoming 1.5.4, no context at all)."""
    score = score or Score()
    for case in cases:
        context: dict[str, Any] | None = {
            "home": home_context(case.home),
            "local_voice": {"protocol": 1},
            "conversation_id": f"bench-{case.id}-{time.monotonic()}",
        }
        if case.device_area and context is not None:
            context["device_area"] = case.device_area
        if stock:
            context = None
        for earlier in case.before:
            await converse(port, earlier, context)
        reply = await converse(port, case.text, context, version="1.5.4" if stock else "1.10.2")
        score.first_event.append(reply.first_event_seconds or reply.seconds)
        score.slowest = max(score.slowest, reply.seconds)
        ok = correct(case, reply)
        home = case_home(case)
        problems = violations(reply, home)
        score.violations += bool(problems)
        score.unsafe += bool(unsafe_actions(case, reply, home))
        score.total[case.category] += 1
        score.right[case.category] += ok
        if case.category in SINGLE and reply.first_intent_seconds is not None:
            score.first_intent.append(reply.first_intent_seconds)
        if not ok:
            got = reply.intents or reply.kind
            score.failures.append(f"{case.id}: {case.text!r} -> {got}")
            if verbose:
                print(f"  MISS {score.failures[-1]}", flush=True)
    return score


def token_rate(log: Path) -> float | None:
    rates = [float(m.group(3)) for m in _STATS.finditer(log.read_text(errors="replace"))]
    return statistics.median(rates) if rates else None


def row(name: str, score: Score, rate: float | None, memory: float) -> Row:
    """One backend's figures: accuracy overall and per category, latency, speed, memory."""
    right, total = sum(score.right.values()), sum(score.total.values())
    return {
        "backend": name,
        "accuracy": right / max(total, 1),
        "right": right,
        "total": total,
        "categories": {c: {"right": score.right[c], "total": score.total[c]} for c in score.total},
        "first_intent_median_ms": median_ms(score.first_intent),
        "first_intent_p95_ms": p95_ms(score.first_intent),
        "slowest_ms": score.slowest * 1000,
        "tokens_per_second": rate,
        "peak_mb": memory,
        "rule_breaks": score.violations,
        "unsafe": score.unsafe,
    }


def columns(rows: list[Row]) -> list[Column]:
    """The table's columns: one per category that any of `rows` has."""
    categories = sorted({c for row in rows if isinstance(d := row["categories"], dict) for c in d})
    return [
        Column("backend", "{backend}"),
        Column("overall", "{accuracy:.0%} ({right}/{total})"),
        *(Column(c, f"{{categories[{c}][right]}}/{{categories[{c}][total]}}") for c in categories),
        Column("median ms to 1st intent", "{first_intent_median_ms:.0f}"),
        Column("p95 ms", "{first_intent_p95_ms:.0f}"),
        Column("slowest reply ms", "{slowest_ms:.0f}"),
        Column("tok/s", "{tokens_per_second:.0f}"),
        Column("peak MB", "{peak_mb:.0f}"),
        Column("rule breaks", "{rule_breaks}"),
        Column("unsafe", "{unsafe}"),
    ]


async def bench(args: argparse.Namespace, report: Report) -> None:
    cases = load_cases()[: args.cases] if args.cases else load_cases()
    configs: dict[str, list[str]] = {"embedded Qwen2.5-Coder 0.5B": []}
    for model in args.model:
        name, path = resolve(model)
        configs[Path(model).name if path else f"embedded {name}"] = ["--model", model]
    if args.openai_base_url:
        configs[f"remote {args.openai_base_url}"] = ["--openai-base-url", args.openai_base_url]
    BENCH_DIR.mkdir(exist_ok=True)
    report.settings = {"utterances": len(cases), "n_threads": args.n_threads}
    table = report.table(
        "rows",
        [],
        caption=f"{len(cases)} utterances, {args.n_threads} threads; "
        "latency: transcript -> first intent",
    )
    for index, (name, extra) in enumerate(configs.items()):
        port = args.port + index
        log = BENCH_DIR / f"llm-{index}.log"
        # Warmed up with the home, as a long-running server would be.
        with running(server_command(args, port, HOME_FILE, extra), log) as process:
            await ready(port, process, log)
            await warm_up(port, cases)
            print(f"{name}: {len(cases)} utterances ...", flush=True)
            score = await run_cases(port, cases, args.verbose)
            table.rows.append(row(name, score, token_rate(log), peak_rss_mb(process.pid)))
        print(markdown(columns(table.rows[-1:]), table.rows[-1:]), flush=True)
    if args.stock:
        table.rows.append(await stock_row(args, cases, args.port + len(configs)))
        print(markdown(columns(table.rows[-1:]), table.rows[-1:]), flush=True)
    table.columns = columns(table.rows)


def server_command(
    args: argparse.Namespace, port: int, home_file: Path, extra: list[str]
) -> list[str]:
    return [
        sys.executable,
        "-m",
        "wyoming_llm",
        "--uri",
        f"tcp://127.0.0.1:{port}",
        "--n-threads",
        str(args.n_threads),
        "--home-file",
        str(home_file),
        *extra,
    ]


async def stock_row(args: argparse.Namespace, cases: list[Case], first_port: int) -> Row:
    """The embedded model through Home Assistant's own Wyoming integration: no context,
    one intent per reply, the home known to the server (--home-file here, as --ha-url
    loads it). Only what that path can serve: nothing that needs several intents, a
    follow-up, a timer or the satellite's area."""
    servable = [case for case in cases if case.category not in STOCK_UNSERVABLE]
    servable = [
        case
        for case in servable
        if not case.device_area
        and not case.before
        and not all(" | " in expected for expected in case.expect)  # several commands
    ]
    score = Score()
    memory = 0.0
    rates: list[float] = []
    for index, home in enumerate(sorted({case.home for case in servable})):
        port = first_port + index
        log = BENCH_DIR / f"llm-stock-{index}.log"
        home_file = HOME_FILE.with_name(home)
        with running(server_command(args, port, home_file, []), log) as process:
            await ready(port, process, log)
            group = [case for case in servable if case.home == home]
            print(f"stock path, {home}: {len(group)} utterances ...", flush=True)
            await run_cases(port, group, args.verbose, score, stock=True)
            memory = max(memory, peak_rss_mb(process.pid))
            rates += [rate] if (rate := token_rate(log)) else []
    name = "stock Wyoming path (no context; home from the server)"
    return row(name, score, statistics.median(rates) if rates else None, memory)


def main() -> None:
    parser = arguments("bench.llm", __doc__)
    parser.add_argument(
        "--model", action="append", default=[], help="Another model to compare: 1.5b or a GGUF file"
    )
    parser.add_argument("--openai-base-url", help="Also run against this OpenAI-compatible server")
    parser.add_argument(
        "--stock",
        action="store_true",
        help="Also run the cases the stock Wyoming integration can serve its way",
    )
    parser.add_argument("--cases", type=int, help="Only the first N utterances")
    parser.add_argument("--n-threads", type=int, default=2, help="CPU threads (2)")
    parser.add_argument("--port", type=int, default=10591, help="First port to use (10591)")
    parser.add_argument("--verbose", action="store_true", help="Print every miss")
    run("llm", parser, bench)


if __name__ == "__main__":
    main()
