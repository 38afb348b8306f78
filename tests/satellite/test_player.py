"""The satellite's player on a real speaker command: device pace, hold and resume, stop."""

import asyncio
import shlex
import time
from pathlib import Path

import numpy as np

from wyoming_satellite.audio_io import CommandSink
from wyoming_satellite.player import Player, Sound

RATE = 22050


def tone(seconds: float) -> bytes:
    t = np.arange(int(RATE * seconds)) / RATE
    return (8000 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes()


def speaker(out: Path) -> CommandSink:
    """A speaker command appending what it gets to `out` (one process per sound, or per
    resumption)."""
    return CommandSink(f"sh -c {shlex.quote(f'cat >> {shlex.quote(str(out))}')}")


def reply(pcm: bytes, ended: asyncio.Event) -> Sound:
    sound = Sound("reply", RATE, 2, 1, on_end=lambda _: ended.set())
    sound.add(pcm)
    sound.finish()
    return sound


def read(path: Path) -> bytes:
    return path.read_bytes()


def size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


async def wait_for_size(path: Path, wanted: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while size(path) < wanted:
        assert time.monotonic() < deadline, f"{path} never reached {wanted} bytes"
        await asyncio.sleep(0.01)


async def test_a_held_sound_pauses_and_resumes_where_it_was(tmp_path: Path) -> None:
    out = tmp_path / "heard.raw"
    ended = asyncio.Event()
    reference: list[bytes] = []
    player = Player(speaker(out), reference.append)
    player.start()
    pcm = tone(1.0)
    try:
        assert not await player.hold()  # nothing plays yet
        sound = player.play(reply(pcm, ended))
        await wait_for_size(out, int(0.3 * RATE) * 2)
        assert await player.hold() and player.held and not await player.hold()
        first = read(out)  # the speaker command was stopped: nothing more reaches it
        await asyncio.sleep(0.5)
        assert read(out) == first, "playback went on while held"
        assert sound.seconds_played - len(first) / 2 / RATE < player.lead + 0.03
        assert not ended.is_set()
        player.resume()
        assert not player.held and player.held_since is None
        started = time.monotonic()
        await asyncio.wait_for(ended.wait(), 5)
        # the rest plays at device pace after the pause, in a new speaker command; only
        # what the stopped one had been handed ahead (the lead) is skipped
        assert time.monotonic() - started > 0.5
        heard = read(out)
        rest = heard[len(first) :]
        assert heard.startswith(first) and pcm.endswith(rest)
        skipped = (len(pcm) - len(heard)) / 2 / RATE
        assert 0 <= skipped < player.lead + 0.03, skipped
        assert not sound.stopped and abs(sound.seconds_played - 1.0) < 0.01
        assert abs(sum(map(len, reference)) / 2 / 16000 - 1.0) < 0.01
    finally:
        await player.close()


async def test_stopping_a_held_sound_ends_it_at_once(tmp_path: Path) -> None:
    out = tmp_path / "heard.raw"
    ended = asyncio.Event()
    player = Player(speaker(out), None)
    player.start()
    try:
        sound = player.play(reply(tone(2.0), ended))
        await wait_for_size(out, int(0.2 * RATE) * 2)
        assert await player.hold()
        started = time.monotonic()
        assert await player.stop() == [sound]
        await asyncio.wait_for(ended.wait(), 5)
        assert time.monotonic() - started < 0.5
        assert sound.stopped and not player.held
        assert sound.seconds_played < 0.5
    finally:
        await player.close()
