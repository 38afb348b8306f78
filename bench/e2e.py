"""End-to-end benchmark through a real Home Assistant: spoken commands in, states checked.

Run with the Home Assistant venv (script/test makes it):
    .venv-ha/bin/python -m bench.e2e [--repeat N] [--stt-args ...] [--json]

Starts our STT, TTS and conversation services and a Home Assistant 2025.4.4 core offline,
adds Local Voice through the config flow, then streams each command in real time through
the "Local Voice" pipeline (stt -> tts; 0.3 s of silence before the words and 0.7 s after;
the client marks the end of audio like a satellite with its own VAD). Prints, per command
and overall, the time from the end of the user's audio to the intent being executed
(intent-end) and to the first byte of TTS audio, and the share of commands that ended in
the right states. With --json the figures come as one JSON document (testkit/report.py).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from testkit.ha.session import LiveHome, live_home, speak
from testkit.measure import percentile
from testkit.processes import SERVICE_PYTHON, async_wait_described, run_server
from testkit.report import Column, Report, arguments, run


@dataclass(frozen=True)
class Command:
    text: str
    expected: dict[str, str]  # entity_id -> state after the command (lights start on)


COMMANDS = (
    Command("turn off the kitchen lights", {"light.kitchen_lights": "off"}),
    Command("turn off the bedroom lights", {"light.bedroom_lights": "off"}),
    Command("turn off the living room lamp", {"light.living_room_lamp": "off"}),
    Command("kill the kitchen lights", {"light.kitchen_lights": "off"}),
    Command("shut the bedroom lights off", {"light.bedroom_lights": "off"}),
    Command("make the kitchen dark", {"light.kitchen_lights": "off"}),
    Command(
        "set the living room lamp to fifty percent",
        {"light.living_room_lamp": "on", "input_number.living_room_lamp_level": "50.0"},
    ),
    Command(
        "turn off the kitchen lights and the bedroom lights",
        {"light.kitchen_lights": "off", "light.bedroom_lights": "off"},
    ),
)


@dataclass
class Result:
    command: Command
    transcript: str
    correct: bool
    stt_ms: float | None
    intent_ms: float | None
    tts_ms: float | None
    error: str | None


async def _reset(home: LiveHome) -> None:
    await home.reset_lights(on=True)
    await home.api.call_service(
        "input_number", "set_value", entity_id="input_number.living_room_lamp_level", value=100
    )


async def run_command(home: LiveHome, command: Command, clip: bytes) -> Result:
    await _reset(home)
    run = await home.api.run_audio(home.pipeline_id, clip)

    def since_end(stamp: float | None) -> float | None:
        return (stamp - run.audio_end) * 1000 if stamp is not None and run.audio_end else None

    states = {entity: await home.api.state(entity) for entity in command.expected}
    error = run.error
    return Result(
        command=command,
        transcript=run.transcript if "stt-end" in run.times else "",
        correct=error is None and states == command.expected,
        stt_ms=since_end(run.times.get("stt-end")),
        intent_ms=since_end(run.times.get("intent-end")),
        tts_ms=since_end(run.tts_first_byte),
        error=f"{error.get('code')}: {error.get('message')}" if error else None,
    )


COMMAND_COLUMNS = (
    Column("command", "{command}"),
    Column("ok", lambda row: "yes" if row["correct"] else "NO"),
    Column("stt ms", "{stt_ms:.0f}"),
    Column("intent ms", "{intent_ms:.0f}"),
    Column("tts ms", "{tts_ms:.0f}"),
    Column("transcript", "{transcript!r}"),
    Column("error", "{error}"),
)
STAGE_COLUMNS = (
    Column("end of audio ->", "{stage}"),
    Column("median ms", "{median_ms:.0f}"),
    Column("p95 ms", "{p95_ms:.0f}"),
    Column("n", "{n}"),
)


def report_results(results: list[Result], report: Report) -> None:
    """Per command and per stage (ms after the end of the user's audio), and right states."""
    commands = report.table(
        "rows", COMMAND_COLUMNS, caption="Per command (ms after the end of the user's audio)"
    )
    for r in results:
        commands.add(
            command=r.command.text,
            correct=r.correct,
            stt_ms=r.stt_ms,
            intent_ms=r.intent_ms,
            tts_ms=r.tts_ms,
            transcript=r.transcript,
            error=r.error,
        )
    correct = sum(r.correct for r in results)
    stages = report.table(
        "stages",
        STAGE_COLUMNS,
        caption="Overall (ms after the end of the user's audio)",
        footer=f"right end states: {correct}/{len(results)} "
        f"({100 * correct / max(len(results), 1):.0f}%)",
    )
    for stage, values in (
        ("transcript", [r.stt_ms for r in results]),
        ("intent executed", [r.intent_ms for r in results]),
        ("first TTS audio", [r.tts_ms for r in results]),
    ):
        got = [v for v in values if v is not None]
        stages.add(
            stage=stage,
            median_ms=statistics.median(got) if got else None,
            p95_ms=percentile(got, 0.95) if got else None,
            n=len(got),
        )
    report.summary = {"right_end_states": correct, "commands_run": len(results)}


async def main_async(args: argparse.Namespace, report: Report) -> None:
    clips = {command.text: speak(command.text) for command in COMMANDS}
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        logs = Path(args.logs or tmp)
        os.makedirs(logs, exist_ok=True)
        stt = stack.enter_context(
            run_server(
                "wyoming_stt", logs, *args.stt_args, python=SERVICE_PYTHON, debug=False, wait=False
            )
        )
        tts = stack.enter_context(
            run_server(
                "wyoming_tts", logs, *args.tts_args, python=SERVICE_PYTHON, debug=False, wait=False
            )
        )
        llm = stack.enter_context(
            run_server(
                "wyoming_llm", logs, *args.llm_args, python=SERVICE_PYTHON, debug=False, wait=False
            )
        )
        for child in (stt, tts):
            await async_wait_described(child)
        await async_wait_described(llm, ready_log="Warmed up")
        ports = {"stt_port": stt.port, "tts_port": tts.port, "conversation_port": llm.port}
        async with live_home(logs / "config", ports) as home:
            # Warm-up, not counted: Home Assistant's own agent, and the model's cached
            # prefix for this home (its first request after a home change is a full prefill).
            await run_command(home, COMMANDS[0], clips[COMMANDS[0].text])
            await home.api.run_text(home.pipeline_id, "kill the bedroom lights")
            results = [
                await run_command(home, command, clips[command.text])
                for _ in range(args.repeat)
                for command in COMMANDS
            ]
    report.settings = {"repeat": args.repeat, "commands": len(COMMANDS)}
    report_results(results, report)


def main() -> None:
    parser = arguments("bench.e2e", __doc__)
    parser.add_argument("--repeat", type=int, default=1, help="Runs of the command set (1)")
    parser.add_argument("--logs", help="Keep the services' and Home Assistant's logs here")
    parser.add_argument("--stt-args", nargs="*", default=[], help="Extra wyoming_stt flags")
    parser.add_argument("--tts-args", nargs="*", default=[], help="Extra wyoming_tts flags")
    parser.add_argument("--llm-args", nargs="*", default=[], help="Extra wyoming_llm flags")
    run("e2e", parser, main_async)


if __name__ == "__main__":
    main()
