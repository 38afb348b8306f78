"""Two models of one wake phrase, each confirming the other: the default detector.

microWakeWord's `okay_nabu` alone misses many voices at its own cut-off, and
openWakeWord's `ok_nabu_v0.1` alone wakes on ordinary speech now and then; their
mistakes are not the same ones. A fused pair wakes when both models reach their own
(lower) threshold within a short window of each other. The thresholds were chosen on
the tuning split of the generated corpus (bench/wake_calibrate.py); docs/wake.md has
the measured figures.
"""

from dataclasses import dataclass

import numpy as np

from local_voice.audio import SAMPLE_RATE

DEFAULT_PAIR = ("okay_nabu", "ok_nabu_v0.1")  # microWakeWord, openWakeWord
FUSED_SUFFIX = "_fused"


@dataclass(frozen=True)
class FusedRule:
    """Thresholds of the two models and how close in time their scores must be."""

    first: float  # microWakeWord's threshold when the other confirms
    second: float  # openWakeWord's threshold when the other confirms
    window_seconds: float = 1.0
    first_alone: float | None = None  # a score this sure fires without confirmation
    second_alone: float | None = None


# bench/wake_calibrate.py: the most sensitive setting on the tuning split; it does not
# reach zero false accepts there (docs/wake.md has the figures).
DEFAULT_RULE = FusedRule(0.3, 0.05, 1.0, second_alone=0.97)


class FusedTrigger:
    """Per-stream state of a fused pair: when each model last reached its threshold."""

    def __init__(self, rule: FusedRule, refractory: int) -> None:
        self.thresholds = (rule.first, rule.second)
        self.alone = (
            rule.first_alone if rule.first_alone is not None else 2.0,
            rule.second_alone if rule.second_alone is not None else 2.0,
        )
        self.window = int(rule.window_seconds * SAMPLE_RATE)
        self.refractory = refractory
        self.last: list[int | None] = [None, None]  # sample position of the last crossing
        self.onset: list[int | None] = [None, None]  # first crossing of the current run
        self.quiet_until = -1

    def awaiting(self, position: int) -> bool:
        """The first model has fired within the window and the second may still confirm:
        a satellite pauses its playback here, before the detection is sure."""
        first = self.last[0]
        return first is not None and position - first <= self.window

    def update(self, part: int, probability: float, position: int) -> int | None:
        """One model's score at `position` (samples); the phrase's end when it fires."""
        if position < self.quiet_until or probability < self.thresholds[part]:
            return None
        last = self.last[part]
        if last is None or position - last > self.window:
            self.onset[part] = position
        self.last[part] = position
        other = self.last[1 - part]
        confirmed = other is not None and position - other <= self.window
        if not confirmed and probability < self.alone[part]:
            return None
        onsets = [self.onset[part] or position]
        if confirmed:
            onsets.append(self.onset[1 - part] or position)
        self.last = [None, None]
        self.onset = [None, None]
        self.quiet_until = position + self.refractory
        return min(onsets)


def fused_hits(first: np.ndarray, second: np.ndarray, rule: FusedRule, step: int) -> list[int]:
    """Steps at which a FusedTrigger fires on two score traces sampled every `step`
    samples (for calibration: the same rule the detector runs)."""
    trigger = FusedTrigger(rule, 2 * SAMPLE_RATE)
    hits: list[int] = []
    above_first = np.nonzero(first >= min(rule.first, rule.first_alone or 1.0))[0]
    above_second = np.nonzero(second >= min(rule.second, rule.second_alone or 1.0))[0]
    for index in np.union1d(above_first, above_second):
        position = int(index + 1) * step
        fired = trigger.update(0, float(first[index]), position)
        if fired is None:
            fired = trigger.update(1, float(second[index]), position)
        if fired is not None:
            hits.append(int(index))
    return hits
