"""Bad and unusual input: formats, chunk sizes, unknown models, dropped connections."""

import asyncio
import contextlib
import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pymicro_wakeword
import pytest
from wyoming.info import Info

from testkit import ROOT
from testkit.client import RawClient
from testkit.processes import ServiceProcess, run_server
from testkit.wake_client import detect, detections, read_until_pong
from testkit.wake_corpus import ALL_MODELS, phrase_clip
from wyoming_wake.models import DEFAULT_MODEL


def resample(pcm: bytes, rate: int) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop

        return bytes(audioop.ratecv(pcm, 2, 1, 16000, rate, None)[0])


async def test_unknown_model_gets_an_error_naming_the_models(wake_server: ServiceProcess):
    client = await RawClient.connect(wake_server.port)
    try:
        await client.send("detect", {"names": ["okay_nabu", "hey_siri"]})
        events = await read_until_pong(client.reader)
        assert [event.type for event in events] == ["error"]
        text = events[0].data["text"]
        assert "hey_siri" in text and "okay_nabu" in text and "hey_rhasspy_v0.1" in text
        assert events[0].data["code"] == "unknown-model"
        assert await client.is_closed()
    finally:
        await client.close()
    assert detections(await detect(wake_server.port, phrase_clip("okay nabu"))) == [DEFAULT_MODEL]


async def test_unknown_model_error_reaches_a_client_that_keeps_streaming(
    wake_server: ServiceProcess,
):
    """Like Home Assistant: detect, then audio at once; the error still arrives."""
    client = await RawClient.connect(wake_server.port, "1.5.4")
    try:
        reading = asyncio.create_task(read_until_pong(client.reader, timeout=10))
        fmt = {"rate": 16000, "width": 2, "channels": 1}
        await client.send("detect", {"names": ["hey_siri"]})
        await client.send("audio-start", fmt)
        pcm = phrase_clip("okay nabu")
        with contextlib.suppress(ConnectionError):
            for start in range(0, len(pcm), 2048):
                await client.send("audio-chunk", fmt, pcm[start : start + 2048])
                await asyncio.sleep(0.02)
        events = await reading
        assert [event.type for event in events] == ["error"]
        assert "hey_siri" in events[0].data["text"]
    finally:
        await client.close()


@pytest.mark.parametrize(
    ("rate", "width", "channels"), [(48000, 2, 2), (22050, 2, 1), (8000, 2, 1), (44100, 4, 1)]
)
async def test_other_audio_formats_are_converted(
    wake_server: ServiceProcess, rate, width, channels
):
    pcm = resample(phrase_clip("okay nabu"), rate)
    samples = np.frombuffer(pcm, np.int16).astype(np.int32)
    if width == 4:
        samples = samples << 16
    data = np.repeat(samples[:, None], channels, axis=1).astype(f"<i{width}").tobytes()
    events = await detect(
        wake_server.port,
        data,
        ["okay_nabu"],
        rate=rate,
        width=width,
        channels=channels,
        chunk_bytes=width * channels * 1000,
    )
    assert detections(events) == ["okay_nabu"], (rate, width, channels)


@pytest.mark.parametrize("chunk_bytes", [2, 74, 998, 32000])
async def test_odd_chunk_sizes(wake_server: ServiceProcess, chunk_bytes: int):
    pcm = phrase_clip("okay nabu")
    if chunk_bytes == 2:  # one sample per event is slow: only for the lead-in silence
        pcm = bytes(8000) + pcm
    models = ["okay_nabu", "ok_nabu_v0.1"]
    client = await RawClient.connect(wake_server.port)
    try:
        fmt = {"rate": 16000, "width": 2, "channels": 1}
        await client.send("detect", {"names": models})
        await client.send("audio-start", fmt)
        offset = 0
        while offset < len(pcm):
            size = chunk_bytes if chunk_bytes > 2 or offset < 8000 else 4096
            await client.send("audio-chunk", fmt, pcm[offset : offset + size])
            offset += size
        await client.send("audio-stop")
        await client.send("ping")
        events = await read_until_pong(client.reader)
    finally:
        await client.close()
    assert sorted(detections(events)) == sorted(models)


