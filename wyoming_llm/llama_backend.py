"""The in-process model: llama.cpp through llama-cpp-python, with a KV cache per prompt prefix.

The static prefix of each home is evaluated once; its KV state is kept (a few
homes, least recently used first out), so a request evaluates only the user's
words and the answer. One generation at a time: llama.cpp contexts are not
thread-safe, and the two CPU cores are busy with one anyway.
"""

import ctypes
import logging
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from .backend import BackendError, GenerationRequest, GenerationStats, Message, TextCallback
from .thread_tuner import ThreadTuner

_LOGGER = logging.getLogger(__name__)
MAX_CACHED_PREFIXES = 4


class LlamaBackend:
    compact = True

    def __init__(
        self,
        path: Path,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        n_gpu_layers: int = 0,
        temperature: float = 0.0,
    ) -> None:
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        started = time.monotonic()
        n_threads = n_threads or os.cpu_count() or 1
        self._threads = ThreadTuner(n_threads)
        self.llm: Any = Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_threads=n_threads,
            n_threads_batch=n_threads,
            n_gpu_layers=n_gpu_layers,
            verbose=False,
        )
        self._applied_threads = n_threads
        self.temperature = temperature
        self.description = f"llama.cpp: {path.name}"
        template = self.llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise BackendError(f"{path.name} has no chat template: use an instruct model")
        model = self.llm._model
        eos, bos = self.llm.token_eos(), self.llm.token_bos()
        eos_text = model.token_get_text(eos) if eos != -1 else ""
        bos_text = model.token_get_text(bos) if bos != -1 else ""
        self._chat: Any = Jinja2ChatFormatter(
            template, eos_text, bos_text, add_generation_prompt=True
        )
        self._history: Any = Jinja2ChatFormatter(
            template, eos_text, bos_text, add_generation_prompt=False
        )
        self._stop = [text for text in (eos_text, "<|im_end|>", "<|endoftext|>") if text]
        self._states: OrderedDict[str, tuple[list[int], bytes]] = OrderedDict()
        self._grammars: dict[str, Any] = {}
        self._lock = threading.Lock()
        _LOGGER.info("Loaded %s in %.1f s", path.name, time.monotonic() - started)

    def available(self) -> bool:
        return True

    def _render(self, messages: list[Message], generation_prompt: bool) -> str:
        formatter = self._chat if generation_prompt else self._history
        return str(formatter(messages=messages).prompt)

    def _tokens(self, text: str) -> list[int]:
        return list(self.llm.tokenize(text.encode(), add_bos=True, special=True))

    def _grammar(self, gbnf: str) -> Any:
        from llama_cpp.llama_grammar import LlamaGrammar

        if gbnf not in self._grammars:
            if len(self._grammars) > 16:
                self._grammars.clear()
            self._grammars[gbnf] = LlamaGrammar.from_string(gbnf, verbose=False)
        return self._grammars[gbnf]

    def _use_prefix(self, key: str, tokens: list[int]) -> int:
        """Make the KV cache start with the prefix; return how many tokens were evaluated."""
        llm = self.llm
        current = llm.input_ids[: llm.n_tokens].tolist()
        if current[: len(tokens)] == tokens:
            return 0
        cached = self._states.get(key)
        if cached is not None and cached[0] == tokens:
            self._states.move_to_end(key)
            self._restore(cached)
            return 0
        llm.reset()
        llm.eval(tokens)
        self._states[key] = (tokens, self._snapshot())
        while len(self._states) > MAX_CACHED_PREFIXES:
            self._states.popitem(last=False)
        return len(tokens)

    def _snapshot(self) -> bytes:
        import llama_cpp

        ctx = self.llm._ctx.ctx
        size = llama_cpp.llama_state_get_size(ctx)
        buffer = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_get_data(ctx, buffer, size)
        return bytes(buffer[:written])

    def _restore(self, cached: tuple[list[int], bytes]) -> None:
        import llama_cpp

        tokens, state = cached
        buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
        if llama_cpp.llama_state_set_data(self.llm._ctx.ctx, buffer, len(state)) != len(state):
            raise BackendError("could not restore the cached prompt state")
        self.llm.input_ids[: len(tokens)] = tokens
        self.llm.n_tokens = len(tokens)
        self.llm._requires_eval = True

    def generate(self, request: GenerationRequest, on_text: TextCallback) -> GenerationStats:
        with self._lock:
            try:
                return self._generate(request, on_text)
            except BackendError:
                raise
            except Exception as err:
                _LOGGER.exception("llama.cpp generation failed")
                self.llm.reset()
                self._states.clear()
                raise BackendError(f"the model failed: {err}") from err

    def _generate(self, request: GenerationRequest, on_text: TextCallback) -> GenerationStats:
        started = time.monotonic()
        prefix_text = self._render(list(request.prefix), generation_prompt=False)
        full_text = self._render([*request.prefix, *request.messages], generation_prompt=True)
        prefix_tokens = self._tokens(prefix_text)
        tokens = self._tokens(full_text + request.continuation)
        if tokens[: len(prefix_tokens)] != prefix_tokens:
            prefix_tokens = []  # the template does not render the prefix as a prefix
        evaluated = self._use_prefix(request.prefix_key, prefix_tokens) if prefix_tokens else 0
        current = self.llm.input_ids[: self.llm.n_tokens].tolist()
        common = next(
            (i for i, (a, b) in enumerate(zip(current, tokens, strict=False)) if a != b),
            min(len(current), len(tokens)),
        )
        if len(tokens) + request.max_tokens > self.llm.n_ctx():
            raise BackendError(
                f"the prompt has {len(tokens)} tokens; raise --n-ctx ({self.llm.n_ctx()})"
            )
        stats = GenerationStats(prompt_tokens=evaluated + len(tokens) - common)
        self._use_threads(self._threads.start())
        stream = self.llm.create_completion(
            prompt=tokens,
            max_tokens=request.max_tokens,
            temperature=self.temperature,
            top_k=1 if self.temperature == 0 else 40,
            stream=True,
            stop=self._stop,
            grammar=self._grammar(request.grammar) if request.grammar else None,
        )
        last = started
        for chunk in stream:
            now = time.monotonic()
            if stats.first_token_seconds is None:
                stats.first_token_seconds = now - started
            else:
                self._use_threads(self._threads.observe(now - last))
            last = now
            stats.generated_tokens += 1
            if not on_text(chunk["choices"][0]["text"]):
                break
            if request.deadline is not None and time.monotonic() > request.deadline:
                raise BackendError("the model took too long")
        stats.seconds = time.monotonic() - started
        stats.threads = self._applied_threads
        return stats

    def _use_threads(self, count: int) -> None:
        if count != self._applied_threads:
            import llama_cpp

            llama_cpp.llama_set_n_threads(self.llm._ctx.ctx, count, count)
            self._applied_threads = count

    def close(self) -> None:
        self.llm.close()
