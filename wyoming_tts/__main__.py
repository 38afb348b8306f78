"""python -m wyoming_tts: the Local Voice text-to-speech server (Piper and Kokoro)."""

import argparse
import logging
import os
from pathlib import Path

from wyoming.info import Attribution, Info, TtsProgram, TtsVoice, TtsVoiceSpeaker

from local_voice import PROJECT_URL, __version__
from local_voice.cli import add_common_args, setup_logging
from local_voice.ports import TTS_PORT
from local_voice.server import run_service, serve_from_cli

from .handler import TtsEventHandler
from .models import DEFAULT_VOICE, VoiceSource, catalog
from .service import PROGRAM_NAME, Settings, TtsService

_LOGGER = logging.getLogger("wyoming_tts")
ENGINE_DEFAULT_VOICES = {"piper": DEFAULT_VOICE, "kokoro": "af_heart"}
ATTRIBUTIONS = {
    "piper": Attribution(name="Piper (rhasspy)", url="https://github.com/OHF-Voice/piper1-gpl"),
    "kokoro": Attribution(
        name="Kokoro-82M (hexgrad)", url="https://huggingface.co/hexgrad/Kokoro-82M"
    ),
}


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m wyoming_tts", description="Wyoming text-to-speech server (Piper, Kokoro)"
    )
    add_common_args(parser, default_port=TTS_PORT, service=PROGRAM_NAME)
    parser.add_argument("--voice", help=f"Default voice ({DEFAULT_VOICE}; af_heart for Kokoro)")
    parser.add_argument(
        "--engine", choices=sorted(ENGINE_DEFAULT_VOICES), help="Engine of the default voice"
    )
    parser.add_argument("--speaker", help="Default speaker of a multi-speaker voice")
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument("--length-scale", type=float, help="Piper's pace: > 1 is slower (1.0)")
    pace.add_argument("--speed", type=float, help="Kokoro's pace: > 1 is faster (1.0)")
    parser.add_argument(
        "--data-dir",
        action="append",
        default=[],
        type=Path,
        help="Directory with more voices: Piper NAME.onnx + NAME.onnx.json, Kokoro NAME.bin "
        "(kokoro-js) or .npz (may be repeated)",
    )
    parser.add_argument(
        "--max-loaded-voices", type=int, default=3, help="Models kept loaded, LRU (3)"
    )
    parser.add_argument(
        "--threads", type=int, default=min(os.cpu_count() or 2, 4), help="Threads per synthesis"
    )
    parser.add_argument("--workers", type=int, default=2, help="Syntheses run in parallel (2)")
    parser.add_argument(
        "--samples-per-chunk", type=int, default=1024, help="Samples per audio-chunk (1024)"
    )
    return parser


def build_info(voices: dict[str, VoiceSource]) -> Info:
    program = TtsProgram(
        name=PROGRAM_NAME,
        description="Local Voice text-to-speech (Piper, Kokoro-82M)",
        attribution=Attribution(name="Local Voice", url=PROJECT_URL),
        installed=bool(voices),
        version=__version__,
        voices=[
            TtsVoice(
                name=source.name,
                description=source.description,
                attribution=ATTRIBUTIONS[source.engine],
                installed=True,
                version=None,
                languages=[source.language],
                speakers=[TtsVoiceSpeaker(name=s) for s in source.speakers] or None,
            )
            for source in voices.values()
        ],
        supports_synthesize_streaming=True,
    )
    return Info(tts=[program])


def settings_from(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Settings:
    for option in ("max_loaded_voices", "threads", "workers", "samples_per_chunk"):
        if getattr(args, option) <= 0:
            parser.error(f"--{option.replace('_', '-')} must be greater than zero")
    speed = 1.0
    if args.length_scale is not None:
        if not 0.1 <= args.length_scale <= 10:
            parser.error("--length-scale must be between 0.1 and 10")
        speed = 1.0 / args.length_scale
    elif args.speed is not None:
        if not 0.1 <= args.speed <= 10:
            parser.error("--speed must be between 0.1 and 10")
        speed = args.speed
    return Settings(
        default_voice=args.voice or ENGINE_DEFAULT_VOICES[args.engine or "piper"],
        default_speaker=args.speaker,
        speed=speed,
        max_loaded=args.max_loaded_voices,
        threads=args.threads,
        workers=args.workers,
        samples_per_chunk=args.samples_per_chunk,
    )


async def main() -> None:
    parser = get_parser()
    args = parser.parse_args()
    setup_logging(args)
    settings = settings_from(parser, args)
    voices = catalog(args.data_dir)
    default = voices.get(settings.default_voice)
    if default is None:
        parser.error(
            f"voice '{settings.default_voice}' is not installed; voices: {', '.join(voices)}"
            + ("" if voices else " none (pip install 'local-voice[tts]'; local_voice.prepare)")
        )
    if args.engine and default.engine != args.engine:
        parser.error(f"voice '{default.name}' is a {default.engine} voice, not {args.engine}")
    service = TtsService(build_info(voices), voices, settings)
    try:
        service.voice(default.name)  # checks --speaker
    except ValueError as err:
        parser.error(str(err))
    _LOGGER.info(
        "%d voices (%s); default %s", len(voices), ", ".join(voices), settings.default_voice
    )
    await serve_from_cli(
        parser,
        args,
        lambda reader, writer: TtsEventHandler(reader, writer, service),
        on_listening=lambda: service.preload(default),
        on_stop=service.close,
    )


def run() -> None:
    run_service(main)


if __name__ == "__main__":
    run()
