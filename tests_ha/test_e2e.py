"""End to end through a real Home Assistant core process, offline: speech in, light off,
spoken answer out; and a paraphrase only the Local Voice agent understands."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from testkit.ha.api import PipelineRun
from testkit.ha.session import LiveHome, live_home, speak
from testkit.processes import SERVICE_PYTHON, ServiceProcess, async_wait_described, run_server

pytestmark = pytest.mark.slow


def _timings(run: PipelineRun) -> str:
    end = run.audio_end or run.times["run-start"]
    stages = ["stt-end", "intent-start", "intent-end", "tts-end"]
    parts = [f"{s}={(run.times[s] - end) * 1000:.0f}ms" for s in stages if s in run.times]
    if run.tts_first_byte is not None:
        parts.append(f"first-tts-audio={(run.tts_first_byte - end) * 1000:.0f}ms")
    return " ".join(parts)


async def test_voice_and_text_through_home_assistant(
    tmp_path: Path,
    stt_service: ServiceProcess,
    tts_service: ServiceProcess,
    llm_service: ServiceProcess,
) -> None:
    ports = {
        "stt_port": stt_service.port,
        "tts_port": tts_service.port,
        "conversation_port": llm_service.port,
    }
    clip = speak("turn off the kitchen lights")
    async with live_home(tmp_path / "config", ports) as home:
        assert (await home.states())["light.kitchen_lights"] == "on"

        run = await home.api.run_audio(home.pipeline_id, clip)
        assert run.error is None, (run.error, home.log[-3000:])
        print(f"\nvoice: {run.transcript!r} -> {run.speech!r}; {_timings(run)}")
        assert "kitchen" in run.transcript.lower()
        states = await home.states()
        assert states["light.kitchen_lights"] == "off", (run.events, home.log[-3000:])
        assert states["light.bedroom_lights"] == "on"
        assert run.tts_bytes > 1000, "no TTS audio fetched"

        await home.reset_lights(on=True)
        text_run = await home.api.run_text(home.pipeline_id, "kill the kitchen lights")
        assert text_run.error is None, text_run.error
        print(f"text: 'kill the kitchen lights' -> {text_run.speech!r}")
        assert (await home.states())["light.kitchen_lights"] == "off", (
            text_run.events,
            home.log[-3000:],
        )


async def _add_stock_agent(home: LiveHome, port: int) -> str:
    """Add the conversation service through Home Assistant's own `wyoming` integration;
    the entity id of the agent it creates."""
    result = await home.api.config_flow("wyoming", {"host": "127.0.0.1", "port": port})
    assert result.get("type") == "create_entry", result
    entities = await home.api.command("config/entity_registry/list")
    return next(
        str(e["entity_id"])
        for e in entities
        if e["platform"] == "wyoming" and e["entity_id"].startswith("conversation.")
    )


async def test_stock_wyoming_integration_uses_the_agent(
    tmp_path: Path,
    stt_service: ServiceProcess,
    tts_service: ServiceProcess,
    llm_service: ServiceProcess,
) -> None:
    """Home Assistant's own `wyoming` integration adds the conversation service as an agent
    (no home context, one intent per reply); typed commands reach the light through it."""
    ports = {"stt_port": stt_service.port, "tts_port": tts_service.port}
    async with live_home(tmp_path / "config", ports) as home:
        agent = await _add_stock_agent(home, llm_service.port)
        for text in ("turn off the kitchen lights", "kill the kitchen lights"):
            await home.reset_lights(on=True)
            reply = await home.api.command("conversation/process", text=text, agent_id=agent)
            speech = reply["response"]["speech"].get("plain", {}).get("speech")
            print(f"\nstock wyoming agent: {text!r} -> {speech!r}")
            states = await home.states()
            assert states["light.kitchen_lights"] == "off", (text, reply, home.log[-3000:])
            assert states["light.bedroom_lights"] == "on", (text, reply)


async def _speech(home: LiveHome, agent: str, text: str) -> str:
    reply = await home.api.command("conversation/process", text=text, agent_id=agent)
    return str(reply["response"]["speech"].get("plain", {}).get("speech", ""))


def _words(speech: str) -> set[str]:
    return set(re.findall(r"[a-z]+", speech.lower()))


async def test_stock_wyoming_integration_with_the_home_from_ha_url(
    tmp_path: Path, stt_service: ServiceProcess, tts_service: ServiceProcess
) -> None:
    """`--ha-url` + `--ha-token-file`: the service loads the home from Home Assistant's
    websocket API and follows its states, so the stock integration (no context) gets
    answers from the states and commands in the home's own names."""
    ports = {"stt_port": stt_service.port, "tts_port": tts_service.port}
    async with live_home(tmp_path / "config", ports) as home:
        token = await home.api.command(
            "auth/long_lived_access_token", client_name="local-voice-llm", lifespan=1
        )
        token_file = tmp_path / "token"
        token_file.write_text(f"{token}\n")
        with run_server(
            "wyoming_llm",
            tmp_path,
            "--ha-url",
            home.api.base_url,
            "--ha-token-file",
            str(token_file),
            "--timeout",
            "90",
            python=SERVICE_PYTHON,
            wait=False,
        ) as llm:
            await async_wait_described(llm, ready_log="Warmed up for the home")
            assert "3 exposed entities" in llm.log, llm.log[-2000:]
            agent = await _add_stock_agent(home, llm.port)
            speech = await _speech(home, agent, "is the kitchen light on?")
            assert {"kitchen", "on"} <= _words(speech), speech

            await home.api.call_service("light", "turn_off", entity_id="light.kitchen_lights")
            await asyncio.sleep(0.5)  # the state_changed event reaches the service
            speech = await _speech(home, agent, "is the kitchen light on?")
            assert {"kitchen", "off"} <= _words(speech), speech
            speech = await _speech(home, agent, "which lights are on?")
            assert "Bedroom Lights" in speech and "Kitchen" not in speech, speech

            speech = await _speech(home, agent, "switch off the lamp in the living room")
            assert (await home.api.state("light.living_room_lamp")) == "off", speech
            speech = await _speech(home, agent, "turn on the pool heater")
            assert (
                "MatchFailedError" not in speech
                and (await home.states())["light.kitchen_lights"] == "off"
            ), speech
