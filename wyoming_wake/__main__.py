"""python -m wyoming_wake: the Local Voice wake-word server."""

import argparse
import logging
from pathlib import Path

from wyoming.info import Attribution, Info, WakeModel, WakeProgram

from local_voice import PROJECT_URL, __version__
from local_voice.cli import add_common_args, setup_logging
from local_voice.ports import WAKE_PORT
from local_voice.server import run_service, serve_from_cli

from .detector import TriggerRules
from .handler import WakeEventHandler
from .models import (
    DEFAULT_MODEL,
    OPENWAKEWORD_LICENSE,
    SINGLE_DEFAULT,
    WakeModelSpec,
    catalog,
    default_model,
    openwakeword_dir,
    usable,
)
from .service import PROGRAM_NAME, UnknownModel, WakeService

_LOGGER = logging.getLogger("wyoming_wake")


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m wyoming_wake",
        description="Wyoming wake-word server (microWakeWord and openWakeWord)",
    )
    add_common_args(parser, default_port=WAKE_PORT, service=PROGRAM_NAME)
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME",
        help="Model armed when a client's detect names none; repeatable "
        f"({DEFAULT_MODEL}: microWakeWord and openWakeWord confirming each other; "
        f"{SINGLE_DEFAULT} without the openWakeWord files)",
    )
    parser.add_argument(
        "--preload-model",
        action="append",
        default=[],
        metavar="NAME",
        help="Load this model at start-up; repeatable (default: the --model set)",
    )
    parser.add_argument(
        "--custom-model-dir",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="Directory of extra .tflite models with their .json; repeatable",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        help="Probability needed to fire, 0-1, for every model and both models of a fused "
        "pair (default: each microWakeWord model's own cut-off, 0.5 for openWakeWord, the "
        "calibrated pair's own)",
    )
    parser.add_argument(
        "--trigger-level",
        type=int,
        default=1,
        help="Consecutive inferences above the threshold needed to fire a single model (1)",
    )
    parser.add_argument(
        "--refractory-seconds",
        type=float,
        default=2.0,
        help="Seconds after a detection before the same model can fire again (2)",
    )
    parser.add_argument(
        "--vad",
        action="store_true",
        help="Skip wake-word inference while pymicro-vad hears no speech (saves CPU)",
    )
    parser.add_argument(
        "--vad-threshold", type=float, default=0.5, help="Speech probability for --vad (0.5)"
    )
    return parser


def build_info(models: dict[str, WakeModelSpec]) -> Info:
    program = WakeProgram(
        name=PROGRAM_NAME,
        description="Local Voice wake-word detection (microWakeWord, openWakeWord); "
        f"the openWakeWord models are {OPENWAKEWORD_LICENSE}",
        attribution=Attribution(name="Local Voice", url=PROJECT_URL),
        installed=bool(models),
        version=__version__,
        models=[
            WakeModel(
                name=spec.name,
                description=spec.description,
                phrase=spec.phrase,
                attribution=Attribution(name=spec.attribution[0], url=spec.attribution[1]),
                installed=True,
                languages=spec.languages,
                version=None,
            )
            for spec in models.values()
        ],
    )
    return Info(wake=[program])


def check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.threshold is not None and not 0 < args.threshold < 1:
        parser.error("--threshold must be between 0 and 1")
    if args.trigger_level < 1:
        parser.error("--trigger-level must be at least 1")
    if args.refractory_seconds < 0:
        parser.error("--refractory-seconds can't be negative")
    for directory in args.custom_model_dir:
        if not directory.is_dir():
            parser.error(f"--custom-model-dir {directory} is not a directory")


async def main() -> None:
    parser = get_parser()
    args = parser.parse_args()
    setup_logging(args)
    check_args(parser, args)
    try:
        models = catalog(args.custom_model_dir)
    except (ValueError, KeyError, OSError) as err:
        parser.error(f"can't read the models: {err}")
    features = openwakeword_dir()
    models = usable(models, features)
    if not models:
        parser.error("no wake-word model is installed: pip install 'local-voice[wake]'")
    service = WakeService(
        info=build_info(models),
        models=models,
        default_models=args.model or [default_model(models)],
        rules=TriggerRules(
            threshold=args.threshold,
            trigger_level=args.trigger_level,
            refractory_seconds=args.refractory_seconds,
            vad=args.vad,
            vad_threshold=args.vad_threshold,
        ),
        openwakeword_dir=features,
    )
    try:
        service.arm(None)
        preload = args.preload_model or service.default_models
        for name in preload:
            service.resolve(name)
    except UnknownModel as err:
        parser.error(str(err))
    _LOGGER.info("Models: %s", ", ".join(f"{s.name} ({s.engine})" for s in models.values()))

    await serve_from_cli(
        parser,
        args,
        lambda reader, writer: WakeEventHandler(reader, writer, service),
        on_listening=lambda: service.preload(preload),
        on_stop=service.close,
    )


def run() -> None:
    run_service(main)


if __name__ == "__main__":
    run()
