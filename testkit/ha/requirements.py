"""python -m testkit.ha.requirements: the pip requirements of every integration a test
Home Assistant loads (the bootstrap's defaults, our configuration, and their
dependencies), so Home Assistant never has to pip-install at start-up."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import homeassistant.components

# What bootstrap sets up without default_config, plus what our configuration and the
# Local Voice component load (see testkit.ha.core.write_config).
LOADED = {
    "analytics",
    "application_credentials",
    "backup",
    "frontend",
    "hardware",
    "logger",
    "network",
    "system_health",
    "automation",
    "person",
    "scene",
    "script",
    "tag",
    "zone",
    "counter",
    "input_boolean",
    "input_button",
    "input_datetime",
    "input_number",
    "input_select",
    "input_text",
    "schedule",
    "timer",
    "isal",
    "system_log",
    "homeassistant",
    "persistent_notification",
    "http",
    "api",
    "websocket_api",
    "config",
    "conversation",
    "intent",
    "assist_pipeline",
    "stt",
    "tts",
    "wake_word",
    "light",
    "template",
    "wyoming",
    "diagnostics",
}


def requirements() -> list[str]:
    components = Path(homeassistant.components.__file__).parent
    seen: set[str] = set()
    todo = list(LOADED)
    found: dict[str, None] = {}
    while todo:
        domain = todo.pop()
        manifest_path = components / domain / "manifest.json"
        if domain in seen or not manifest_path.exists():
            continue
        seen.add(domain)
        manifest = json.loads(manifest_path.read_text())
        todo += manifest.get("dependencies", [])
        found.update(dict.fromkeys(manifest.get("requirements", [])))
    return sorted(found)


if __name__ == "__main__":
    sys.stdout.write("\n".join(requirements()) + "\n")
