"""The wake-word detector for in-process use, as the satellite runs it (no server).

    wake = EmbeddedWake()              # the default: the fused "Okay Nabu" pair
    stream = wake.stream()             # per-stream state; one per microphone
    for hit in stream.process(pcm):    # 16 kHz mono int16; blocking, call off the loop
        start_streaming_from(hit.end_ms)

The models load once; each stream keeps its own features and trigger state, so
several streams (or a stream per model set) can run side by side on one thread.
"""

from pathlib import Path

from .detector import TriggerRules, WakeStream
from .engines import engines_for
from .models import Resolver, WakeModelSpec, catalog, default_model, openwakeword_dir, usable


class EmbeddedWake:
    """Wake-word models and engines loaded in this process."""

    def __init__(
        self,
        names: list[str] | None = None,
        rules: TriggerRules | None = None,
        custom_dirs: tuple[Path, ...] = (),
    ) -> None:
        """`names`: models or phrases to arm (default: the fused "Okay Nabu" pair, or
        microWakeWord's okay_nabu without the openWakeWord files). Raises
        UnknownModel for a name no model answers to."""
        features = openwakeword_dir()
        self.models = usable(catalog(list(custom_dirs)), features)
        resolver = Resolver(self.models)
        self.armed: dict[str, WakeModelSpec] = {
            name: resolver.resolve(name) for name in names or [default_model(self.models)]
        }
        self.rules = rules or TriggerRules(threshold=None)
        self.engines = engines_for(self.models, features)
        for engine in self.engines.values():
            engine.load(
                [p for s in self.armed.values() for p in s.parts or (s,) if p.engine == engine.name]
            )

    def stream(self) -> WakeStream:
        """A new stream with its own state (close it when done)."""
        return WakeStream(self.armed, self.engines, self.rules)
