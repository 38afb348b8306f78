"""State shared by all connections: the model catalogue, the engines and the inference thread."""

import asyncio
import concurrent.futures
import logging
import time
from pathlib import Path

from wyoming.info import Info

from .detector import Hit, TriggerRules, WakeStream
from .engines import engines_for
from .models import Resolver, UnknownModel, WakeModelSpec

__all__ = ["UnknownModel", "WakeService"]

_LOGGER = logging.getLogger(__name__)
PROGRAM_NAME = "local-voice-wake"


class WakeService:
    """Holds the models and runs every inference on one thread.

    One thread is enough: a 10 ms step costs microseconds, and the TFLite
    interpreters openWakeWord shares between clients must not run concurrently.
    The event loop only moves bytes.
    """

    def __init__(
        self,
        info: Info,
        models: dict[str, WakeModelSpec],
        default_models: list[str],
        rules: TriggerRules,
        openwakeword_dir: Path | None,
    ) -> None:
        self._info = info
        self.models = models
        self.default_models = default_models
        self.rules = rules
        self.engines = engines_for(models, openwakeword_dir)
        self._resolver = Resolver(models)
        self._pool = concurrent.futures.ThreadPoolExecutor(1, "wake")

    def info(self) -> Info:
        return self._info

    def resolve(self, requested: str) -> WakeModelSpec:
        """The model a requested name means: its name, or its phrase/alias ('Okay Nabu')."""
        return self._resolver.resolve(requested)

    def arm(self, names: list[str] | None) -> dict[str, WakeModelSpec]:
        """Requested name -> model; no names arms the default set."""
        return {name: self.resolve(name) for name in (names or self.default_models)}

    async def _run(self, function: object, *args: object) -> object:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, function, *args)  # type: ignore[arg-type]

    def preload(self, names: list[str]) -> None:
        """Load these models on the inference thread, before the first client needs them."""
        specs = [
            part for name in names for part in self.resolve(name).parts or (self.resolve(name),)
        ]

        def load() -> None:
            started = time.monotonic()
            try:
                for engine in self.engines.values():
                    engine.load([spec for spec in specs if spec.engine == engine.name])
            except Exception:
                _LOGGER.exception("Loading %s failed", ", ".join(names))
                return
            _LOGGER.info("Loaded %s in %.2f s", ", ".join(names), time.monotonic() - started)

        self._pool.submit(load)

    async def open_stream(self, armed: dict[str, WakeModelSpec]) -> WakeStream:
        stream = await self._run(WakeStream, armed, self.engines, self.rules)
        assert isinstance(stream, WakeStream)
        return stream

    async def process(self, stream: WakeStream, audio: bytes) -> list[Hit]:
        def timed() -> list[Hit]:
            started = time.thread_time()
            try:
                return stream.process(audio)
            finally:
                stream.cpu_seconds += time.thread_time() - started

        hits = await self._run(timed)
        assert isinstance(hits, list)
        return hits

    async def close_stream(self, stream: WakeStream) -> None:
        await self._run(stream.close)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
