"""Bad input to the conversation agent: a clear answer, nothing lost, the server keeps serving."""

import asyncio

from testkit.client import RawClient
from testkit.llm_cases import converse, home_context
from testkit.processes import ServiceProcess


async def still_serving(port: int) -> None:
    reply = await converse(port, "what time is it", {"home": home_context()})
    assert reply.kind == "intents", reply.types


async def test_malformed_header_gets_an_error_and_close(llm_server: ServiceProcess):
    client = await RawClient.connect(llm_server.port)
    await client.send_raw(b"{not json\n")
    events = await client.receive_until("error")
    assert events[-1].data["code"] == "protocol-error"
    assert await client.is_closed()
    await still_serving(llm_server.port)


async def test_transcript_without_text_string(llm_server: ServiceProcess):
    client = await RawClient.connect(llm_server.port)
    await client.send("transcript", {"text": 42})
    events = await client.receive_until("error")
    assert events[-1].data["code"] == "bad-request" and "text" in events[-1].data["text"]
    await client.send("ping", {"text": "still there?"})
    assert (await client.receive_until("pong"))[-1].data["text"] == "still there?"
    await client.close()


async def test_empty_text_is_not_recognized_with_a_hint(llm_server: ServiceProcess):
    reply = await converse(llm_server.port, "   ", {"conversation_id": "empty"})
    assert reply.types == ["not-recognized"]
    assert "turn on" in (reply.text_of("not-recognized") or "")
    assert reply.events[0].data["context"]["conversation_id"] == "empty"


async def test_huge_text_is_refused(llm_server: ServiceProcess):
    reply = await converse(llm_server.port, "turn on the light " * 400, {})
    assert reply.types == ["error"] and reply.events[0].data["code"] == "text-too-long"
    await still_serving(llm_server.port)


async def test_bad_context_shapes(llm_server: ServiceProcess):
    for context in (
        {"home": "kitchen"},
        {"home": {"entities": "all"}},
        {"local_voice": {"history_turns": -1}},
        {"local_voice": {"history_turns": "4"}},
    ):
        reply = await converse(llm_server.port, "turn on the light", context)
        assert reply.types == ["error"] and reply.events[0].data["code"] == "bad-context"
    client = await RawClient.connect(llm_server.port)
    await client.send("transcript", {"text": "hi", "context": ["not", "an", "object"]})
    assert (await client.receive_until("error"))[-1].data["code"] == "bad-context"
    await client.close()


async def test_junk_entities_are_skipped(llm_server: ServiceProcess):
    home = home_context()
    home["entities"] += [None, 7, {"name": ""}, {"name": "x" * 500, "domain": "light"}]
    reply = await converse(llm_server.port, "turn off the kitchen lights", {"home": home})
    assert reply.intents[0] == ("HassTurnOff", {"name": "Kitchen Lights", "domain": "light"})


async def test_disconnect_mid_generation(llm_server: ServiceProcess):
    client = await RawClient.connect(llm_server.port)
    await client.send("transcript", {"text": "tell me a long story about a lamp"})
    await asyncio.sleep(0.3)
    await client.close()
    llm_server.wait_for_log("client left mid-request", timeout=30)
    await still_serving(llm_server.port)


async def test_unknown_events_are_ignored(llm_server: ServiceProcess):
    client = await RawClient.connect(llm_server.port)
    await client.send("audio-chunk", {"rate": 16000}, b"\0" * 64)
    await client.send("ping")
    assert (await client.receive_until("pong"))[-1].type == "pong"
    await client.close()
