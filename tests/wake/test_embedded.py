"""The detector the satellite imports: in-process, per-stream state, the phrase's end."""

from testkit.wake_corpus import phrase_clip
from wyoming_wake.detector import Hit, WakeStream
from wyoming_wake.embedded import EmbeddedWake
from wyoming_wake.models import DEFAULT_MODEL

CHUNK = 2048  # 64 ms, as a microphone delivers it


def hits_of(stream: WakeStream, pcm: bytes) -> list[Hit]:
    return [hit for i in range(0, len(pcm), CHUNK) for hit in stream.process(pcm[i : i + CHUNK])]


def test_default_pair_fires_once_with_the_phrase_end_before_the_detection():
    wake = EmbeddedWake()
    assert list(wake.armed) == [DEFAULT_MODEL]
    stream = wake.stream()
    hits = hits_of(stream, phrase_clip("okay nabu"))
    stream.close()
    assert [hit.name for hit in hits] == [DEFAULT_MODEL]
    (hit,) = hits
    assert 500 <= hit.end_ms <= hit.timestamp_ms <= 2500


def test_streams_keep_their_own_state_and_models():
    wake = EmbeddedWake(["okay nabu", "hey_jarvis"])
    first, second = wake.stream(), wake.stream()
    nabu, jarvis = phrase_clip("okay nabu"), phrase_clip("hey jarvis")
    assert [h.name for h in hits_of(first, nabu)] == ["okay nabu"]
    assert [h.name for h in hits_of(second, jarvis)] == ["hey_jarvis"]
    assert hits_of(first, bytes(32000)) == []
    first.close()
    second.close()
