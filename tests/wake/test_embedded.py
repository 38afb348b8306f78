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


def test_a_fused_stream_is_awaiting_between_its_first_model_and_the_detection() -> None:
    """A satellite holds its playback while `awaiting`: microWakeWord has fired and the
    pair's confirmation may follow; it ends with the detection."""
    pcm = phrase_clip("okay nabu")
    stream = EmbeddedWake().stream()
    awaiting_at: list[float] = []
    detected_at: float | None = None
    try:
        for start in range(0, len(pcm), 640):  # 20 ms, as the satellite feeds it
            hits = stream.process(pcm[start : start + 640])
            if hits and detected_at is None:
                detected_at = stream.seconds
                assert not stream.awaiting  # the detection ends the wait
            elif stream.awaiting and detected_at is None:
                awaiting_at.append(stream.seconds)
    finally:
        stream.close()
    assert detected_at is not None and awaiting_at
    assert awaiting_at[0] < detected_at - 0.1, (awaiting_at[0], detected_at)
    silence = EmbeddedWake().stream()
    try:
        silence.process(bytes(32000))
        assert not silence.awaiting
    finally:
        silence.close()
