"""One connection's audio stream: armed models, trigger rules and detections."""

from collections import defaultdict
from dataclasses import dataclass

from local_voice.audio import SAMPLE_RATE

from .engines import Engine, ModelStream
from .fusion import FusedRule, FusedTrigger
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
    timestamp_ms: int  # where in the stream it fired
    end_ms: int  # where the phrase ended: the first score of the run that fired


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
        self.onset = 0
        self.quiet_until = -1

    def update(self, probability: float, position: int) -> int | None:
        """The position where the firing run began, when this score completes it."""
        if position < self.quiet_until:
            return None
        if probability < self.threshold:
            self.activations = 0
            return None
        if self.activations == 0:
            self.onset = position
        self.activations += 1
        if self.activations < self.level:
            return None
        self.activations = 0
        self.quiet_until = position + self.refractory
        return self.onset


def fused_rule(rules: TriggerRules, spec: WakeModelSpec) -> FusedRule:
    """The pair's calibrated rule, or --threshold for both of its models."""
    assert spec.rule is not None
    if rules.threshold is None:
        return spec.rule
    return FusedRule(rules.threshold, rules.threshold, spec.rule.window_seconds)


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
            for part in spec.parts or (spec,):
                if part not in by_engine[part.engine]:
                    by_engine[part.engine].append(part)
        self._streams: list[ModelStream] = [
            engines[engine].stream(specs) for engine, specs in by_engine.items()
        ]
        refractory = int(rules.refractory_seconds * SAMPLE_RATE)
        self._triggers = {
            spec.name: _Trigger(threshold(rules, spec), rules.trigger_level, refractory)
            for spec in armed.values()
            if not spec.parts
        }
        self._fused = {
            spec.name: FusedTrigger(fused_rule(rules, spec), refractory)
            for spec in armed.values()
            if spec.parts
        }
        # a model's scores -> the fused pairs it is part of, and its place in each
        self._parts: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for spec in armed.values():
            for index, part in enumerate(spec.parts):
                self._parts[part.name].append((spec.name, index))
        self.gate = VadGate(rules.vad_threshold) if rules.vad else None
        self.samples = 0
        self.peaks: dict[str, float] = {
            part.name: 0.0 for specs in by_engine.values() for part in specs
        }
        self.detections = 0
        self.cpu_seconds = 0.0  # inference thread time spent on this stream

    @property
    def seconds(self) -> float:
        return self.samples / SAMPLE_RATE

    @property
    def awaiting(self) -> bool:
        """A fused pair's first model has fired and its second may still confirm it."""
        return any(trigger.awaiting(self.samples) for trigger in self._fused.values())

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
                hits += self._scored(score.model, score.probability)
        self.detections += len(hits)
        return hits

    def _scored(self, model: str, probability: float) -> list[Hit]:
        hits: list[Hit] = []
        position = self.samples
        fired: list[tuple[str, int | None]] = []
        if model in self._triggers:
            fired.append((model, self._triggers[model].update(probability, position)))
        for name, index in self._parts.get(model, ()):
            fired.append((name, self._fused[name].update(index, probability, position)))
        for name, onset in fired:
            if onset is not None:
                hits.append(
                    Hit(
                        self.requested[name],
                        name,
                        probability,
                        position * 1000 // SAMPLE_RATE,
                        onset * 1000 // SAMPLE_RATE,
                    )
                )
        return hits

    def close(self) -> None:
        for stream in self._streams:
            stream.close()
        self._streams = []
        if self.gate is not None:
            self.gate.close()