async def test_half_a_sample_is_an_error(wake_server: ServiceProcess):
    client = await RawClient.connect(wake_server.port)
    try:
        fmt = {"rate": 16000, "width": 2, "channels": 1}
        await client.send("audio-start", fmt)
        await client.send("audio-chunk", fmt, b"\x00\x01\x02")
        events = await read_until_pong(client.reader)
        assert events[0].type == "error" and "half a 16-bit sample" in events[0].data["text"]
    finally:
        await client.close()


async def test_bad_detect_and_bad_format_get_errors(wake_server: ServiceProcess):
    for event, data in (
        ("detect", {"names": "okay_nabu"}),
        ("audio-start", {"rate": 0, "width": 2, "channels": 1}),
        ("audio-start", {"rate": 16000, "width": 7, "channels": 1}),
    ):
        client = await RawClient.connect(wake_server.port)
        try:
            await client.send(event, data)
            events = await read_until_pong(client.reader)
            assert [e.type for e in events] == ["error"], (event, data)
        finally:
            await client.close()


async def test_audio_stop_without_a_stream_keeps_the_connection(wake_server: ServiceProcess):
    client = await RawClient.connect(wake_server.port)
    try:
        await client.send("audio-stop")
        await client.send("ping", {"text": "still here"})
        events = await read_until_pong(client.reader)
        assert [e.type for e in events] == ["error", "pong"]
    finally:
        await client.close()


async def test_chunks_without_audio_start_and_a_second_stream(wake_server: ServiceProcess):
    """Lenient: audio-chunk alone starts a stream; the models stay armed for the next one."""
    client = await RawClient.connect(wake_server.port)
    try:
        fmt = {"rate": 16000, "width": 2, "channels": 1}
        await client.send("detect", {"names": ["hey_jarvis"]})
        pcm = phrase_clip("hey jarvis")
        for start in range(0, len(pcm), 4096):
            await client.send("audio-chunk", fmt, pcm[start : start + 4096])
        await client.send("audio-stop")
        await client.stream_audio(phrase_clip("okay nabu"))
        await client.send("ping")
        events = await read_until_pong(client.reader)
        assert [e.type for e in events] == ["detection", "not-detected", "pong"]
        assert events[0].data["name"] == "hey_jarvis"
    finally:
        await client.close()


async def test_dropped_connection_mid_stream(wake_server: ServiceProcess):
    client = await RawClient.connect(wake_server.port)
    fmt = {"rate": 16000, "width": 2, "channels": 1}
    await client.send("detect", {"names": ALL_MODELS})
    await client.send("audio-start", fmt)
    await client.send("audio-chunk", fmt, phrase_clip("alexa")[:20000])
    await client.send("ping")
    await client.receive_until("pong")
    await client.send_raw(b'{"type": "audio-chunk", "payload_length": 100')  # cut mid-header
    client.writer.transport.abort()
    await asyncio.to_thread(wake_server.wait_for_log, "client left after")
    assert detections(await detect(wake_server.port, phrase_clip("alexa"), ["alexa"])) == ["alexa"]


async def test_home_assistant_style_stream_without_audio_stop(wake_server: ServiceProcess):
    """Home Assistant streams until a detection, then closes the connection."""
    client = await RawClient.connect(wake_server.port, "1.5.4")
    try:
        fmt = {"rate": 16000, "width": 2, "channels": 1}
        await client.send("detect", {"names": ["ok_nabu_v0.1"]})
        await client.send("audio-start", fmt)
        pcm = phrase_clip("okay nabu") + bytes(32000 * 5)
        for start in range(0, len(pcm), 2048):
            await client.send("audio-chunk", fmt, pcm[start : start + 2048])
        events = await client.receive_until("detection")
        assert events[-1].data["name"] == "ok_nabu_v0.1"
    finally:
        await client.close()


