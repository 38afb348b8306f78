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

from .fusion import DEFAULT_PAIR, DEFAULT_RULE, FUSED_SUFFIX, FusedRule

_LOGGER = logging.getLogger(__name__)

MICRO = "microwakeword"
OPENWAKEWORD = "openwakeword"
FUSED = "fused"  # two models of one phrase, each confirming the other (fusion.py)
ENGINES = (MICRO, OPENWAKEWORD)
DEFAULT_MODEL = "okay_nabu_fused"
SINGLE_DEFAULT = "okay_nabu"  # the default without the openWakeWord files

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
    parts: tuple["WakeModelSpec", ...] = ()  # a fused pair's models, microWakeWord first
    rule: FusedRule | None = None  # a fused pair's thresholds and window


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


def fused(first: WakeModelSpec, second: WakeModelSpec, rule: FusedRule) -> WakeModelSpec:
    """A microWakeWord and an openWakeWord model of one phrase as one detector."""
    return WakeModelSpec(
        name=first.name + FUSED_SUFFIX,
        engine=FUSED,
        phrase=first.phrase,
        languages=first.languages,
        path=first.path,
        description=f"{first.phrase} (microWakeWord + openWakeWord, "
        "CC BY-NC-SA 4.0: non-commercial use only)",
        attribution=first.attribution,
        # first, so that the phrase ("Okay Nabu") means the pair; the exact
        # name "okay_nabu" still means microWakeWord alone
        aliases=(first.name + FUSED_SUFFIX, normalize_name(first.phrase)),
        parts=(first, second),
        rule=rule,
    )


def embedded_fused(singles: list[WakeModelSpec]) -> list[WakeModelSpec]:
    """The default pair when both of its models are installed."""
    by_name = {spec.name: spec for spec in singles}
    if not all(name in by_name for name in DEFAULT_PAIR):
        return []
    return [fused(by_name[DEFAULT_PAIR[0]], by_name[DEFAULT_PAIR[1]], DEFAULT_RULE)]


def default_model(models: dict[str, WakeModelSpec]) -> str:
    """The fused pair where it is installed, else microWakeWord's okay_nabu."""
    return DEFAULT_MODEL if DEFAULT_MODEL in models else SINGLE_DEFAULT


def catalog(custom_dirs: list[Path]) -> dict[str, WakeModelSpec]:
    """Every model by name: the fused pair, embedded microWakeWord, embedded openWakeWord,
    then custom ones."""
    models: dict[str, WakeModelSpec] = {}
    singles = embedded_micro() + embedded_openwakeword()
    for spec in embedded_fused(singles) + singles:
        models[spec.name] = spec
    for directory in custom_dirs:
        for spec in custom_models(directory):
            if spec.name in models:
                _LOGGER.warning("custom model %s replaces the embedded one", spec.name)
            models[spec.name] = spec
    return models


class UnknownModel(ValueError):
    """A requested wake word that no model answers to."""


class Resolver:
    """Finds the model a client means: its exact name, else its phrase or an alias."""

    def __init__(self, models: dict[str, WakeModelSpec]) -> None:
        self.models = models
        self._aliases: dict[str, str] = {}
        for spec in models.values():
            for alias in spec.aliases:
                self._aliases.setdefault(alias, spec.name)

    def resolve(self, requested: str) -> WakeModelSpec:
        if requested in self.models:
            return self.models[requested]
        name = self._aliases.get(normalize_name(requested))
        if name is None:
            raise UnknownModel(
                f"unknown wake word model '{requested}'; this server has: {', '.join(self.models)}"
            )
        return self.models[name]


def usable(models: dict[str, WakeModelSpec], features: Path | None) -> dict[str, WakeModelSpec]:
    """The models that can run: openWakeWord ones (alone or in a pair) need the
    embedded feature models."""
    if features is not None:
        return models
    return {
        name: spec
        for name, spec in models.items()
        if all(part.engine != OPENWAKEWORD for part in spec.parts or (spec,))
    }
