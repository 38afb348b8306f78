"""Conversation agent benchmark: accuracy per category, latency to the first intent, speed, memory.

    .venv/bin/python -m bench.llm [--model FILE.gguf ...] [--openai-base-url URL] [--cases N]

Runs the public utterance set (tests/data/llm_utterances.json) in its home
(tests/data/llm_home.json) through a real server, as the Local Voice Home
Assistant integration sends it (home context, multi-intent protocol). The
embedded model always runs; each --model GGUF and --openai-base-url adds a row.
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

from local_voice.info import describe
from testkit import BENCH_DIR
from testkit.llm_cases import (
    HOME_FILE,
    Case,
    converse,
    correct,
    home_context,
    load_cases,
    violations,
)
from testkit.measure import peak_rss_mb, percentile
from testkit.processes import running
from wyoming_llm.home import Home

SINGLE = {"direct", "paraphrase", "area", "brightness", "cover_lock", "climate", "timer", "media"}
_STATS = re.compile(r"(\d+) prompt \+ (\d+) generated tokens.*?; ([\d.]+) tok/s")


@dataclass
class Score:
    right: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    total: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    first_intent: list[float] = field(default_factory=list)  # single commands only
    first_event: list[float] = field(default_factory=list)
    violations: int = 0
    failures: list[str] = field(default_factory=list)


async def ready(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 600
    while "Warmed up" not in await asyncio.to_thread(log.read_text, errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"server did not start; see {log}")
        await asyncio.sleep(0.2)
    assert await describe("127.0.0.1", port) is not None


async def run_cases(port: int, cases: list[Case], verbose: bool) -> Score:
    score = Score()
    home = Home.from_context({"home": home_context()})
    for case in cases:
        context = {
            "home": home_context(),
            "local_voice": {"protocol": 1},
            "conversation_id": f"bench-{case.id}-{time.monotonic()}",
        }
        if case.device_area:
            context["device_area"] = case.device_area
        for earlier in case.before:
            await converse(port, earlier, context)
        reply = await converse(port, case.text, context)
        score.first_event.append(reply.first_event_seconds or reply.seconds)
        ok = correct(case, reply)
        problems = violations(reply, home)
        score.violations += bool(problems)
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


def token_rate(log: Path) -> float:
    rates = [float(m.group(3)) for m in _STATS.finditer(log.read_text(errors="replace"))]
    return statistics.median(rates) if rates else float("nan")


def table(rows: list[tuple[str, Score, float, float]]) -> str:
    categories = sorted({c for _, score, _, _ in rows for c in score.total})
    head = (
        "| backend | overall | "
        + " | ".join(categories)
        + " | median ms to 1st intent | p95 ms | tok/s | peak MB | unsafe |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for name, score, rate, memory in rows:
        right, total = sum(score.right.values()), sum(score.total.values())
        cells = [f"{score.right[c]}/{score.total[c]}" for c in categories]
        latency = score.first_intent or [float("nan")]
        lines.append(
            f"| {name} | {100 * right / max(total, 1):.0f}% ({right}/{total}) | "
            + " | ".join(cells)
            + f" | {1000 * statistics.median(latency):.0f} | "
            f"{1000 * percentile(latency, 0.95):.0f} | {rate:.0f} | {memory:.0f} | "
            f"{score.violations} |"
        )
    return "\n".join(lines)


async def bench(args: argparse.Namespace) -> None:
    cases = load_cases()[: args.cases] if args.cases else load_cases()
    configs: dict[str, list[str]] = {"embedded Qwen2.5-Coder 0.5B": []}
    for model in args.model:
        configs[Path(model).name] = ["--model", model]
    if args.openai_base_url:
        configs[f"remote {args.openai_base_url}"] = ["--openai-base-url", args.openai_base_url]
    BENCH_DIR.mkdir(exist_ok=True)
    rows = []
    for index, (name, extra) in enumerate(configs.items()):
        port = args.port + index
        log = BENCH_DIR / f"llm-{index}.log"
        command = [
            sys.executable,
            "-m",
            "wyoming_llm",
            "--uri",
            f"tcp://127.0.0.1:{port}",
            "--n-threads",
            str(args.n_threads),
            "--home-file",  # warm up with the home, as a long-running server would be
            str(HOME_FILE),
            *extra,
        ]
        with running(command, log) as process:
            await ready(port, process, log)
            print(f"{name}: {len(cases)} utterances ...", flush=True)
            score = await run_cases(port, cases, args.verbose)
            rows.append((name, score, token_rate(log), peak_rss_mb(process.pid)))
        print(table(rows[-1:]), flush=True)
    print()
    print(f"{len(cases)} utterances, {args.n_threads} threads; latency: transcript -> first intent")
    print(table(rows))


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.llm", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--model", action="append", default=[], help="Another GGUF to compare")
    parser.add_argument("--openai-base-url", help="Also run against this OpenAI-compatible server")
    parser.add_argument("--cases", type=int, help="Only the first N utterances")
    parser.add_argument("--n-threads", type=int, default=2, help="CPU threads (2)")
    parser.add_argument("--port", type=int, default=10591, help="First port to use (10591)")
    parser.add_argument("--verbose", action="store_true", help="Print every miss")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
