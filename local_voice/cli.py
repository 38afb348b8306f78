"""Command-line options and logging set-up common to every service."""

import argparse
import logging

DEFAULT_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def add_common_args(parser: argparse.ArgumentParser, *, default_port: int, service: str) -> None:
    """Add --uri, --zeroconf, --debug and --log-format to a service's parser.

    The default URI listens on loopback only; `--uri tcp://0.0.0.0:PORT` opens it up.
    """
    default_uri = f"tcp://127.0.0.1:{default_port}"
    parser.add_argument(
        "--uri",
        default=default_uri,
        help=f"tcp://HOST:PORT, unix://PATH or stdio:// ({default_uri})",
    )
    parser.add_argument(
        "--zeroconf",
        nargs="?",
        const=service,
        metavar="NAME",
        help=f"Announce the service over zeroconf (mDNS) with an optional name ({service})",
    )
    parser.add_argument("--debug", action="store_true", help="Log debug messages")
    parser.add_argument(
        "--log-format", default=DEFAULT_LOG_FORMAT, help="Format of log lines (Python logging)"
    )


def setup_logging(args: argparse.Namespace) -> None:
    """Configure the root logger from --debug and --log-format."""
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO, format=args.log_format, force=True
    )
