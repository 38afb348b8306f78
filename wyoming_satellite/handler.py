"""One Wyoming connection to the satellite: `describe` for anyone, the rest for its owner.

Home Assistant connects, sends `run-satellite` and from then on owns the satellite;
a second client that tries to run it gets an error and is closed, unless the owner
has gone silent (Home Assistant pings every 2 s), as a dead connection would.
"""

import asyncio
import logging
import time

from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.satellite import RunSatellite

from local_voice.server import RequestError, ServiceEventHandler

from .satellite import Satellite

_LOGGER = logging.getLogger(__name__)
STALE_OWNER_SECONDS = 10.0


class SatelliteEventHandler(ServiceEventHandler):
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        satellite: Satellite,
        info: Info,
    ) -> None:
        super().__init__(reader, writer)
        self.satellite = satellite
        self.info = info
        self.last_event = time.monotonic()

    @property
    def owns(self) -> bool:
        return self.satellite.owner is self

    async def handle_event(self, event: Event) -> bool:
        self.last_event = time.monotonic()
        if event.type != "audio-chunk":
            _LOGGER.debug("%s: %s %s", self.peer, event.type, event.data or "")
        if Describe.is_type(event.type):
            await self.write_event(self.info.event())
            return True
        if RunSatellite.is_type(event.type):
            return await self._run_satellite()
        if self.owns:
            try:
                await self.satellite.on_event(event)
            except (KeyError, TypeError, ValueError) as err:
                # a field missing or of the wrong type: refuse the event, not the owner
                raise RequestError(f"malformed {event.type} event: {err!r}") from err
        elif event.type not in ("pong", "pause-satellite"):
            _LOGGER.debug(
                "%s: %s from a client that does not run the satellite", self.peer, event.type
            )
        return True

    async def _run_satellite(self) -> bool:
        owner = self.satellite.owner
        if owner is not None and owner is not self:
            silent = time.monotonic() - getattr(owner, "last_event", 0.0)
            if silent < STALE_OWNER_SECONDS:
                _LOGGER.warning(
                    "%s: refused, %s already runs the satellite", self.peer, owner_peer(owner)
                )
                await self.send_error(
                    f"this satellite is already run by {owner_peer(owner)}", "satellite-busy"
                )
                return False
            _LOGGER.warning(
                "%s takes over from %s (silent %.0f s)", self.peer, owner_peer(owner), silent
            )
            await self.satellite.detach(owner)
        self.satellite.attach(self, self.write_event)
        _LOGGER.info("%s runs the satellite", self.peer)
        return True

    async def disconnect(self) -> None:
        await self.satellite.detach(self)


def owner_peer(owner: object) -> str:
    return str(getattr(owner, "peer", "another client"))
