"""``stream_chunk_builder``: rebuild a full response from streamed chunks.

The assembly is the engine's (``llmrelay_core::assemble``, rules in its module docs): chat
chunks (:class:`ModelResponseStream`, or dicts of that shape) become a
:class:`ModelResponse`; text-completion chunks (``object`` starting with
``"text_completion"`` or choices carrying ``text``) become a
:class:`TextCompletionResponse`.  What stays here is what only Python objects have: the
first chunk object's ``_hidden_params`` (without ``received_model_id``) and
``_response_ms`` from ``start_time``/``end_time``.

Usage the stream did not report is counted by the engine (``count_tokens=True``, as
``llmrelay.stream_chunk_builder`` does), or with a ``_count_tokens(messages,
completion_text) -> (prompt_tokens, completion_tokens)`` hook, called with
``messages=None`` for each choice's reasoning; with neither it is left unset.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import _native
from ._native import NativeError
from .types.utils import ModelResponse, TextCompletionResponse

__all__ = ["CountTokens", "build", "stream_chunk_builder"]

CountTokens = Callable[[Any, str], "tuple[int, int]"]


def stream_chunk_builder(
    chunks: list[Any],
    messages: list | None = None,
    start_time: Any = None,
    end_time: Any = None,
    *,
    _count_tokens: CountTokens | None = None,
) -> ModelResponse | TextCompletionResponse | None:
    """Rebuild the complete response from streamed chunks (``None`` if there are none)."""
    return build(chunks, messages, start_time, end_time, token_hook=_count_tokens)


def build(
    chunks: list[Any],
    messages: list | None = None,
    start_time: Any = None,
    end_time: Any = None,
    *,
    count_tokens: bool = False,
    token_hook: CountTokens | None = None,
) -> ModelResponse | TextCompletionResponse | None:
    chunks = [c for c in chunks if c is not None]
    if not chunks:
        return None
    try:
        built = _native.assemble_stream(
            chunks, messages, count_tokens=count_tokens, token_hook=token_hook
        )
    except NativeError as error:
        from ._call import exception  # imports openai: only when an error is raised

        raise exception(error) from None
    if built is None:
        return None
    kind, data = built
    response: ModelResponse | TextCompletionResponse = (
        TextCompletionResponse(**data) if kind == "text" else ModelResponse(**data)
    )
    hidden = _hidden_params(chunks)
    if hidden is not None:
        response._hidden_params = hidden
    ms = _response_ms(start_time, end_time)
    if ms is not None:
        response._response_ms = ms
    return response


def _hidden_params(chunks: list[Any]) -> dict | None:
    for c in chunks:
        if isinstance(c, dict):
            continue
        hp = c.__dict__.get("_hidden_params") if hasattr(c, "__dict__") else None
        if hp:
            out = dict(hp)
            out.pop("received_model_id", None)
            return out
    return None


def _response_ms(start_time: Any, end_time: Any) -> float | None:
    if start_time is None or end_time is None:
        return None
    try:
        delta = end_time - start_time
    except TypeError:
        return None
    seconds = getattr(delta, "total_seconds", None)
    return (seconds() if seconds is not None else float(delta)) * 1000.0
