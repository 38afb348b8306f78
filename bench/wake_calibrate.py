"""Choose the default wake word's engines, thresholds and fusion on the tuning split.

    .venv/bin/python -m bench.wake_calibrate [--tuning-minutes 30] [--held-out-minutes 60] [--json]

Runs microWakeWord `okay_nabu` and openWakeWord `ok_nabu_v0.1` in-process over the
generated corpus (testkit/wake_corpus.py: every voice, speed, level, noise and room of
each split) and keeps every score with its time. On the tuning split it finds, per
model alone and for the fused pair (each confirming the other within a window), the
most sensitive setting with no false accept in the tuning negatives and the positives'
lowest peaks above it; then it reports every setting on the held-out split, which no
choice looked at. The chosen values are the defaults in wyoming_wake/fusion.py;
bench/wake.py checks them end to end through the server.
"""

import argparse
import functools
import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from testkit import BENCH_DIR
from testkit.report import Column, Report, run
from testkit.wake_corpus import (
    HELD_OUT,
    TUNING,
    Sample,
    near_miss_samples,
    negative_hours,
    wake_samples,
)
from wyoming_wake import models
from wyoming_wake.engines import Engine, MicroEngine, OpenWakeWordEngine
from wyoming_wake.fusion import DEFAULT_PAIR, FusedRule, fused_hits

STEP = 320  # samples fed at a time: 20 ms, the grid scores are kept on
MICRO_NAME, OWW_NAME = DEFAULT_PAIR
REFRACTORY_S = 2.0


@dataclass
class Traces:
    """Per model, its score at the end of every 20 ms step (held until the next)."""

    micro: np.ndarray
    oww: np.ndarray


def _engines() -> tuple[dict[str, Engine], dict[str, models.WakeModelSpec]]:
    catalog = models.catalog([])
    feature_dir = models.openwakeword_dir()
    assert feature_dir is not None, "openWakeWord files are missing: run script/test once"
    specs = {name: catalog[name] for name in DEFAULT_PAIR}
    engines: dict[str, Engine] = {
        models.MICRO: MicroEngine(),
        models.OPENWAKEWORD: OpenWakeWordEngine(feature_dir, [specs[OWW_NAME]]),
    }
    return engines, specs


def traces(
    pcm: bytes, engines: dict[str, Engine], specs: dict[str, models.WakeModelSpec]
) -> Traces:
    streams = {name: engines[spec.engine].stream([spec]) for name, spec in specs.items()}
    steps = len(pcm) // (2 * STEP)
    out = {name: np.zeros(steps, np.float32) for name in specs}
    last = dict.fromkeys(specs, 0.0)
    for index in range(steps):
        chunk = pcm[index * 2 * STEP : (index + 1) * 2 * STEP]
        for name, stream in streams.items():
            for score in stream.process(chunk):
                last[name] = max(score.probability, 0.0)
            out[name][index] = last[name]
    for stream in streams.values():
        stream.close()
    return Traces(out[MICRO_NAME], out[OWW_NAME])


def cached_traces(
    label: str, pcm: bytes, engines: dict[str, Engine], specs: dict[str, models.WakeModelSpec]
) -> Traces:
    key = hashlib.sha256(pcm).hexdigest()[:20]
    path = BENCH_DIR / "wake-traces" / f"{label}-{key}.npz"
    if path.exists():
        data = np.load(path)
        return Traces(data["micro"], data["oww"])
    result = traces(pcm, engines, specs)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, micro=result.micro, oww=result.oww)
    return result


def single_hits(scores: np.ndarray, threshold: float, level: int) -> list[int]:
    """Steps where `level` consecutive scores reach `threshold` (2 s refractory)."""
    hits: list[int] = []
    run_length = 0
    quiet_until = -1
    for index, value in enumerate(scores):
        if index < quiet_until:
            continue
        run_length = run_length + 1 if value >= threshold else 0
        if run_length >= level:
            hits.append(index)
            run_length = 0
            quiet_until = index + int(REFRACTORY_S * 16000 / STEP)
    return hits


Detect = Callable[[Traces], list[int]]


def evaluate(
    detect: Detect, positives: list[tuple[Sample, Traces]], negatives: list[Traces], hours: float
) -> dict[str, Any]:
    detected = 0
    latencies: list[float] = []
    misses: list[str] = []
    for sample, trace in positives:
        hits = detect(trace)
        if hits:
            detected += 1
            if sample.phrase_end is not None:
                latencies.append((hits[0] + 1) * STEP / 16000 - sample.phrase_end)
        else:
            misses.append(sample.label)
    false = sum(len(detect(trace)) for trace in negatives)
    return {
        "detected": detected,
        "positives": len(positives),
        "rate": detected / max(len(positives), 1),
        "false_accepts": false,
        "per_hour": false / hours,
        "latency_ms": 1000 * float(np.median(latencies)) if latencies else float("nan"),
        "misses": misses,
    }


