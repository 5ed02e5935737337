"""The call entry points: ``completion``, ``acompletion``, ``text_completion``, ``embedding`` …

Each one hands its keyword arguments to the Rust engine (``llmrelay._native``), which
validates them, detects the provider, translates, calls (GIL released), normalizes and
prices. This module only wraps results in LiteLLM's response classes, maps engine errors to
LiteLLM's exception classes, and runs user callbacks when some are registered.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from . import _async, _call, _native
from ._native import NativeError
from .types.utils import (
    EmbeddingResponse,
    ModelResponse,
    ModelResponseStream,
    TextCompletionResponse,
)

__all__ = [
    "CustomStreamWrapper",
    "TextCompletionStreamWrapper",
    "acompletion",
    "acount_tokens",
    "aembedding",
    "atext_completion",
    "completion",
    "embedding",
    "mock_completion",
    "text_completion",
]

_pkg: Any = None


def _settings() -> Any:
    """The ``llmrelay`` package module, whose globals are LiteLLM's module-level settings."""
    global _pkg
    if _pkg is None:
        _pkg = sys.modules[__package__]
    return _pkg


def _raise_native(error: NativeError) -> Exception:
    """Map an engine error to LiteLLM's exception class (imports openai on first use)."""
    return _call.exception(error)


def _timeout_value(value: Any) -> Any:
    """``httpx.Timeout`` / ``openai.Timeout`` → a dict the engine reads; numbers pass."""
    if value is None or isinstance(value, (int, float, str, dict)):
        return value
    parts = {}
    for name in ("connect", "read", "write", "pool"):
        part = getattr(value, name, None)
        if part is not None:
            parts[name] = part
    return parts or None


def _response_format_value(value: Any) -> Any:
    """A pydantic model class is turned into a ``json_schema`` response format, as LiteLLM does."""
    if isinstance(value, type) and hasattr(value, "model_json_schema"):
        schema = value.model_json_schema()
        return {
            "type": "json_schema",
            "json_schema": {"name": value.__name__, "schema": schema, "strict": True},
        }
    return value


_cache_installed: Any = None


def _sync_cache(s: Any) -> None:
    """``litellm.cache`` changed: install it (or none) in the engine's SDK pipeline."""
    global _cache_installed
    from .caching.caching import _install

    current = s.cache
    _install(current)
    _cache_installed = current


def _prepare(params: dict) -> dict:
    """Apply module-level settings and make Python-only values JSON-like."""
    s = _settings()
    if s.cache is not _cache_installed:
        _sync_cache(s)
    if "api_key" not in params and s.api_key is not None:
        params["api_key"] = s.api_key
    if "api_base" not in params and "base_url" not in params and s.api_base is not None:
        params["api_base"] = s.api_base
    if "api_version" not in params and s.api_version is not None:
        params["api_version"] = s.api_version
    if "num_retries" not in params and s.num_retries is not None:
        params["num_retries"] = s.num_retries
    if "drop_params" not in params and s.drop_params:
        params["drop_params"] = True
    if s.headers and "extra_headers" not in params:
        params["extra_headers"] = dict(s.headers)
    timeout = params.get("timeout")
    if timeout is not None and not isinstance(timeout, (int, float)):
        params["timeout"] = _timeout_value(timeout)
    rf = params.get("response_format")
    if rf is not None and not isinstance(rf, dict):
        params["response_format"] = _response_format_value(rf)
    return params


def _python_mock(params: dict) -> Any:
    """``mock_response`` values the engine cannot express: exceptions and response objects."""
    mock = params.get("mock_response")
    if mock is None or isinstance(mock, str):
        return None
    if isinstance(mock, BaseException) or (isinstance(mock, type) and issubclass(mock, BaseException)):
        return mock
    if isinstance(mock, (ModelResponse, dict)):
        return mock
    return None


def _mock_exception(mock: Any, model: str) -> BaseException:
    """The exception a ``mock_response`` exception raises: LiteLLM's classes as given, an
    exception with a ``status_code`` as the class of that status (for the provider of
    ``model``), anything else as ``InternalServerError``."""
    import openai

    from ._errors import build
    from .litellm_core_utils.exception_mapping_utils import _kind_for_status, get_error_message

    if isinstance(mock, type):
        mock = mock("mock exception")
    if isinstance(mock, openai.APIError):
        return mock
    status = getattr(mock, "status_code", None)
    provider = getattr(mock, "llm_provider", None) or (model.split("/", 1)[0] if "/" in model else "openai")
    message = get_error_message(mock) or getattr(mock, "text", None) or str(mock)
    if not isinstance(status, int):
        return build("internal_server", 500, message, provider, model, None, None, None, 0)
    return build(_kind_for_status(status, message, provider), status, message, provider, model,
                 None, None, None, 0)


