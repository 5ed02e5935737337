"""The one call skeleton every entry point uses: run the engine (sync with the GIL released, or
through the async bridge), turn engine errors into LiteLLM's exceptions, wrap the result in
LiteLLM's classes, and hand it to the user's callbacks when some are registered."""

from __future__ import annotations

import time
from typing import Any, Callable

from . import _async, _logging
from ._native import NativeError

__all__ = ["acall", "call", "exception", "native_call", "submit_call"]

# wrap(result, params, started) -> the response object (or a stream wrapper with a `_log`).
Wrap = Callable[[Any, dict, float], Any]
# native(params, log) -> the engine's answer; `log` (the call's CallLog, or None) asks it for the
# logging payload.
Native = Callable[[dict, Any], Any]


def exception(error: NativeError, params: dict | None = None) -> Exception:
    """LiteLLM's exception for an engine error (imports openai on first use)."""
    from ._errors import from_native

    return from_native(error, params)


def _is_stream(response: Any) -> bool:
    """Stream wrappers log once, when they end (they set ``_is_stream`` on the class)."""
    return getattr(type(response), "_is_stream", False)


def _payload(response: Any) -> Any:
    """The engine's ``standard_logging_object`` of a whole answer (taken out of its hidden
    params, where it travelled)."""
    hidden = getattr(response, "_hidden_params", None)
    if isinstance(hidden, dict):
        return hidden.pop("_standard_logging_object", None)
    return None


def _error_payload(error: NativeError) -> Any:
    info = error.args[0] if error.args else None
    return getattr(info, "payload", None)


def native_call(kind: str) -> Native:
    """The engine's entry point for a call kind (a LiteLLM function name)."""
    from . import _native

    def run(params: dict, log: Any) -> Any:
        return _native.call(kind, params, log is not None)

    return run


def call(call_type: str, params: dict, native: Native, wrap: Wrap, attempts: bool = False) -> Any:
    """A sync call: ``native(params, log)`` runs the engine; callbacks see success or failure.
    ``attempts``: a Router call (its engine reports each attempt to the log)."""
    started = time.time()
    log = _logging.start(call_type, params, started, attempts) if _logging.active() else None
    try:
        result = native(params, log)
    except NativeError as error:
        exc = exception(error, params)
        if log is not None:
            log.failure(exc, payload=_error_payload(error))
        raise exc from None
    response = wrap(result, params, started)
    if log is not None:
        if _is_stream(response):
            response._log = log
        else:
            log.success(response, payload=_payload(response))
    return response


def submit_call(kind: str) -> Callable[[dict, Any], Any]:
    """The async bridge's entry point for a call kind."""

    def submit(params: dict, log: Any) -> Any:
        return _async.submit("submit_call", kind, params, log is not None)

    return submit


async def acall(
    call_type: str, params: dict, submit: Callable[[dict, Any], Any], wrap: Wrap,
    attempts: bool = False,
) -> Any:
    """An async call: ``submit(params, log)`` returns the bridge's awaitable."""
    started = time.time()
    log = _logging.start(call_type, params, started, attempts) if _logging.active() else None
    try:
        result = await submit(params, log)
    except NativeError as error:
        exc = exception(error, params)
        if log is not None:
            log.async_failure(exc, payload=_error_payload(error))
        raise exc from None
    response = wrap(result, params, started)
    if log is not None:
        if _is_stream(response):
            response._log = log
        else:
            log.async_success(response, payload=_payload(response))
    return response
