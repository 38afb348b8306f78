"""Dependencies point one way: local_voice <- services <- testkit <- tests, bench."""

import ast
from pathlib import Path

import pytest

from local_voice.prepare import model_registries

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("wyoming_stt", "wyoming_tts", "wyoming_wake", "wyoming_llm")
TOOLING = ("testkit", "tests", "tests_ha", "bench")


def imported_packages(package: str) -> dict[str, set[str]]:
    """Top-level packages each module of a package imports (absolute imports only)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


def forbidden(package: str, banned: set[str]) -> dict[str, set[str]]:
    """The modules of a package that import a banned package, with what they import."""
    imports = imported_packages(package)
    return {module: names & banned for module, names in imports.items() if names & banned}


def test_the_shared_core_imports_no_service_and_no_tooling():
    assert forbidden("local_voice", {*SERVICES, *TOOLING}) == {}


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_no_other_service_and_no_tooling(service):
    # The wake-word engines are shared with the satellite through wyoming_wake itself.
    others = {name for name in SERVICES if name != service}
    assert forbidden(service, {*others, *TOOLING}) == {}


def test_the_satellite_imports_only_the_wake_word_service():
    # It runs wyoming_wake's detector in-process (the same engines, not a copy).
    others = {name for name in SERVICES if name != "wyoming_wake"}
    assert forbidden("wyoming_satellite", {*others, *TOOLING}) == {}
    assert any("wyoming_wake" in names for names in imported_packages("wyoming_satellite").values())


def test_testkit_imports_no_test_or_bench_module():
    assert forbidden("testkit", {"tests", "tests_ha", "bench"}) == {}


def test_set_up_finds_every_services_models_through_entry_points():
    names = {registry.__name__ for registry in model_registries()}
    assert names == {f"{service}.models" for service in SERVICES}
    assert all(registry.EMBEDDED for registry in model_registries())


def test_the_integration_ships_without_the_project_packages():
    # It is installed into Home Assistant alone (HACS), so it keeps its own small client.
    banned = {"local_voice", "wyoming_satellite", *SERVICES, *TOOLING}
    assert forbidden("custom_components/local_voice", banned) == {}
