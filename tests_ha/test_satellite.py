"""The satellite under a real Home Assistant 2025.4.4, added through HA's own `wyoming`
integration, with the Local Voice pipeline and real services. The microphone is a
command that plays the tests' clips at real-time pace, the speaker a command that
consumes audio at device pace and records what was heard (testkit/satellite_room.py)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from testkit.ha.session import LiveHome, live_home, speak
from testkit.processes import SERVICE_PYTHON, ServiceProcess, async_wait_described, run_server
from testkit.satellite_room import Heard, Room

pytestmark = pytest.mark.slow
VOICE = "af_heart"  # a Kokoro voice the default wake word hears (tests/wake/test_embedded.py)
LONG_ANNOUNCEMENT = (
    "This is a long announcement from Home Assistant. The washing machine has finished "
    "its cycle, the post has arrived, and the forecast says it will rain this afternoon, "
    "so remember to take an umbrella when you go out to collect the children from school."
)


@dataclass
class SatelliteHome:
    home: LiveHome
    satellite: ServiceProcess
    room: Room
    entities: dict[str, str]  # domain -> the satellite's entity of that domain

    async def runs(self) -> list[dict[str, Any]]:
        """The pipeline runs Home Assistant kept for the Local Voice pipeline."""
        listed = await self.home.api.command(
            "assist_pipeline/pipeline_debug/list", pipeline_id=self.home.pipeline_id
        )
        return list(listed["pipeline_runs"])

    async def run_events(self, run: dict[str, Any]) -> list[dict[str, Any]]:
        got = await self.home.api.command(
            "assist_pipeline/pipeline_debug/get",
            pipeline_id=self.home.pipeline_id,
            pipeline_run_id=run["pipeline_run_id"],
        )
        return list(got["events"])

    async def last_transcript(self) -> str:
        runs = await self.runs()
        for event in await self.run_events(runs[-1]):
            if event["type"] == "stt-end":
                return str(event["data"]["stt_output"]["text"])
        return ""

    def announce(self, message: str) -> asyncio.Task[None]:
        """assist_satellite.announce; the task ends when Home Assistant heard `played`."""
        return asyncio.create_task(
            self.home.api.call_service(
                "assist_satellite",
                "announce",
                entity_id=self.entities["assist_satellite"],
                message=message,
            )
        )

    async def playing(self, before: int, timeout: float = 60) -> Heard:
        """Wait until a playback after the first `before` has been heard for a second."""

        def started() -> Heard | None:
            heard = self.room.heard()[before:]
            return next((h for h in heard if h.seconds > 1.0), None)

        heard: Heard = await wait_for(started, timeout, "no playback started")
        return heard

    async def idle(self) -> None:
        """Wait until the satellite's turn is over (its reply played)."""
        entity = self.entities["assist_satellite"]
        await wait_for(lambda: _is(self.home.api.state(entity), "idle"), 40, "not idle")

    async def announcing(self, message: str) -> tuple[asyncio.Task[None], Heard]:
        """Start an announcement; once it has played for a second, its task and playback."""
        before = len(self.room.heard())
        task = self.announce(message)
        try:
            return task, await self.playing(before)
        except AssertionError:
            if task.done():
                task.result()  # the service call's own error
            raise