def _wrap_chat(result: Any, params: dict, started: float) -> Any:
    if type(result) is tuple:
        body, hidden = result
        response = ModelResponse._from_wire(body)
        hidden["litellm_call_id"] = params.get("litellm_call_id")
        response._hidden_params = hidden
        response._response_ms = hidden["_response_ms"]
        return response
    return CustomStreamWrapper(result, params, started)


# ----------------------------------------------------------------------------------------------
# completion
# ----------------------------------------------------------------------------------------------


def _chat_params(model: str, messages: list | None, kwargs: dict) -> dict:
    kwargs["model"] = model
    if messages is not None:
        kwargs["messages"] = messages
    if kwargs.get("mock_timeout") and kwargs.get("mock_response") is None:
        # mock_timeout answers without a network call (and without an API key), as LiteLLM.
        kwargs["mock_response"] = "This is a mock request"
    return _prepare(kwargs)


def _custom_handler(params: dict) -> Any:
    """The user-defined provider (``custom_provider_map``) serving this call, if any."""
    if not _settings().custom_provider_map:
        return None
    from ._custom_llm import handler_for

    return handler_for(params.get("model"), params.get("custom_llm_provider"))


def completion(model: str, messages: list | None = None, **kwargs: Any) -> Any:
    """Chat completion in OpenAI's shape from any supported provider (LiteLLM's signature)."""
    if kwargs.get("fallbacks"):
        from ._sdk_retries import with_fallbacks

        return with_fallbacks(completion, model, dict(kwargs, messages=messages))
    if kwargs.get("retry_policy") is not None:
        return _with_retry_policy(completion, model, messages, kwargs, is_async=False)
    params = _chat_params(model, messages, kwargs)
    python_mock = _python_mock(params)
    if python_mock is not None:
        return _complete_python_mock(python_mock, params, time.time())
    handler = _custom_handler(params)
    if handler is not None:
        from . import _custom_llm

        return _custom_llm.completion(handler, params)
    return _call.call("completion", params, _call.native_call("completion"), _wrap_chat)


def _with_retry_policy(function: Any, model: str, messages: Any, kwargs: dict, is_async: bool) -> Any:
    from ._sdk_retries import with_retry_policy

    call = dict(kwargs, model=model, messages=messages)
    policy = call.pop("retry_policy")
    try:
        return function(**call)
    except Exception as error:
        retried = with_retry_policy(error, dict(call, retry_policy=policy), is_async)
        if retried is None:
            raise
        return retried


async def acompletion(model: str, messages: list | None = None, **kwargs: Any) -> Any:
    """Async ``completion``: awaits a ``ModelResponse`` or an async-iterable stream."""
    if kwargs.get("fallbacks"):
        from ._sdk_retries import awith_fallbacks

        return await awith_fallbacks(acompletion, model, dict(kwargs, messages=messages))
    if kwargs.get("retry_policy") is not None:
        from ._sdk_retries import with_retry_policy

        policy = kwargs.pop("retry_policy")
        try:
            return await acompletion(model, messages, **kwargs)
        except Exception as error:
            retried = with_retry_policy(error, dict(kwargs, model=model, messages=messages,
                                                    retry_policy=policy), True)
            if retried is None:
                raise
            return await retried
    params = _chat_params(model, messages, kwargs)
    python_mock = _python_mock(params)
    if python_mock is not None:
        return _complete_python_mock(python_mock, params, time.time(), is_async=True)
    handler = _custom_handler(params)
    if handler is not None:
        from . import _custom_llm

        return await _custom_llm.acompletion(handler, params)
    return await _call.acall("acompletion", params, _call.submit_call("completion"), _wrap_chat)


def _complete_python_mock(mock: Any, params: dict, started: float, is_async: bool = False) -> Any:
    model = params.get("model", "")
    if isinstance(mock, BaseException) or isinstance(mock, type):
        from . import _logging

        exc = _mock_exception(mock, model)
        if _logging.active():
            log = _logging.start("acompletion" if is_async else "completion", params, started)
            (log.async_failure if is_async else log.failure)(exc)
        raise exc
    response = mock if isinstance(mock, ModelResponse) else ModelResponse(**mock)
    if params.get("stream"):
        text = response.choices[0].message.content or ""
        params = dict(params, mock_response=text)
        return _wrap_chat(_native.call("completion", params, False), params, started)
    return response


