"""Embedded models: located in their packages, assembled, checked, reused."""

import hashlib
from pathlib import Path

import pytest

from local_voice.models import EmbeddedModel, ModelError, ModelFile, PackagePart, assemble
from wyoming_stt.models import BASE, TINY_EN, resolve


def test_base_is_assembled_from_two_packages(tmp_path):
    directory = assemble(BASE, tmp_path)
    model_bin = directory / "model.bin"
    assert model_bin.stat().st_size == 145_217_607
    assert {p.name for p in directory.iterdir()} >= {
        "model.bin",
        "config.json",
        "tokenizer.json",
        "vocabulary.json",
    }
    # Second time: nothing is copied again.
    mtime = model_bin.stat().st_mtime_ns
    assert assemble(BASE, tmp_path) == directory
    assert model_bin.stat().st_mtime_ns == mtime


def test_progress_is_reported(tmp_path):
    seen: list[tuple[str, int, int]] = []
    assemble(
        TINY_EN, tmp_path, progress=lambda label, done, total: seen.append((label, done, total))
    )
    model_bin = [row for row in seen if row[0].endswith("model.bin")]
    assert len(model_bin) >= 5 and model_bin[-1][1] == model_bin[-1][2] == 75_537_502


def test_missing_package_is_named():
    model = EmbeddedModel(
        "ghost",
        (ModelFile("model.bin", (PackagePart("no-such-model-package", "x.bin"),), 1, "0"),),
        "stt",
    )
    assert not model.installed
    with pytest.raises(
        ModelError, match=r"'no-such-model-package' is not installed.*local-voice\[stt\]"
    ):
        assemble(model, Path("/tmp/unused-cache"))


def test_checksum_mismatch_is_refused(tmp_path):
    real = TINY_EN.files[1]  # config.json
    bad = EmbeddedModel("bad", (ModelFile("config.json", real.parts, real.size, "0" * 64),), "stt")
    with pytest.raises(ModelError, match="sha256"):
        assemble(bad, tmp_path)
    assert not (tmp_path / "models" / "bad" / "config.json").exists()


def test_size_mismatch_is_refused(tmp_path):
    real = TINY_EN.files[1]
    bad = EmbeddedModel(
        "bad", (ModelFile("config.json", real.parts, real.size + 1, real.sha256),), "stt"
    )
    with pytest.raises(ModelError, match="expected"):
        assemble(bad, tmp_path)


def test_corrupted_cache_is_rebuilt(tmp_path):
    directory = assemble(TINY_EN, tmp_path)
    (directory / "config.json").write_text("{}")
    assemble(TINY_EN, tmp_path)
    data = (directory / "config.json").read_bytes()
    assert hashlib.sha256(data).hexdigest() == TINY_EN.files[1].sha256


def test_resolve_names_and_directories(tmp_path):
    assert resolve("base").embedded is BASE
    with pytest.raises(ValueError, match=r"unknown model .huge.*tiny\.en, base"):
        resolve("huge")
    directory = assemble(TINY_EN, tmp_path)
    custom = resolve(str(directory))
    assert custom.installed and custom.languages == ["en"] and custom.directory == directory
