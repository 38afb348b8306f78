"""Hours of audio on one connection, and the benchmark script (both slow)."""

import re
from pathlib import Path

import numpy as np
import pytest

from testkit.client import RawClient
from testkit.processes import free_port, run_server
from testkit.report import run_benchmark
from testkit.wake_client import detections, read_until_pong
from testkit.wake_corpus import ORDINARY, negatives, phrase_clip
from wyoming_wake.models import DEFAULT_MODEL


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def minute_of_room() -> bytes:
    """A minute of speech (no wake word) and room noise."""
    speech = b"".join(c.pcm for c in negatives(texts=ORDINARY[:6], voices=["piper"]))
    noise = np.random.default_rng(3).normal(0, 200, 16000 * 60).astype(np.int16)
    words = np.frombuffer(speech, np.int16)[: 16000 * 40]
    noise[: len(words)] += words
    return noise.tobytes()


@pytest.mark.slow
async def test_two_hours_on_one_connection_without_memory_growth(tmp_path):
    minute = minute_of_room()
    fmt = {"rate": 16000, "width": 2, "channels": 1}
    with run_server("wyoming_wake", tmp_path, "--preload-model", "ok_nabu_v0.1") as server:
        client = await RawClient.connect(server.port)
        try:

            async def stream(minutes: int, names: list[str]) -> list[float]:
                """Stream minutes of room audio then "okay nabu"; RSS after each 10 min."""
                await client.send("detect", {"names": names})
                await client.send("audio-start", fmt)
                samples = []
                for index in range(minutes):
                    for start in range(0, len(minute), 32000):
                        await client.send("audio-chunk", fmt, minute[start : start + 32000])
                    if index % 10 == 9:
                        await client.send("ping")
                        await client.receive_until("pong", timeout=300)
                        samples.append(rss_mb(server.process.pid))
                for start in range(0, len(clip := phrase_clip("okay nabu")), 32000):
                    await client.send("audio-chunk", fmt, clip[start : start + 32000])
                await client.send("audio-stop")
                await client.send("ping")
                events = await read_until_pong(client.reader, timeout=300)
                assert sorted(detections(events)) == sorted(names), events
                return samples

            both = await stream(30, ["okay_nabu", "ok_nabu_v0.1"])
            micro = await stream(90, ["okay_nabu"])
        finally:
            await client.close()
    assert both[-1] - both[0] < 5, both  # MB, from 10 to 30 minutes
    assert micro[-1] - micro[0] < 5, micro  # from 40 to 120 minutes
    lengths = re.findall(r"audio-stop after ([0-9.]+) s of audio", server.log)
    assert [round(float(seconds) / 60) for seconds in lengths] == [30, 90], lengths


@pytest.mark.slow
def test_wake_benchmark_runs_briefly():
    report = run_benchmark(
        *("bench.wake", "--negative-minutes", "1", "--phrases", "okay nabu"),
        *("--voices", "piper", "espeak-us", "--streams", "1", "2", "--seconds", "3"),
        *("--rtf-seconds", "20", "--no-peer", "--no-vad", "--port", str(free_port())),
        *("--held-out-limit", "12"),
        timeout=600,
    )
    nabu = {DEFAULT_MODEL, "okay_nabu", "ok_nabu_v0.1"}
    rows = report["rows"]
    assert {row["server"] for row in rows} == {"local-voice"}, rows
    assert {row["model"] for row in rows} == nabu, rows
    assert all(row["positives"] > 0 for row in rows), rows
    assert all(row["detection_rate"] >= 0.5 for row in rows), rows
    held_out = {row["model"]: row for row in report["held_out"]}
    assert set(held_out) == nabu, held_out
    assert all(row["positives"] == 12 and row["near_misses"] == 24 for row in held_out.values())
    assert held_out[DEFAULT_MODEL]["detection_rate"] >= 0.5, held_out
    assert all(row["verdict"] for row in held_out.values()), held_out
    streams = {(row["model"], row["streams"]) for row in report["concurrent_cpu"]}
    assert len(streams) == 6, report["concurrent_cpu"]  # fused, micro, oww at 1 and 2 streams
