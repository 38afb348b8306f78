"""The home of a Home Assistant instance, loaded over its websocket API (--ha-url).

Home Assistant's own Wyoming integration sends a transcript without any context, so
the service learns the home itself: the entities exposed to Assist, their aliases,
areas, floors and states, in the same shape the Local Voice integration sends
(docs/protocol.md). States follow `state_changed` events; a registry change, a lost
connection or the periodic reload rebuild everything from a fresh connection.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import aiohttp

from .home import Home

_LOGGER = logging.getLogger(__name__)

SUPERVISOR_URL = "http://supervisor/core"
ASSISTANT = "conversation"
# What Home Assistant exposes to Assist when nobody chose (its exposed_entities module).
DEFAULT_EXPOSED_DOMAINS = frozenset(
    {
        "climate",
        "cover",
        "fan",
        "humidifier",
        "light",
        "media_player",
        "scene",
        "switch",
        "todo",
        "vacuum",
        "water_heater",
    }
)
DEFAULT_EXPOSED_BINARY_SENSORS = frozenset(
    {"door", "garage_door", "lock", "motion", "opening", "presence", "window"}
)
DEFAULT_EXPOSED_SENSORS = frozenset(
    {"aqi", "carbon_monoxide", "carbon_dioxide", "humidity", "pm10", "pm25", "temperature"}
    | {"volatile_organic_compounds"}
)
NEVER_EXPOSED = frozenset({"group.all_locks"})
# State attributes the contract carries, under its names.
ATTRIBUTES = {
    "brightness": "brightness",
    "current_temperature": "current_temperature",
    "temperature": "temperature",
    "current_position": "position",
    "volume_level": "volume_level",
    "unit_of_measurement": "unit",
}
REGISTRY_EVENTS = (
    "area_registry_updated",
    "floor_registry_updated",
    "device_registry_updated",
    "entity_registry_updated",
)
COMMAND_TIMEOUT = 30.0
SETTLE_SECONDS = 2.0  # registry changes come in bursts: reload once they stop


class HomeAssistantError(Exception):
    """Home Assistant refused us or answered something unexpected."""


@dataclass(frozen=True)
class Connection:
    """Where Home Assistant is and the token that lets us in."""

    url: str
    token: str = field(repr=False)  # never in a log line

    @property
    def websocket_url(self) -> str:
        parsed = urlparse(self.url.rstrip("/"))
        scheme = "wss" if parsed.scheme == "https" else "ws"
        # The Supervisor proxies Home Assistant's API under /core.
        path = "/websocket" if parsed.path.endswith("/core") else "/api/websocket"
        return f"{scheme}://{parsed.netloc}{parsed.path}{path}"


def connection_from_options(url: str | None, token_file: Path | None) -> Connection | None:
    """--ha-url and --ha-token-file; inside an add-on, the Supervisor and its token.

    Raises ValueError with a sentence for the user when the options don't fit together.
    """
    supervisor_token = os.environ.get("SUPERVISOR_TOKEN", "").strip()
    if url is None and token_file is None:
        return Connection(SUPERVISOR_URL, supervisor_token) if supervisor_token else None
    url = url or (SUPERVISOR_URL if supervisor_token else None)
    if url is None:
        raise ValueError("--ha-token-file needs --ha-url (e.g. http://homeassistant.local:8123)")
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"--ha-url {url}: expected http://HOST:PORT or https://HOST:PORT")
    if token_file is None:
        if not supervisor_token:
            raise ValueError(
                "--ha-url needs --ha-token-file: a file holding a long-lived access token "
                "(Home Assistant: your profile → Security → Long-lived access tokens)"
            )
        return Connection(url, supervisor_token)
    try:
        token = token_file.read_text(encoding="utf-8").strip()
    except OSError as err:
        raise ValueError(f"--ha-token-file {token_file}: {err.strerror or err}") from err
    if not token or any(char.isspace() for char in token):
        raise ValueError(f"--ha-token-file {token_file}: expected one token on one line")
    return Connection(url, token)


@dataclass
class Registries:
    """What the websocket API tells about the home, as it sent it."""

    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)  # entity registry
    aliases: dict[str, list[str]] = field(default_factory=dict)
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    areas: dict[str, dict[str, Any]] = field(default_factory=dict)
    floors: dict[str, dict[str, Any]] = field(default_factory=dict)
    exposed: dict[str, dict[str, Any]] = field(default_factory=dict)  # expose_entity/list
    expose_new: bool = True

    def is_exposed(self, entity_id: str) -> bool:
        """Home Assistant's own rule (async_should_expose) for the conversation assistant."""
        if entity_id in NEVER_EXPOSED or entity_id not in self.states:
            return False
        entry = self.entities.get(entity_id)
        if entry is None:  # not in the registry: only an explicit choice is visible
            return bool(self.exposed.get(entity_id, {}).get(ASSISTANT))
        chosen = (entry.get("options") or {}).get(ASSISTANT, {}).get("should_expose")
        if chosen is not None:
            return bool(chosen)
        if not self.expose_new or entry.get("entity_category") or entry.get("hidden_by"):
            return False
        domain = entity_id.split(".", 1)[0]
        device_class = self.states[entity_id].get("attributes", {}).get("device_class")
        return (
            domain in DEFAULT_EXPOSED_DOMAINS
            or (domain == "binary_sensor" and device_class in DEFAULT_EXPOSED_BINARY_SENSORS)
            or (domain == "sensor" and device_class in DEFAULT_EXPOSED_SENSORS)
        )

    def _floor_name(self, area: dict[str, Any] | None) -> str | None:
        floor = self.floors.get(area.get("floor_id") or "") if area else None
        return str(floor["name"]) if floor else None

    def _area(self, entity_id: str) -> dict[str, Any] | None:
        entry = self.entities.get(entity_id) or {}
        area_id = entry.get("area_id")
        if not area_id and (device := self.devices.get(entry.get("device_id") or "")):
            area_id = device.get("area_id")
        return self.areas.get(area_id) if area_id else None

    def home_context(self) -> dict[str, Any]:
        """The contract's `home` object: areas, floors and the exposed entities."""
        entities = []
        for entity_id in sorted(self.states):
            if not self.is_exposed(entity_id):
                continue
            state = self.states[entity_id]
            attributes = state.get("attributes") or {}
            area = self._area(entity_id)
            entities.append(
                {
                    "entity_id": entity_id,
                    "name": attributes.get("friendly_name") or entity_id.split(".", 1)[1],
                    "aliases": sorted(self.aliases.get(entity_id, [])),
                    "domain": entity_id.split(".", 1)[0],
                    "device_class": attributes.get("device_class"),
                    "area": area["name"] if area else None,
                    "floor": self._floor_name(area),
                    "state": state.get("state"),
                    "attributes": {
                        short: attributes[name]
                        for name, short in ATTRIBUTES.items()
                        if attributes.get(name) is not None
                    },
                }
            )
        return {
            "areas": [
                {
                    "name": area["name"],
                    "aliases": sorted(area.get("aliases") or []),
                    "floor": self._floor_name(area),
                }
                for area in self.areas.values()
            ],
            "floors": [
                {"name": floor["name"], "aliases": sorted(floor.get("aliases") or [])}
                for floor in self.floors.values()
            ],
            "entities": entities,
        }


