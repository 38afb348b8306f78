"""Every add-on's discovery oneshot against a stand-in Supervisor API."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from testkit.addon_scripts import fake_supervisor, run_discovery
from testkit.processes import free_port

from .helpers import ADDONS, Addon, script_env

pytestmark = pytest.mark.skipif(
    shutil.which("jq") is None or shutil.which("curl") is None,
    reason="the bashio stand-in needs jq and curl",
)


@pytest.mark.parametrize("addon", list(ADDONS.values()), ids=list(ADDONS))
def test_discovery_posts_the_wyoming_uri_once_the_port_listens(addon: Addon, tmp_path: Path):
    port = free_port()
    listener = socket.socket()
    opened = threading.Event()

    def open_late() -> None:
        time.sleep(1.0)  # the script must wait for the service
        listener.bind(("127.0.0.1", port))
        listener.listen()
        opened.set()

    with fake_supervisor() as supervisor:
        opener = threading.Thread(target=open_late)
        opener.start()
        try:
            done = run_discovery(addon.folder, script_env(tmp_path, {}, []), supervisor, port)
        finally:
            opener.join()
            listener.close()
        assert opened.is_set()
        assert done.returncode == 0, done.stderr
        assert "Sent the discovery information" in done.stderr
        assert supervisor.requests == [
            (
                "/discovery",
                "Bearer test-token",
                {"service": "wyoming", "config": {"uri": f"tcp://{socket.gethostname()}:{port}"}},
            )
        ]


def test_discovery_uses_the_addons_port_by_default():
    for addon in ADDONS.values():
        assert f"${{LOCAL_VOICE_ADDON_PORT:-{addon.port}}}" in addon.discovery_script.read_text()


def test_a_refused_discovery_is_logged_not_fatal(tmp_path: Path):
    """The service keeps running; the log says how to add it by hand."""
    addon = ADDONS["wake"]
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with fake_supervisor() as supervisor:
            supervisor_port = supervisor.url.rsplit(":", 1)[1]
        # The stand-in Supervisor is gone now: nothing answers on its port.
        supervisor.url = f"http://127.0.0.1:{supervisor_port}"
        done: subprocess.CompletedProcess[str] = run_discovery(
            addon.folder, script_env(tmp_path, {}, []), supervisor, port
        )
    assert done.returncode == 0
    assert "did not take the discovery information" in done.stderr
