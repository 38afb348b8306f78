"""Satellite benchmark through a real Home Assistant: our satellite vs wyoming-satellite 1.4.1.

Run with the Home Assistant venv (script/test makes it):
    .venv-ha/bin/python -m bench.satellite [--quick] [--negative-minutes N] [--json]

Starts our STT, TTS, conversation and wake services and a Home Assistant 2025.4.4 core
offline with the Local Voice pipeline, then, one satellite at a time, adds each satellite
through Home Assistant's own `wyoming` config flow (and removes its entry after): ours
(`python -m wyoming_satellite`, embedded okay_nabu_fused detector, --no-tones) and
wyoming-satellite 1.4.1 from its git source (PyPI only has 1.0.0, which never answers
Home Assistant's ping): its dependencies in .bench/venv-wyoming-satellite, run from its
source tree in .bench/src-wyoming-satellite-v1.4.1 (the cwd of its `python -m`; its wheel
leaves out wyoming_satellite/utils), with `--wake-uri` on our wake service arming the same
okay_nabu_fused model.
Both get the same fake microphone and speaker (testkit/satellite_room.py) and the same
Kokoro clips, spoken into the microphone in real time.

Measured: spoken commands (right end states, words lost before the first matching word
of the transcript, time from the end of the speech to the light's state change and to
the first reply audio heard); barge-in over a long announcement without and with echo
(the speaker's sound in the microphone at -6 dB): time from the end of the wake phrase
to the announcement's last audio heard, and whether the command ran; false wakes on
`--negative-minutes` (5) of ordinary talk, near misses and babble (testkit/wake_corpus.py,
both satellites listening at the same time, each to its own microphone); CPU share of
one core and peak RSS of each satellite process (the fake microphone and speaker not
counted; the peer's wake service shown on its own row). Without the peer's source
(/work/.mirror/rhasspy+wyoming-satellite/repo) it prints why and measures ours only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shlex
import statistics
import subprocess
import tempfile
import time
import traceback
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from testkit import BENCH_DIR, ROOT
from testkit.audio_effects import first_pause, speech_end
from testkit.ha.api import HomeAssistantApi
from testkit.ha.session import LiveHome, live_home, speak
from testkit.measure import cpu_seconds, peak_rss_mb, percentile
from testkit.peers import peer_python
from testkit.processes import (
    SERVICE_PYTHON,
    ServiceProcess,
    async_wait_described,
    free_port,
    run_server,
    spawn,
    wait_listening,
)
from testkit.report import Column, Report, arguments, run
from testkit.satellite_room import Heard, Room

OURS = "local-voice"
PEER = "wyoming-satellite 1.4.1"
PEER_TAG = "v1.4.1"
PEER_MIRROR = Path("/work/.mirror/rhasspy+wyoming-satellite/repo")
PEER_REQUIREMENTS = ("wyoming==1.5.4", "zeroconf==0.88.0", "pyring-buffer>=1,<2")  # its pyproject
WAKE_MODEL = "okay_nabu_fused"
WAKE_PHRASE = "okay nabu"
LONG_ANNOUNCEMENT = (
    "This is a long announcement from Home Assistant. The washing machine has finished "
    "its cycle, the post has arrived, and the forecast says it will rain this afternoon, "
    "so remember to take an umbrella when you go out to collect the children from school."
)
BARGE_IN = "turn off the kitchen lights"
BARGE_VOICES = ("af_heart", "am_michael", "af_bella")  # each barges in, without and with echo


@dataclass(frozen=True, eq=False)
class Command:
    text: str  # after the wake phrase
    voice: str  # Kokoro voice
    start_on: bool  # the lights before the command
    expected: dict[str, str]  # entity_id -> state after it

    @property
    def said(self) -> str:
        return f"{WAKE_PHRASE}, {self.text}"


COMMANDS = (
    Command("turn off the kitchen lights", "af_heart", True, {"light.kitchen_lights": "off"}),
    Command("turn on the bedroom lights", "am_michael", False, {"light.bedroom_lights": "on"}),
    Command("is the kitchen light on?", "bf_emma", True, {"light.kitchen_lights": "on"}),
    Command("turn off the bedroom lights", "am_michael", True, {"light.bedroom_lights": "off"}),
    Command("turn on the kitchen lights", "bf_emma", False, {"light.kitchen_lights": "on"}),
    Command("turn off the living room lamp", "af_heart", True, {"light.living_room_lamp": "off"}),
    Command("turn off the kitchen lights", "bf_emma", True, {"light.kitchen_lights": "off"}),
    Command("turn on the living room lamp", "am_michael", False, {"light.living_room_lamp": "on"}),
)


# --- measuring ---------------------------------------------------------------------------


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def words_lost(said: str, transcript: str) -> int:
    """Words of `said` missing before the first transcript word that is one of them."""
    expected = words(said)
    for word in words(transcript):
        if word in expected:
            return expected.index(word)
    return len(expected)


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants, less the fake microphone and speaker (testkit)."""
    parents: dict[int, list[int]] = {}
    commands: dict[int, bytes] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            commands[int(entry.name)] = (entry / "cmdline").read_bytes()
            parents.setdefault(ppid, []).append(int(entry.name))
    out: list[int] = []
    todo = [pid]
    while todo:
        current = todo.pop()
        if current == pid or b"testkit.fake_" not in commands.get(current, b""):
            out.append(current)
        todo += parents.get(current, [])
    return out