class _Socket:
    """One authenticated websocket connection: commands by id, then events."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._next_id = 0

    async def receive(self) -> dict[str, Any]:
        message = await self._ws.receive(timeout=None)
        if message.type != aiohttp.WSMsgType.TEXT:
            raise ConnectionError(f"Home Assistant closed the connection ({message.type.name})")
        data = message.json()
        if not isinstance(data, dict):
            raise HomeAssistantError(f"unexpected message: {str(data)[:100]}")
        return data

    async def authenticate(self, token: str) -> str:
        """Log in; Home Assistant's version."""
        hello = await asyncio.wait_for(self.receive(), COMMAND_TIMEOUT)
        if hello.get("type") != "auth_required":
            raise HomeAssistantError(f"not a Home Assistant websocket API: {hello}")
        await self._ws.send_json({"type": "auth", "access_token": token})
        answer = await asyncio.wait_for(self.receive(), COMMAND_TIMEOUT)
        if answer.get("type") != "auth_ok":
            raise PermissionError(answer.get("message") or "the token was refused")
        return str(answer.get("ha_version", "?"))

    async def command(self, type_: str, **data: Any) -> Any:
        """Send a command and wait for its result (events don't arrive before any
        subscription, so the next message with its id is the answer)."""
        self._next_id += 1
        await self._ws.send_json({"id": self._next_id, "type": type_, **data})
        while True:
            answer = await asyncio.wait_for(self.receive(), COMMAND_TIMEOUT)
            if answer.get("id") != self._next_id or answer.get("type") != "result":
                continue
            if not answer.get("success"):
                error = answer.get("error") or {}
                raise HomeAssistantError(f"{type_}: {error.get('message', error)}")
            return answer.get("result")


