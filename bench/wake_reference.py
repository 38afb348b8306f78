"""Our wake-word pipeline against the bare libraries, on the same clips.

    .venv/bin/python -m bench.wake_reference [--voices piper espeak-us ...] [--json]

Every positive of testkit/wake_corpus.py goes, in 2048-byte chunks, through
wyoming_wake's WakeStream (our chunking, feature buffers and trigger rules) and
through each library's own streaming API: pymicro-wakeword's
`process_streaming_prob` against the model's `probability_cutoff`, and
`openwakeword.Model.predict` on 80 ms frames against 0.5. It prints hits per
engine and voice for both, and every clip on which they disagree, so a miss can
be told apart as ours or the voice's. With --json the figures come as one JSON
document (testkit/report.py).
"""

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from testkit import BENCH_DIR, wake_corpus
from testkit.report import Column, Report, arguments
from wyoming_wake.detector import TriggerRules, WakeStream
from wyoming_wake.engines import (
    OWW_FRAME,
    Engine,
    MicroEngine,
    OpenWakeWordEngine,
    use_litert_as_tflite_runtime,
)
from wyoming_wake.models import MICRO, OPENWAKEWORD, WakeModelSpec, catalog, openwakeword_dir

CHUNK_BYTES = 2048
OWW_THRESHOLD = 0.5
HITS = (
    Column("engine", "{engine}"),
    Column("voice", "{voice}"),
    Column("bare library", "{bare_hits}/{clips}"),
    Column("wyoming_wake", "{hits}/{clips}"),
)
DISAGREEMENTS = (
    Column("model", "{model}"),
    Column("clip", "{clip}"),
    Column("bare library peak", "{bare_peak:.3f}"),
    Column("wyoming_wake peak", "{peak:.3f}"),
)


def bare_micro(spec: WakeModelSpec, pcm: bytes) -> float:
    """Highest sliding-window probability; a hit when above the model's cut-off."""
    from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures

    assert spec.config is not None
    model, features, best = MicroWakeWord.from_config(spec.config), MicroWakeWordFeatures(), 0.0
    for offset in range(0, len(pcm), CHUNK_BYTES):
        for window in features.process_streaming(pcm[offset : offset + CHUNK_BYTES]):
            best = max(best, model.process_streaming_prob(window) or 0.0)
    model.close()
    return best


def bare_openwakeword(model: Any, spec: WakeModelSpec, pcm: bytes) -> float:
    model.reset()
    samples = np.frombuffer(pcm, np.int16)
    frames = range(0, len(samples) - OWW_FRAME + 1, OWW_FRAME)
    return max(float(model.predict(samples[i : i + OWW_FRAME])[spec.name]) for i in frames)


def ours(spec: WakeModelSpec, pcm: bytes, engines: dict[str, Engine]) -> tuple[bool, float]:
    stream = WakeStream({spec.name: spec}, engines, TriggerRules(threshold=None))
    hit = False
    for offset in range(0, len(pcm), CHUNK_BYTES):
        hit |= bool(stream.process(pcm[offset : offset + CHUNK_BYTES]))
    best = stream.peaks[spec.name]
    stream.close()
    return hit, best


def main() -> None:
    parser = arguments("bench.wake_reference", __doc__)
    parser.add_argument("--voices", nargs="+", choices=list(wake_corpus.VOICES))
    args = parser.parse_args()
    with Report("wake_reference", args.json) as report:
        compare(args.voices, report)


def compare(voices: list[str] | None, report: Report) -> None:
    """Every positive through both pipelines: hits per engine and voice, and disagreements."""
    specs = catalog([])
    features = openwakeword_dir()
    assert features is not None, "run script/test or script/run first (openWakeWord models)"
    oww_specs = [spec for spec in specs.values() if spec.engine == OPENWAKEWORD]
    engines: dict[str, Engine] = {
        MICRO: MicroEngine(),
        OPENWAKEWORD: OpenWakeWordEngine(features, oww_specs),
    }
    use_litert_as_tflite_runtime()
    from openwakeword.model import Model

    oww = Model(
        wakeword_models=[str(spec.path) for spec in oww_specs],
        inference_framework="tflite",
        melspec_model_path=str(Path(features) / "melspectrogram.tflite"),
        embedding_model_path=str(Path(features) / "embedding_model.tflite"),
    )
    report.settings = {
        "voices": list(voices or wake_corpus.VOICES),
        "chunk_bytes": CHUNK_BYTES,
        "openwakeword_threshold": OWW_THRESHOLD,
    }
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])  # bare, ours, all
    hits = report.table("rows", HITS)
    disagreements = report.table(
        "disagreements", DISAGREEMENTS, caption="Clips on which they disagree"
    )
    for clip in wake_corpus.positives(voices=voices, cache=BENCH_DIR / "wake-clips"):
        assert clip.phrase is not None
        for name in wake_corpus.PHRASES[clip.phrase]:
            spec = specs[name]
            if spec.engine == MICRO:
                bare = bare_micro(spec, clip.pcm)
                bare_hit = bare > (spec.cutoff or 0.5)
            else:
                bare = bare_openwakeword(oww, spec, clip.pcm)
                bare_hit = bare >= OWW_THRESHOLD
            hit, best = ours(spec, clip.pcm, engines)
            row = counts[(spec.engine, clip.voice)]
            row[0] += bare_hit
            row[1] += hit
            row[2] += 1
            if hit != bare_hit:
                disagreements.add(model=name, clip=clip.label, bare_peak=bare, peak=best)
    for (engine, voice), (bare_hits, ours_hits, total) in sorted(counts.items()):
        hits.add(engine=engine, voice=voice, bare_hits=bare_hits, hits=ours_hits, clips=total)


if __name__ == "__main__":
    main()
