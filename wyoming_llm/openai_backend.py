"""A remote OpenAI-compatible server (llama.cpp's llama-server, Ollama, vLLM, ...).

Requests ask for JSON constrained by a schema. A server that fails is retried
with a short back-off inside the request's time; after a failure it is skipped
for a growing pause (1 s doubling to 60 s) so that a fallback answers quickly.
"""

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from .backend import BackendError, GenerationRequest, GenerationStats, TextCallback

_LOGGER = logging.getLogger(__name__)
RETRY_DELAYS = (0.2, 0.5)
MAX_PAUSE = 60.0
WARM_UP_TIMEOUT = 300.0


class OpenAIBackend:
    compact = False

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        temperature: float = 0.0,
        timeout: float = 20.0,
    ) -> None:
        base = base_url.rstrip("/")
        self.url = (base if base.endswith("/v1") else base + "/v1") + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.temperature = temperature
        self.timeout = timeout
        self.description = f"OpenAI-compatible server {base} ({model})"
        self._schema_format = "json_schema"  # switches to llama-cpp-python's json_object
        self._pause = 0.0
        self._down_until = 0.0
        self._lock = threading.Lock()

    @staticmethod
    def read_key(path: Path | None) -> str | None:
        return path.read_text().strip() or None if path else None

    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self) -> None:
        with self._lock:
            self._pause = min(max(self._pause * 2, 1.0), MAX_PAUSE)
            self._down_until = time.monotonic() + self._pause
        _LOGGER.warning("%s is failing; next try in %.0f s", self.url, self._pause)

    def _recovered(self) -> None:
        with self._lock:
            self._pause = 0.0
            self._down_until = 0.0

    def _body(self, request: GenerationRequest) -> dict[str, Any]:
        response_format: dict[str, Any]
        if self._schema_format == "json_schema":
            response_format = {
                "type": "json_schema",
                "json_schema": {"name": "commands", "strict": True, "schema": request.schema},
            }
        else:
            response_format = {"type": "json_object", "schema": request.schema}
        return {
            "model": self.model,
            "messages": [*request.prefix, *request.messages],
            "temperature": self.temperature,
            "max_tokens": request.max_tokens,
            "response_format": response_format,
        }

    def _post(self, body: dict[str, Any], timeout: float) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        http = urllib.request.Request(
            self.url, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        with urllib.request.urlopen(http, timeout=timeout) as response:
            answer: dict[str, Any] = json.loads(response.read())
            return answer

    def generate(self, request: GenerationRequest, on_text: TextCallback) -> GenerationStats:
        started = time.monotonic()
        deadline = request.deadline or started + WARM_UP_TIMEOUT  # no deadline: warm-up
        last_error: Exception | None = None
        for delay in (0.0, *RETRY_DELAYS):
            if delay:
                if time.monotonic() + delay >= deadline:
                    break
                time.sleep(delay)
            remaining = max(deadline - time.monotonic(), 0.1)
            try:
                answer = self._post(self._body(request), remaining)
            except urllib.error.HTTPError as err:
                if self._schema_format == "json_schema" and _refuses_json_schema(err):
                    _LOGGER.info("%s: no json_schema response format; using json_object", self.url)
                    self._schema_format = "json_object"
                    return self.generate(request, on_text)
                last_error = err
                if err.code < 500:
                    break
            except (OSError, ValueError) as err:  # refused, reset, timed out, bad JSON
                last_error = err
            else:
                self._recovered()
                return self._deliver(answer, started, on_text)
        self._failed()
        raise BackendError(f"{self.url}: {last_error}")

    def _deliver(
        self, answer: dict[str, Any], started: float, on_text: TextCallback
    ) -> GenerationStats:
        try:
            content = answer["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError) as err:
            raise BackendError(f"{self.url}: unexpected answer {str(answer)[:200]}") from err
        usage = answer.get("usage") or {}
        seconds = time.monotonic() - started
        on_text(str(content))
        return GenerationStats(
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            generated_tokens=int(usage.get("completion_tokens") or 0),
            seconds=seconds,
            first_token_seconds=seconds,
        )

    def close(self) -> None:
        pass


def _refuses_json_schema(err: urllib.error.HTTPError) -> bool:
    """Whether the server rejected `response_format: json_schema` (llama-cpp-python's does)."""
    if err.code not in (400, 422, 500):
        return False
    try:
        body = err.read().decode(errors="replace")
    except OSError:
        return False
    return "response_format" in body or "json_schema" in body
