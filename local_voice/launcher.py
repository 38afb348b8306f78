"""python -m local_voice.launcher: run every installed service until Ctrl-C/SIGTERM.

This is what `script/run` starts. Each service is its own process; the
launcher waits until each answers `describe`, prints its URI, and on Ctrl-C or
SIGTERM stops them all.
"""

import argparse
import asyncio
import contextlib
import importlib.util
import signal
import sys
from dataclasses import dataclass

from .info import describe, programs
from .ports import LLM_PORT, SATELLITE_PORT, STT_PORT, TTS_PORT, WAKE_PORT


@dataclass(frozen=True)
class Service:
    """A service module, the port it listens on, and the package it needs."""

    title: str
    module: str
    port: int
    requires: str  # import name of the package its runtime comes from
    program: str  # the program name its `info` reports ("": a satellite, named as its device)


SERVICES = (
    Service("speech-to-text", "wyoming_stt", STT_PORT, "faster_whisper", "local-voice-stt"),
    Service("text-to-speech", "wyoming_tts", TTS_PORT, "kokoro_onnx", "local-voice-tts"),
    Service("wake-word", "wyoming_wake", WAKE_PORT, "pymicro_wakeword", "local-voice-wake"),
    Service("conversation agent", "wyoming_llm", LLM_PORT, "llama_cpp", "local-voice-llm"),
    # The satellite on this machine's default sound devices (none: it waits for one)
    Service("satellite", "wyoming_satellite", SATELLITE_PORT, "pyaec", ""),
)
READY_TIMEOUT = 120.0
STOP_TIMEOUT = 10.0


async def wait_ready(
    process: asyncio.subprocess.Process, service: Service, host: str, port: int
) -> bool:
    """Whether the service answers `describe` before it exits or time runs out."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(READY_TIMEOUT):
            while process.returncode is None:
                info = await describe(host, port)
                if info is not None and (
                    service.program in {program.name for program in programs(info)}
                    if service.program
                    else info.satellite is not None
                ):
                    return True
                await asyncio.sleep(0.2)
    return False


async def stop_all(processes: list[asyncio.subprocess.Process]) -> None:
    for process in processes:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()


async def run(host: str, port_offset: int, extra_args: list[str]) -> int:
    services = [s for s in SERVICES if importlib.util.find_spec(s.requires) is not None]
    if not services:
        print("No service is installed (pip install 'local-voice[stt]')", file=sys.stderr)
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    processes: list[asyncio.subprocess.Process] = []
    try:
        for service in services:
            port = service.port + port_offset
            uri = f"tcp://{host}:{port}"
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                service.module,
                "--uri",
                uri,
                *extra_args,
                start_new_session=True,  # Ctrl-C reaches the launcher, which stops them in order
            )
            processes.append(process)
            if not await wait_ready(process, service, host, port):
                print(
                    f"The {service.title} service did not start (see its log above)",
                    file=sys.stderr,
                )
                return 1
            print(f"Local Voice {service.title}: {uri}", flush=True)
        print("All services are running; press Ctrl-C to stop.", flush=True)
        exited = [asyncio.ensure_future(process.wait()) for process in processes]
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait([stopping, *exited], return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not stop.is_set():
            print("A service exited; stopping the others", file=sys.stderr)
            return 1
        return 0
    finally:
        await stop_all(processes)
        print("Stopped.", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="script/run", description="Run the Local Voice services on embedded models"
    )
    parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (127.0.0.1)")
    parser.add_argument(
        "--port-offset", type=int, default=0, help="Add this to every port (STT 10300, ...)"
    )
    parser.add_argument("--debug", action="store_true", help="Services log debug messages")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(asyncio.run(run(args.host, args.port_offset, ["--debug"] if args.debug else [])))


if __name__ == "__main__":
    main()
