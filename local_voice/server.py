"""Running a Wyoming service: the guarded event handler and server start-up."""

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlparse

from wyoming.error import Error
from wyoming.event import Event, async_get_stdin
from wyoming.ping import Ping, Pong
from wyoming.server import AsyncEventHandler, AsyncServer

from .protocol import EventLimits, ProtocolError, read_event, version_tuple

_LOGGER = logging.getLogger(__name__)


class RequestError(Exception):
    """A request the service refuses: the client gets an `error` event.

    With `close`, the connection ends too. Clients such as Home Assistant 2025.4
    ignore `error` events and wait for their answer, so a request that will get
    no answer must close the connection.
    """

    def __init__(self, message: str, code: str = "bad-request", *, close: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.close = close


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
                if Ping.is_type(received.event.type):  # every service answers alike
                    await self.write_event(Pong(text=Ping.from_event(received.event).text).event())
                    continue
                try:
                    if not await self.handle_event(received.event):
                        break
                except RequestError as err:
                    _LOGGER.warning("%s: %s%s", self.peer, err, "; closing" if err.close else "")
                    await self.send_error(str(err), err.code)
                    if err.close:
                        break
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


HandlerFactory = Callable[[asyncio.StreamReader, asyncio.StreamWriter], ServiceEventHandler]


async def serve(
    uri: str,
    handler_factory: HandlerFactory,
    zeroconf_name: str | None,
    on_listening: Callable[[], None] | None = None,
) -> None:
    """Listen on `uri` until SIGTERM or SIGINT (or, for stdio, end of input).

    `on_listening` runs once the socket accepts connections: the place to start
    loading models, so that `describe` is answered while they load.
    """
    scheme = urlparse(uri).scheme
    announcer = Announcer(uri, zeroconf_name) if zeroconf_name else None
    if scheme == "stdio":
        reader, writer = await _stdio_streams()
        if on_listening:
            on_listening()
        await handler_factory(reader, writer).run()
        return

    server = AsyncServer.from_uri(uri)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await server.start(handler_factory)
    _LOGGER.info("Listening on %s", uri)
    if on_listening:
        on_listening()
    if announcer:
        await announcer.register()
    try:
        await stop.wait()
    finally:
        _LOGGER.info("Stopping")
        if announcer:
            await announcer.unregister()
        await server.stop()


async def serve_from_cli(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    handler_factory: HandlerFactory,
    on_listening: Callable[[], None] | None = None,
    on_stop: Callable[[], None] | None = None,
) -> None:
    """`serve` with a service's --uri and --zeroconf: bad values are usage errors,
    an address that can't be listened on exits with status 1; `on_stop` runs at the end
    whatever happened (it releases the service's threads and models)."""
    try:
        await serve(args.uri, handler_factory, args.zeroconf, on_listening)
    except ValueError as err:  # a bad --uri or --zeroconf
        parser.error(str(err))
    except OSError as err:
        _LOGGER.error("Can't listen on %s: %s", args.uri, err)
        raise SystemExit(1) from err
    finally:
        if on_stop is not None:
            on_stop()


def run_service(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a service's async `main` until it returns or Ctrl-C (the console script)."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


async def _stdio_streams() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    loop = asyncio.get_running_loop()
    reader = await async_get_stdin()
    transport, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, os.fdopen(sys.stdout.fileno(), "wb")
    )
    return reader, asyncio.StreamWriter(transport, protocol, None, loop)


class Announcer:
    """Announces a tcp:// service as `_wyoming._tcp` over zeroconf (mDNS)."""

    SERVICE_TYPE = "_wyoming._tcp.local."

    def __init__(self, uri: str, name: str) -> None:
        parsed = urlparse(uri)
        if parsed.scheme != "tcp" or parsed.port is None:
            raise ValueError("--zeroconf needs a tcp:// URI with a port")
        self.name = name
        self.port = parsed.port
        self.address = _announced_address(parsed.hostname or "")
        self._zeroconf: Any = None

    async def register(self) -> None:
        from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

        self._zeroconf = AsyncZeroconf()
        info = AsyncServiceInfo(
            self.SERVICE_TYPE,
            f"{self.name}.{self.SERVICE_TYPE}",
            addresses=[socket.inet_aton(self.address)],
            port=self.port,
        )
        await self._zeroconf.async_register_service(info)
        _LOGGER.info("Announced over zeroconf as '%s' at %s:%d", self.name, self.address, self.port)

    async def unregister(self) -> None:
        if self._zeroconf is not None:
            await self._zeroconf.async_unregister_all_services()
            await self._zeroconf.async_close()


def _announced_address(host: str) -> str:
    """The IPv4 address to announce: the host if it is one, else this machine's LAN address."""
    if host == "localhost":
        return "127.0.0.1"
    with contextlib.suppress(OSError):
        socket.inet_aton(host)
        if host != "0.0.0.0":
            return host
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("224.0.0.251", 5353))  # no packet is sent; this picks the interface
        return str(probe.getsockname()[0])
