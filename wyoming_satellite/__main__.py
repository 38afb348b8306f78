"""`python -m wyoming_satellite`: a voice satellite Home Assistant connects to.

With no flags: the embedded "Okay Nabu" detector, the default sound devices through
PortAudio, echo cancellation, and a zeroconf announcement on tcp://0.0.0.0:10700.
Flag names follow wyoming-satellite's so that its systemd units move over.
"""

import argparse
import logging
import socket
from pathlib import Path

from wyoming.info import Attribution, Info
from wyoming.info import Satellite as SatelliteInfo

from local_voice import PROJECT_URL, __version__
from local_voice.cli import add_common_args, setup_logging
from local_voice.ports import SATELLITE_PORT
from local_voice.server import run_service, serve_from_cli
from wyoming_wake.__main__ import build_info as wake_info
from wyoming_wake.models import UnknownModel

from .audio_io import CommandMic, CommandSink, MicSource, SoundDeviceMic, SoundDeviceSink, SoundSink
from .echo import EchoCanceller
from .handler import SatelliteEventHandler
from .mic_processing import MicProcessor
from .player import Player
from .satellite import Satellite, Tones
from .speech_end import SpeechEndSettings
from .tones import TONES, load_tone
from .wake import LocalWake, RemoteWake, WakeWords

_LOGGER = logging.getLogger(__name__)
PROGRAM_NAME = "local-voice-satellite"


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m wyoming_satellite", description=__doc__)
    add_common_args(parser, default_port=SATELLITE_PORT, service=PROGRAM_NAME)
    # Home Assistant connects from another machine: every address, announced over mDNS
    default_uri = f"tcp://0.0.0.0:{SATELLITE_PORT}"
    parser.set_defaults(uri=default_uri)
    for action in parser._actions:
        if action.dest == "uri":
            action.help = f"tcp://HOST:PORT, unix://PATH or stdio:// ({default_uri})"
        elif action.dest == "zeroconf":
            action.help = "Announce over zeroconf (mDNS) under this name (on by default: --name)"
    parser.add_argument("--no-zeroconf", action="store_true", help="Don't announce over mDNS")
    parser.add_argument("--name", default=socket.gethostname(), help="Satellite name (host name)")
    parser.add_argument("--area", help="Area the satellite is in")
    mic = parser.add_argument_group("microphone")
    mic.add_argument("--mic-command", help="Command that prints raw PCM (e.g. arecord ... -t raw)")
    mic.add_argument("--mic-command-rate", type=int, default=16000)
    mic.add_argument("--mic-command-width", type=int, default=2)
    mic.add_argument("--mic-command-channels", type=int, default=1)
    mic.add_argument("--mic-device", help="PortAudio input device (name or index)")
    mic.add_argument("--mic-volume-multiplier", type=float, default=1.0)
    mic.add_argument("--mic-auto-gain", type=int, default=0, help="Target dBFS 0-31 (0: off)")
    mic.add_argument("--mic-noise-suppression", type=int, default=0, help="0-4 (0: off)")
    snd = parser.add_argument_group("speaker")
    snd.add_argument("--snd-command", help="Command that plays raw PCM (e.g. aplay ... -t raw)")
    snd.add_argument("--snd-command-rate", type=int, default=22050)
    snd.add_argument("--snd-command-width", type=int, default=2)
    snd.add_argument("--snd-command-channels", type=int, default=1)
    snd.add_argument("--snd-device", help="PortAudio output device (name or index)")
    snd.add_argument("--snd-volume-multiplier", type=float, default=1.0)
    wake = parser.add_argument_group("wake word")
    wake.add_argument(
        "--wake-word", action="append", help="Embedded model or phrase (okay_nabu_fused)"
    )
    wake.add_argument("--wake-uri", help="Use a wake-word service instead (tcp://HOST:PORT)")
    wake.add_argument("--wake-word-name", action="append", help="Model(s) the service arms")
    wake.add_argument("--stop-word", help="Model that stops playback (no 'stop' model is packaged)")
    wake.add_argument(
        "--custom-model-dir",
        type=Path,
        action="append",
        default=[],
        help="Directory of microWakeWord/openWakeWord models (e.g. a 'stop' model)",
    )
    parser.add_argument(
        "--silence-seconds",
        type=float,
        default=SpeechEndSettings.silence_seconds,
        help=f"Silence that ends a command ({SpeechEndSettings.silence_seconds})",
    )
    parser.add_argument("--no-echo-cancel", action="store_true", help="Turn echo cancellation off")
    parser.add_argument(
        "--echo-engine",
        choices=("speex", "webrtc"),
        default="speex",
        help="speex keeps the user's voice over playback; webrtc (AEC3) removes more echo "
        "but also much of the user (speex)",
    )
    parser.add_argument(
        "--echo-delay-ms",
        type=float,
        default=0.0,
        help="Sound device and room delay beyond the player's own 60 ms lead (0)",
    )
    sounds = parser.add_argument_group("sounds")
    sounds.add_argument(
        "--awake-wav", type=Path, help="Played when the wake word is heard (default: none)"
    )
    sounds.add_argument(
        "--awake-tone",
        action="store_true",
        help="Play the embedded awake tone (off by default: it overlaps the command's first word)",
    )
    sounds.add_argument("--done-wav", type=Path, help="Played when the command was heard")
    sounds.add_argument("--error-wav", type=Path, help="Played on an error")
    sounds.add_argument("--timer-finished-wav", type=Path, help="Rung when a timer finishes")
    sounds.add_argument(
        "--timer-finished-wav-repeat",
        nargs=2,
        type=float,
        metavar=("REPEAT", "DELAY"),
        default=(15, 0.5),
        help="Rings and seconds between them (15 0.5)",
    )
    sounds.add_argument("--no-tones", action="store_true", help="No awake/done/error tones")
    return parser