def make_custom_dir(directory: Path) -> Path:
    """A micro model (okay_nabu's weights as 'my_nabu') and an openWakeWord one."""
    directory.mkdir()
    builtin = Path(pymicro_wakeword.__file__).parent / "models"
    config = json.loads((builtin / "okay_nabu.json").read_text())
    config["model"] = "my_nabu.tflite"
    config["wake_word"] = "My Nabu"
    (directory / "my_nabu.json").write_text(json.dumps(config))
    shutil.copy(builtin / "okay_nabu.tflite", directory / "my_nabu.tflite")
    from wyoming_wake.models import openwakeword_dir

    features = openwakeword_dir()
    assert features is not None
    shutil.copy(features / "hey_jarvis_v0.1.tflite", directory / "butler_v0.1.tflite")
    (directory / "butler_v0.1.json").write_text(json.dumps({"wake_word": "Hey Butler"}))
    return directory


async def test_custom_model_dir(tmp_path: Path):
    custom = make_custom_dir(tmp_path / "models")
    with run_server("wyoming_wake", tmp_path, "--custom-model-dir", str(custom)) as server:
        client = await RawClient.connect(server.port)
        await client.send("describe")
        info = Info.from_event((await client.receive_until("info"))[-1])
        await client.close()
        models = {model.name: model for model in info.wake[0].models}
        assert models["my_nabu"].phrase == "My Nabu"
        assert models["butler_v0.1"].phrase == "Hey Butler"
        assert "custom" in (models["butler_v0.1"].description or "")
        nabu, jarvis = phrase_clip("okay nabu"), phrase_clip("hey jarvis")
        assert detections(await detect(server.port, nabu, ["my_nabu"])) == ["my_nabu"]
        assert detections(await detect(server.port, jarvis, ["butler_v0.1"])) == ["butler_v0.1"]
        assert detections(await detect(server.port, jarvis, ["my_nabu"])) == []


async def test_threshold_trigger_level_and_refractory_flags(tmp_path: Path):
    twice = phrase_clip("okay nabu") + phrase_clip("okay nabu", "kokoro-bm_george")
    with run_server("wyoming_wake", tmp_path) as server:  # 2 s: once per utterance
        assert detections(await detect(server.port, twice)) == [DEFAULT_MODEL, DEFAULT_MODEL]
    with run_server("wyoming_wake", tmp_path, "--refractory-seconds", "0.2") as server:
        assert len(detections(await detect(server.port, twice))) > 2  # the score stays high
    with run_server("wyoming_wake", tmp_path, "--refractory-seconds", "30") as server:
        assert detections(await detect(server.port, twice)) == [DEFAULT_MODEL]
    with run_server(
        "wyoming_wake", tmp_path, "--threshold", "0.9999", "--trigger-level", "40"
    ) as server:
        events = await detect(server.port, twice)
        assert [e.type for e in events] == ["not-detected", "pong"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--threshold", "1.5"], "--threshold must be between 0 and 1"),
        (["--trigger-level", "0"], "--trigger-level must be at least 1"),
        (["--model", "hey_siri"], "unknown wake word model 'hey_siri'"),
        (["--custom-model-dir", "/nonexistent"], "is not a directory"),
    ],
)
def test_bad_command_line(args: list[str], message: str):
    result = subprocess.run(
        [sys.executable, "-m", "wyoming_wake", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and message in result.stderr, result.stderr


async def test_vad_gate_skips_silence(tmp_path: Path):
    pcm = bytes(32000 * 20) + phrase_clip("okay nabu") + bytes(32000 * 20)
    with run_server("wyoming_wake", tmp_path, "--vad") as server:
        events = await detect(server.port, pcm, ["okay_nabu", "ok_nabu_v0.1"])
        assert sorted(detections(events)) == ["ok_nabu_v0.1", "okay_nabu"]
        log = server.wait_for_log("VAD skipped")
    skipped = int(log.split("VAD skipped ")[1].split("%")[0])
    assert skipped >= 80


async def test_many_connections_at_once_do_not_stall_describe(wake_server: ServiceProcess):
    """While eight clients push audio as fast as they can, describe is answered at once."""
    pcm = phrase_clip("okay nabu") * 2
    pushing = [asyncio.create_task(detect(wake_server.port, pcm, ALL_MODELS)) for _ in range(8)]
    await asyncio.sleep(0.5)
    client = await RawClient.connect(wake_server.port)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await client.send("describe")
    await client.receive_until("info", timeout=5)
    answered = loop.time() - started
    await client.close()
    results = await asyncio.gather(*pushing)
    assert all(detections(events) for events in results)
    assert answered < 0.5, answered
