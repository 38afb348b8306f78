"""The satellite's echo canceller on real speech through a simulated device and room
(bench/echo.py builds them): it cancels, passes silence through untouched, keeps the
stream's length, and keeps the wake word off the satellite's own replies but on the
user's voice over them."""

import numpy as np
import pytest

from bench.echo import Room, echo_of, erle_db, reply_timeline, simulate, wakes
from testkit import clips
from testkit.audio_effects import at_level, reverberant, samples, to_pcm
from testkit.wake_corpus import phrase_clip
from wyoming_satellite.echo import FRAME, EchoCanceller
from wyoming_wake.embedded import EmbeddedWake

RATE = 16000
SELF_WAKE_REPLY = "You said okay nabu, so I am listening. The kitchen lights are now off."
ROOM = Room(delay_ms=40, rt60=0.4, gain_db=0, seed=3)


@pytest.fixture(scope="module")
def wake() -> EmbeddedWake:
    return EmbeddedWake()


@pytest.fixture(scope="module")
def reply() -> bytes:
    return clips.piper(SELF_WAKE_REPLY)


def test_cancels_echo_after_convergence(reply):
    played, start = reply_timeline(reply)
    echo = echo_of(played, Room(delay_ms=30, rt60=0.3, gain_db=-6, seed=2))
    out, _ = simulate(EchoCanceller(delay_ms=20), played, start, echo)
    converged = slice(start + 2 * RATE, start + len(reply) // 2)
    assert erle_db(echo[converged], out[converged]) >= 12


def test_passes_audio_through_exactly_when_nothing_plays(reply):
    canceller = EchoCanceller()
    out = b"".join(canceller.process(reply[i : i + 998]) for i in range(0, len(reply), 998))
    assert out == reply
    assert not canceller.active


def test_output_keeps_the_input_length_for_odd_chunks(reply):
    canceller = EchoCanceller(delay_ms=20)
    mic = to_pcm(at_level(samples(reply), -30)) + clips.silence(1.0)
    canceller.played(reply[:32000])
    taken = given = 0
    sizes = [2 * n for n in (1, 7, 33, 159, 161, 333, 1001)]
    i = 0
    while given < len(mic):
        chunk = mic[given : given + sizes[i % len(sizes)]]
        if i % 3 == 0:
            canceller.played(reply[32000 + 640 * i : 32000 + 640 * (i + 1)])
        given += len(chunk)
        taken += len(canceller.process(chunk))
        assert 0 <= given - taken < 2 * FRAME
        i += 1
    assert not canceller.active  # the reply's echo has died away: no frame held back
    assert taken == given == len(mic)


def test_reset_and_disabled_pass_through(reply):
    canceller = EchoCanceller(enabled=False)
    canceller.played(reply)
    assert not canceller.active
    assert canceller.process(reply[:3202]) == reply[:3202]
    canceller.enabled = True
    canceller.played(reply)
    assert canceller.active
    canceller.reset()
    assert len(canceller.process(reply[:3200])) == 3200


def test_never_wakes_on_its_own_reply_that_says_the_wake_word(wake, reply):
    played, start = reply_timeline(reply)
    echo = echo_of(played, ROOM)
    assert wakes(wake, to_pcm(echo)), "the echo alone must wake without AEC"
    out, _ = simulate(EchoCanceller(), played, start, echo)
    assert wakes(wake, to_pcm(out)) == []


def test_hears_the_user_say_the_wake_word_over_its_reply(wake):
    played, start = reply_timeline(
        clips.piper("The weather today is sunny with a high of twenty four degrees."), 8.0
    )
    user = at_level(samples(phrase_clip("okay nabu")), -22)
    user = reverberant(user, 0.3, 6.0, np.random.default_rng(1))
    at = start + 2 * RATE
    mic = echo_of(played, Room(delay_ms=20, rt60=0.3, gain_db=-3, seed=5))
    mic[at : at + len(user)] += user[: len(mic) - at]
    out, _ = simulate(EchoCanceller(), played, start, mic)
    end = (at + len(user)) / RATE
    assert any(end - 3.0 <= t <= end + 0.5 for t in wakes(wake, to_pcm(out)))
