"""Runs under wyoming 1.5.4 (Home Assistant 2025.4's pin) and talks to a server as HA's
Wyoming integration does: describe, then transcribe a PCM file. Prints JSON.

    python ha_stt_client.py PORT CLIP.pcm [LANGUAGE]
"""

import asyncio
import json
import sys
from importlib.metadata import version
from pathlib import Path

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient

from tests.compat.clients.ha_info import describe


async def main(port: int, audio: bytes, language: str) -> dict[str, object]:
    info = await describe(port)
    asr = info.asr[0]
    languages = sorted(
        {lang for model in asr.models if model.installed for lang in model.languages}
    )

    events = []
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Transcribe(language=language).event())
        await client.write_event(AudioStart(rate=16000, width=2, channels=1).event())
        for start in range(0, len(audio), 2048):
            data = audio[start : start + 2048]
            await client.write_event(
                AudioChunk(rate=16000, width=2, channels=1, audio=data).event()
            )
        await client.write_event(AudioStop().event())
        while True:
            event = await client.read_event()
            if event is None:
                break
            events.append(event.type)
            if Transcript.is_type(event.type):
                text = Transcript.from_event(event).text
                break
    return {
        "wyoming": version("wyoming"),
        "program": asr.name,
        "installed": asr.installed,
        "languages": languages,
        "events": events,
        "text": text,
    }


if __name__ == "__main__":
    language = sys.argv[3] if len(sys.argv) > 3 else "en"
    clip = Path(sys.argv[2]).read_bytes()
    print(json.dumps(asyncio.run(main(int(sys.argv[1]), clip, language))))
