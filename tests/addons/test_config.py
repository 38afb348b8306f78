"""The add-on repository's files: schemas, the linter's hand rules, options, translations,
defaults against each service's CLI, and what every image is built from."""

from __future__ import annotations

import importlib
import json
import re
import struct
import tomllib
import zlib
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from testkit.addon_scripts import ADDONS_DIR

from .helpers import ADDONS, SCHEMA_DIR, Addon, load_yaml

ADDON_LIST = list(ADDONS.values())
IDS = list(ADDONS)
VERSION = tomllib.loads((ADDONS_DIR.parent / "pyproject.toml").read_text())["project"]["version"]
# Home Assistant's option schema types (supervisor/addons/options.py), "?" = optional.
SCHEMA_TYPE = re.compile(
    r"^(str|password|bool|email|url|port|match\(.*\)|device(\(.*\))?"
    r"|(int|float)(\((-?[\d.]*),(-?[\d.]*)\))?|list\((.+)\))\??$"
)


def parser_defaults(addon: Addon) -> dict[str, Any]:
    parser = importlib.import_module(f"{addon.module}.__main__").get_parser()
    return {action.dest: action.default for action in parser._actions}


def schema_validator(name: str) -> jsonschema.Draft7Validator:
    schema = json.loads((SCHEMA_DIR / name).read_text())
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


def test_the_schemas_and_their_licence_are_in_the_repository():
    for name in ("config.schema.json", "build.schema.json", "LICENSE.md"):
        assert (SCHEMA_DIR / name).is_file(), name
    assert "MIT" in (SCHEMA_DIR / "LICENSE.md").read_text()


def test_repository_yaml():
    repository = load_yaml(ADDONS_DIR / "repository.yaml")
    assert set(repository) == {"name", "url", "maintainer"}
    assert repository["url"].startswith("https://github.com/")
    # the Supervisor reads repository.yaml at the root of the repository added by URL
    assert load_yaml(ADDONS_DIR.parent / "repository.yaml") == repository


def test_one_addon_per_service():
    folders = {path.parent.name for path in ADDONS_DIR.glob("*/config.yaml")}
    assert folders == set(ADDONS)
    slugs = [addon.config()["slug"] for addon in ADDON_LIST]
    assert len(set(slugs)) == len(slugs)


@pytest.mark.parametrize("addon", ADDON_LIST, ids=IDS)
def test_config_yaml_validates_and_follows_the_linter(addon: Addon):
    config = addon.config()
    errors = [error.message for error in schema_validator("config.schema.json").iter_errors(config)]
    assert errors == []
    assert config["arch"] == ["amd64", "aarch64"]
    assert config["init"] is False
    assert config["discovery"] == ["wyoming"]
    assert config["version"] == VERSION
    assert config["slug"] == f"local_voice_{addon.service}"
    for key in ("name", "description", "url", "homeassistant", "backup_exclude", "options"):
        assert config.get(key), key
    for banned in ("watchdog", "codenotary"):
        assert banned not in config
    assert not any(str(item).split(":")[0] == "config" for item in config.get("map", []))
    assert config.get("audio", False) is (addon.service == "satellite")
    assert config.get("homeassistant_api", False) is (addon.service == "llm")


@pytest.mark.parametrize("addon", ADDON_LIST, ids=IDS)
def test_build_yaml_validates(addon: Addon):
    build = load_yaml(addon.path / "build.yaml")
    errors = [error.message for error in schema_validator("build.schema.json").iter_errors(build)]
    assert errors == []
    assert build["build_from"] == {
        arch: f"ghcr.io/home-assistant/{arch}-base-debian:bookworm" for arch in ("amd64", "aarch64")
    }
    assert "codenotary" not in build


@pytest.mark.parametrize("addon", ADDON_LIST, ids=IDS)
def test_the_port_is_the_services_default(addon: Addon):
    config = addon.config()
    assert set(config["ports"]) == {f"{addon.port}/tcp"}
    assert config["ports"][f"{addon.port}/tcp"] in (None, addon.port)
    assert set(config["ports_description"]) == set(config["ports"])
    for script in (addon.run_script, addon.discovery_script):
        assert f"${{LOCAL_VOICE_ADDON_PORT:-{addon.port}}}" in script.read_text()
    assert "tcp://0.0.0.0:${port}" in addon.run_script.read_text()
    assert parser_defaults(addon)["uri"].endswith(f":{addon.port}")


@pytest.mark.parametrize("addon", ADDON_LIST, ids=IDS)
def test_options_are_in_the_schema_and_every_option_is_mapped(addon: Addon):
    config = addon.config()
    options, schema = config["options"], config["schema"]
    assert set(options) <= set(schema)
    for name, kind in schema.items():
        kinds = kind if isinstance(kind, list) else [kind]
        for item in kinds:
            assert SCHEMA_TYPE.match(item), (name, item)
        if name not in options:
            assert isinstance(kind, str) and kind.endswith("?"), f"{name}: no default, not optional"
    assert set(schema) == set(addon.flags)


