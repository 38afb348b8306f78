"""python -m wyoming_llm.chat "turn off the kitchen lights": try the agent from a terminal.

Prints the intents (or the answer) and the timing. --home FILE gives a home
context (the `home` object of the wire contract, as JSON); each further line
typed on stdin continues the same conversation.
"""

import argparse
import functools
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from .__main__ import add_model_args, build_agent, check_model_args
from .agent import AgentRequest, AnswerPiece, Emitted, new_conversation_id
from .backend import BackendError
from .home import ContextError, Home
from .intents import Command
from .memory import Memory


def _print(item: Emitted, started: float) -> None:
    elapsed = 1000 * (time.monotonic() - started)
    if isinstance(item, Command):
        slots = json.dumps(item.slots, ensure_ascii=False)
        print(f'  intent {item.intent} {slots}  ({elapsed:.0f} ms)  "{item.text}"', flush=True)
    elif isinstance(item, AnswerPiece):
        print(item.text, end="", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m wyoming_llm.chat", description="Type to the conversation agent"
    )
    parser.add_argument("text", nargs="*", help="What the user says (else read lines from stdin)")
    parser.add_argument("--home", type=Path, help="JSON file with a home context")
    parser.add_argument("--area", help="The area the user is in")
    parser.add_argument("--debug", action="store_true")
    add_model_args(parser)
    args = parser.parse_args()
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING)
    check_model_args(parser, args)
    home: Home | None = None
    if args.home:
        try:
            data: Any = json.loads(args.home.read_text())
            home = Home.from_context({"home": data.get("home", data)})
        except (OSError, ValueError, ContextError, AttributeError) as err:
            parser.error(f"--home: {err}")
    started = time.monotonic()
    agent = build_agent(args, 60.0, Memory())
    print(f"(model loaded in {time.monotonic() - started:.1f} s)", file=sys.stderr)
    conversation = new_conversation_id()
    texts = [" ".join(args.text)] if args.text else (line.strip() for line in sys.stdin)
    for text in texts:
        if not text:
            continue
        print(f"> {text}", flush=True)
        started = time.monotonic()
        request = AgentRequest(text, conversation, home, args.area, single_intent=False)
        try:
            result = agent.run(request, functools.partial(_print, started=started))
        except BackendError as err:
            print(f"  error: {err}", flush=True)
            continue
        if result.answer is not None:
            print()
        elif result.not_recognized:
            print(f"  not recognized: {result.not_recognized}")
        stats = result.stats
        first = 1000 * (result.first_output_seconds or 0.0)
        print(
            f"  [first output {first:.0f} ms, total {1000 * (time.monotonic() - started):.0f} ms, "
            f"{stats.prompt_tokens} prompt + {stats.generated_tokens} generated tokens"
            f"{', grammar' if result.constrained else ''}]",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