def tree_cpu(pid: int) -> float:
    total = 0.0
    for child in _tree(pid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            total += cpu_seconds(child)
    return total


def tree_rss_mb(pid: int) -> float:
    total = 0.0
    for child in _tree(pid):
        with contextlib.suppress(OSError, ValueError):
            total += peak_rss_mb(child)
    return total


@dataclass
class CpuMeter:
    """CPU seconds of a process tree over a stretch of wall time."""

    pid: int
    started: float = field(default_factory=time.monotonic)
    cpu: float = 0.0

    def __post_init__(self) -> None:
        self.cpu = tree_cpu(self.pid)

    def share(self) -> float:
        """Percent of one core since the start."""
        return 100 * (tree_cpu(self.pid) - self.cpu) / max(time.monotonic() - self.started, 1e-6)


class StateEvents:
    """Every state_changed event of Home Assistant, on a websocket of its own:
    (unix time of last_changed, entity_id, old state, new state)."""

    def __init__(self, api: HomeAssistantApi) -> None:
        self.api = HomeAssistantApi(api.base_url, api.session)
        self.api.token = api.token
        self.changes: list[tuple[float, str, str, str]] = []
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.api.connect()
        await self.api.ws.send_json(
            {"id": 1, "type": "subscribe_events", "event_type": "state_changed"}
        )
        self._task = asyncio.create_task(self._listen())

    async def _listen(self) -> None:
        while True:
            message = await self.api.ws.receive_json()
            if message.get("type") != "event":
                continue
            data = message["event"]["data"]
            new, old = data.get("new_state") or {}, data.get("old_state") or {}
            stamp = datetime.fromisoformat(
                new.get("last_changed") or message["event"]["time_fired"]
            )
            self.changes.append(
                (stamp.timestamp(), data["entity_id"], old.get("state", ""), new.get("state", ""))
            )

    def first(self, entity_id: str, state: str, after: float) -> float | None:
        return next(
            (t for t, e, _, s in self.changes if e == entity_id and s == state and t > after),
            None,
        )

    def entered(self, entity_id: str, state: str, start: float, end: float) -> int:
        return sum(
            1
            for t, e, old, new in self.changes
            if e == entity_id and new == state and old != state and start <= t <= end
        )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self.api.close()


# --- the satellites ----------------------------------------------------------------------


@dataclass(frozen=True)
class Contender:
    name: str
    python: Path
    cwd: Path
    extra: tuple[str, ...]
    ready_log: str  # what its log says once Home Assistant runs it
    peer: bool


def install_peer() -> tuple[Path | None, Path | str]:
    """wyoming-satellite 1.4.1's Python and source tree (its cwd), or None and why not."""
    if not (PEER_MIRROR / "HEAD").exists():
        return None, f"no git snapshot of wyoming-satellite at {PEER_MIRROR}"
    source = BENCH_DIR / f"src-wyoming-satellite-{PEER_TAG}"
    try:
        if not (source / "pyproject.toml").exists():
            source.mkdir(parents=True, exist_ok=True)
            archive = subprocess.run(
                ["git", f"--git-dir={PEER_MIRROR}", "archive", PEER_TAG],
                check=True,
                capture_output=True,
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
        # Its own dependencies only: its wheel leaves out wyoming_satellite/utils (a folder
        # without __init__.py), so it runs from the source tree, the cwd of `python -m`.
        python = peer_python("wyoming-satellite", *PEER_REQUIREMENTS)
        found = subprocess.run(
            [str(python), "-c", "import wyoming_satellite.utils as w; print(w.__file__)"],
            check=True,
            capture_output=True,
            text=True,
            cwd=source,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as err:
        detail = getattr(err, "stderr", b"") or b""
        text = detail.decode(errors="replace") if isinstance(detail, bytes) else str(detail)
        return None, f"installing wyoming-satellite {PEER_TAG} failed: {err} {text[-500:]}"
    if not found.startswith(str(source)):
        return None, f"the peer's source tree does not come first on its path ({found})"
    return python, source


def peer_room_args(room: Room) -> list[str]:
    """The room's --mic-command/--snd-command for a process whose cwd is not the
    repository: testkit comes from PYTHONPATH in the commands only (the peer's own
    PYTHONPATH must not hold the repository: its package is also wyoming_satellite)."""
    args = room.satellite_args()
    prefix = f"env PYTHONPATH={shlex.quote(str(ROOT))} "
    return [
        prefix + value if index > 0 and args[index - 1] in ("--mic-command", "--snd-command")
        else value
        for index, value in enumerate(args)
    ]  # fmt: skip


@contextlib.contextmanager
def started(contender: Contender, room: Room, logs: Path, tag: str) -> Iterator[ServiceProcess]:
    port = free_port()
    room_args = peer_room_args(room) if contender.peer else room.satellite_args()
    name = f"{contender.name} {tag}"
    command = [
        str(contender.python),
        *("-m", "wyoming_satellite", "--uri", f"tcp://127.0.0.1:{port}"),
        *("--name", name, "--no-zeroconf", "--debug", *room_args, *contender.extra),
    ]
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower())
    child = ServiceProcess(
        spawn(command, logs / f"{slug}.log", contender.cwd), port, logs / f"{slug}.log"
    )
    try:
        wait_listening(port, child.process)
        yield child
    finally:
        child.stop()


@dataclass
class Added:
    contender: Contender
    home: LiveHome
    process: ServiceProcess
    room: Room
    entry_id: str
    satellite_entity: str

    async def run_ids(self) -> list[str]:
        listed = await self.home.api.command(
            "assist_pipeline/pipeline_debug/list", pipeline_id=self.home.pipeline_id
        )
        return [str(r["pipeline_run_id"]) for r in listed["pipeline_runs"]]

    async def transcript(self, run_id: str) -> str:
        got = await self.home.api.command(
            "assist_pipeline/pipeline_debug/get",
            pipeline_id=self.home.pipeline_id,
            pipeline_run_id=run_id,
        )
        for event in got["events"]:
            if event["type"] == "stt-end":
                return str(event["data"]["stt_output"]["text"])
        return ""

    async def idle(self, timeout: float = 40) -> bool:
        return await wait_until(lambda: self.home.api.state(self.satellite_entity), "idle", timeout)


async def wait_until(read: Callable[[], Any], expected: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            value = read()
            if asyncio.iscoroutine(value):
                value = await value
            if value == expected or (expected is True and value):
                return True
        await asyncio.sleep(0.1)
    return False


@contextlib.asynccontextmanager
async def added(
    home: LiveHome, contender: Contender, process: ServiceProcess, room: Room
) -> AsyncIterator[Added]:
    """The satellite added through the wyoming config flow; its entry removed after."""
    await async_wait_described(process, timeout=60)
    runs = process.log.count(contender.ready_log)
    result = await home.api.config_flow("wyoming", {"host": "127.0.0.1", "port": process.port})
    if result.get("type") != "create_entry":
        raise RuntimeError(f"wyoming config flow: {result}")
    entry_id = str(result["result"]["entry_id"])
    try:
        if not await wait_until(lambda: process.log.count(contender.ready_log) > runs, True, 60):
            raise RuntimeError(f"Home Assistant did not run it:\n{process.log[-2000:]}")
        registry = await home.api.command("config/entity_registry/list")
        entity = next(
            e["entity_id"]
            for e in registry
            if e.get("config_entry_id") == entry_id and e["entity_id"].startswith("assist_sat")
        )
        yield Added(contender, home, process, room, entry_id, entity)
    finally:
        with contextlib.suppress(Exception):
            await home.api.rest("DELETE", f"/api/config/config_entries/entry/{entry_id}")


# --- the phases --------------------------------------------------------------------------


@dataclass(frozen=True)
class Clip:
    pcm: bytes
    end: float  # seconds to the end of the speech in pcm
    voice: str = ""


async def reset(home: LiveHome, on: bool) -> None:
    await home.reset_lights(on=on)
    await asyncio.sleep(0.3)


async def run_command(
    sat: Added, command: Command, clip: Clip, events: StateEvents
) -> dict[str, Any]:
    home = sat.home
    await sat.idle(20)
    await reset(home, command.start_on)
    before = set(await sat.run_ids())
    said = time.time()
    sat.room.say(clip.pcm)
    end = said + clip.end
    changes = {
        e: s for e, s in command.expected.items() if s != ("on" if command.start_on else "off")
    }

    async def finished() -> bool:
        if changes:
            return all([await home.api.state(e) == s for e, s in changes.items()])
        return any(h.start > end and h.seconds > 0.3 for h in sat.room.heard())

    await wait_until(finished, True, 25)
    await sat.idle(40)
    await asyncio.sleep(0.5)
    new = [r for r in await sat.run_ids() if r not in before]
    transcript = await sat.transcript(new[-1]) if new else ""
    states = {e: await home.api.state(e) for e in command.expected}
    changed = [t for e, s in changes.items() if (t := events.first(e, s, said)) is not None]
    reply = next((h.start for h in sat.room.heard() if h.start > end and h.seconds > 0.3), None)
    return {
        "satellite": sat.contender.name,
        "voice": command.voice,
        "command": command.said,
        "woke": bool(new),
        "correct": states == command.expected,
        "transcript": transcript,
        "words_lost": words_lost(command.text, transcript) if new else None,
        "light_ms": (max(changed) - end) * 1000
        if changes and len(changed) == len(changes)
        else None,
        "reply_ms": (reply - end) * 1000 if reply is not None else None,
    }


async def barge_in(
    sat: Added, command: Clip, phrase_end: float, echo: bool, events: StateEvents
) -> dict[str, Any]:
    """A long announcement; the wake word and a command over it."""
    home = sat.home
    row: dict[str, Any] = {
        "satellite": sat.contender.name,
        "voice": command.voice,
        "echo": "-6 dB" if echo else "none",
    }
    await sat.idle(20)
    await reset(home, True)
    before = len(sat.room.heard())
    announced = asyncio.create_task(
        home.api.call_service(
            "assist_satellite",
            "announce",
            entity_id=sat.satellite_entity,
            message=LONG_ANNOUNCEMENT,
        )
    )
    try:
        playing = await wait_until(
            lambda: any(h.seconds > 1.0 for h in sat.room.heard()[before:]), True, 60
        )
        if not playing:
            row["error"] = "the announcement did not play"
            return row
        playback = next(h for h in sat.room.heard()[before:] if h.seconds > 1.0)
        said = time.time()
        sat.room.say(command.pcm)
        wake_end = said + phrase_end
        ran = await wait_until(lambda: home.api.state("light.kitchen_lights"), "off", 40)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(announced), 40)
        await sat.idle(40)
        await asyncio.sleep(1)
        heard: Heard = next(h for h in sat.room.heard() if h.path == playback.path)
        row.update(
            stop_ms=(heard.end - wake_end) * 1000,
            announcement_s=heard.seconds,
            stopped=heard.end < said + command.end,
            ran=ran,
        )
        return row
    finally:
        if not announced.done():
            announced.cancel()
        with contextlib.suppress(BaseException):
            await announced


# --- the report --------------------------------------------------------------------------


def _ok(key: str) -> Callable[[dict[str, Any]], str]:
    def cell(row: dict[str, Any]) -> str:
        value = row.get(key)
        return "-" if value is None else ("yes" if value else "NO")

    return cell


COMMAND_COLUMNS = (
    Column("satellite", "{satellite}"),
    Column("voice", "{voice}"),
    Column("said", "{command}"),
    Column("woke", _ok("woke")),
    Column("ok", _ok("correct")),
    Column("words lost", "{words_lost}"),
    Column("light ms", "{light_ms:.0f}"),
    Column("reply ms", "{reply_ms:.0f}"),
    Column("transcript", "{transcript!r}"),
)
SUMMARY_COLUMNS = (
    Column("satellite", "{satellite}"),
    Column("right states", "{correct}/{commands}"),
    Column("woke", "{woke}/{commands}"),
    Column("words lost (total)", "{words_lost}"),
    Column("-> light median ms", "{light_median_ms:.0f}"),
    Column("-> light p95 ms", "{light_p95_ms:.0f}"),
    Column("-> reply median ms", "{reply_median_ms:.0f}"),
    Column("-> reply p95 ms", "{reply_p95_ms:.0f}"),
)
BARGE_COLUMNS = (
    Column("satellite", "{satellite}"),
    Column("voice", "{voice}"),
    Column("echo", "{echo}"),
    Column("wake end -> announcement's last audio ms", "{stop_ms:.0f}"),
    Column("announcement heard s", "{announcement_s:.1f}"),
    Column("stopped", _ok("stopped")),
    Column("command ran", _ok("ran")),
    Column("error", "{error}"),
)
FALSE_WAKE_COLUMNS = (
    Column("satellite", "{satellite}"),
    Column("minutes", "{minutes:.1f}"),
    Column("pipeline runs started", "{runs}"),
    Column("per hour", "{per_hour:.1f}"),
)
RESOURCE_COLUMNS = (
    Column("process", "{process}"),
    Column("phase", "{phase}"),
    Column("CPU % of one core", "{cpu_percent:.1f}"),
    Column("peak RSS MB", "{rss_mb:.0f}"),
)


def summarize(rows: list[dict[str, Any]], name: str) -> dict[str, Any]:
    mine = [r for r in rows if r["satellite"] == name]
    light = [r["light_ms"] for r in mine if r["light_ms"] is not None]
    reply = [r["reply_ms"] for r in mine if r["reply_ms"] is not None]
    return {
        "satellite": name,
        "commands": len(mine),
        "correct": sum(bool(r["correct"]) for r in mine),
        "woke": sum(bool(r["woke"]) for r in mine),
        "words_lost": sum(r["words_lost"] or 0 for r in mine),
        "light_median_ms": statistics.median(light) if light else None,
        "light_p95_ms": percentile(light, 0.95) if light else None,
        "reply_median_ms": statistics.median(reply) if reply else None,
        "reply_p95_ms": percentile(reply, 0.95) if reply else None,
    }


NEGATIVES = """
import sys
from testkit import wake_corpus as w
minutes = float(sys.argv[1])
for length in (10, 30, 60):
    if length >= minutes and w._negatives_path(w.TUNING, length).exists():
        break
else:
    length = max(minutes, 10)
    w.negative_hours(w.TUNING, length)
print(w._negatives_path(w.TUNING, length))
"""


def negatives(minutes: float) -> bytes:
    """`minutes` of the tuning split's negative stream (testkit/wake_corpus.py): a cached
    stream's start where there is one (the stream is the same whatever its length, cut at
    the end); made in the services' venv, which has the voices."""
    path = subprocess.run(
        [str(SERVICE_PYTHON), "-c", NEGATIVES, str(minutes)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout.split()[-1]
    return Path(path).read_bytes()[: int(minutes * 60 * 16000) * 2]


# --- the run -----------------------------------------------------------------------------


def make_clips(
    commands: tuple[Command, ...],
) -> tuple[dict[Command, Clip], list[tuple[Clip, float]]]:
    """Each command's clip, and each barge-in clip with where its wake phrase ends."""

    def clip(text: str, voice: str) -> Clip:
        pcm = speak(text, voice=voice)
        return Clip(pcm, speech_end(pcm))

    made = {c: clip(c.said, c.voice) for c in commands}
    barges = []
    for voice in BARGE_VOICES:
        barge = clip(f"{WAKE_PHRASE}, {BARGE_IN}", voice)
        barges.append((Clip(barge.pcm, barge.end, voice), first_pause(barge.pcm)))
    return made, barges


async def main_async(args: argparse.Namespace, report: Report) -> None:
    commands = COMMANDS[:3] if args.quick else COMMANDS
    minutes = (
        args.negative_minutes if args.negative_minutes is not None else (1 if args.quick else 5)
    )
    problems: list[str] = []
    peer_python_path, peer_source = install_peer()
    if peer_python_path is None or not isinstance(peer_source, Path):
        problems.append(f"{PEER} not measured: {peer_source}")
        print(problems[-1], flush=True)
    rows: list[dict[str, Any]] = []
    barges: list[dict[str, Any]] = []
    false_wakes: list[dict[str, Any]] = []
    resources: list[dict[str, Any]] = []
    clips_task = asyncio.create_task(asyncio.to_thread(make_clips, commands))
    negatives_task = asyncio.create_task(asyncio.to_thread(negatives, minutes))
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        logs = Path(args.logs or tmp)
        os.makedirs(logs, exist_ok=True)
        children = {
            module: stack.enter_context(
                run_server(module, logs, *extra, python=SERVICE_PYTHON, debug=False, wait=False)
            )
            for module, extra in (
                ("wyoming_stt", ()),
                ("wyoming_tts", ()),
                ("wyoming_llm", ()),
                ("wyoming_wake", ("--model", WAKE_MODEL)),
            )
        }
        for module, child in children.items():
            await async_wait_described(
                child, ready_log="Warmed up" if module == "wyoming_llm" else None
            )
        wake = children["wyoming_wake"]
        contenders = [
            Contender(OURS, SERVICE_PYTHON, ROOT, ("--no-tones",), "runs the satellite", False)
        ]
        if peer_python_path is not None and isinstance(peer_source, Path):
            wake_args = (
                "--wake-uri",
                f"tcp://127.0.0.1:{wake.port}",
                "--wake-word-name",
                WAKE_MODEL,
            )
            contenders.append(
                Contender(
                    PEER, peer_python_path, peer_source, wake_args, "Waiting for wake word", True
                )
            )
        ports = {
            "stt_port": children["wyoming_stt"].port,
            "tts_port": children["wyoming_tts"].port,
            "conversation_port": children["wyoming_llm"].port,
        }
        async with live_home(logs / "config", ports) as home:
            await home.api.command(
                "assist_pipeline/pipeline/set_preferred", pipeline_id=home.pipeline_id
            )
            events = StateEvents(home.api)
            await events.start()
            clip_of, barge_clips = await clips_task
            # Warm-up, not counted: the services' first requests and the model's prefix
            warm = next(iter(clip_of.values())).pcm
            await home.api.run_audio(home.pipeline_id, warm)
            await home.api.run_text(home.pipeline_id, "kill the bedroom lights")

            for contender in contenders:
                print(f"{contender.name}: commands and barge-in", flush=True)
                try:
                    room = Room(logs / f"room-{len(resources)}")
                    with started(contender, room, logs, "kitchen") as process:
                        async with added(home, contender, process, room) as sat:
                            meter = CpuMeter(process.process.pid)
                            wake_meter = CpuMeter(wake.process.pid) if contender.peer else None
                            for command in commands:
                                row = await run_command(sat, command, clip_of[command], events)
                                rows.append(row)
                                print(report_line(COMMAND_COLUMNS, row), flush=True)
                            for barge_clip, phrase_end in barge_clips:
                                barge = await barge_in(sat, barge_clip, phrase_end, False, events)
                                barges.append(barge)
                                print(report_line(BARGE_COLUMNS, barge), flush=True)
                            resources.append(
                                {
                                    "process": contender.name,
                                    "phase": "commands + barge-in",
                                    "cpu_percent": meter.share(),
                                    "rss_mb": tree_rss_mb(process.process.pid),
                                }
                            )
                            if wake_meter is not None:
                                resources.append(
                                    {
                                        "process": "its wake service (wyoming_wake)",
                                        "phase": "commands + barge-in",
                                        "cpu_percent": wake_meter.share(),
                                        "rss_mb": tree_rss_mb(wake.process.pid),
                                    }
                                )
                except Exception as err:  # the other satellite is still measured
                    problems.append(f"{contender.name}: {err!r}")
                    print(traceback.format_exc(), flush=True)

            for contender in contenders:
                print(f"{contender.name}: barge-in with echo", flush=True)
                try:
                    room = Room(logs / f"room-echo-{contender.peer}", echo_db=-6.0)
                    with started(contender, room, logs, "echo") as process:
                        async with added(home, contender, process, room) as sat:
                            for barge_clip, phrase_end in barge_clips:
                                barge = await barge_in(sat, barge_clip, phrase_end, True, events)
                                barges.append(barge)
                                print(report_line(BARGE_COLUMNS, barge), flush=True)
                except Exception as err:
                    problems.append(f"{contender.name} (echo): {err!r}")
                    print(traceback.format_exc(), flush=True)

            if minutes > 0:
                print(f"False wakes: {minutes:g} min of talk into each microphone", flush=True)
                stream = await negatives_task
                try:
                    await listen_to_negatives(
                        home, contenders, stream, logs, events, wake, false_wakes, resources
                    )
                except Exception as err:
                    problems.append(f"false wakes: {err!r}")
                    print(traceback.format_exc(), flush=True)
            await events.stop()

    report.settings = {
        "commands": len(commands),
        "negative_minutes": minutes,
        "wake_model": WAKE_MODEL,
        "satellites": [c.name for c in contenders],
    }
    commands_table = report.table(
        "rows", COMMAND_COLUMNS, caption="Per command (ms after the end of the speech)"
    )
    for row in rows:
        commands_table.add(**row)
    summary = report.table(
        "satellites",
        SUMMARY_COLUMNS,
        caption="Per satellite (ms after the end of the speech)",
    )
    for contender in contenders:
        summary.add(**summarize(rows, contender.name))
    barge_table = report.table(
        "barge_in", BARGE_COLUMNS, caption="Barge-in over a long announcement"
    )
    for row in barges:
        barge_table.add(**row)
    wakes = report.table("false_wakes", FALSE_WAKE_COLUMNS, caption="False wakes")
    for row in false_wakes:
        wakes.add(**row)
    report.table(
        "resources",
        RESOURCE_COLUMNS,
        caption="CPU and memory (fake microphone and speaker not counted)",
        footer="\n".join(problems),
    ).rows.extend(resources)
    report.summary = {
        "problems": list(problems),
        **{
            f"{s['satellite']}: right": s["correct"]
            for s in (summarize(rows, c.name) for c in contenders)
        },
    }


def report_line(columns: tuple[Column, ...], row: dict[str, Any]) -> str:
    return "| " + " | ".join(column.render(row) for column in columns) + " |"


async def listen_to_negatives(
    home: LiveHome,
    contenders: list[Contender],
    stream: bytes,
    logs: Path,
    events: StateEvents,
    wake: ServiceProcess,
    false_wakes: list[dict[str, Any]],
    resources: list[dict[str, Any]],
) -> None:
    """Both satellites added at once, each speaking the stream into its own microphone."""
    async with contextlib.AsyncExitStack() as stack:
        sats: list[Added] = []
        for contender in contenders:
            room = Room(logs / f"room-negatives-{contender.peer}")
            process = stack.enter_context(started(contender, room, logs, "negatives"))
            sats.append(await stack.enter_async_context(added(home, contender, process, room)))
        meters = [CpuMeter(sat.process.process.pid) for sat in sats]
        wake_meter = CpuMeter(wake.process.pid)
        begin = time.time()
        seconds = 0.0
        for sat in sats:
            seconds = sat.room.say(stream)
        await asyncio.sleep(seconds + 2)
        await asyncio.gather(*(sat.idle(40) for sat in sats))
        end = time.time()
        for sat, meter in zip(sats, meters, strict=True):
            runs = events.entered(sat.satellite_entity, "listening", begin, end)
            false_wakes.append(
                {
                    "satellite": sat.contender.name,
                    "minutes": seconds / 60,
                    "runs": runs,
                    "per_hour": runs * 3600 / seconds,
                }
            )
            resources.append(
                {
                    "process": sat.contender.name,
                    "phase": "listening to talk",
                    "cpu_percent": meter.share(),
                    "rss_mb": tree_rss_mb(sat.process.process.pid),
                }
            )
        if any(c.peer for c in contenders):
            resources.append(
                {
                    "process": "its wake service (wyoming_wake)",
                    "phase": "listening to talk",
                    "cpu_percent": wake_meter.share(),
                    "rss_mb": tree_rss_mb(wake.process.pid),
                }
            )


def main() -> None:
    parser = arguments("bench.satellite", __doc__)
    parser.add_argument("--quick", action="store_true", help="3 commands, 1 min of talk")
    parser.add_argument(
        "--negative-minutes",
        type=float,
        help="Minutes of talk spoken into the microphones in real time (5; --quick 1; 0: skip)",
    )
    parser.add_argument(
        "--logs", help="Keep the services', satellites' and Home Assistant's logs here"
    )
    run("satellite", parser, main_async)


if __name__ == "__main__":
    main()
