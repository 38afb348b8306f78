"""Running a Wyoming service: the guarded event handler and server start-up."""

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from urllib.parse import urlparse

from wyoming.error import Error
from wyoming.event import Event
from wyoming.server import AsyncEventHandler, AsyncServer

from .protocol import EventLimits, ProtocolError, read_event, version_tuple

_LOGGER = logging.getLogger(__name__)


class RequestError(Exception):
    """A request the service refuses; the client gets an `error` event and may go on."""

    def __init__(self, message: str, code: str = "bad-request") -> None:
        super().__init__(message)
        self.code = code


class ServiceEventHandler(AsyncEventHandler):
    """An event handler that survives bad clients.

    Framing errors (bad JSON, oversize lengths) are answered with an `error`
    event and the connection is closed; a `RequestError` raised by
    `handle_event` is answered with an `error` event and the connection stays
    open; a client hanging up mid-event is logged and cleaned up.
    """

    limits = EventLimits()

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        super().__init__(reader, writer)
        self.client_version: str | None = None
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else "local client"

    def client_at_least(self, *version: int) -> bool:
        """Whether the client's wyoming library is at least this version."""
        return version_tuple(self.client_version) >= version

    async def send_error(self, message: str, code: str) -> None:
        """Send an `error` event, ignoring a client that already left."""
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.write_event(Error(text=message, code=code).event())

    async def run(self) -> None:
        """Read and handle events until the client leaves or breaks the protocol."""
        try:
            while True:
                try:
                    received = await asyncio.wait_for(
                        read_event(self.reader, self.limits), self.read_timeout()
                    )
                except TimeoutError:
                    if await self.on_read_timeout():
                        continue
                    break
                except ProtocolError as err:
                    _LOGGER.warning("%s: %s; closing connection", self.peer, err)
                    await self.send_error(str(err), err.code)
                    break
                if received is None:
                    break
                if received.version:
                    self.client_version = received.version
                try:
                    if not await self.handle_event(received.event):
                        break
                except RequestError as err:
                    _LOGGER.warning("%s: %s", self.peer, err)
                    await self.send_error(str(err), err.code)
        except (asyncio.IncompleteReadError, ConnectionError) as err:
            _LOGGER.debug("%s: connection dropped (%s)", self.peer, type(err).__name__)
        except Exception:
            _LOGGER.exception("%s: unexpected error", self.peer)
            await self.send_error("internal server error; see the server log", "internal-error")
        finally:
            await self.disconnect()
            self.writer.close()

    def read_timeout(self) -> float | None:
        """Seconds to wait for the next event (None: forever)."""
        return None

    async def on_read_timeout(self) -> bool:
        """Called when read_timeout() passed without an event; False closes."""
        return False

    async def handle_event(self, event: Event) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError


HandlerFactory = Callable[[asyncio.StreamReader, asyncio.StreamWriter], AsyncEventHandler]


async def serve(uri: str, handler_factory: HandlerFactory, zeroconf_name: str | None) -> None:
    """Listen on `uri` until SIGTERM or SIGINT; optionally announce it over zeroconf."""
    server = AsyncServer.from_uri(uri)
    if urlparse(uri).scheme == "stdio":
        await server.run(handler_factory)
        return

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await server.start(handler_factory)
    _LOGGER.info("Listening on %s", uri)
    if zeroconf_name:
        await _announce(uri, zeroconf_name)
    await stop.wait()
    _LOGGER.info("Stopping")
    await server.stop()


async def _announce(uri: str, name: str) -> None:
    parsed = urlparse(uri)
    if parsed.scheme != "tcp" or parsed.port is None:
        raise ValueError("--zeroconf needs a tcp:// URI with a port")
    from wyoming.zeroconf import HomeAssistantZeroconf

    host = parsed.hostname if parsed.hostname not in (None, "0.0.0.0", "") else None
    await HomeAssistantZeroconf(name=name, port=parsed.port, host=host).register_server()
    _LOGGER.info("Announced over zeroconf as '%s'", name)
