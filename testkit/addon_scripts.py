"""Running the add-ons' s6 scripts on this host: the bashio stand-in (testkit/bashio)
and a stand-in Supervisor that records what a discovery script posts.

Standard library only, so both test suites (the services' venv and Home Assistant's)
use the same pieces.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from testkit import ROOT

ADDONS_DIR = ROOT / "addons"
BASHIO = Path(__file__).resolve().parent / "bashio"


def discovery_script(folder: str) -> Path:
    return ADDONS_DIR / folder / "rootfs" / "etc" / "s6-overlay" / "s6-rc.d" / "discovery" / "run"


@dataclass
class FakeSupervisor:
    """What a stand-in Supervisor API received: (path, Authorization, JSON body)."""

    url: str
    requests: list[tuple[str, str, Any]]


@contextmanager
def fake_supervisor() -> Iterator[FakeSupervisor]:
    """A local HTTP server answering POST /discovery as the Supervisor does."""
    requests: list[tuple[str, str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"null")
            requests.append((self.path, self.headers.get("Authorization", ""), body))
            answer = json.dumps({"result": "ok", "data": {"uuid": "0123abcd"}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield FakeSupervisor(f"http://127.0.0.1:{server.server_address[1]}", requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def run_discovery(
    folder: str,
    env: Mapping[str, str],
    supervisor: FakeSupervisor,
    port: int,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """addons/FOLDER's discovery oneshot under bashio, waiting for `port` and posting to
    `supervisor`; `env` carries BASHIO_OPTIONS_FILE and PATH."""
    return subprocess.run(
        [str(BASHIO), str(discovery_script(folder))],
        env={
            **env,
            "BASHIO_SUPERVISOR": supervisor.url,
            "SUPERVISOR_TOKEN": "test-token",
            "LOCAL_VOICE_ADDON_PORT": str(port),
        },
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
