"""Code shared by the Local Voice services."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("local-voice")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

PROJECT_URL = "https://github.com/local-voice/local-voice"
