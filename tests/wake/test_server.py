"""The wake-word server on 127.0.0.1 with its embedded models and spoken clips."""

import asyncio

import numpy as np
import pytest

from testkit import clips
from testkit.client import RawClient, describe
from testkit.processes import ServiceProcess
from testkit.wake_client import detect, detections
from testkit.wake_corpus import (
    ALL_MODELS,
    KOKORO_VOICES,
    MICRO_MODELS,
    NEAR_MISSES,
    ORDINARY,
    OWW_MODELS,
    PHRASES,
    PIPER_VOICES,
    cached_negatives,
    cached_positives,
    phrase_clip,
)
from wyoming_wake.models import DEFAULT_MODEL


async def test_info_lists_every_model_with_phrase_language_and_licence(
    wake_server: ServiceProcess,
):
    info = await describe(wake_server.port)
    assert len(info.wake) == 1
    program = info.wake[0]
    assert program.name == "local-voice-wake" and program.installed
    assert "CC BY-NC-SA 4.0" in (program.description or "")
    models = {model.name: model for model in program.models}
    assert sorted(models) == sorted([*ALL_MODELS, DEFAULT_MODEL])
    assert models[DEFAULT_MODEL].phrase == "Okay Nabu"
    assert "microWakeWord + openWakeWord" in (models[DEFAULT_MODEL].description or "")
    assert models["okay_nabu"].phrase == "Okay Nabu"
    assert "en" in models["okay_nabu"].languages and "de" in models["okay_nabu"].languages
    assert models["hey_jarvis"].phrase == "Hey Jarvis" and models["hey_jarvis"].languages == ["en"]
    assert models["hey_rhasspy_v0.1"].phrase == "Hey Rhasspy"
    for name in OWW_MODELS:
        assert "CC BY-NC-SA 4.0: non-commercial" in (models[name].description or ""), name
        assert models[name].attribution.url == "https://github.com/dscripka/openWakeWord"
    for name in MICRO_MODELS:
        assert "Apache-2.0" in (models[name].description or ""), name
        assert models[name].installed


async def test_default_model_is_the_fused_okay_nabu(wake_server: ServiceProcess):
    events = await detect(wake_server.port, phrase_clip("okay nabu"))
    assert detections(events) == [DEFAULT_MODEL], events
    timestamp = next(e.data["timestamp"] for e in events if e.type == "detection")
    assert 500 <= timestamp <= 2500  # after the phrase, before the command ends (ms)
    assert "not-detected" not in [event.type for event in events]


@pytest.mark.parametrize(
    ("requested", "phrase"),
    [("Okay Nabu", "okay nabu"), ("ok_nabu", "okay nabu"), ("hey-jarvis", "hey jarvis")],
)
async def test_detection_carries_the_requested_name(wake_server: ServiceProcess, requested, phrase):
    events = await detect(wake_server.port, phrase_clip(phrase), [requested])
    assert detections(events) == [requested]


@pytest.mark.parametrize("phrase", list(PHRASES))
async def test_neural_voices_wake_both_engines(wake_server: ServiceProcess, phrase: str):
    """Every model of the phrase, both engines, fires on clean Kokoro clips (two voices)
    and on at least two of three clean Piper clips (three speeds).

    The clips are the same on every run (Piper with its noise scales at 0). One model
    misses one: hey_mycroft_v0.1 on fast Piper; bench/wake.py measures the rates.
    """
    voices = [*PIPER_VOICES, *KOKORO_VOICES]
    all_missed: list[tuple[str, str]] = []
    for model in PHRASES[phrase]:
        missed = []
        for clip in cached_positives(phrases=[phrase], voices=voices, noise=(False,)):
            events = await detect(wake_server.port, clip.pcm, [model])
            assert detections(events) in ([model], []), events
            if not detections(events):
                missed.append(clip.voice)
        assert not set(missed) & set(KOKORO_VOICES), (model, missed)
        assert len(missed) <= 1, (model, missed)
        all_missed += [(model, voice) for voice in missed]
    assert len(all_missed) <= 1, all_missed


async def test_positives_with_noise_and_espeak_voices_mostly_wake(wake_server: ServiceProcess):
    """All voices, clean and with 10 dB noise: the bench measures the rate; here a floor."""
    hits = total = 0
    for clip in cached_positives(phrases=["okay nabu", "alexa"]):
        assert clip.phrase is not None
        for model in PHRASES[clip.phrase]:
            events = await detect(wake_server.port, clip.pcm, [model])
            hits += detections(events) == [model]
            total += 1
    assert hits / total >= 0.7, f"{hits}/{total}"


