"""Conversation memory: the last turns of each conversation, bounded and expiring."""

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from .intents import Command
from .output import Line

CONFIRM_SECONDS = 60.0  # how long a question asked back waits for its yes


@dataclass(frozen=True)
class Turn:
    user: str  # the user message as the model saw it
    lines: tuple[Line, ...]  # what was done or said, as validated lines

    @property
    def size(self) -> int:
        """A rough token count (4 characters a token)."""
        return (len(self.user) + sum(len(str(line)) for line in self.lines) // 2) // 4 + 8


class Memory:
    """Turns per conversation_id: at most `max_turns` and `max_tokens`, dropped after `ttl` s."""

    def __init__(
        self,
        max_turns: int = 4,
        max_tokens: int = 400,
        ttl: float = 300.0,
        max_conversations: int = 1000,
    ) -> None:
        self.max_turns = max_turns
        self.max_tokens = max_tokens
        self.ttl = ttl
        self.max_conversations = max_conversations
        self._conversations: OrderedDict[str, tuple[float, list[Turn]]] = OrderedDict()
        self._pending: OrderedDict[str, tuple[float, Command]] = OrderedDict()
        self._lock = threading.Lock()

    def ask(self, conversation_id: str, command: Command) -> None:
        """Keep a command asked back until the user's next words say yes or no."""
        with self._lock:
            self._pending.pop(conversation_id, None)
            self._pending[conversation_id] = (time.monotonic(), command)
            while len(self._pending) > self.max_conversations:
                self._pending.popitem(last=False)

    def take_asked(self, conversation_id: str) -> Command | None:
        """The command asked back in this conversation (once), unless it has expired."""
        with self._lock:
            asked = self._pending.pop(conversation_id, None)
        if asked is None or time.monotonic() - asked[0] > CONFIRM_SECONDS:
            return None
        return asked[1]

    def history(self, conversation_id: str, limit: int | None = None) -> list[Turn]:
        """The remembered turns, oldest first; only the last `limit` when it is given."""
        if limit is not None and limit <= 0:
            return []
        with self._lock:
            self._expire()
            entry = self._conversations.get(conversation_id)
            turns = list(entry[1]) if entry else []
        return turns if limit is None else turns[-limit:]

    def add(self, conversation_id: str, turn: Turn) -> None:
        if self.max_turns <= 0:
            return
        with self._lock:
            self._expire()
            _, turns = self._conversations.pop(conversation_id, (0.0, []))
            turns = [*turns, turn][-self.max_turns :]
            while len(turns) > 1 and sum(t.size for t in turns) > self.max_tokens:
                turns.pop(0)
            self._conversations[conversation_id] = (time.monotonic(), turns)
            while len(self._conversations) > self.max_conversations:
                self._conversations.popitem(last=False)

    def _expire(self) -> None:
        deadline = time.monotonic() - self.ttl
        while self._conversations:
            conversation_id, (last_used, _) = next(iter(self._conversations.items()))
            if last_used >= deadline:
                break
            del self._conversations[conversation_id]

    def forget(self, conversation_id: str) -> None:
        with self._lock:
            self._conversations.pop(conversation_id, None)