def mock_completion(model: str, messages: list, stream: bool = False, n: int | None = None,
                    mock_response: Any = "This is a mock request", **kwargs: Any) -> Any:
    """LiteLLM's ``mock_completion``: ``completion`` with a ``mock_response``."""
    return completion(model, messages, stream=stream, n=n, mock_response=mock_response, **kwargs)


# ----------------------------------------------------------------------------------------------
# Streams
# ----------------------------------------------------------------------------------------------


class CustomStreamWrapper:
    """The stream ``completion(..., stream=True)`` returns: sync and async iterable of
    ``ModelResponseStream`` chunks, each handed over as the engine decodes it."""

    _chunk_class: Any = ModelResponseStream
    _whole_class: Any = ModelResponse
    _is_stream = True

    def __init__(self, native_stream: Any, params: dict, started: float) -> None:
        self.completion_stream = native_stream
        self.model = params.get("model")
        self.messages = params.get("messages")
        self.chunks: list = []
        self._params = params
        self._started = started
        self._log: Any = None
        self._done = False
        hidden = native_stream.hidden_params()
        hidden["litellm_call_id"] = params.get("litellm_call_id")
        self._hidden_params = hidden
        self.custom_llm_provider = hidden.get("custom_llm_provider")
        self.response_id: str | None = None
        self.received_finish_reason: str | None = None
        self.sent_stream_usage = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} model={self.model!r} chunks={len(self.chunks)}>"

    # -- sync -------------------------------------------------------------------------------
    def __iter__(self) -> CustomStreamWrapper:
        return self

    def __next__(self) -> Any:
        try:
            raw = self.completion_stream.__next__()
        except StopIteration:
            self._finish(None, is_async=False)
            raise
        except NativeError as error:
            exc = _raise_native(error)
            self._finish(exc, is_async=False)
            raise exc from None
        return self._chunk(raw)

    # -- async ------------------------------------------------------------------------------
    def __aiter__(self) -> CustomStreamWrapper:
        return self

    async def __anext__(self) -> Any:
        try:
            raw = await _async.submit("submit_next", self.completion_stream)
        except StopAsyncIteration:
            self._finish(None, is_async=True)
            raise
        except NativeError as error:
            exc = _raise_native(error)
            self._finish(exc, is_async=True)
            raise exc from None
        return self._chunk(raw)

    def _chunk(self, raw: dict) -> Any:
        chunk = self._chunk_class._from_wire(raw)
        if self.response_id is None:
            self.response_id = raw.get("id")
        choices = raw.get("choices")
        if choices:
            reason = choices[0].get("finish_reason")
            if reason:
                self.received_finish_reason = reason
        elif raw.get("usage") is not None:
            self.sent_stream_usage = True
        self.chunks.append(chunk)
        if self._log is not None:
            self._log.stream_event(chunk)
        return chunk

    def close(self) -> None:
        """Stop early; the upstream request is cancelled and usage still recorded."""
        self.completion_stream.close()
        self._finish(None, is_async=False)

    async def aclose(self) -> None:
        self.completion_stream.close()
        self._finish(None, is_async=True)

    def _finish(self, exc: BaseException | None, is_async: bool) -> None:
        if self._done:
            return
        self._done = True
        summary = self.completion_stream.summary()
        self._hidden_params["response_cost"] = summary["response_cost"]
        self._hidden_params["usage"] = summary["usage"]
        self._hidden_params["completion_start_time"] = summary["completion_start_time"]
        if self._log is None:
            return
        if exc is not None:
            payload = self.completion_stream.payload()
            if is_async:
                self._log.async_failure(exc, payload=payload)
            else:
                self._log.failure(exc, payload=payload)
            return
        payload = self.completion_stream.payload()
        response = self._assemble(summary, payload)
        if is_async:
            self._log.async_success(response, summary, payload=payload)
        else:
            self._log.success(response, summary, payload=payload)

    def _assemble(self, summary: dict, payload: dict | None = None) -> Any:
        assembled = (payload or {}).get("response")
        if isinstance(assembled, dict):
            # The engine assembled the stream as it went out (LiteLLM's stream_chunk_builder).
            response = self._whole_class._from_wire(assembled)
        else:
            from . import stream_chunk_builder

            response = stream_chunk_builder(self.chunks, messages=self.messages)
        if response is not None:
            usage = summary.get("usage")
            if usage is not None:
                # The engine's usage (the upstream's, or the mock's) over a recount of the text.
                from .types.utils import Usage

                response.usage = Usage._from_wire(dict(usage))
            response._hidden_params = dict(self._hidden_params)
        return response


