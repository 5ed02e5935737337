"""``litellm.anthropic.messages``: call any model in Anthropic's ``/v1/messages`` shape.

The request is translated to a chat call in the engine (as the proxy's ``/v1/messages``
does), and the answer comes back as Anthropic's: a message dict, or with ``stream=True`` an
iterator of server-sent events as bytes (``event: message_start\\ndata: {...}\\n\\n``, …), as
LiteLLM's SDK returns them."""

from __future__ import annotations

from typing import Any, AsyncIterator, Iterator

from ... import _async, _call, _native
from ..._native import NativeError

__all__ = ["acreate", "anthropic_messages", "anthropic_messages_handler", "create"]

# LiteLLM answers a string mock_response with this fixed message (its own mock, whatever the
# model), and raises for its three error strings.
_MOCK_ID = "msg_013Zva2CMHLNnXjNJJKqJ2EF"
_MOCK_ERRORS = {
    "litellm.InternalServerError": ("InternalServerError", "this is a mock internal server error"),
    "litellm.ContextWindowExceededError": (
        "ContextWindowExceededError", "this is a mock context window exceeded error"),
    "litellm.RateLimitError": ("RateLimitError", "this is a mock rate limit error"),
}


def _mock(model: str, text: str) -> dict:
    if text in _MOCK_ERRORS:
        from ... import exceptions

        name, message = _MOCK_ERRORS[text]
        raise getattr(exceptions, name)(message=message, llm_provider="anthropic", model=model)
    return {
        "content": [{"text": text, "type": "text"}],
        "id": _MOCK_ID,
        "model": "claude-sonnet-4-20250514",
        "role": "assistant",
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "type": "message",
        "usage": {"input_tokens": 2095, "output_tokens": 503},
    }


class _MessageEvents:
    """Anthropic's stream events as bytes, from sync or async code; callbacks see the call
    once the stream ended."""

    _is_stream = True

    def __init__(self, native_stream: Any) -> None:
        self._stream = native_stream
        self._log: Any = None
        self._done = False
        self._hidden_params = native_stream.hidden_params()

    def _finish(self, exc: BaseException | None, is_async: bool) -> None:
        if self._done:
            return
        self._done = True
        if self._log is None:
            return
        if exc is not None:
            self._log.async_failure(exc) if is_async else self._log.failure(exc)
            return
        summary, payload = self._stream.summary(), self._stream.payload()
        if is_async:
            self._log.async_success(None, summary, payload=payload)
        else:
            self._log.success(None, summary, payload=payload)

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        try:
            return self._stream.__next__()
        except StopIteration:
            self._finish(None, is_async=False)
            raise
        except NativeError as error:
            exc = _call.exception(error)
            self._finish(exc, is_async=False)
            raise exc from None

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await _async.submit("submit_next", self._stream)
        except StopAsyncIteration:
            self._finish(None, is_async=True)
            raise
        except NativeError as error:
            exc = _call.exception(error)
            self._finish(exc, is_async=True)
            raise exc from None

    def close(self) -> None:
        """Stop early: the upstream request is cancelled."""
        self._stream.close()


def _wrap(result: Any, _params: dict, _started: float) -> Any:
    if isinstance(result, tuple):
        body, _hidden = result
        return body
    return _MessageEvents(result)


def _params(max_tokens: int, messages: list, model: str, named: dict, kwargs: dict) -> dict:
    from ...main import _prepare

    params: dict = {"model": model, "max_tokens": max_tokens, "messages": messages}
    for key, value in {**named, **kwargs}.items():
        if value is not None:
            params[key] = value
    try:
        chat = _native.anthropic_chat_params(params)
    except NativeError as error:
        raise _call.exception(error, params) from None
    return _prepare(chat)


def _named(metadata, stop_sequences, stream, system, temperature, thinking, tool_choice, tools,
           top_k, top_p, container) -> dict:
    return {"metadata": metadata, "stop_sequences": stop_sequences, "stream": stream,
            "system": system, "temperature": temperature, "thinking": thinking,
            "tool_choice": tool_choice, "tools": tools, "top_k": top_k, "top_p": top_p,
            "container": container}


def create(
    max_tokens: int,
    messages: list[dict],
    model: str,
    metadata: dict | None = None,
    stop_sequences: list[str] | None = None,
    stream: bool | None = False,
    system: str | list | None = None,
    temperature: float | None = None,
    thinking: dict | None = None,
    tool_choice: dict | None = None,
    tools: list[dict] | None = None,
    top_k: int | None = None,
    top_p: float | None = None,
    container: dict | None = None,
    **kwargs: Any,
) -> dict | Iterator[bytes]:
    """Anthropic's Messages API over any model: a message dict, or an iterator of
    server-sent events (bytes) with ``stream=True``."""
    mock = kwargs.get("mock_response")
    if isinstance(mock, str):
        return _mock(model, mock)
    named = _named(metadata, stop_sequences, stream, system, temperature, thinking,
                   tool_choice, tools, top_k, top_p, container)
    params = _params(max_tokens, messages, model, named, kwargs)
    return _call.call("anthropic_messages", params, _call.native_call("anthropic_messages"), _wrap)


async def acreate(
    max_tokens: int,
    messages: list[dict],
    model: str,
    metadata: dict | None = None,
    stop_sequences: list[str] | None = None,
    stream: bool | None = False,
    system: str | list | None = None,
    temperature: float | None = None,
    thinking: dict | None = None,
    tool_choice: dict | None = None,
    tools: list[dict] | None = None,
    top_k: int | None = None,
    top_p: float | None = None,
    container: dict | None = None,
    **kwargs: Any,
) -> dict | AsyncIterator[bytes]:
    """The async form of :func:`create` (an async iterator of bytes with ``stream=True``)."""
    mock = kwargs.get("mock_response")
    if isinstance(mock, str):
        return _mock(model, mock)
    named = _named(metadata, stop_sequences, stream, system, temperature, thinking,
                   tool_choice, tools, top_k, top_p, container)
    params = _params(max_tokens, messages, model, named, kwargs)
    return await _call.acall("anthropic_messages", params,
                             _call.submit_call("anthropic_messages"), _wrap)


# LiteLLM's names for the same functions: ``litellm.anthropic_messages`` (async) and the
# handler its sync ``create`` calls.
anthropic_messages = acreate
anthropic_messages_handler = create
