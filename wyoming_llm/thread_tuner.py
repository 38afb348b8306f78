"""How many threads llama.cpp gets, picked from how fast the tokens actually come.

llama.cpp's threads meet at a barrier after every step of a token and spin there
(OpenMP's default), which is fastest on an idle machine; but when another process
holds a core, a spinning team keeps waiting for its descheduled member, and one
thread alone is faster. So a request starts with every thread, and when a token
takes far longer than the fastest one did, the rest of it and the requests of the
next seconds run on one thread.
"""

import logging
import time

_LOGGER = logging.getLogger(__name__)
SLOW_FACTOR = 4.0  # slower than a grammar makes a token, faster than a descheduled thread
HOLD_SECONDS = 10.0


class ThreadTuner:
    """Tracks the fastest token time per thread count and drops to one thread when slowed."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.current = self.limit
        self._fastest: dict[int, float] = {}  # seconds per token by thread count
        self._single_until = 0.0

    def start(self) -> int:
        """The thread count a new request starts with."""
        self.current = 1 if time.monotonic() < self._single_until else self.limit
        return self.current

    def observe(self, seconds: float) -> int:
        """Take the time between two generated tokens; return the thread count to go on with."""
        fastest = self._fastest.get(self.current)
        if fastest is None or seconds < fastest:
            self._fastest[self.current] = seconds
        elif self.current > 1 and seconds > SLOW_FACTOR * fastest:
            _LOGGER.info(
                "Tokens slowed from %.0f to %.0f ms (another process is busy): 1 thread for %.0f s",
                fastest * 1000,
                seconds * 1000,
                HOLD_SECONDS,
            )
            self.current = 1
            self._single_until = time.monotonic() + HOLD_SECONDS
        return self.current
