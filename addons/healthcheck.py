"""local-voice-healthcheck PORT [HOST]: exit 0 when a Wyoming service answers `describe`.

The add-on images' HEALTHCHECK: the service is healthy when its `info` answer lists
an installed program (install.sh puts this file in the venv's bin/)."""

import asyncio
import sys

from local_voice.info import describe, programs


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3) or not argv[1].isdigit():
        print("usage: local-voice-healthcheck PORT [HOST]", file=sys.stderr)
        return 2
    host = argv[2] if len(argv) == 3 else "127.0.0.1"
    info = asyncio.run(describe(host, int(argv[1]), timeout=10.0))
    if info is None:
        print(f"no answer to describe on {host}:{argv[1]}", file=sys.stderr)
        return 1
    installed = [program.name for program in programs(info) if program.installed]
    if not installed:
        print(f"{host}:{argv[1]} lists no installed program", file=sys.stderr)
        return 1
    print(f"healthy: {', '.join(installed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