async def test_ordinary_speech_wakes_nothing(wake_server: ServiceProcess):
    for clip in cached_negatives(texts=ORDINARY, voices=["piper", "espeak-us", *KOKORO_VOICES]):
        events = await detect(wake_server.port, clip.pcm, ALL_MODELS)
        assert detections(events) == [], clip.label
        assert [e.type for e in events] == ["not-detected", "pong"], clip.label


# Near misses each model rejects (bench/wake.py lists those some models accept:
# "hey Microsoft" wakes both hey_mycroft models, "a Lexus" alexa_v0.1, "hey,
# raspberry" hey_rhasspy_v0.1, "hey, Travis" slowed down hey_jarvis_v0.1, and "okay,
# nab it" microWakeWord's okay_nabu and, in Kokoro's af_heart voice, ok_nabu_v0.1 too:
# Kokoro voices are left out here).
REJECTED = {
    "okay, nab it": ["ok_nabu_v0.1"],
    "oh can you book a table": ["okay_nabu", "ok_nabu_v0.1"],
    "hey, Travis, are you there": ["hey_jarvis"],
    "hey Marvin, what is up": ["hey_jarvis", "hey_jarvis_v0.1"],
    "hey, my crowd is here": ["hey_mycroft_v0.1"],
    "Alex, so what do you think": ["alexa", "alexa_v0.1"],
}


async def test_near_misses_are_rejected(wake_server: ServiceProcess):
    assert set(REJECTED) <= set(NEAR_MISSES)
    for clip in cached_negatives(texts=tuple(REJECTED), voices=[*PIPER_VOICES, "espeak-us"]):
        events = await detect(wake_server.port, clip.pcm, REJECTED[clip.text])
        assert detections(events) == [], clip.label


async def test_noise_and_silence_wake_nothing(wake_server: ServiceProcess):
    rng = np.random.default_rng(7)
    white = rng.normal(0, 2000, 16000 * 20)
    brown = np.cumsum(rng.normal(0, 100, 16000 * 20))
    brown = 3000 * (brown - brown.mean()) / np.abs(brown - brown.mean()).max()
    noises = [np.clip(n, -32768, 32767).astype(np.int16).tobytes() for n in (white, brown)]
    for pcm in (clips.silence(10), *noises):
        events = await detect(wake_server.port, pcm, ALL_MODELS)
        assert [e.type for e in events] == ["not-detected", "pong"]


async def test_two_clients_at_once_with_different_models_and_engines(
    wake_server: ServiceProcess,
):
    nabu, jarvis = phrase_clip("okay nabu"), phrase_clip("hey jarvis")
    results = await asyncio.gather(
        detect(wake_server.port, nabu, ["okay_nabu"], chunk_bytes=640),
        detect(wake_server.port, jarvis, ["hey_jarvis_v0.1"], chunk_bytes=640),
        detect(wake_server.port, jarvis, ["okay_nabu"], chunk_bytes=640),
        detect(wake_server.port, nabu, ["hey_jarvis_v0.1"], chunk_bytes=640),
    )
    assert [detections(events) for events in results] == [
        ["okay_nabu"],
        ["hey_jarvis_v0.1"],
        [],
        [],
    ]


async def test_eight_satellites_in_real_time(wake_server: ServiceProcess):
    """Eight clients streaming at once in real time, each with its own state."""
    phrases = ["okay nabu", "hey jarvis", "alexa", "hey mycroft"]
    clients = []
    for index in range(8):
        phrase = phrases[index % 4]
        model = PHRASES[phrase][index // 4 % len(PHRASES[phrase])]
        clients.append((model, phrase_clip(phrase, KOKORO_VOICES[index % 2])))

    async def satellite(model: str, pcm: bytes) -> list[str]:
        client = await RawClient.connect(wake_server.port)
        try:
            await client.send("detect", {"names": [model]})
            await client.stream_audio(pcm, chunk_bytes=2048, realtime=True)
            events = await client.receive_until("detection", "not-detected", "error")
            return detections(events)
        finally:
            await client.close()

    results = await asyncio.gather(*(satellite(model, pcm) for model, pcm in clients))
    assert results == [[model] for model, _ in clients]