def build_info(args: argparse.Namespace, wake: LocalWake | RemoteWake) -> Info:
    names = wake.names
    info = Info(
        satellite=SatelliteInfo(
            name=args.name,
            area=args.area,
            description="Local Voice satellite",
            attribution=Attribution(name="Local Voice", url=PROJECT_URL),
            installed=True,
            version=__version__,
            has_vad=True,
            active_wake_words=names,
            max_active_wake_words=len(names) or 1,
            supports_trigger=False,
        )
    )
    if isinstance(wake, LocalWake):
        info.wake = wake_info({name: wake.wake.armed[name] for name in names}).wake
    return info


def _mic(args: argparse.Namespace) -> MicSource:
    if args.mic_command:
        return CommandMic(
            args.mic_command,
            rate=args.mic_command_rate,
            width=args.mic_command_width,
            channels=args.mic_command_channels,
            volume=args.mic_volume_multiplier,
        )
    return SoundDeviceMic(args.mic_device, volume=args.mic_volume_multiplier)


def _sink(args: argparse.Namespace) -> SoundSink:
    if args.snd_command:
        return CommandSink(
            args.snd_command,
            rate=args.snd_command_rate,
            width=args.snd_command_width,
            channels=args.snd_command_channels,
            volume=args.snd_volume_multiplier,
        )
    return SoundDeviceSink(args.snd_device, volume=args.snd_volume_multiplier)


def _tones(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Tones:
    paths = {
        "awake": args.awake_wav,
        "done": args.done_wav,
        "error": args.error_wav,
        "timer": args.timer_finished_wav,
    }
    sounds: dict[str, tuple[bytes, int] | None] = {}
    for name in TONES:
        silent = args.no_tones or (name == "awake" and not args.awake_tone)
        if silent and name != "timer" and paths[name] is None:
            sounds[name] = None
            continue
        try:
            sounds[name] = load_tone(paths[name], name)
        except ValueError as err:
            parser.error(str(err))
    repeat, pause = args.timer_finished_wav_repeat
    return Tones(sounds, timer_repeat=max(int(repeat), 1), timer_pause=max(pause, 0.0))


def _wake(parser: argparse.ArgumentParser, args: argparse.Namespace) -> WakeWords:
    dirs = tuple(args.custom_model_dir)
    for directory in dirs:
        if not directory.is_dir():
            parser.error(f"--custom-model-dir {directory} is not a directory")
    try:
        wake: LocalWake | RemoteWake = (
            RemoteWake(args.wake_uri, args.wake_word_name)
            if args.wake_uri
            else LocalWake(args.wake_word, custom_dirs=dirs)
        )
        stop = LocalWake([args.stop_word], custom_dirs=dirs) if args.stop_word else None
    except UnknownModel as err:
        parser.error(str(err))
    return WakeWords(wake, stop)


async def main() -> None:
    parser = get_parser()
    args = parser.parse_args()
    setup_logging(args)
    try:
        processor = MicProcessor(args.mic_auto_gain, args.mic_noise_suppression)
    except ValueError as err:
        parser.error(str(err))
    if args.silence_seconds <= 0:
        parser.error("--silence-seconds must be positive")
    tones = _tones(parser, args)
    wake = _wake(parser, args)
    player_lead = 0.06
    echo_options = {} if args.echo_delay_ms is None else {"delay_ms": args.echo_delay_ms}
    echo = EchoCanceller(enabled=not args.no_echo_cancel, engine=args.echo_engine, **echo_options)
    player = Player(_sink(args), None, lead=player_lead)
    satellite = Satellite(
        mic=_mic(args),
        processor=processor,
        echo=echo,
        wake=wake,
        player=player,
        tones=tones,
        speech_end=SpeechEndSettings(silence_seconds=args.silence_seconds),
    )
    player.on_played = satellite.on_played
    info = build_info(args, wake.wake)
    if not args.no_zeroconf and args.zeroconf is None and args.uri.startswith("tcp://"):
        args.zeroconf = args.name
    if args.no_zeroconf:
        args.zeroconf = None
    _LOGGER.info(
        "Satellite %r%s: wake word %s, stop word %s, echo cancellation %s",
        args.name,
        f" in {args.area}" if args.area else "",
        ", ".join(wake.names) + (f" at {args.wake_uri}" if args.wake_uri else " (embedded)"),
        args.stop_word or "none",
        "off" if args.no_echo_cancel else "on",
    )
    satellite.start()
    try:
        await serve_from_cli(
            parser,
            args,
            lambda reader, writer: SatelliteEventHandler(reader, writer, satellite, info),
        )
    finally:
        await satellite.close()


def run() -> None:
    run_service(main)


if __name__ == "__main__":
    run()
