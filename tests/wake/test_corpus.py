"""The default wake word on fixed samples of the generated corpus (testkit/wake_corpus.py).

bench/wake.py measures the whole held-out split and an hour of negatives; these are
floors that catch a regression in the default configuration, through the server.
"""

import pytest

from testkit.processes import ServiceProcess
from testkit.wake_client import detect, detections
from testkit.wake_corpus import (
    HELD_OUT,
    TUNING,
    near_miss_samples,
    negative_hours,
    wake_samples,
)
from wyoming_wake.models import DEFAULT_MODEL

pytestmark = pytest.mark.slow


async def test_default_wakes_on_held_out_voices_in_noise_and_rooms(wake_server: ServiceProcess):
    samples = wake_samples(HELD_OUT, limit=30)
    assert len({sample.speaker for sample in samples}) >= 6
    conditions = " ".join(sample.condition for sample in samples)
    assert all(kind in conditions for kind in ("clean", "reverb", "babble", "dB DRR"))
    forms = {
        "alone" if s.text == "okay nabu" else "command" if s.text.startswith("okay") else "lead"
        for s in samples
    }
    assert forms == {"alone", "command", "lead"}
    missed, late = [], []
    for sample in samples:
        events = await detect(wake_server.port, sample.pcm)
        if detections(events) != [DEFAULT_MODEL]:
            missed.append(sample.label)
            continue
        stamp = next(int(e.data["timestamp"]) for e in events if e.type == "detection")
        if sample.phrase_end is not None and not 0 <= stamp - 1000 * sample.phrase_end <= 800:
            late.append((sample.label, stamp, sample.phrase_end))
    # 24 of these 30 are detected (80 %); the held-out split as a whole: docs/wake.md
    assert len(missed) <= 9, missed
    assert late == []


async def test_default_rejects_the_tuning_near_misses_and_talk(wake_server: ServiceProcess):
    near = near_miss_samples(TUNING)
    assert {"okay, nap time", "hey Nadia, how are you", "okay Google, what's the weather"} <= {
        sample.text for sample in near
    }
    fired = [s.label for s in near if detections(await detect(wake_server.port, s.pcm))]
    assert fired == []
    talk = negative_hours(TUNING, 2)  # talk, near misses, babble and music under changing rooms
    events = await detect(wake_server.port, talk, chunk_bytes=32000)
    assert detections(events) == []


async def test_held_out_near_misses_fire_only_on_okay_now_you(wake_server: ServiceProcess):
    """The default's known weakness on held-out voices: 'okay, now you' (2 of 24)."""
    fired = [
        s.text
        for s in near_miss_samples(HELD_OUT)
        if detections(await detect(wake_server.port, s.pcm))
    ]
    assert set(fired) <= {"okay, now you"} and len(fired) <= 2, fired
