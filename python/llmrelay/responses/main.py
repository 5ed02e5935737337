"""The Responses API: ``responses()`` / ``aresponses()`` (LiteLLM's signatures).

OpenAI models go to OpenAI's ``/responses``; every other provider is bridged through chat
completions by the engine (input items → messages, output items, the streaming event
sequence, ``previous_response_id`` from a process-wide store).
"""

from __future__ import annotations

import json as _json
from typing import Any

from .. import _async, _call, _native
from .._native import NativeError

__all__ = [
    "ResponsesAPIResponse",
    "ResponsesAPIStreamEvent",
    "ResponsesAPIStreamingIterator",
    "aresponses",
    "responses",
]


def _wrap(value: Any) -> Any:
    if isinstance(value, dict):
        return _Obj(value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


class _Obj:
    """A JSON object with attribute and item access, like LiteLLM's response models."""

    __slots__ = ("_data", "_hidden_params")

    def __init__(self, data: dict | None = None, **fields: Any) -> None:
        data = dict(data or {})
        data.update(fields)
        object.__setattr__(self, "_data", data)
        object.__setattr__(self, "_hidden_params", {})

    def __getattr__(self, name: str) -> Any:
        try:
            return _wrap(self._data[name])
        except KeyError:
            raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "_hidden_params":
            object.__setattr__(self, name, value)
        else:
            self._data[name] = value

    def __getitem__(self, key: str) -> Any:
        return _wrap(self._data[key])

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Any:
        return iter(self._data.items())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _Obj):
            return self._data == other._data
        return self._data == other

    __hash__ = None  # type: ignore[assignment]

    def get(self, key: str, default: Any = None) -> Any:
        return _wrap(self._data.get(key, default))

    def keys(self) -> Any:
        return self._data.keys()

    def model_dump(self, **_: Any) -> dict:
        return _json.loads(_json.dumps(self._data))

    def dict(self, **_: Any) -> dict:
        return self.model_dump()

    def json(self, **_: Any) -> dict:
        return self.model_dump()

    def model_dump_json(self, **_: Any) -> str:
        return _json.dumps(self._data)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"


class ResponsesAPIResponse(_Obj):
    """The response object (``id``, ``status``, ``output`` items, ``usage``, …)."""

    __slots__ = ()

    @property
    def output_text(self) -> str:
        """Every ``output_text`` part of every message item, joined (as the OpenAI SDK)."""
        texts = []
        for item in self._data.get("output") or []:
            if item.get("type") != "message":
                continue
            for part in item.get("content") or []:
                if part.get("type") == "output_text":
                    texts.append(part.get("text") or "")
        return "".join(texts)


class ResponsesAPIStreamEvent(_Obj):
    """One streaming event (``type``, ``sequence_number`` and the event's fields)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        if name == "response" and "response" in self._data:
            response = ResponsesAPIResponse(self._data["response"])
            return response
        return _Obj.__getattr__(self, name)


def _raise(error: NativeError) -> Exception:
    return _call.exception(error)


class ResponsesAPIStreamingIterator:
    """Sync and async iterator of ``ResponsesAPIStreamEvent``; ``completed_response`` holds
    the final response once the stream ended."""

    _is_stream = True

    def __init__(self, native_stream: Any) -> None:
        self._stream = native_stream
        self._log: Any = None
        self._done = False
        self.completed_response: ResponsesAPIResponse | None = None
        self._hidden_params = native_stream.hidden_params()

    def _event(self, raw: dict) -> ResponsesAPIStreamEvent:
        event = ResponsesAPIStreamEvent(raw)
        if raw.get("type") in ("response.completed", "response.incomplete", "response.failed"):
            response = ResponsesAPIResponse(raw.get("response") or {})
            response._hidden_params = self._hidden_params
            self.completed_response = response
        return event

    def _finish(self, exc: BaseException | None, is_async: bool) -> None:
        if self._done:
            return
        self._done = True
        if self._log is None:
            return
        if exc is not None:
            self._log.async_failure(exc) if is_async else self._log.failure(exc)
            return
        summary = self._stream.summary()
        response = self.completed_response
        payload = self._stream.payload()
        if is_async:
            self._log.async_success(response, summary, payload=payload)
        else:
            self._log.success(response, summary, payload=payload)

    def __iter__(self) -> ResponsesAPIStreamingIterator:
        return self

    def __next__(self) -> ResponsesAPIStreamEvent:
        try:
            raw = self._stream.__next__()
        except StopIteration:
            self._finish(None, is_async=False)
            raise
        except NativeError as error:
            exc = _raise(error)
            self._finish(exc, is_async=False)
            raise exc from None
        return self._event(raw)

    def __aiter__(self) -> ResponsesAPIStreamingIterator:
        return self

    async def __anext__(self) -> ResponsesAPIStreamEvent:
        try:
            raw = await _async.submit("submit_next", self._stream)
        except StopAsyncIteration:
            self._finish(None, is_async=True)
            raise
        except NativeError as error:
            exc = _raise(error)
            self._finish(exc, is_async=True)
            raise exc from None
        return self._event(raw)

    def close(self) -> None:
        """Stop early: the upstream request is cancelled."""
        self._stream.close()


def _params(input: Any, model: str, kwargs: dict) -> dict:
    from ..main import _prepare

    params = {"model": model, "input": input}
    for key, value in kwargs.items():
        if value is not None:
            params[key] = value
    text_format = params.pop("text_format", None)
    if text_format is not None and "text" not in params:
        from ..main import _response_format_value

        rf = text_format if isinstance(text_format, dict) else _response_format_value(text_format)
        schema = rf.get("json_schema", rf) if isinstance(rf, dict) else {}
        params["text"] = {"format": {"type": "json_schema", **schema}}
    return _prepare(params)


def _wrap_result(result: Any, _params: dict, _started: float) -> Any:
    if not isinstance(result, tuple):
        return ResponsesAPIStreamingIterator(result)
    body, hidden = result
    response = ResponsesAPIResponse(body)
    response._hidden_params = hidden
    return response


def responses(input: Any, model: str, **kwargs: Any) -> Any:
    """Create a model response (OpenAI's Responses API shape, any provider)."""
    params = _params(input, model, kwargs)
    return _call.call("responses", params, _call.native_call("responses"), _wrap_result)


async def aresponses(input: Any, model: str, **kwargs: Any) -> Any:
    params = _params(input, model, kwargs)
    return await _call.acall("aresponses", params, _call.submit_call("responses"), _wrap_result)