async def load_registries(socket: _Socket) -> Registries:
    """Everything the home context needs, over one connection."""
    states = await socket.command("get_states")
    entities = await socket.command("config/entity_registry/list")
    registries = Registries(
        states={state["entity_id"]: state for state in states},
        entities={entry["entity_id"]: entry for entry in entities},
        devices={d["id"]: d for d in await socket.command("config/device_registry/list")},
        areas={a["area_id"]: a for a in await socket.command("config/area_registry/list")},
        floors={f["floor_id"]: f for f in await socket.command("config/floor_registry/list")},
    )
    exposed = await socket.command("homeassistant/expose_entity/list")
    registries.exposed = exposed.get("exposed_entities", {})
    expose_new = await socket.command("homeassistant/expose_new_entities/get", assistant=ASSISTANT)
    registries.expose_new = bool(expose_new.get("expose_new", True))
    wanted = [entity_id for entity_id in registries.entities if registries.is_exposed(entity_id)]
    if wanted:  # aliases are only in the full entries
        entries = await socket.command("config/entity_registry/get_entries", entity_ids=wanted)
        registries.aliases = {
            entity_id: [alias for alias in entry.get("aliases") or [] if isinstance(alias, str)]
            for entity_id, entry in entries.items()
            if entry
        }
    return registries


class HomeAssistantHome:
    """Keeps the home of one Home Assistant instance current, reconnecting as needed.

    `home` is the latest home (None until the first load); `on_load` runs after each
    full load with the new home, e.g. to warm the model's prompt prefix for it.
    """

    def __init__(
        self,
        connection: Connection,
        reload_seconds: float = 300.0,
        on_load: Callable[[Home], None] | None = None,
    ) -> None:
        self.connection = connection
        self.reload_seconds = reload_seconds
        self.on_load = on_load
        self._registries: Registries | None = None
        self._home: Home | None = None
        self._dirty = False
        self.loaded = asyncio.Event()

    @property
    def home(self) -> Home | None:
        if self._dirty and self._registries is not None:
            self._home = Home.from_context({"home": self._registries.home_context()})
            self._dirty = False
        return self._home

    async def run(self) -> None:
        """Connect, load and follow the home until cancelled; retry with a growing pause."""
        pause = 1.0
        async with aiohttp.ClientSession() as session:
            while True:
                started = time.monotonic()
                try:
                    await self._follow(session)
                    pause = 1.0
                    continue  # a reload: reconnect at once
                except asyncio.CancelledError:
                    raise
                except PermissionError as err:
                    _LOGGER.error("Home Assistant at %s refused the token: %s", self.url, err)
                    pause = 60.0
                except (aiohttp.ClientError, OSError, TimeoutError, HomeAssistantError) as err:
                    _LOGGER.warning("Home Assistant at %s: %s", self.url, err or type(err).__name__)
                if time.monotonic() - started > 60:
                    pause = 1.0  # it had been working: retry soon
                await asyncio.sleep(pause)
                pause = min(pause * 2, 60.0)

    @property
    def url(self) -> str:
        return self.connection.url

    async def _follow(self, session: aiohttp.ClientSession) -> None:
        """One connection: load everything, then follow state changes until a reload."""
        started = time.monotonic()
        async with session.ws_connect(
            self.connection.websocket_url, heartbeat=30, max_msg_size=64 * 1024 * 1024
        ) as ws:
            socket = _Socket(ws)
            version = await socket.authenticate(self.connection.token)
            registries = await load_registries(socket)
            self._registries, self._dirty = registries, True
            home = self.home
            count = len(home.entities) if home else 0
            _LOGGER.info(
                "Home from Home Assistant %s at %s: %d exposed entities, %d areas in %.0f ms",
                version,
                self.url,
                count,
                len(registries.areas),
                (time.monotonic() - started) * 1000,
            )
            self.loaded.set()
            if home is not None and self.on_load is not None:
                self.on_load(home)
            await socket.command("subscribe_events", event_type="state_changed")
            for event_type in REGISTRY_EVENTS:
                await socket.command("subscribe_events", event_type=event_type)
            await self._events(socket, registries)

    async def _events(self, socket: _Socket, registries: Registries) -> None:
        """Apply state changes; return when the registries changed or a reload is due."""
        deadline = time.monotonic() + self.reload_seconds
        settle_until: float | None = None
        while True:
            until = min(deadline, settle_until or deadline)
            try:
                message = await asyncio.wait_for(socket.receive(), until - time.monotonic())
            except TimeoutError:
                return  # periodic reload, or the registry changes have settled
            if message.get("type") != "event":
                continue
            event = message.get("event") or {}
            if event.get("event_type") in REGISTRY_EVENTS:
                settle_until = time.monotonic() + SETTLE_SECONDS
                continue
            data = event.get("data") or {}
            entity_id = data.get("entity_id")
            if not isinstance(entity_id, str):
                continue
            new_state = data.get("new_state")
            if isinstance(new_state, dict):
                registries.states[entity_id] = new_state
            else:
                registries.states.pop(entity_id, None)
            self._dirty = True
