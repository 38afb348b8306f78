"""The wake-word models this server knows: embedded ones and custom model directories.

microWakeWord models (okay_nabu, hey_jarvis, hey_mycroft, alexa) come with
`pymicro-wakeword`, each a .tflite file with a JSON config. The openWakeWord
models come from the `wyoming-openwakeword` wheel (installed without its
dependencies, see script/bootstrap) and are copied into the cache, checked, by
`python -m local_voice.prepare`.
"""

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from local_voice.models import EmbeddedModel, ModelError, ModelFile, PackagePart, assemble

_LOGGER = logging.getLogger(__name__)

MICRO = "microwakeword"
OPENWAKEWORD = "openwakeword"
ENGINES = (MICRO, OPENWAKEWORD)
DEFAULT_MODEL = "okay_nabu"

OPENWAKEWORD_LICENSE = (
    "CC BY-NC-SA 4.0 (non-commercial use only; https://creativecommons.org/licenses/by-nc-sa/4.0/)"
)
MICRO_ATTRIBUTION = ("Kevin Ahrendt (microWakeWord)", "https://github.com/kahrendt/microWakeWord")
OPENWAKEWORD_ATTRIBUTION = (
    "David Scripka (openWakeWord)",
    "https://github.com/dscripka/openWakeWord",
)


def _openwakeword_file(name: str, size: int, sha256: str) -> ModelFile:
    part = PackagePart("wyoming-openwakeword", f"models/{name}")
    return ModelFile(name, (part,), size, sha256)


OPENWAKEWORD_FILES = EmbeddedModel(
    name="openwakeword",
    extra="wake",
    files=(
        _openwakeword_file(
            "melspectrogram.tflite",
            1092516,
            "96fa0adccb6e8cf95cb14465409a1a2898ee4a96a85bb9ed3c7eb0e68bf163e8",
        ),
        _openwakeword_file(
            "embedding_model.tflite",
            1330312,
            "c0aea21eb84a4ce90a08c870da41b7a7173b45269e6a3207c71d67c40f3a59d8",
        ),
        _openwakeword_file(
            "ok_nabu_v0.1.tflite",
            206380,
            "2982cecde4ee81cc7a2573d2602a7d54f0669425c94a7b64af77e0ff92b03a18",
        ),
        _openwakeword_file(
            "hey_jarvis_v0.1.tflite",
            1278912,
            "14bff778604985e1b5c19f0f7bbe477a69cf281d8db34b232b3b972411f710e2",
        ),
        _openwakeword_file(
            "hey_mycroft_v0.1.tflite",
            860300,
            "bf9e43136afd3ca323698820a6e32a47f885ef4c30a3b8b577ec71688a9d64d8",
        ),
        _openwakeword_file(
            "alexa_v0.1.tflite",
            855312,
            "7333a317a790070a7f3432b81d9439c779481cc4ebd67c73da7174ea3cf48397",
        ),
        _openwakeword_file(
            "hey_rhasspy_v0.1.tflite",
            416140,
            "01d2526b45068f565aa3849d6ec2b7abae099154fc1b496f9ef20de9ef241fe9",
        ),
    ),
)
EMBEDDED: dict[str, EmbeddedModel] = {OPENWAKEWORD_FILES.name: OPENWAKEWORD_FILES}

# openWakeWord model file stem -> (phrase, languages)
OPENWAKEWORD_PHRASES = {
    "ok_nabu_v0.1": ("Ok Nabu", ["en"]),
    "hey_jarvis_v0.1": ("Hey Jarvis", ["en"]),
    "hey_mycroft_v0.1": ("Hey Mycroft", ["en"]),
    "alexa_v0.1": ("Alexa", ["en"]),
    "hey_rhasspy_v0.1": ("Hey Rhasspy", ["en"]),
}
MICRO_MODELS = ("okay_nabu", "hey_jarvis", "hey_mycroft", "alexa")
OPENWAKEWORD_FEATURES = ("melspectrogram.tflite", "embedding_model.tflite")


@dataclass(frozen=True)
class WakeModelSpec:
    """A wake-word model: its name, engine, phrase, languages and files."""

    name: str
    engine: str
    phrase: str
    languages: list[str]
    path: Path  # the .tflite file
    description: str
    attribution: tuple[str, str]
    cutoff: float | None = None  # the model's own threshold (microWakeWord configs)
    config: Path | None = None  # microWakeWord JSON config
    aliases: tuple[str, ...] = field(default=())


def normalize_name(name: str) -> str:
    """'Okay Nabu', 'okay-nabu', 'ok_nabu_v0.1' -> comparable keys ('okay_nabu', 'ok_nabu')."""
    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    for suffix in ("_v0.1", ".tflite"):
        key = key.removesuffix(suffix)
    return key