class TextCompletionStreamWrapper(CustomStreamWrapper):
    """Stream of ``TextCompletionResponse`` chunks (``text_completion(..., stream=True)``)."""

    _chunk_class = TextCompletionResponse
    _whole_class = TextCompletionResponse


# ----------------------------------------------------------------------------------------------
# text_completion and embedding
# ----------------------------------------------------------------------------------------------


def _wrap_text(result: Any, params: dict, started: float) -> Any:
    if type(result) is tuple:
        body, hidden = result
        response = TextCompletionResponse._from_wire(body)
        response._hidden_params = hidden
        response._response_ms = hidden["_response_ms"]
        return response
    return TextCompletionStreamWrapper(result, params, started)


def _text_params(prompt: Any, model: str | None, kwargs: dict) -> dict:
    if model is None:
        model = kwargs.pop("engine", None)
    kwargs["model"] = model
    if prompt is not None:
        kwargs["prompt"] = prompt
    return _prepare(kwargs)


def text_completion(prompt: Any = None, model: str | None = None, **kwargs: Any) -> Any:
    """Legacy completions (``/v1/completions``), LiteLLM's signature."""
    params = _text_params(prompt, model, kwargs)
    return _call.call("text_completion", params, _call.native_call("text_completion"), _wrap_text)


async def atext_completion(prompt: Any = None, model: str | None = None, **kwargs: Any) -> Any:
    params = _text_params(prompt, model, kwargs)
    return await _call.acall(
        "atext_completion", params, _call.submit_call("text_completion"), _wrap_text
    )


def _wrap_embedding(result: Any, _params: dict | None = None, _started: float = 0.0) -> Any:
    body, hidden = result
    response = EmbeddingResponse._from_wire(body)
    response._hidden_params = hidden
    response._response_ms = hidden["_response_ms"]
    return response


def _embedding_params(model: str, input: Any, kwargs: dict) -> dict:
    kwargs["model"] = model
    kwargs["input"] = input
    mock = kwargs.get("mock_response")
    if mock == "error":
        # LiteLLM's mock embedding error: a plain exception whose text is exactly this.
        raise Exception("Mock error")
    if mock is not None and not isinstance(mock, str):
        import json

        kwargs["mock_response"] = json.dumps(mock)
    return _prepare(kwargs)


def embedding(model: str, input: Any = None, **kwargs: Any) -> Any:
    """Embeddings (LiteLLM's signature); ``aembedding=True`` returns a coroutine."""
    if kwargs.pop("aembedding", False):
        return aembedding(model, input, **kwargs)
    params = _embedding_params(model, input, kwargs)
    handler = _custom_handler(params)
    if handler is not None:
        from . import _custom_llm

        return _custom_llm.embedding(handler, params)
    return _call.call("embedding", params, _call.native_call("embedding"), _wrap_embedding)


async def aembedding(model: str, input: Any = None, **kwargs: Any) -> Any:
    params = _embedding_params(model, input, kwargs)
    handler = _custom_handler(params)
    if handler is not None:
        from . import _custom_llm

        return await _custom_llm.aembedding(handler, params)
    return await _call.acall("aembedding", params, _call.submit_call("embedding"), _wrap_embedding)


async def acount_tokens(
    model: str,
    messages: list | None = None,
    tools: list | None = None,
    system: Any = None,
    api_key: str | None = None,
    api_base: str | None = None,
    **kwargs: Any,
) -> Any:
    """Count prompt tokens with the provider's token-counting API (Anthropic's
    ``/v1/messages/count_tokens``) when it has one and a key is set, else locally, as
    LiteLLM's ``acount_tokens`` does. Returns a ``TokenCountResponse``."""
    from .types.utils import TokenCountResponse

    params: dict[str, Any] = {"model": model, "messages": list(messages or [])}
    for key, value in (("tools", tools), ("system", system), ("api_key", api_key), ("api_base", api_base)):
        if value is not None:
            params[key] = value
    params.update(kwargs)
    try:
        result = await _async.submit("submit_count_tokens", params)
    except NativeError as error:
        raise _call.exception(error) from None
    return TokenCountResponse(**result)
