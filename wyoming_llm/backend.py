"""What every model backend does: continue a chat, streaming text, under a constraint."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

Message = dict[str, str]
TextCallback = Callable[[str], bool]  # gets each piece of text; False stops generation


class BackendError(RuntimeError):
    """The backend failed or timed out; the request can't be answered by it."""


@dataclass(frozen=True)
class GenerationRequest:
    prefix: tuple[Message, ...]  # static: instructions, devices, examples (cacheable)
    prefix_key: str
    messages: tuple[Message, ...]  # the conversation so far and the user's words
    grammar: str | None = None  # GBNF for compact output (embedded model)
    schema: dict[str, Any] | None = None  # JSON schema (remote servers)
    continuation: str = ""  # the start of the answer, already accepted
    max_tokens: int = 96
    deadline: float | None = None  # time.monotonic() by which to give up


@dataclass
class GenerationStats:
    prompt_tokens: int = 0  # tokens evaluated for this request (not cached)
    generated_tokens: int = 0
    seconds: float = 0.0
    first_token_seconds: float | None = None
    threads: int | None = None  # CPU threads the in-process model ended on
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def decode_rate(self) -> float:
        """Generated tokens per second after the first one (prompt evaluation excluded)."""
        decoding = self.seconds - (self.first_token_seconds or 0.0)
        return (self.generated_tokens - 1) / decoding if decoding > 0 else 0.0


class Backend(Protocol):
    description: str
    compact: bool  # True: writes compact lines under a GBNF grammar; False: JSON

    def generate(self, request: GenerationRequest, on_text: TextCallback) -> GenerationStats:
        """Blocking; call from a worker thread. Raises BackendError."""
        ...

    def available(self) -> bool:
        """False while a failed backend waits out its back-off."""
        ...

    def close(self) -> None: ...
