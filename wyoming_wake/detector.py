"""One connection's audio stream: armed models, trigger rules and detections."""

from collections import defaultdict
from dataclasses import dataclass

from local_voice.audio import SAMPLE_RATE

from .engines import Engine, ModelStream
from .gate import VadGate
from .models import WakeModelSpec


@dataclass(frozen=True)
class TriggerRules:
    """When scores become a detection."""

    threshold: float | None  # None: each model's own (microWakeWord configs), else 0.5
    trigger_level: int = 1  # consecutive inferences at or above the threshold
    refractory_seconds: float = 2.0  # no second detection of a model this soon
    vad: bool = False
    vad_threshold: float = 0.5


DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class Hit:
    """A detection: the name the client asked for and where in the stream it fired."""

    name: str  # exactly as the client requested it
    model: str
    probability: float
    timestamp_ms: int


def threshold(rules: TriggerRules, spec: WakeModelSpec) -> float:
    """--threshold if given, else the model's own cut-off, else 0.5."""
    if rules.threshold is not None:
        return rules.threshold
    return spec.cutoff if spec.cutoff is not None else DEFAULT_THRESHOLD


class _Trigger:
    def __init__(self, threshold: float, level: int, refractory: int) -> None:
        self.threshold = threshold
        self.level = level
        self.refractory = refractory
        self.activations = 0
        self.quiet_until = -1

    def update(self, probability: float, position: int) -> bool:
        if position < self.quiet_until:
            return False
        if probability < self.threshold:
            self.activations = 0
            return False
        self.activations += 1
        if self.activations < self.level:
            return False
        self.activations = 0
        self.quiet_until = position + self.refractory
        return True


class WakeStream:
    """Feeds a connection's audio to its armed models and turns scores into detections.

    `process` is blocking work for the service's inference thread.
    """

    def __init__(
        self,
        armed: dict[str, WakeModelSpec],  # requested name -> model
        engines: dict[str, Engine],
        rules: TriggerRules,
    ) -> None:
        self.requested = {spec.name: name for name, spec in armed.items()}
        by_engine: dict[str, list[WakeModelSpec]] = defaultdict(list)
        for spec in armed.values():
            if spec not in by_engine[spec.engine]:
                by_engine[spec.engine].append(spec)
        self._streams: list[ModelStream] = [
            engines[engine].stream(specs) for engine, specs in by_engine.items()
        ]
        refractory = int(rules.refractory_seconds * SAMPLE_RATE)
        self._triggers = {
            spec.name: _Trigger(
                rules.threshold
                if rules.threshold is not None
                else spec.cutoff or DEFAULT_THRESHOLD,
                rules.trigger_level,
                refractory,
            )
            for spec in armed.values()
        }
        self.gate = VadGate(rules.vad_threshold) if rules.vad else None
        self.samples = 0
        self.peaks: dict[str, float] = dict.fromkeys(self._triggers, 0.0)
        self.detections = 0
        self.cpu_seconds = 0.0  # inference thread time spent on this stream

    @property
    def seconds(self) -> float:
        return self.samples / SAMPLE_RATE

    def process(self, audio: bytes) -> list[Hit]:
        """Feed 16 kHz mono int16 PCM; return the detections it completed."""
        self.samples += len(audio) // 2
        if self.gate is not None:
            audio = self.gate.filter(audio)
            if not audio:
                return []
        hits: list[Hit] = []
        for stream in self._streams:
            for score in stream.process(audio):
                self.peaks[score.model] = max(self.peaks[score.model], score.probability)
                if self._triggers[score.model].update(score.probability, self.samples):
                    timestamp = self.samples * 1000 // SAMPLE_RATE
                    name = self.requested[score.model]
                    hits.append(Hit(name, score.model, score.probability, timestamp))
        self.detections += len(hits)
        return hits

    def close(self) -> None:
        for stream in self._streams:
            stream.close()
        self._streams = []