COLUMNS = (
    Column("split", "{split}"),
    Column("setting", "{setting}"),
    Column("detected", "{rate:.1%} ({detected}/{positives})"),
    Column("false accepts / h", "{per_hour:.1f} ({false_accepts})"),
    Column("latency after phrase (median)", "{latency_ms:.0f} ms"),
)


def candidates() -> dict[str, Detect]:
    """Each model alone (threshold x trigger level) and fused pairs, with and without a
    sure score of one model firing alone."""
    out: dict[str, Detect] = {}
    for threshold, level in itertools.product((0.5, 0.7, 0.9, 0.97, 0.99), (1, 2, 3)):
        out[f"microWakeWord {threshold:g} x{level}"] = functools.partial(
            _single, "micro", threshold, level
        )
        out[f"openWakeWord {threshold:g} x{level}"] = functools.partial(
            _single, "oww", threshold, level
        )
    pairs = itertools.product((0.05, 0.1, 0.2, 0.3, 0.5, 0.7), (0.05, 0.1, 0.2, 0.3, 0.5, 0.7))
    alone = (None, 0.97, 0.99, 0.999)
    for (micro, oww), micro_alone, oww_alone in itertools.product(pairs, alone, alone):
        rule = FusedRule(micro, oww, 1.0, micro_alone, oww_alone)
        name = f"fused {micro:g} + {oww:g}"
        if micro_alone or oww_alone:
            name += f" (alone {micro_alone or '-'} / {oww_alone or '-'})"
        out[name] = functools.partial(_fused, rule)
    return out


def _single(model: str, threshold: float, level: int, trace: Traces) -> list[int]:
    return single_hits(getattr(trace, model), threshold, level)


def _fused(rule: FusedRule, trace: Traces) -> list[int]:
    return fused_hits(trace.micro, trace.oww, rule, STEP)


async def bench(args: argparse.Namespace, report: Report) -> None:
    engines, specs = _engines()
    data = {}
    for split, minutes in ((TUNING, args.tuning_minutes), (HELD_OUT, args.held_out_minutes)):
        positives = wake_samples(split)
        near = near_miss_samples(split)
        stream = negative_hours(split, minutes)
        print(f"{split}: {len(positives)} positives, {len(near)} near misses, {minutes:g} min")
        pos = [(s, cached_traces(f"{split}-pos", s.pcm, engines, specs)) for s in positives]
        neg = [cached_traces(f"{split}-near", s.pcm, engines, specs) for s in near]
        neg.append(cached_traces(f"{split}-stream", stream, engines, specs))
        data[split] = (pos, neg, minutes / 60)
    table = report.table("rows", COLUMNS, caption="okay nabu: tuning and held-out splits")
    settings = candidates()
    tuned = {name: evaluate(detect, *data[TUNING]) for name, detect in settings.items()}
    zero = [name for name, r in tuned.items() if r["false_accepts"] == 0]
    best = sorted(zero, key=lambda n: (-tuned[n]["rate"], tuned[n]["latency_ms"]))[: args.top]
    shown = [*best, "microWakeWord 0.97 x1", "openWakeWord 0.5 x1"]
    for name in dict.fromkeys(shown):
        for split in (TUNING, HELD_OUT):
            result = tuned[name] if split == TUNING else evaluate(settings[name], *data[split])
            row = table.add(split=split, setting=name, **result)
            print(table.line(row), flush=True)
            if args.verbose and split == HELD_OUT and result["misses"]:
                print("   missed: " + "; ".join(result["misses"][:20]))


def main() -> None:
    parser = arguments()
    run("wake_calibrate", parser, bench)


def arguments() -> argparse.ArgumentParser:
    from testkit.report import arguments as report_arguments

    parser = report_arguments("bench.wake_calibrate", __doc__)
    parser.add_argument("--tuning-minutes", type=float, default=30.0)
    parser.add_argument("--held-out-minutes", type=float, default=60.0)
    parser.add_argument("--top", type=int, default=8, help="Settings shown (8)")
    parser.add_argument("--verbose", action="store_true", help="Print held-out misses")
    return parser


if __name__ == "__main__":
    main()
