"""--openai-base-url against a real OpenAI-compatible server (llama-cpp-python's), and fallback."""

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit.llm_cases import converse, home_context, violations
from testkit.processes import free_port, run_server, running, wait_listening
from wyoming_llm.home import Home
from wyoming_llm.models import DEFAULT_MODEL, model_path

HOME = Home.from_context({"home": home_context()})


@contextlib.contextmanager
def openai_server(log_dir: Path) -> Iterator[str]:
    """python -m llama_cpp.server on 127.0.0.1 with the embedded GGUF; yields its base URL."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model_path(DEFAULT_MODEL)),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "4096",
        "--n_threads",
        str(os.cpu_count() or 2),
    ]
    with running(command, log_dir / f"llama-server-{port}.log") as process:
        wait_listening(port, process, timeout=120)
        yield f"http://127.0.0.1:{port}/v1"


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with openai_server(tmp_path_factory.mktemp("llama-server")) as url:
        yield url


def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there


@pytest.mark.slow
async def test_remote_server_with_json_schema(remote: str, tmp_path):
    args = ("--openai-base-url", remote, "--timeout", "300", "--no-warm-up")
    with run_server("wyoming_llm", tmp_path, *args) as server:
        reply = await converse(
            server.port, "turn off the kitchen lights", {"home": home_context()}, timeout=320
        )
        assert reply.intents[:1] == [("HassTurnOff", {"name": "Kitchen Lights", "domain": "light"})]
        assert violations(reply, HOME) == []
        assert "OpenAI-compatible server" in server.log


@pytest.mark.slow
async def test_fallback_when_the_primary_is_down(remote: str, tmp_path):
    args = ("--openai-base-url", dead_url(), "--fallback-openai-base-url", remote)
    more = ("--timeout", "300", "--no-warm-up")
    with run_server("wyoming_llm", tmp_path, *args, *more) as server:
        reply = await converse(
            server.port, "lock the front door", {"home": home_context()}, timeout=320
        )
        assert reply.intents[:1] == [("HassTurnOn", {"name": "Front Door", "domain": "lock"})]
        assert "Answered by fallback" in server.log
        # The dead primary is tried again after a back-off that grows with each failure.
        await asyncio.sleep(1.2)
        again = await converse(
            server.port, "turn off the desk lamp", {"home": home_context()}, timeout=320
        )
        assert again.kind == "intents"
        log = server.wait_for_log("next try in 2 s")
        assert "next try in 1 s" in log


async def test_every_backend_down_gives_not_handled_quickly(tmp_path):
    args = ("--openai-base-url", dead_url(), "--fallback-openai-base-url", dead_url())
    with run_server("wyoming_llm", tmp_path, *args, "--no-warm-up") as server:
        started = time.monotonic()
        reply = await converse(server.port, "turn on the light", {"conversation_id": "down"})
        assert reply.types == ["not-handled"], reply.types
        assert "not available" in (reply.text_of("not-handled") or "")
        assert reply.events[0].data["context"]["conversation_id"] == "down"
        assert time.monotonic() - started < 5
