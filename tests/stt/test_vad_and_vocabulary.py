"""Streaming VAD, name biasing and word error rate: the helpers the server builds on."""

import numpy as np
from wyoming.asr import Transcribe

from local_voice.audio import int16_to_float32
from testkit import clips
from testkit.wer import normalize, word_error_rate
from wyoming_stt.transcriber import compression_ratio, is_repetitive
from wyoming_stt.vad import FRAME_SAMPLES, VadStream
from wyoming_stt.vocabulary import Vocabulary


def test_vad_finds_speech_between_silences():
    audio = int16_to_float32(
        clips.silence(1.0) + clips.piper("turn off the kitchen lights") + clips.silence(1.0)
    )
    stream = VadStream()
    probs = np.concatenate([stream.process(audio[i : i + 700]) for i in range(0, len(audio), 700)])
    probs = np.concatenate([probs, stream.flush()])
    assert len(probs) == -(-len(audio) // FRAME_SAMPLES)
    frames_per_second = 16000 / FRAME_SAMPLES
    assert probs[: int(0.8 * frames_per_second)].max() < 0.3  # leading silence
    assert probs[-int(0.8 * frames_per_second) :].max() < 0.3  # trailing silence
    assert (probs > 0.5).sum() > 0.5 * frames_per_second  # the speech


def test_vad_ignores_noise():
    rng = np.random.default_rng(1)
    noise = (rng.normal(0, 0.1, 32000)).astype(np.float32)  # 2 s of loud white noise
    assert VadStream().process(noise).max() < 0.5


def test_vad_is_the_same_streamed_or_whole():
    audio = int16_to_float32(clips.padded(clips.espeak("hello there")))
    whole = VadStream().process(audio)
    stream = VadStream()
    pieces = np.concatenate([stream.process(audio[i : i + 123]) for i in range(0, len(audio), 123)])
    assert np.allclose(whole, pieces, atol=1e-5)


def test_vocabulary_from_request_fields_and_context():
    request = Transcribe(
        transcript_names=["Living Room Lamp"],
        transcript_terms=["HVAC"],
        context={
            "names": ["Kitchen Lights", "living room lamp"],
            "areas": ["Office"],
            "entities": [{"name": "Garage Door", "aliases": ["Big Door"], "area": "Garage"}, 5],
            "terms": "Zigbee",
        },
    )
    vocabulary = Vocabulary.from_request(request)
    assert vocabulary.names == (
        "Living Room Lamp",
        "Kitchen Lights",
        "Garage Door",
        "Big Door",
        "Garage",
        "Office",
    )
    assert vocabulary.terms == ("HVAC", "Zigbee")
    assert (
        vocabulary.prompt()
        == "Living Room Lamp, Kitchen Lights, Garage Door, Big Door, Garage, Office, HVAC, Zigbee."
    )
    assert (
        Vocabulary.from_request(Transcribe(context={"names": 5, "entities": "x"})) == Vocabulary()
    )


def test_snap_fixes_near_misses_and_spelling():
    vocabulary = Vocabulary(("Living Room Lamp", "Kitchen Lights", "Bedroom", "TV"))
    assert vocabulary.snap("Turn on the living room ramp.") == "Turn on the Living Room Lamp."
    assert vocabulary.snap("turn off the kitchen light") == "turn off the Kitchen Lights"
    assert vocabulary.snap("set bed room to 20") == "set Bedroom to 20"
    # Unrelated words and very short names are left alone.
    assert vocabulary.snap("Turn on the lights in the hall.") == "Turn on the lights in the hall."
    assert vocabulary.snap("turn on the tv") == "turn on the tv"


def test_prompt_stays_within_whisper_limit():
    vocabulary = Vocabulary(tuple(f"Device number {i}" for i in range(400)))
    prompt = vocabulary.prompt()
    assert prompt is not None and len(prompt) <= 601


def test_wer_normalisation():
    assert normalize("Set it to Forty-Two percent!") == ["set", "it", "to", "42", "percent"]
    assert word_error_rate("set the lights to forty percent", "Set the lights to 40%.") == 0
    assert word_error_rate("turn on the lamp", "turn on the ramp") == 0.25
    assert word_error_rate("never mind", "Nevermind.") == 0


def test_repetition_and_compression_checks():
    assert is_repetitive("Open the garage door. Open the garage door.")
    assert not is_repetitive("Turn off the kitchen lights and the hall lights.")
    assert (
        compression_ratio("hello " * 50) > 2.4 > compression_ratio("Turn off the kitchen lights.")
    )
