"""The text-to-speech server, for real: both engines, checked by listening with our STT."""

import asyncio

import pytest

from local_voice.info import describe
from testkit import clips
from testkit.client import transcribe, transcript_text
from testkit.processes import ServiceProcess
from testkit.tts_client import heard, synthesize, synthesize_streaming, words
from testkit.wer import word_error_rate

COMMAND = "The kitchen lights are now off."
REQUIRED_KOKORO = {
    "af_heart": "en_US",
    "am_michael": "en_US",
    "bf_emma": "en_GB",
    "bm_george": "en_GB",
}


async def test_info_lists_installed_voices_with_real_languages(tts_server: ServiceProcess):
    info = await describe("127.0.0.1", tts_server.port, timeout=5)
    assert info is not None
    program = info.tts[0]
    assert program.name == "local-voice-tts" and program.installed
    assert program.supports_synthesize_streaming is True
    voices = {voice.name: voice for voice in program.voices}
    assert voices["en_US-joe-medium"].languages == ["en_US"]
    for name, language in REQUIRED_KOKORO.items():
        assert voices[name].languages == [language], name
    assert all(voice.installed for voice in voices.values())


@pytest.mark.parametrize(
    ("voice", "rate"),
    [("en_US-joe-medium", 22050), ("af_heart", 24000), ("bm_george", 24000)],
)
async def test_synthesize_is_heard_correctly(
    tts_server: ServiceProcess, stt_server: ServiceProcess, voice: str, rate: int
):
    answer = await synthesize(tts_server.port, COMMAND, {"name": voice}, version="1.5.4")
    assert answer.non_audio() == ["audio-start", "audio-stop"]
    assert (answer.format.rate, answer.format.width, answer.format.channels) == (rate, 2, 1)
    assert answer.types.count("audio-chunk") > 1  # sent in chunks, not one blob
    assert 1.0 < answer.seconds < 4.5, answer.seconds
    text = await heard(stt_server.port, answer)
    assert word_error_rate(COMMAND, text) <= 0.15, text


async def test_numbers_times_and_units_are_spoken(
    tts_server: ServiceProcess, stt_server: ServiceProcess
):
    answer = await synthesize(tts_server.port, "It is 21.5 °C and the alarm is set for 7:30.")
    text = await heard(stt_server.port, answer)
    spoken = "it is twenty one point five degrees celsius and the alarm is set for seven thirty"
    assert word_error_rate(spoken, text) <= 0.25, text
    assert "°" not in text and "C." not in text


async def test_markdown_emoji_and_ssml_are_not_read_out(
    tts_server: ServiceProcess, stt_server: ServiceProcess
):
    text = (
        "**Done!** 👍🏽 <speak>I turned <emphasis>off</emphasis> the `kitchen` lights.</speak> 💡"
    )
    answer = await synthesize(tts_server.port, text, {"name": "af_heart"})
    assert answer.non_audio() == ["audio-start", "audio-stop"]
    assert (
        word_error_rate(
            "done I turned off the kitchen lights", await heard(stt_server.port, answer)
        )
        <= 0.15
    )


async def test_streaming_speaks_before_the_text_is_complete(
    tts_server: ServiceProcess, stt_server: ServiceProcess
):
    text = (
        "Sure, I can help with that. The living room is twenty degrees. "
        "I also turned on the hallway light for you."
    )
    result = await synthesize_streaming(tts_server.port, [w + " " for w in words(text)], delay=0.15)
    answer = result.answer
    assert answer.non_audio() == ["audio-start", "audio-stop", "synthesize-stopped"]
    assert answer.first_audio_time() < result.last_chunk_sent
    assert word_error_rate(text, await heard(stt_server.port, answer)) <= 0.15


async def test_voice_chosen_per_request_and_clients_served_at_once(tts_server: ServiceProcess):
    voices = ["en_US-joe-medium", "af_heart", "en_US-joe-medium", "bf_emma"]
    answers = await asyncio.gather(
        *(synthesize(tts_server.port, "Good morning.", {"name": v}) for v in voices)
    )
    rates = [answer.format.rate for answer in answers]
    assert rates == [22050, 24000, 22050, 24000]
    assert all(answer.seconds > 0.4 for answer in answers)


async def test_voice_chosen_by_language(tts_server: ServiceProcess):
    answer = await synthesize(tts_server.port, "Good morning.", {"language": "en_GB"})
    assert answer.format.rate == 24000  # a Kokoro British voice, not the US Piper default
    log = tts_server.wait_for_log("bf_emma")
    assert "bf_emma" in log or "bm_george" in log


async def test_kokoro_test_clips_are_16k_speech(stt_server: ServiceProcess):
    text = "open the garage door"
    pcm = clips.kokoro(text, "bm_george")
    assert len(pcm) % 2 == 0 and 0.8 < len(pcm) / 32000 < 3.0
    heard = transcript_text(await transcribe(stt_server.port, clips.padded(pcm)))
    assert word_error_rate(text, heard) == 0, heard
