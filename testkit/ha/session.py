"""A running Home Assistant with the test home and Local Voice added through its config flow."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from testkit import ROOT
from testkit.processes import SERVICE_PYTHON, ServiceProcess

from .api import ApiError, HomeAssistantApi
from .core import home_assistant, start_core
from .home import LIGHTS

HOST = "127.0.0.1"
SPEAK = (
    "import sys; from testkit import clips; text, tail, voice = sys.argv[1:]; "
    "pcm = clips.piper(text) if voice == 'piper' else clips.kokoro(text, voice); "
    "sys.stdout.buffer.write(clips.padded(pcm, lead=0.3, tail=float(tail)))"
)


def speak(text: str, tail: float = 0.7, voice: str = "piper") -> bytes:
    """16 kHz mono PCM of `text` spoken by the embedded Piper voice or a Kokoro voice
    (testkit.clips), with 0.3 s of silence before and `tail` s after (0.7 s: what Home
    Assistant's own voice activity detection waits for before it ends a command)."""
    return subprocess.run(
        [str(SERVICE_PYTHON), "-c", SPEAK, text, str(tail), voice],
        check=True,
        capture_output=True,
        cwd=ROOT,
    ).stdout


@dataclass
class LiveHome:
    """The API client, the Local Voice pipeline's id and the Home Assistant log."""

    api: HomeAssistantApi
    pipeline_id: str
    config_dir: Path
    child: ServiceProcess

    @property
    def log(self) -> str:
        path = self.config_dir / "home-assistant.log"
        return path.read_text(errors="replace") if path.exists() else ""

    async def reset_lights(self, on: bool = True) -> None:
        for light in LIGHTS:
            await self.api.call_service(
                "light", "turn_on" if on else "turn_off", entity_id=light.entity_id
            )

    async def restart(self) -> None:
        """Stop Home Assistant and start it again on the same configuration and port, as
        a restart from its settings does; the same login keeps working."""
        await self.api.close()
        self.child.stop()
        self.child = start_core(sys.executable, self.config_dir, self.child.port)
        await self.api.wait_ready()
        await self.api.connect()

    async def states(self) -> dict[str, str]:
        return {light.entity_id: await self.api.state(light.entity_id) for light in LIGHTS}


async def _registered(api: HomeAssistantApi, entity_id: str, timeout: float = 120.0) -> None:
    """Wait for `entity_id` in the entity registry: HTTP answers before the template
    platform has set its lights up, and on a loaded machine the gap is seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            await api.command("config/entity_registry/get", entity_id=entity_id)
            return
        except ApiError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.25)


async def _place_lights(api: HomeAssistantApi) -> None:
    """Put each light into its area (onboarding created Living Room, Kitchen, Bedroom)."""
    areas = {area["area_id"] for area in await api.command("config/area_registry/list")}
    for light in LIGHTS:
        await _registered(api, light.entity_id)
        if light.area_id not in areas:
            await api.command("config/area_registry/create", name=light.area_id.replace("_", " "))
        await api.command(
            "config/entity_registry/update", entity_id=light.entity_id, area_id=light.area_id
        )


@contextlib.asynccontextmanager
async def live_home(config_dir: Path, ports: dict[str, int]) -> AsyncIterator[LiveHome]:
    """Start Home Assistant, onboard, place the lights, add Local Voice with `ports`
    (config-flow field -> port) through the REST config flow; yield the running home."""
    with home_assistant(sys.executable, config_dir) as first:
        async with aiohttp.ClientSession() as session:
            api = HomeAssistantApi(f"http://{HOST}:{first.port}", session)
            home: LiveHome | None = None
            try:
                await api.wait_ready()
                await api.onboard()
                await api.connect()
                await _place_lights(api)
                result = await api.config_flow("local_voice", {"host": HOST, **ports})
                if result.get("type") != "create_entry":
                    raise ApiError(f"Local Voice config flow: {result}")
                pipelines = await api.command("assist_pipeline/pipeline/list")
                pipeline_id = next(
                    p["id"] for p in pipelines["pipelines"] if p["name"] == "Local Voice"
                )
                home = LiveHome(api, pipeline_id, config_dir, first)
                yield home
            finally:
                await api.close()
                if home is not None and home.child is not first:
                    home.child.stop()
