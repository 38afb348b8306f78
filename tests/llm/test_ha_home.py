"""The home built from Home Assistant's websocket answers (--ha-url), and its options.

The answers below have the shape Home Assistant 2025.4 sends; tests_ha/test_ha_home.py
loads the same from a running Home Assistant.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from testkit import ROOT
from wyoming_llm.ha_home import SUPERVISOR_URL, Connection, Registries, connection_from_options
from wyoming_llm.home import Home


def state(entity_id: str, value: str, **attributes: object) -> dict[str, object]:
    return {"entity_id": entity_id, "state": value, "attributes": attributes}


def entry(entity_id: str, **fields: object) -> dict[str, object]:
    return {"entity_id": entity_id, "area_id": None, "device_id": None, "options": {}, **fields}


def registries() -> Registries:
    return Registries(
        states={
            s["entity_id"]: s  # type: ignore[misc]
            for s in (
                state("light.kitchen", "on", friendly_name="Kitchen Lights", brightness=128),
                state("lock.front_door", "locked", friendly_name="Front Door"),
                state("lock.back_door", "locked", friendly_name="Back Door"),
                state(
                    "sensor.hall_temp",
                    "21.5",
                    friendly_name="Hall Temperature",
                    device_class="temperature",
                    unit_of_measurement="°C",
                ),
                state("sensor.cpu", "12", friendly_name="CPU", device_class="power"),
                state("switch.hidden", "off", friendly_name="Hidden Switch"),
                state("switch.unexposed", "off", friendly_name="Pump"),
                state(
                    "binary_sensor.patio", "off", friendly_name="Patio Door", device_class="door"
                ),
                state("light.legacy", "off", friendly_name="Legacy Light"),
                state("light.legacy_exposed", "off", friendly_name="Porch Light"),
            )
        },
        entities={
            "light.kitchen": entry("light.kitchen", area_id="kitchen"),
            # Locks are exposed only by choice.
            "lock.front_door": entry(
                "lock.front_door",
                device_id="dev1",
                options={"conversation": {"should_expose": True}},
            ),
            "lock.back_door": entry("lock.back_door"),
            "sensor.hall_temp": entry("sensor.hall_temp"),
            "sensor.cpu": entry("sensor.cpu"),
            "switch.hidden": entry("switch.hidden", hidden_by="user"),
            "switch.unexposed": entry(
                "switch.unexposed", options={"conversation": {"should_expose": False}}
            ),
            "binary_sensor.patio": entry("binary_sensor.patio", area_id="garden"),
        },
        aliases={"light.kitchen": ["cooking lights"]},
        devices={"dev1": {"id": "dev1", "area_id": "hall"}},
        areas={
            "kitchen": {"area_id": "kitchen", "name": "Kitchen", "aliases": [], "floor_id": "g"},
            "hall": {"area_id": "hall", "name": "Hall", "aliases": ["entry"], "floor_id": None},
            "garden": {"area_id": "garden", "name": "Garden", "aliases": [], "floor_id": None},
        },
        floors={"g": {"floor_id": "g", "name": "Ground Floor", "aliases": ["downstairs"]}},
        exposed={"light.legacy_exposed": {"conversation": True}},
    )


def test_exposure_follows_home_assistants_rules():
    home = registries().home_context()
    assert [e["entity_id"] for e in home["entities"]] == [
        "binary_sensor.patio",  # a door sensor is exposed by default
        "light.kitchen",
        "light.legacy_exposed",  # outside the registry, exposed by the user's choice
        "lock.front_door",
        "sensor.hall_temp",  # a temperature sensor is; a power sensor is not
    ]


def test_nothing_is_exposed_by_default_when_new_entities_are_not():
    data = registries()
    data.expose_new = False
    exposed = [e["entity_id"] for e in data.home_context()["entities"]]
    assert exposed == ["light.legacy_exposed", "lock.front_door"]  # the choices stand


def test_entities_carry_areas_floors_aliases_and_states_in_the_contracts_shape():
    entities = {e["entity_id"]: e for e in registries().home_context()["entities"]}
    assert entities["light.kitchen"] == {
        "entity_id": "light.kitchen",
        "name": "Kitchen Lights",
        "aliases": ["cooking lights"],
        "domain": "light",
        "device_class": None,
        "area": "Kitchen",
        "floor": "Ground Floor",
        "state": "on",
        "attributes": {"brightness": 128},
    }
    assert entities["lock.front_door"]["area"] == "Hall"  # from its device
    assert entities["sensor.hall_temp"]["attributes"] == {"unit": "°C"}
    assert entities["sensor.hall_temp"]["device_class"] == "temperature"


def test_the_context_is_a_home_the_agent_reads():
    home = Home.from_context({"home": registries().home_context()})
    assert home is not None
    assert {entity.name for entity in home.entities} >= {"Kitchen Lights", "Front Door"}
    assert {area.name for area in home.areas} == {"Kitchen", "Hall", "Garden"}


def test_websocket_urls():
    assert (
        Connection("http://ha.local:8123", "t").websocket_url == "ws://ha.local:8123/api/websocket"
    )
    assert Connection("https://ha.example/", "t").websocket_url == "wss://ha.example/api/websocket"
    assert Connection(SUPERVISOR_URL, "t").websocket_url == "ws://supervisor/core/websocket"


def test_options_and_the_supervisor_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("SUPERVISOR_TOKEN", raising=False)
    assert connection_from_options(None, None) is None
    token = tmp_path / "token"
    token.write_text("abc.def\n")
    assert connection_from_options("http://h:8123", token) == Connection("http://h:8123", "abc.def")
    monkeypatch.setenv("SUPERVISOR_TOKEN", "sup")
    assert connection_from_options(None, None) == Connection(SUPERVISOR_URL, "sup")
    assert connection_from_options("http://h:8123", None) == Connection("http://h:8123", "sup")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ha-url", "http://h:8123"], "--ha-url needs --ha-token-file"),
        (["--ha-url", "h:8123", "--ha-token-file", "{token}"], "expected http://HOST:PORT"),
        (["--ha-token-file", "{token}"], "--ha-token-file needs --ha-url"),
        (["--ha-url", "http://h", "--ha-token-file", "{missing}"], "No such file"),
        (["--ha-url", "http://h", "--ha-token-file", "{empty}"], "one token on one line"),
        (["--ha-url", "http://h", "--ha-token-file", "{token}", "--ha-reload", "1"], "at least"),
        (
            ["--ha-url", "http://h", "--ha-token-file", "{token}", "--home-file", "{token}"],
            "--home-file",
        ),
    ],
)
def test_bad_options_are_refused(tmp_path: Path, args: list[str], message: str):
    (tmp_path / "token").write_text("abc\n")
    (tmp_path / "empty").write_text("\n")
    paths = {name: str(tmp_path / name) for name in ("token", "missing", "empty")}
    result = subprocess.run(
        [sys.executable, "-m", "wyoming_llm", "--uri", "tcp://127.0.0.1:1"]
        + [arg.format(**paths) for arg in args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2 and message in result.stderr, result.stderr