def _micro_spec(config: Path, custom: bool = False) -> WakeModelSpec:
    data = json.loads(config.read_text(encoding="utf-8"))
    if data.get("type", "micro") != "micro" or "micro" not in data:
        raise ValueError(f"{config} is not a microWakeWord config")
    model = config.parent / str(data["model"])
    name = config.stem
    author = data.get("author")
    attribution = (f"{author} (microWakeWord)", str(data.get("website") or MICRO_ATTRIBUTION[1]))
    return WakeModelSpec(
        name=name,
        engine=MICRO,
        phrase=str(data["wake_word"]),
        languages=[str(lang) for lang in data.get("trained_languages") or ["en"]],
        path=model,
        # Home Assistant shows the description as the wake word's name: keep it short.
        description=f"{data['wake_word']} (microWakeWord, "
        + ("custom)" if custom else "Apache-2.0)"),
        attribution=attribution if author else MICRO_ATTRIBUTION,
        cutoff=float(data["micro"]["probability_cutoff"]),
        config=config,
        aliases=(normalize_name(name), normalize_name(str(data["wake_word"]))),
    )


def embedded_micro() -> list[WakeModelSpec]:
    """The microWakeWord models that ship with pymicro-wakeword."""
    try:
        import pymicro_wakeword
    except ImportError:
        return []
    directory = Path(pymicro_wakeword.__file__).parent / "models"
    return [_micro_spec(directory / f"{name}.json") for name in MICRO_MODELS]


def openwakeword_dir() -> Path | None:
    """The cache directory with the openWakeWord files, or None when not installed."""
    if not OPENWAKEWORD_FILES.installed:
        return None
    try:
        return assemble(OPENWAKEWORD_FILES)
    except ModelError as err:
        _LOGGER.warning("openWakeWord models unavailable: %s", err)
        return None


def _openwakeword_spec(
    path: Path, phrase: str, languages: list[str], description: str, attribution: tuple[str, str]
) -> WakeModelSpec:
    return WakeModelSpec(
        name=path.stem,
        engine=OPENWAKEWORD,
        phrase=phrase,
        languages=languages,
        path=path,
        description=description,
        attribution=attribution,
        aliases=(normalize_name(path.stem), normalize_name(phrase)),
    )


def embedded_openwakeword() -> list[WakeModelSpec]:
    """The openWakeWord models from the wyoming-openwakeword wheel (CC BY-NC-SA 4.0)."""
    directory = openwakeword_dir()
    if directory is None:
        return []
    return [
        _openwakeword_spec(
            directory / f"{stem}.tflite",
            phrase,
            languages,
            f"{phrase} (openWakeWord, CC BY-NC-SA 4.0: non-commercial use only)",
            OPENWAKEWORD_ATTRIBUTION,
        )
        for stem, (phrase, languages) in OPENWAKEWORD_PHRASES.items()
    ]


def custom_models(directory: Path) -> list[WakeModelSpec]:
    """Models in a --custom-model-dir: NAME.tflite with NAME.json.

    A JSON with a "micro" section is a microWakeWord config (as pymicro-wakeword's);
    any other .tflite is an openWakeWord model, whose optional JSON may give
    "wake_word" (the phrase) and "trained_languages".
    """
    specs: list[WakeModelSpec] = []
    for model in sorted(directory.glob("*.tflite")):
        config = model.with_suffix(".json")
        data: dict[str, object] = {}
        if config.is_file():
            data = json.loads(config.read_text(encoding="utf-8"))
        if "micro" in data:
            specs.append(_micro_spec(config, custom=True))
            continue
        if model.name in OPENWAKEWORD_FEATURES:
            continue
        phrase = str(data.get("wake_word") or model.stem.split("_v")[0].replace("_", " ").title())
        raw_languages = data.get("trained_languages")
        languages = [str(x) for x in raw_languages] if isinstance(raw_languages, list) else ["en"]
        specs.append(
            _openwakeword_spec(
                model.resolve(),
                phrase,
                languages,
                f"{phrase} (openWakeWord, custom)",
                ("openWakeWord (custom model)", OPENWAKEWORD_ATTRIBUTION[1]),
            )
        )
    return specs


def catalog(custom_dirs: list[Path]) -> dict[str, WakeModelSpec]:
    """Every model by name: embedded microWakeWord, embedded openWakeWord, then custom ones."""
    models: dict[str, WakeModelSpec] = {}
    for spec in embedded_micro() + embedded_openwakeword():
        models[spec.name] = spec
    for directory in custom_dirs:
        for spec in custom_models(directory):
            if spec.name in models:
                _LOGGER.warning("custom model %s replaces the embedded one", spec.name)
            models[spec.name] = spec
    return models
