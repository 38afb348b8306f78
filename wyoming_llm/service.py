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


@dataclass(frozen=True)
class Settings:
    """Server-wide behaviour chosen on the command line."""

    timeout: float = 20.0  # seconds for one request, model included
    max_text_chars: int = 1000
    default_home: Home | None = None  # for requests without a home context


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
                    request = AgentRequest(WARM_UP_TEXT, "warm-up", home)
                    agent.run(request, lambda _: None, limited=False)
                except Exception:
                    _LOGGER.exception("Warm-up failed")
                agent.memory.forget("warm-up")
            _LOGGER.info("Warmed up in %.1f s", time.monotonic() - started)
        self._agent.set_result(agent)

    def agent(self, timeout: float) -> Agent:
        """The agent, waiting up to `timeout` s for it to load. Raises TimeoutError or its error."""
        self.start()
        return self._agent.result(timeout)

    @property
    def ready(self) -> bool:
        return self._agent.done() and self._agent.exception() is None

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
