"""The one call skeleton every entry point uses: run the engine (sync with the GIL released, or
through the async bridge), turn engine errors into LiteLLM's exceptions, wrap the result in
LiteLLM's classes, and hand it to the user's callbacks when some are registered."""

from __future__ import annotations

import time
from typing import Any, Callable

from . import _async, _logging
from ._native import NativeError

__all__ = ["acall", "call", "exception"]

# wrap(result, params, started) -> the response object (or a stream wrapper with a `_log`).
Wrap = Callable[[Any, dict, float], Any]


def exception(error: NativeError, params: dict | None = None) -> Exception:
    """LiteLLM's exception for an engine error (imports openai on first use)."""
    from ._errors import from_native

    return from_native(error, params)


def _is_stream(response: Any) -> bool:
    """Stream wrappers log once, when they end (they set ``_is_stream`` on the class)."""
    return getattr(type(response), "_is_stream", False)


def call(call_type: str, params: dict, native: Callable[[dict], Any], wrap: Wrap) -> Any:
    """A sync call: ``native(params)`` runs the engine; callbacks see success or failure."""
    started = time.time()
    log = _logging.start(call_type, params, started) if _logging.active() else None
    try:
        result = native(params)
    except NativeError as error:
        exc = exception(error, params)
        if log is not None:
            log.failure(exc)
        raise exc from None
    response = wrap(result, params, started)
    if log is not None:
        if _is_stream(response):
            response._log = log
        else:
            log.success(response)
    return response


async def acall(call_type: str, params: dict, method: str, argument: Any, wrap: Wrap) -> Any:
    """An async call through the bridge: ``method`` is an ``AsyncBridge.submit_*`` name."""
    started = time.time()
    log = _logging.start(call_type, params, started) if _logging.active() else None
    try:
        result = await _async.submit(method, argument)
    except NativeError as error:
        exc = exception(error, params)
        if log is not None:
            log.async_failure(exc)
        raise exc from None
    response = wrap(result, params, started)
    if log is not None:
        if _is_stream(response):
            response._log = log
        else:
            log.async_success(response)
    return response
