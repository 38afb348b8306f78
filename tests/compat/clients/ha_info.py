"""What every compat client does first, as Home Assistant does: describe, read the info."""

from wyoming.client import AsyncTcpClient
from wyoming.info import Describe, Info


async def describe(port: int) -> Info:
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event(Describe().event())
        while True:
            event = await client.read_event()
            assert event is not None, "connection closed before info"
            if Info.is_type(event.type):
                return Info.from_event(event)
