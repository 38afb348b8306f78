"""The TTS server with Home Assistant 2025.4's own client library (wyoming 1.5.4)."""

import asyncio
import wave
from pathlib import Path

import pytest

from local_voice.audio import PcmConverter, PcmFormat
from testkit.client import transcribe, transcript_text
from testkit.processes import ServiceProcess
from testkit.wer import word_error_rate

TEXT = "The front door is locked."


def wav_to_pcm16k(path: Path) -> bytes:
    with wave.open(str(path), "rb") as wav:
        fmt = PcmFormat(wav.getframerate(), wav.getsampwidth(), wav.getnchannels())
        return PcmConverter().convert(wav.readframes(wav.getnframes()), fmt)


@pytest.mark.slow
async def test_home_assistant_2025_4_speaks_with_every_voice(
    ha_client, tts_server: ServiceProcess, stt_server: ServiceProcess, tmp_path
):
    answer = await asyncio.to_thread(
        ha_client, "ha_tts_client.py", tts_server.port, tmp_path, TEXT, timeout=600
    )
    assert answer["wyoming"] == "1.5.4" and answer["program"] == "local-voice-tts"
    assert {"en_US", "en_GB"} <= set(answer["languages"])
    voices = answer["voices"]
    assert {"en_US-joe-medium", "af_heart", "am_michael", "bf_emma", "bm_george"} <= set(voices)
    misheard = {}
    for name, spoken in voices.items():
        assert spoken["events"] == ["audio-chunk", "audio-start", "audio-stop"], name
        assert spoken["rate"] == (22050 if name == "en_US-joe-medium" else 24000)
        pcm = wav_to_pcm16k(Path(spoken["wav"]))
        assert 1.0 < len(pcm) / 32000 < 4.0, name
        heard = transcript_text(
            await transcribe(stt_server.port, bytes(3200) + pcm + bytes(16000), version="1.5.4")
        )
        if word_error_rate(TEXT, heard) > 0.2:
            misheard[name] = heard
    assert not misheard, misheard
