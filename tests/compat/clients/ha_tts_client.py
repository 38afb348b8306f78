"""Runs under wyoming 1.5.4 (Home Assistant 2025.4's pin) and speaks as HA's Wyoming TTS
entity does: describe, group installed voices by language, then for each voice one
`synthesize` read until the first `audio-stop` into a WAV file. Prints JSON.

    python ha_tts_client.py PORT OUT_DIR TEXT
"""

import asyncio
import json
import sys
import wave
from collections import defaultdict
from importlib.metadata import version
from pathlib import Path

from wyoming.audio import AudioChunk, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.tts import Synthesize, SynthesizeVoice

from tests.compat.clients.ha_info import describe


async def speak(port: int, text: str, voice: str, wav_path: Path) -> dict[str, object]:
    events: list[str] = []
    rate = None
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Synthesize(text=text, voice=SynthesizeVoice(name=voice)).event())
        with wave.open(str(wav_path), "wb") as wav:
            while True:
                event = await client.read_event()
                if event is None:
                    events.append("closed")
                    break
                events.append(event.type)
                if AudioStop.is_type(event.type):
                    break
                if AudioChunk.is_type(event.type):
                    chunk = AudioChunk.from_event(event)
                    if rate is None:
                        rate = chunk.rate
                        wav.setframerate(chunk.rate)
                        wav.setsampwidth(chunk.width)
                        wav.setnchannels(chunk.channels)
                    wav.writeframes(chunk.audio)
            if rate is None:
                wav.setframerate(16000)
                wav.setsampwidth(2)
                wav.setnchannels(1)
    return {"events": sorted(set(events)), "rate": rate, "wav": str(wav_path)}


async def main(port: int, out: Path, text: str) -> dict[str, object]:
    info = await describe(port)
    program = next(p for p in info.tts if p.installed)
    by_language: dict[str, list[str]] = defaultdict(list)
    for voice in program.voices:
        if voice.installed:
            for language in voice.languages:
                by_language[language].append(voice.name)
    results = {}
    for language in sorted(by_language):
        for name in by_language[language]:
            results[name] = await speak(port, text, name, out / f"{name}.wav")
    return {
        "wyoming": version("wyoming"),
        "program": program.name,
        "languages": sorted(by_language),
        "voices": results,
    }


if __name__ == "__main__":
    result = asyncio.run(main(int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]))
    print(json.dumps(result))
