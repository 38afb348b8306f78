"""Runs under wyoming 1.5.4 (Home Assistant 2025.4's pin) and talks to a server as HA's
Wyoming conversation agent does: describe, then one Transcript, reading the reply until
the first intent (HA 2025.4 uses only that), handled, not-handled or not-recognized.
Prints JSON.

    python ha_conversation_client.py PORT TEXT
"""

import asyncio
import json
import sys
from importlib.metadata import version

from wyoming.asr import Transcript
from wyoming.client import AsyncTcpClient
from wyoming.handle import Handled, NotHandled
from wyoming.info import Describe, Info
from wyoming.intent import Intent, NotRecognized


async def main(port: int, text: str) -> dict[str, object]:
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Describe().event())
        while True:
            event = await client.read_event()
            assert event is not None, "connection closed before info"
            if Info.is_type(event.type):
                info = Info.from_event(event)
                break
    intent_programs = [p for p in info.intent if p.installed]
    handle_programs = [p for p in info.handle if p.installed]

    events = []
    answer: dict[str, object] = {}
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Transcript(text, context={"conversation_id": "ha-1"}).event())
        while True:
            event = await asyncio.wait_for(client.read_event(), 60)
            if event is None:
                break
            events.append(event.type)
            if Intent.is_type(event.type):
                intent = Intent.from_event(event)
                answer = {
                    "intent": intent.name,
                    "slots": {e.name: e.value for e in intent.entities},
                    "text": intent.text,
                }
                break
            if Handled.is_type(event.type):
                answer = {"handled": Handled.from_event(event).text}
                break
            if NotHandled.is_type(event.type):
                answer = {"not_handled": NotHandled.from_event(event).text}
                break
            if NotRecognized.is_type(event.type):
                answer = {"not_recognized": NotRecognized.from_event(event).text}
                break
        # Nothing more may follow a single intent for this client.
        try:
            extra = await asyncio.wait_for(client.read_event(), 1.0)
        except TimeoutError:
            extra = None
    return {
        "wyoming": version("wyoming"),
        "intent_program": intent_programs[0].name if intent_programs else None,
        "handle_program": handle_programs[0].name if handle_programs else None,
        "languages": sorted(
            {lang for p in intent_programs for m in p.models for lang in m.languages}
        ),
        "events": events,
        "extra_event": extra.type if extra else None,
        **answer,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(int(sys.argv[1]), sys.argv[2]))))
