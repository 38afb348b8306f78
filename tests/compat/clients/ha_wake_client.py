"""Runs under wyoming 1.5.4 (Home Assistant 2025.4's pin) and talks to a wake-word server
as HA's Wyoming integration does: describe, then detect(names=[id]) and audio at 16 kHz
with no audio-stop, until a detection. Prints JSON.

    python ha_wake_client.py PORT CLIP.pcm MODEL_ID
"""

import asyncio
import json
import sys
from importlib.metadata import version
from pathlib import Path

from wyoming.audio import AudioChunk, AudioStart
from wyoming.client import AsyncTcpClient
from wyoming.wake import Detect, Detection, NotDetected

from tests.compat.clients.ha_info import describe


async def main(port: int, audio: bytes, model_id: str) -> dict[str, object]:
    info = await describe(port)
    wake = [program for program in info.wake if program.installed]
    models = {
        model.name: {"phrase": model.phrase, "languages": model.languages}
        for program in wake
        for model in program.models
        if model.installed
    }

    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Detect(names=[model_id]).event())
        await client.write_event(AudioStart(rate=16000, width=2, channels=1).event())

        async def send_audio() -> None:
            for start in range(0, len(audio), 2048):
                data = audio[start : start + 2048]
                await client.write_event(AudioChunk(16000, 2, 1, data).event())
                await asyncio.sleep(0.005)

        async def read_detection() -> dict[str, object] | None:
            while (event := await client.read_event()) is not None:
                if Detection.is_type(event.type):
                    found = Detection.from_event(event)
                    return {"name": found.name, "timestamp": found.timestamp}
                if NotDetected.is_type(event.type):
                    break
            return None

        reading = asyncio.create_task(read_detection())
        await send_audio()  # HA sends no audio-stop: it waits, then hangs up
        done, _ = await asyncio.wait({reading}, timeout=2)
        detection = reading.result() if done else None
        reading.cancel()
    return {
        "wyoming": version("wyoming"),
        "programs": [program.name for program in wake],
        "models": models,
        "detection": detection,
    }


if __name__ == "__main__":
    clip = Path(sys.argv[2]).read_bytes()
    print(json.dumps(asyncio.run(main(int(sys.argv[1]), clip, sys.argv[3]))))
