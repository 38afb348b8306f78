"""The Kokoro voices set-up fetches from the npm package kokoro-js.

kokoro-js is the one place its English voices are published as plain style arrays;
`npm pack` fetches the tarball once, and the chosen voices are kept as one `.npz`
in the model cache, so the server never touches the network.
"""

import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from local_voice.models import ModelError, cache_dir

KOKORO_JS = "kokoro-js@1.2.1"
# The English voices set-up provides (af_nicole, a whisper, is left out: our STT can't
# follow it); more, in any language, can be given with --data-dir.
KOKORO_JS_VOICES = (
    "af_heart",
    "af_bella",
    "af_kore",
    "af_sarah",
    "am_michael",
    "am_adam",
    "am_fenrir",
    "am_puck",
    "bf_emma",
    "bf_isabella",
    "bm_george",
    "bm_fable",
)
KOKORO_STYLE_SHAPE = (510, 1, 256)


def kokoro_voices_file(root: Path | None = None) -> Path:
    """Where set-up keeps the Kokoro voices taken from kokoro-js."""
    return (root or cache_dir()) / "models" / "kokoro-voices" / f"{KOKORO_JS.replace('@', '-')}.npz"


def provision(root: Path | None = None) -> None:
    """Fetch kokoro-js with `npm pack` and build the voices file, unless it is there."""
    target = kokoro_voices_file(root)
    if target.is_file() and _has_voices(target, KOKORO_JS_VOICES):
        print(f"Kokoro voices: ready in {target}", file=sys.stderr, flush=True)
        return
    npm = shutil.which("npm")
    if npm is None:
        raise ModelError("npm is needed once to fetch the Kokoro voices (apt-get install npm)")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        print(
            f"Kokoro voices: fetching {KOKORO_JS} with npm pack (27 MB) ...",
            file=sys.stderr,
            flush=True,
        )
        result = subprocess.run(
            [npm, "pack", KOKORO_JS, "--pack-destination", tmp, "--loglevel", "warn"],
            stdout=subprocess.PIPE,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise ModelError(f"npm pack {KOKORO_JS} failed (exit {result.returncode})")
        tarball = Path(tmp) / result.stdout.strip().splitlines()[-1]
        styles = extract_kokoro_js_voices(tarball, KOKORO_JS_VOICES)
        partial = Path(tmp) / "voices.npz"
        np.savez(partial, **styles)  # type: ignore[arg-type]
        partial.replace(target)
    print(f"Kokoro voices: {len(KOKORO_JS_VOICES)} voices in {target}", file=sys.stderr, flush=True)


def extract_kokoro_js_voices(tarball: Path, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Style arrays of the named voices from a kokoro-js npm tarball."""
    styles: dict[str, np.ndarray] = {}
    with tarfile.open(tarball, "r:gz") as archive:
        for name in names:
            member = archive.extractfile(f"package/voices/{name}.bin")
            if member is None:
                raise ModelError(f"{tarball.name} has no voice {name}")
            styles[name] = style_from_bin(member.read(), name)
    return styles


def style_from_bin(data: bytes, name: str) -> np.ndarray:
    """A style array from a kokoro-js `.bin` voice (float32, shape (510, 1, 256))."""
    expected = int(np.prod(KOKORO_STYLE_SHAPE)) * 4
    if len(data) != expected:
        raise ModelError(f"Kokoro voice {name}: {len(data)} bytes, expected {expected}")
    return np.frombuffer(data, "<f4").reshape(KOKORO_STYLE_SHAPE).copy()


def _has_voices(path: Path, names: tuple[str, ...]) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            present = {Path(item).stem for item in archive.namelist()}
    except (OSError, zipfile.BadZipFile):
        return False
    return set(names) <= present
