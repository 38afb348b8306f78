"""python -m local_voice.prepare: assemble the embedded models of installed services."""

import logging
import sys
from importlib.metadata import entry_points
from types import ModuleType

from .models import EmbeddedModel, ModelError, assemble

# Services register their model module under this entry-point group (pyproject.toml),
# so the shared core finds them without importing a service by name. A module lists
# its embedded models in EMBEDDED and may have a prepare() for further set-up steps.
REGISTRY_GROUP = "local_voice.models"


def model_registries() -> list[ModuleType]:
    """The model modules of every installed service."""
    return [entry.load() for entry in sorted(entry_points(group=REGISTRY_GROUP), key=str)]


def embedded_models() -> list[EmbeddedModel]:
    """The embedded models of every service whose model packages are installed."""
    models: list[EmbeddedModel] = []
    for registry in model_registries():
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
    for registry in model_registries():
        extra_step = getattr(registry, "prepare", None)
        if extra_step is None:
            continue
        try:
            extra_step()
        except ModelError as err:
            print(f"{registry.__name__}: {err}", file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