@pytest.mark.parametrize("addon", ADDON_LIST, ids=IDS)
def test_every_option_has_a_translation(addon: Addon):
    translations = load_yaml(addon.path / "translations" / "en.yaml")
    configuration = translations["configuration"]
    assert set(configuration) == set(addon.config()["schema"])
    for name, text in configuration.items():
        assert text.get("name") and text.get("description"), name
    assert set(translations["network"]) == set(addon.config()["ports"])


@pytest.mark.parametrize("addon", ADDON_LIST, ids=IDS)
def test_defaults_are_the_clis(addon: Addon):
    config = addon.config()
    defaults = parser_defaults(addon)
    for name, flag in addon.flags.items():
        cli = addon.effective_defaults.get(name, defaults.get(flag.dest))
        if name not in config["options"]:  # optional: the service's own choice
            assert cli is None or name in addon.computed_defaults, (name, cli)
            continue
        value = config["options"][name]
        if flag.kind == "flag":
            assert value is False and cli is False, name
        elif flag.kind == "negate":
            assert value is True and cli is False, name
        elif flag.kind == "dir":
            assert cli == [] and value.startswith("/share/"), name
        elif flag.kind == "env":
            assert name == "home_from_home_assistant" and value is True
        elif isinstance(value, float):
            assert isinstance(cli, int | float) and value == pytest.approx(cli), name
        else:
            assert value == cli, name


@pytest.mark.parametrize("addon", ADDON_LIST, ids=IDS)
def test_the_addons_files(addon: Addon):
    for name in ("DOCS.md", "CHANGELOG.md", "Dockerfile", "build.yaml", "icon.png", "logo.png"):
        assert (addon.path / name).is_file(), name
    assert f"## {VERSION}" in (addon.path / "CHANGELOG.md").read_text()
    docs = (addon.path / "DOCS.md").read_text()
    for heading in ("Installation", "How to use", "Options", "Backups", "Troubleshooting"):
        assert f"## {heading}" in docs, heading
    for option in addon.config()["schema"]:
        assert f"`{option}`" in docs, f"DOCS.md does not document {option}"


@pytest.mark.parametrize("addon", ADDON_LIST, ids=IDS)
def test_s6_services(addon: Addon):
    s6 = addon.s6_dir
    assert (s6 / addon.service / "type").read_text().strip() == "longrun"
    assert (s6 / "discovery" / "type").read_text().strip() == "oneshot"
    assert (s6 / "discovery" / "up").read_text().strip() == "/etc/s6-overlay/s6-rc.d/discovery/run"
    assert (s6 / "discovery" / "dependencies.d" / addon.service).is_file()
    assert {path.name for path in (s6 / "user" / "contents.d").iterdir()} == {
        addon.service,
        "discovery",
    }
    for script in (addon.run_script, s6 / addon.service / "finish", addon.discovery_script):
        assert script.stat().st_mode & 0o111, f"{script} is not executable"
        assert script.read_text().startswith("#!/command/with-contenv bashio\n")
    run = addon.run_script.read_text()
    assert f'exec {addon.command} "${{flags[@]}}"' in run
    assert "/opt/" not in run  # the service is found on PATH


@pytest.mark.parametrize("addon", ADDON_LIST, ids=IDS)
def test_dockerfile_installs_the_release_with_install_sh(addon: Addon):
    dockerfile = (addon.path / "Dockerfile").read_text()
    assert dockerfile.startswith("ARG BUILD_FROM\nFROM ${BUILD_FROM}\n")
    assert f"ARG LOCAL_VOICE_VERSION={VERSION}\n" in dockerfile
    assert "archive/refs/tags/v${LOCAL_VOICE_VERSION}.tar.gz" in dockerfile
    assert f"/tmp/local-voice/addons/install.sh /tmp/local-voice {addon.service} " in dockerfile
    assert "PATH=/opt/local-voice/bin:" in dockerfile
    assert "LOCAL_VOICE_CACHE=/opt/local-voice/cache" in dockerfile
    assert f"CMD local-voice-healthcheck {addon.port}\n" in dockerfile
    assert "COPY rootfs /" in dockerfile


def png_size(path: Path) -> tuple[int, int]:
    """Width and height of a PNG, after checking its chunks' CRCs."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, kinds = 8, []
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + body) == crc
        kinds.append(kind)
        offset += 12 + length
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


@pytest.mark.parametrize("addon", ADDON_LIST, ids=IDS)
def test_icon_and_logo_are_small_pngs(addon: Addon):
    assert png_size(addon.path / "icon.png") == (128, 128)
    assert png_size(addon.path / "logo.png") == (250, 100)
    for name in ("icon.png", "logo.png"):
        assert (addon.path / name).stat().st_size < 8000
