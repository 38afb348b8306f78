"""State shared by all connections: the agent (built in the background) and its worker threads."""

import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from wyoming.info import Info

from .agent import Agent, AgentRequest
from .home import Home

_LOGGER = logging.getLogger(__name__)
PROGRAM_NAME = "local-voice-llm"
WARM_UP_TEXT = "turn on the light"


def _warm_up(agent: Agent, home: Home | None) -> None:
    """One request whose reply is dropped: it leaves the home's prompt prefix evaluated."""
    agent.run(AgentRequest(WARM_UP_TEXT, "warm-up", home), lambda _: None, limited=False)
    agent.memory.forget("warm-up")


@dataclass(frozen=True)
class Settings:
    """Server-wide behaviour chosen on the command line."""

    timeout: float = 20.0  # seconds for one request, model included
    max_text_chars: int = 1000
    default_home: Home | None = None  # --home-file: for requests without a home context


class LlmService:
    """Builds the agent (loading the model) on a daemon thread; runs requests on a worker pool.

    The pool has a few threads so that remote backends can serve clients in
    parallel; the embedded model itself runs one generation at a time.
    """

    def __init__(self, info: Info, settings: Settings, build: Callable[[], Agent]) -> None:
        self._info = info
        self.settings = settings
        self._build = build
        self._agent: concurrent.futures.Future[Agent] = concurrent.futures.Future()
        self.pool = concurrent.futures.ThreadPoolExecutor(4, "llm")
        self._started = False
        self._lock = threading.Lock()
        # The home loaded from Home Assistant (--ha-url), kept current by its loader.
        self.live_home: Callable[[], Home | None] = lambda: None

    def info(self) -> Info:
        return self._info

    def start(self, warm_up: bool = True) -> None:
        """Load the model and warm it up in the background (once)."""
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._load, args=(warm_up,), name="load", daemon=True).start()

    def _load(self, warm_up: bool) -> None:
        try:
            agent = self._build()
        except Exception as err:
            _LOGGER.exception("Loading the model failed")
            self._agent.set_exception(err)
            return
        if warm_up:
            started = time.monotonic()
            default = self.settings.default_home
            for home in [None, *([default] if default else [])]:
                try:
                    _warm_up(agent, home)
                except Exception:
                    _LOGGER.exception("Warm-up failed")
            _LOGGER.info("Warmed up in %.1f s", time.monotonic() - started)
        self._agent.set_result(agent)

    @property
    def default_home(self) -> Home | None:
        """The home for a request that carries none: Home Assistant's, else --home-file's."""
        return self.live_home() or self.settings.default_home

    def warm(self, home: Home) -> None:
        """Evaluate the prompt prefix for a newly loaded home on a worker thread, so the
        first command in it is not the slow one."""

        def run() -> None:
            try:
                agent = self.agent(timeout=600)
                started = time.monotonic()
                _warm_up(agent, home)
                _LOGGER.info("Warmed up for the home in %.1f s", time.monotonic() - started)
            except Exception:
                _LOGGER.exception("Warm-up for the home failed")

        self.pool.submit(run)

    def agent(self, timeout: float) -> Agent:
        """The agent, waiting up to `timeout` s for it to load. Raises TimeoutError or its error."""
        self.start()
        return self._agent.result(timeout)

    @property
    def ready(self) -> bool:
        return self._agent.done() and self._agent.exception() is None

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
