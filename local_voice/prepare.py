"""python -m local_voice.prepare: assemble the embedded models of installed services."""

import importlib
import importlib.util
import logging
import sys

from .models import EmbeddedModel, ModelError, assemble

# Each service module lists its embedded models in EMBEDDED; a module may also have a
# prepare() function for set-up steps beyond joining package parts.
MODEL_REGISTRIES = ("wyoming_stt.models", "wyoming_tts.models", "wyoming_llm.models")


def embedded_models() -> list[EmbeddedModel]:
    """The embedded models of every service whose model packages are installed."""
    models: list[EmbeddedModel] = []
    for name in MODEL_REGISTRIES:
        registry = importlib.import_module(name)
        models += [model for model in registry.EMBEDDED.values() if model.installed]
    return models


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="    %(message)s")
    failed = False
    for model in embedded_models():
        try:
            path = assemble(model)
        except ModelError as err:
            print(f"Model {model.name}: {err}", file=sys.stderr)
            failed = True
        else:
            print(f"Model {model.name}: ready in {path}", file=sys.stderr)
    for name in MODEL_REGISTRIES:
        extra_step = getattr(importlib.import_module(name), "prepare", None)
        if extra_step is None:
            continue
        try:
            extra_step()
        except ModelError as err:
            print(f"{name}: {err}", file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