async def wait_for(check: Callable[[], Any], timeout: float, message: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(message)
        await asyncio.sleep(0.1)


async def light(home: LiveHome, entity_id: str = "light.kitchen_lights") -> str:
    return await home.api.state(entity_id)


@contextlib.asynccontextmanager
async def satellite_home(
    tmp_path: Path, ports: dict[str, int], *args: str, echo_db: float | None = None
) -> AsyncIterator[SatelliteHome]:
    room = Room(tmp_path / "room", echo_db=echo_db)
    with run_server(
        "wyoming_satellite",
        tmp_path,
        *("--no-zeroconf", "--name", "Kitchen satellite", *room.satellite_args(), *args),
        python=SERVICE_PYTHON,
        wait=False,
    ) as satellite:
        await async_wait_described(satellite)
        async with live_home(tmp_path / "config", ports) as home:
            await home.api.command(
                "assist_pipeline/pipeline/set_preferred", pipeline_id=home.pipeline_id
            )
            result = await home.api.config_flow(
                "wyoming", {"host": "127.0.0.1", "port": satellite.port}
            )
            assert result.get("type") == "create_entry", result
            await wait_for(
                lambda: "runs the satellite" in satellite.log, 30, "HA did not run the satellite"
            )
            registry = await home.api.command("config/entity_registry/list")
            entities: dict[str, str] = {}
            for entry in registry:
                if entry["platform"] == "wyoming":
                    domain = entry["entity_id"].split(".")[0]
                    if domain != "switch" or entry["entity_id"].endswith("_mute"):
                        entities.setdefault(domain, entry["entity_id"])
            assert {"assist_satellite", "switch"} <= set(entities), entities
            yield SatelliteHome(home, satellite, room, entities)


@pytest.fixture
def ports(
    stt_service: ServiceProcess, tts_service: ServiceProcess, llm_service: ServiceProcess
) -> dict[str, int]:
    return {
        "stt_port": stt_service.port,
        "tts_port": tts_service.port,
        "conversation_port": llm_service.port,
    }


async def test_command_reply_barge_in_and_mute(tmp_path: Path, ports: dict[str, int]) -> None:
    command = speak("okay nabu, turn off the kitchen lights", voice=VOICE)
    async with satellite_home(tmp_path, ports) as sat:
        home = sat.home
        assert await light(home) == "on"

        # A command: the light goes off, the first word reaches the transcript, a reply plays
        sat.room.say(command)
        await wait_for(lambda: light(home), 1, "")  # the API answers
        await wait_for(
            lambda: _is(light(home), "off"), 30, f"light still on:\n{sat.satellite.log[-3000:]}"
        )
        transcript = (await sat.last_transcript()).lower()
        assert transcript.startswith("turn"), transcript
        await wait_for(lambda: "Turn: wake" in sat.satellite.log, 30, "no turn logged")
        assert any(h.seconds > 0.8 for h in sat.room.heard()), "no reply heard"
        await wait_for(
            lambda: _is(home.api.state(sat.entities["assist_satellite"]), "idle"), 30, "not idle"
        )

        # Barge-in: the wake word over an announcement stops it and runs the new command
        await home.reset_lights(on=True)
        announced, playback = await sat.announcing(LONG_ANNOUNCEMENT)
        said = time.time()
        seconds = sat.room.say(command)
        await wait_for(lambda: _is(light(home), "off"), 30, "barge-in command did not run")
        await asyncio.wait_for(announced, 30)  # Home Assistant got `played`
        stopped = next(h for h in sat.room.heard() if h.path == playback.path)
        assert stopped.seconds < 10, "the announcement played on"
        assert stopped.end < said + seconds, (stopped.end - said, seconds)

        # Mute: nothing runs while muted; unmuted, the satellite listens again
        await home.reset_lights(on=True)
        await home.api.call_service("switch", "turn_on", entity_id=sat.entities["switch"])
        await wait_for(lambda: "Paused by Home Assistant" in sat.satellite.log, 10, "no pause")
        sat.room.say(command)
        await asyncio.sleep(seconds + 4)
        assert await light(home) == "on"
        await home.api.call_service("switch", "turn_off", entity_id=sat.entities["switch"])
        await wait_for(
            lambda: sat.satellite.log.count("runs the satellite") >= 2, 30, "not resumed"
        )
        sat.room.say(command)
        await wait_for(lambda: _is(light(home), "off"), 30, "no command after unmuting")


async def _is(value: Any, expected: str) -> bool:
    return bool(await value == expected)


OWN_NAME = (
    "Okay Nabu. This is your satellite speaking: to talk to me, say okay nabu, then your "
    "command. Okay nabu, okay nabu."
)


async def test_echo_stop_word_timer_dying_mic_and_a_restart(
    tmp_path: Path, ports: dict[str, int]
) -> None:
    """The speaker's sound reaches the microphone at -6 dB, as in a small kitchen."""
    command = speak("okay nabu, turn off the kitchen lights", voice=VOICE)
    stop = speak("hey jarvis", voice=VOICE)
    timer = speak("okay nabu, set a timer for 3 seconds", voice=VOICE)
    async with satellite_home(tmp_path, ports, "--stop-word", "hey_jarvis", echo_db=-6.0) as sat:
        home = sat.home

        def log() -> str:
            return sat.satellite.log

        # Its own voice saying the wake word wakes nothing
        task, _ = await sat.announcing(OWN_NAME)
        await asyncio.wait_for(task, 60)
        await asyncio.sleep(1)
        assert "Turn: wake" not in log(), log()[-3000:]
        assert "in the satellite's own playback" in log() or "Wake word" not in log()

        # The user's wake word over its own voice still barges in
        announced, playback = await sat.announcing(LONG_ANNOUNCEMENT)
        said = time.time()
        seconds = sat.room.say(command)
        await wait_for(lambda: _is(light(home), "off"), 40, f"no barge-in:\n{log()[-3000:]}")
        await asyncio.wait_for(announced, 30)
        stopped = next(h for h in sat.room.heard() if h.path == playback.path)
        assert stopped.end < said + seconds, (stopped.end - said, seconds)
        await sat.idle()

        # The stop word ends an announcement and starts nothing
        await home.reset_lights(on=True)
        turns = log().count("Turn: wake")
        announced, playback = await sat.announcing(LONG_ANNOUNCEMENT)
        said = time.time()
        sat.room.say(stop)
        await asyncio.wait_for(announced, 30)
        stopped = next(h for h in sat.room.heard() if h.path == playback.path)
        assert stopped.end < said + 3, stopped.end - said
        assert "Stop word 'hey_jarvis': announcement stopped" in log(), log()[-2000:]
        assert log().count("Turn: wake") == turns

        # A timer rings when it finishes, until the stop word
        sat.room.say(timer)
        await wait_for(lambda: "finished: ringing" in log(), 40, f"no ring:\n{log()[-3000:]}")
        ring = await sat.playing(len(sat.room.heard()) - 1)
        sat.room.say(stop)
        await wait_for(lambda: "timer stopped" in log(), 20, "the ring did not stop")
        await asyncio.sleep(1)
        ringing = next(h for h in sat.room.heard() if h.path == ring.path)
        assert ringing.seconds < 10, ringing.seconds

        # The microphone command dies: it is restarted and the satellite hears again
        sat.room.kill_mic()
        await wait_for(lambda: "restarting" in log().lower(), 20, "mic not restarted")
        await asyncio.sleep(1.5)
        sat.room.say(command)
        await wait_for(lambda: _is(light(home), "off"), 40, f"deaf after mic:\n{log()[-3000:]}")

        # Home Assistant restarts: it redials, and the satellite serves it again
        await sat.idle()
        await home.reset_lights(on=True)
        runs = log().count("runs the satellite")
        await home.restart()
        await wait_for(lambda: log().count("runs the satellite") > runs, 90, "not redialled")
        await wait_for(lambda: _is(light(home), "on"), 30, "the light did not come back on")
        await sat.idle()
        await asyncio.sleep(1)
        assert await light(home) == "on"
        sat.room.say(command)
        await wait_for(lambda: _is(light(home), "off"), 40, f"deaf after restart:\n{log()[-3000:]}")
