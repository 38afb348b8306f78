"""Home Assistant's REST and websocket APIs: onboarding, config flows, Assist pipeline runs."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

CLIENT_ID = "http://127.0.0.1/"
CHUNK_SECONDS = 0.02  # 20 ms audio frames, like a satellite
BYTES_PER_SECOND = 16000 * 2


class ApiError(Exception):
    """Home Assistant answered a request with an error."""


@dataclass
class PipelineRun:
    """Events of one assist_pipeline/run with their arrival times (time.monotonic)."""

    events: list[dict[str, Any]] = field(default_factory=list)
    times: dict[str, float] = field(default_factory=dict)
    audio_end: float = 0.0  # when the client sent its end-of-audio frame
    tts_first_byte: float | None = None
    tts_bytes: int = 0

    def data(self, event_type: str) -> dict[str, Any]:
        for event in self.events:
            if event["type"] == event_type:
                return dict(event.get("data") or {})
        raise KeyError(f"no {event_type} event in {[e['type'] for e in self.events]}")

    @property
    def transcript(self) -> str:
        return str(self.data("stt-end")["stt_output"]["text"])

    @property
    def speech(self) -> str:
        response = self.data("intent-end")["intent_output"]["response"]
        return str(response["speech"]["plain"]["speech"])

    @property
    def error(self) -> dict[str, Any] | None:
        return next((dict(e["data"]) for e in self.events if e["type"] == "error"), None)


class HomeAssistantApi:
    """A logged-in client of one Home Assistant instance."""

    def __init__(self, base_url: str, session: aiohttp.ClientSession) -> None:
        self.base_url = base_url
        self.session = session
        self.token = ""
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def wait_ready(self, timeout: float = 120.0) -> None:
        """Wait until HTTP answers and onboarding can start."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                async with self.session.get(f"{self.base_url}/api/onboarding") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.25)
        raise TimeoutError("Home Assistant did not start serving HTTP")

    async def onboard(self, username: str = "voice", password: str = "local-voice-test") -> None:
        """Create the owner user and log in (skips core_config: it wants the internet)."""
        async with self.session.post(
            f"{self.base_url}/api/onboarding/users",
            json={
                "client_id": CLIENT_ID,
                "name": "Voice Test",
                "username": username,
                "password": password,
                "language": "en",
            },
        ) as resp:
            if resp.status != 200:
                raise ApiError(f"onboarding failed: {resp.status} {await resp.text()}")
            auth_code = (await resp.json())["auth_code"]
        async with self.session.post(
            f"{self.base_url}/auth/token",
            data={"grant_type": "authorization_code", "code": auth_code, "client_id": CLIENT_ID},
        ) as resp:
            if resp.status != 200:
                raise ApiError(f"token failed: {resp.status} {await resp.text()}")
            self.token = (await resp.json())["access_token"]

    # REST
    async def rest(self, method: str, path: str, json: Any = None) -> Any:
        async with self.session.request(
            method, f"{self.base_url}{path}", json=json, headers=self.headers
        ) as resp:
            if resp.status >= 400:
                raise ApiError(f"{method} {path}: {resp.status} {await resp.text()}")
            return await resp.json()

    async def config_flow(self, handler: str, *steps: dict[str, Any]) -> dict[str, Any]:
        """Start a config flow and answer its steps; the last result."""
        result: dict[str, Any] = await self.rest(
            "POST", "/api/config/config_entries/flow", {"handler": handler}
        )
        for step in steps:
            result = await self.rest(
                "POST", f"/api/config/config_entries/flow/{result['flow_id']}", step
            )
        return result

    async def state(self, entity_id: str) -> str:
        return str((await self.rest("GET", f"/api/states/{entity_id}"))["state"])

    async def call_service(self, domain: str, service: str, **data: Any) -> None:
        await self.rest("POST", f"/api/services/{domain}/{service}", data)

    # websocket
    async def connect(self) -> None:
        self._ws = await self.session.ws_connect(f"{self.base_url}/api/websocket")
        await self._ws.receive_json()  # auth_required
        await self._ws.send_json({"type": "auth", "access_token": self.token})
        if (reply := await self._ws.receive_json())["type"] != "auth_ok":
            raise ApiError(f"websocket auth failed: {reply}")

    @property
    def ws(self) -> aiohttp.ClientWebSocketResponse:
        if self._ws is None:
            raise ApiError("not connected")
        return self._ws

    async def command(self, type_: str, **data: Any) -> Any:
        """A websocket command's result (events of other commands are not expected)."""
        msg_id = next(self._ids)
        message = {"id": msg_id, "type": type_, **data}
        try:
            if self.ws.closed:
                raise aiohttp.ClientConnectionResetError("closed")
            await self.ws.send_json(message)
        except (aiohttp.ClientConnectionResetError, ConnectionResetError):
            # Home Assistant closes a websocket that did not answer its heartbeat pings
            # (answered only while reading), e.g. one idle for a minute of REST calls.
            stale = self._ws
            if stale is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(stale.close(), 1)
            await self.connect()
            await self.ws.send_json(message)
        while True:
            reply = await self.ws.receive_json(timeout=60)
            if reply.get("id") == msg_id and reply["type"] == "result":
                if not reply["success"]:
                    raise ApiError(f"{type_}: {reply['error']}")
                return reply["result"]

    async def run_text(
        self, pipeline_id: str, text: str, conversation_id: str | None = None
    ) -> PipelineRun:
        """assist_pipeline/run from intent to intent with typed text."""
        return await self._run(
            {
                "start_stage": "intent",
                "end_stage": "intent",
                "input": {"text": text},
                "pipeline": pipeline_id,
                "conversation_id": conversation_id,
            },
            audio=None,
        )

    async def run_audio(
        self, pipeline_id: str, pcm: bytes, *, realtime: bool = True
    ) -> PipelineRun:
        """assist_pipeline/run from stt to tts with 16 kHz PCM; the client marks end of audio
        (no_vad, like a satellite with its own voice activity detection); fetches the TTS audio."""
        run = await self._run(
            {
                "start_stage": "stt",
                "end_stage": "tts",
                "input": {"sample_rate": 16000, "no_vad": True},
                "pipeline": pipeline_id,
            },
            audio=(pcm, realtime),
        )
        if "tts-end" in run.times:
            url = run.data("tts-end")["tts_output"]["url"]
            async with self.session.get(f"{self.base_url}{url}", headers=self.headers) as resp:
                if resp.status != 200:
                    raise ApiError(f"TTS audio {url}: {resp.status}")
                async for chunk in resp.content.iter_any():
                    if chunk and run.tts_first_byte is None:
                        run.tts_first_byte = time.monotonic()
                    run.tts_bytes += len(chunk)
        return run

    async def _run(self, request: dict[str, Any], audio: tuple[bytes, bool] | None) -> PipelineRun:
        msg_id = next(self._ids)
        await self.ws.send_json(
            {
                "id": msg_id,
                "type": "assist_pipeline/run",
                **{k: v for k, v in request.items() if v is not None},
            }
        )
        run = PipelineRun()
        sender: asyncio.Task[None] | None = None
        try:
            while True:
                reply = await self.ws.receive_json(timeout=120)
                if reply.get("id") != msg_id:
                    continue
                if reply["type"] == "result":
                    if not reply["success"]:
                        raise ApiError(f"assist_pipeline/run: {reply['error']}")
                    continue
                event = reply["event"]
                run.events.append(event)
                run.times.setdefault(event["type"], time.monotonic())
                if event["type"] == "run-start" and audio is not None:
                    handler = event["data"]["runner_data"]["stt_binary_handler_id"]
                    sender = asyncio.create_task(self._send_audio(handler, *audio, run))
                if event["type"] in ("run-end", "error"):
                    return run
        finally:
            if sender is not None:
                await sender

    async def _send_audio(self, handler: int, pcm: bytes, realtime: bool, run: PipelineRun) -> None:
        prefix = bytes([handler])
        step = int(BYTES_PER_SECOND * CHUNK_SECONDS)
        start = time.monotonic()
        for offset in range(0, len(pcm), step):
            await self.ws.send_bytes(prefix + pcm[offset : offset + step])
            if realtime:
                ahead = start + (offset + step) / BYTES_PER_SECOND - time.monotonic()
                if ahead > 0:
                    await asyncio.sleep(ahead)
        await self.ws.send_bytes(prefix)  # end of audio
        run.audio_end = time.monotonic()

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
