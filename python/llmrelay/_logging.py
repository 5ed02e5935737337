"""User callbacks: ``success_callback``, ``failure_callback``, ``callbacks`` (functions and
``CustomLogger`` instances), fed LiteLLM's logging kwargs and ``standard_logging_object``.

Nothing here runs unless a callback is registered. As in LiteLLM, sync calls invoke the sync
``CustomLogger`` methods and async calls the async ones; success and failure handlers run off
the caller's path (a background thread for sync handlers, event-loop tasks for async ones),
and an exception raised by a callback is logged, never propagated.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import logging
import sys
import threading
import traceback
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

logger = logging.getLogger("llmrelay")

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()
_pending: set[Future] = set()
_tasks: set[asyncio.Task] = set()
_warned_names: set[str] = set()

_NOT_BODY = frozenset({"model", "messages", "prompt", "input"})


# LiteLLM's logger objects (``litellm._logging.verbose_logger`` …), for code that sets their level.
verbose_logger = logging.getLogger("LiteLLM")
verbose_router_logger = logging.getLogger("LiteLLM Router")
verbose_proxy_logger = logging.getLogger("LiteLLM Proxy")

def _settings() -> Any:
    return sys.modules[__package__]


_builtin: frozenset[str] | None = None
_integrations_key: tuple | None = None
_flush_at_exit = False


def _builtin_names() -> frozenset[str]:
    """The integration names the engine runs in Rust (``langfuse``, ``otel``, ...)."""
    global _builtin
    if _builtin is None:
        from . import _native

        _builtin = frozenset(_native.builtin_integrations()) | {"opentelemetry"}
    return _builtin


def _is_builtin(entry: Any) -> bool:
    return isinstance(entry, str) and entry.strip().lower() in _builtin_names()


def _sync_integrations(s: Any) -> None:
    """Start (or stop) the Rust integrations when the built-in names in the lists or the
    redaction settings changed since the last call."""
    global _integrations_key, _flush_at_exit
    lists = (s.callbacks, s.success_callback, s.failure_callback)
    names = tuple(tuple(e for e in items if _is_builtin(e)) for items in lists)
    key = (
        names,
        bool(getattr(s, "turn_off_message_logging", False)),
        bool(getattr(s, "redact_user_api_key_info", False)),
    )
    if key == _integrations_key or (_integrations_key is None and not any(names)):
        return
    from . import _native

    _integrations_key = key
    try:
        _native.configure_integrations(
            list(names[0]), list(names[1]), list(names[2]), key[1], key[2]
        )
    except ValueError as error:
        logger.warning("llmrelay: logging integrations not started: %s", error)
    else:
        if any(names) and not _flush_at_exit:
            import atexit

            _flush_at_exit = True
            atexit.register(_native.flush_integrations)


def active() -> bool:
    """Whether a Python callback is registered (built-in integration names run in Rust and
    need none of the Python logging machinery)."""
    s = _settings()
    if s.callbacks or s.success_callback or s.failure_callback:
        _sync_integrations(s)
    elif _integrations_key is not None:
        _sync_integrations(s)
    return bool(
        any(not _is_builtin(e) for e in s.callbacks)
        or any(not _is_builtin(e) for e in s.success_callback)
        or any(not _is_builtin(e) for e in s.failure_callback)
        or s._async_success_callback
        or s._async_failure_callback
        or s.input_callback
    )


def _background(fn: Any, *args: Any) -> None:
    global _executor
    if _executor is None:
        with _executor_lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llmrelay-callbacks")
    future = _executor.submit(_guarded, fn, *args)
    _pending.add(future)
    future.add_done_callback(_pending.discard)


def _guarded(fn: Any, *args: Any) -> None:
    try:
        fn(*args)
    except Exception:  # a user callback must never break a call
        logger.warning("llmrelay: callback %r raised an exception", fn, exc_info=True)


async def _guarded_async(coro: Any, fn: Any) -> None:
    try:
        await coro
    except Exception:
        logger.warning("llmrelay: async callback %r raised an exception", fn, exc_info=True)


def _schedule(coro: Any, fn: Any) -> None:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(_guarded_async(coro, fn))
        return
    task = loop.create_task(_guarded_async(coro, fn))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


def flush(timeout: float = 5.0) -> None:
    """Wait for background sync callbacks to finish (tests; shutdown)."""
    for future in list(_pending):
        future.result(timeout=timeout)


async def aflush() -> None:
    """Wait for scheduled async callbacks to finish."""
    while _tasks:
        await asyncio.gather(*list(_tasks), return_exceptions=True)


def _custom_logger_class() -> Any:
    from .integrations.custom_logger import CustomLogger

    return CustomLogger


def _warn_unknown(name: str) -> None:
    if name not in _warned_names:
        _warned_names.add(name)
        logger.warning(
            "llmrelay: callback %r is a LiteLLM integration name llmrelay does not ship; skipped",
            name,
        )


def _listeners(kind: str) -> tuple[list, list]:
    """``(custom_loggers, functions)`` registered for ``success`` or ``failure``."""
    s = _settings()
    CustomLogger = _custom_logger_class()
    sources = list(s.callbacks)
    if kind == "success":
        sources += list(s.success_callback) + list(s._async_success_callback)
    else:
        sources += list(s.failure_callback) + list(s._async_failure_callback)
    loggers: list = []
    functions: list = []
    for entry in sources:
        if isinstance(entry, CustomLogger):
            if entry not in loggers:
                loggers.append(entry)
        elif isinstance(entry, str):
            if not _is_builtin(entry):
                _warn_unknown(entry)
        elif callable(entry) and entry not in functions:
            functions.append(entry)
    return loggers, functions


def _epoch(value: _dt.datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _dump(response: Any) -> Any:
    dump = getattr(response, "model_dump", None)
    return dump() if callable(dump) else response


def _reported_model(params: dict) -> Any:
    """The model as LiteLLM reports it to callbacks: without the provider prefix
    (``openai/gpt-4o-mini`` → ``gpt-4o-mini``); a Router call's group name until the
    deployment is known."""
    model = params.get("model")
    if not isinstance(model, str) or "/" not in model or "model_group" in (params.get("metadata") or {}):
        return model
    try:
        from ._native import get_llm_provider

        return get_llm_provider(model, params.get("custom_llm_provider"), None)[0]
    except Exception:
        return model


class CallLog:
    """The logging state of one call (LiteLLM's ``Logging`` object, in miniature)."""

    def __init__(self, call_type: str, params: dict, started: float, attempts: bool = False) -> None:
        self.call_type = call_type
        self.params = params
        # Router calls report each attempt (``attempt``); others fire pre-call once, here.
        self.per_attempt = attempts and _listens_pre_call()
        self._previous_models: list[dict] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.start_time = _dt.datetime.fromtimestamp(started)
        self.end_time: _dt.datetime | None = None
        call_id = params.get("litellm_call_id") or str(uuid.uuid4())
        params["litellm_call_id"] = call_id
        metadata = params.get("metadata") or params.get("litellm_metadata") or {}
        optional = {k: v for k, v in params.items() if k not in _NOT_BODY and not _is_litellm_param(k)}
        self.model = _reported_model(params)
        self.messages = params.get("messages")
        self.kwargs: dict = {
            "model": self.model,
            "messages": self.messages,
            "input": params.get("messages", params.get("input", params.get("prompt"))),
            "optional_params": optional,
            "litellm_params": {
                "metadata": metadata,
                "litellm_call_id": call_id,
                "api_base": params.get("api_base") or params.get("base_url"),
                "custom_llm_provider": params.get("custom_llm_provider"),
                "model_info": params.get("model_info"),
                "cooldown_time": params.get("cooldown_time"),
            },
            "litellm_call_id": call_id,
            "litellm_trace_id": params.get("litellm_trace_id"),
            "call_type": call_type,
            "stream": bool(params.get("stream")),
            "stream_options": params.get("stream_options"),
            "user": params.get("user"),
            "custom_llm_provider": params.get("custom_llm_provider"),
            "start_time": self.start_time,
            "api_call_start_time": self.start_time,
            "log_event_type": "pre_api_call",
        }
        if not self.per_attempt:
            self._pre_call(call_type.startswith("a"))
        elif call_type.startswith("a"):
            self._loop = asyncio.get_running_loop()

    def attempt(self, info: dict, error: Any) -> None:
        """The engine's report on one Router attempt: before it (``error`` None) the pre-call
        callbacks see the deployment (its model without the provider prefix, ``model_info``,
        the failures so far in ``metadata.previous_models``); after a failed one ``error`` is
        its ``ErrorInfo``. Called from the engine's thread."""
        if error is not None:
            from ._errors import from_native
            from ._native import NativeError

            exc = from_native(NativeError(error), self.params)
            previous = {"exception_type": type(exc).__name__, "exception_string": str(exc)}
            previous.update((k, v) for k, v in self.params.items()
                            if k not in ("metadata", "messages", "litellm_metadata"))
            previous["model"] = info["model"]
            self._previous_models.append(previous)
            return
        from ._native import get_llm_provider

        deployment = info["model"]
        try:
            model, provider = get_llm_provider(deployment, None, None)[:2]
        except Exception:
            model, provider = deployment, None
        self.model = model
        litellm_params = self.kwargs["litellm_params"]
        metadata = dict(litellm_params["metadata"] or {})
        metadata.setdefault("model_group", info["model_group"])
        metadata["deployment"] = deployment
        metadata["model_info"] = {"id": info["model_id"]}
        metadata["previous_models"] = list(self._previous_models)
        kwargs = dict(self.kwargs, model=model, custom_llm_provider=provider,
                      litellm_params=dict(litellm_params, metadata=metadata,
                                          custom_llm_provider=provider,
                                          model_info={"id": info["model_id"]}))
        # Later stages (success, failure) report the last attempt.
        self.kwargs = kwargs
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._pre_call, True, kwargs)
        else:
            self._pre_call(False, kwargs)

    # -- stages ---------------------------------------------------------------------------
    def _pre_call(self, is_async: bool, kwargs: dict | None = None) -> None:
        kwargs = self.kwargs if kwargs is None else kwargs
        model = kwargs["model"]
        s = _settings()
        CustomLogger = _custom_logger_class()
        for entry in list(s.callbacks) + list(s.input_callback):
            if isinstance(entry, CustomLogger):
                if is_async and _overrides(entry, "async_log_pre_api_call"):
                    _schedule(entry.async_log_pre_api_call(model, self.messages, kwargs), entry)
                else:
                    _guarded(entry.log_pre_api_call, model, self.messages, kwargs)
            elif callable(entry) and entry in s.input_callback:
                _guarded(entry, kwargs)

    def stream_event(self, chunk: Any) -> None:
        now = _dt.datetime.now()
        for entry in _listeners("success")[0]:
            if _overrides(entry, "log_stream_event"):
                _guarded(entry.log_stream_event, self.kwargs, chunk, self.start_time, now)

    def _finish_kwargs(
        self, response: Any, summary: dict | None, exc: BaseException | None, payload: Any = None
    ) -> None:
        self.end_time = _dt.datetime.now()
        hidden = getattr(response, "_hidden_params", None) or {}
        cost = hidden.get("response_cost")
        if summary is not None and summary.get("response_cost") is not None:
            cost = summary["response_cost"]
        if exc is not None and cost is None:
            cost = 0.0  # a failed call costs nothing, as LiteLLM reports it
        if hidden.get("litellm_model_name") and not self.per_attempt:
            # LiteLLM reports the model as sent upstream (a Router call: the deployment's).
            self.kwargs["model"] = hidden["litellm_model_name"]
        self.kwargs.update(
            end_time=self.end_time,
            log_event_type="successful_api_call" if exc is None else "failed_api_call",
            response_cost=cost,
            cache_hit=bool(hidden.get("cache_hit")),
            original_response=_dump(response) if response is not None else None,
            custom_llm_provider=hidden.get("custom_llm_provider") or self.kwargs["custom_llm_provider"],
        )
        if exc is not None:
            self.kwargs["exception"] = exc
            self.kwargs["traceback_exception"] = "".join(
                traceback.format_exception(type(exc), exc, exc.__traceback__)
            )
        if payload is None:
            # Answers that never reached the engine (Python-side mocks) are described here.
            payload = self._standard_payload(response, hidden, cost, summary, exc)
        else:
            if exc is not None and payload.get("error_information"):
                payload["error_information"]["traceback"] = self.kwargs["traceback_exception"]
            if summary is not None and response is not None and payload.get("response") is None:
                # A stream's answer as the caller assembled it.
                payload["response"] = _dump(response)
        self.kwargs["standard_logging_object"] = payload
        # LiteLLM's post_call: inline, for every CustomLogger that implements it.
        for entry in _settings().callbacks:
            if isinstance(entry, _custom_logger_class()) and _overrides(entry, "log_post_api_call"):
                _guarded(entry.log_post_api_call, self.kwargs, response, self.start_time, self.end_time)

    def _standard_payload(
        self, response: Any, hidden: dict, cost: Any, summary: dict | None, exc: BaseException | None
    ) -> dict:
        usage = getattr(response, "usage", None) if response is not None else None
        # Chat usage, or the Responses API's input/output tokens.
        prompt_tokens = getattr(usage, "prompt_tokens", None) or getattr(usage, "input_tokens", 0) or 0
        completion_tokens = (
            getattr(usage, "completion_tokens", None) or getattr(usage, "output_tokens", 0) or 0
        )
        start = _epoch(self.start_time)
        end = _epoch(self.end_time)
        completion_start = (summary or {}).get("completion_start_time") or end
        metadata = dict(_METADATA_DEFAULTS)
        metadata.update(self.kwargs["litellm_params"].get("metadata") or {})
        provider = hidden.get("custom_llm_provider") or self.kwargs.get("custom_llm_provider")
        error_information = None
        if exc is not None:
            status = getattr(exc, "status_code", None)
            error_information = {
                "error_code": str(status) if status is not None else "",
                "error_class": type(exc).__name__,
                "llm_provider": getattr(exc, "llm_provider", provider) or "",
                "traceback": self.kwargs.get("traceback_exception", ""),
                "error_message": str(exc),
            }
        model_parameters = dict(self.kwargs["optional_params"])
        return {
            "id": self.kwargs["litellm_call_id"],
            "trace_id": self.kwargs.get("litellm_trace_id") or self.kwargs["litellm_call_id"],
            "litellm_call_id": self.kwargs["litellm_call_id"],
            "call_type": self.call_type,
            "stream": self.kwargs["stream"],
            "status": "success" if exc is None else "failure",
            "status_fields": {
                "llm_api_status": "success" if exc is None else "failure",
                "guardrail_status": "not_run",
            },
            "response_cost": cost or 0.0,
            "cost_breakdown": None,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "startTime": start,
            "endTime": end,
            "completionStartTime": completion_start,
            "response_time": (end or 0.0) - (start or 0.0),
            "model": self.model,
            "model_id": hidden.get("model_id"),
            "model_group": (metadata.get("model_group") if isinstance(metadata, dict) else None),
            "custom_llm_provider": provider,
            "model_map_information": {
                "model_map_key": hidden.get("litellm_model_name") or self.model,
                "model_map_value": None,
            },
            "api_base": hidden.get("api_base") or self.kwargs["litellm_params"].get("api_base") or "",
            "cache_hit": bool(hidden.get("cache_hit")),
            "cache_key": hidden.get("cache_key"),
            "saved_cache_cost": 0.0,
            "metadata": metadata,
            "request_tags": list(metadata.get("tags") or []) if isinstance(metadata, dict) else [],
            "end_user": self.kwargs.get("user"),
            "requester_ip_address": None,
            "messages": self.messages if self.messages is not None else self.kwargs.get("input"),
            "response": _dump(response) if response is not None else None,
            "error_str": str(exc) if exc is not None else None,
            "error_information": error_information,
            "model_parameters": model_parameters,
            "hidden_params": {
                "model_id": hidden.get("model_id"),
                "cache_key": None,
                "api_base": hidden.get("api_base"),
                "response_cost": cost,
                "additional_headers": hidden.get("additional_headers"),
                "litellm_model_name": hidden.get("litellm_model_name"),
            },
            "guardrail_information": None,
        }

    # -- success --------------------------------------------------------------------------
    def success(self, response: Any, summary: dict | None = None, payload: Any = None) -> None:
        self._finish_kwargs(response, summary, None, payload)
        loggers, functions = _listeners("success")
        for entry in loggers:
            _background(entry.log_success_event, self.kwargs, response, self.start_time, self.end_time)
        for fn in functions:
            _background(fn, self.kwargs, response, self.start_time, self.end_time)

    def async_success(
        self, response: Any, summary: dict | None = None, payload: Any = None
    ) -> None:
        self._finish_kwargs(response, summary, None, payload)
        loggers, functions = _listeners("success")
        for entry in loggers:
            _schedule(
                entry.async_log_success_event(self.kwargs, response, self.start_time, self.end_time),
                entry,
            )
        for fn in functions:
            if asyncio.iscoroutinefunction(fn):
                _schedule(fn(self.kwargs, response, self.start_time, self.end_time), fn)
            else:
                _background(fn, self.kwargs, response, self.start_time, self.end_time)

    # -- failure --------------------------------------------------------------------------
    def failure(self, exc: BaseException, payload: Any = None) -> None:
        self._finish_kwargs(None, None, exc, payload)
        loggers, functions = _listeners("failure")
        for entry in loggers:
            _background(entry.log_failure_event, self.kwargs, exc, self.start_time, self.end_time)
        for fn in functions:
            _background(fn, self.kwargs, exc, self.start_time, self.end_time)

    def async_failure(self, exc: BaseException, payload: Any = None) -> None:
        self._finish_kwargs(None, None, exc, payload)
        loggers, functions = _listeners("failure")
        for entry in loggers:
            _schedule(entry.async_log_failure_event(self.kwargs, exc, self.start_time, self.end_time), entry)
        for fn in functions:
            if asyncio.iscoroutinefunction(fn):
                _schedule(fn(self.kwargs, exc, self.start_time, self.end_time), fn)
            else:
                _background(fn, self.kwargs, exc, self.start_time, self.end_time)


def _overrides(instance: Any, name: str) -> bool:
    base = getattr(_custom_logger_class(), name, None)
    return getattr(type(instance), name, None) is not base


_LITELLM_PARAMS: frozenset[str] | None = None


def _is_litellm_param(name: str) -> bool:
    global _LITELLM_PARAMS
    if _LITELLM_PARAMS is None:
        from .types.utils import all_litellm_params

        _LITELLM_PARAMS = frozenset(all_litellm_params) | {
            "timeout", "extra_headers", "drop_params", "mock_tool_calls", "mock_delay",
            "organization", "base_url", "stream_timeout",
        }
    return name in _LITELLM_PARAMS


_METADATA_DEFAULTS = {
    "user_api_key_hash": None,
    "user_api_key_alias": None,
    "user_api_key_spend": None,
    "user_api_key_max_budget": None,
    "user_api_key_budget_reset_at": None,
    "user_api_key_user_id": None,
    "user_api_key_user_email": None,
    "user_api_key_team_id": None,
    "user_api_key_team_alias": None,
    "user_api_key_org_id": None,
    "user_api_key_end_user_id": None,
    "user_api_key_request_route": None,
    "spend_logs_metadata": None,
    "requester_ip_address": None,
    "requester_metadata": None,
    "requester_custom_headers": None,
    "prompt_management_metadata": None,
    "mcp_tool_call_metadata": None,
    "vector_store_request_metadata": None,
    "applied_guardrails": None,
    "usage_object": None,
}


def _listens_pre_call() -> bool:
    """Whether a pre-call callback is registered (Router calls then report every attempt)."""
    s = _settings()
    if s.input_callback:
        return True
    CustomLogger = _custom_logger_class()
    return any(isinstance(entry, CustomLogger)
               and (_overrides(entry, "log_pre_api_call") or _overrides(entry, "async_log_pre_api_call"))
               for entry in s.callbacks)


def start(call_type: str, params: dict, started: float, attempts: bool = False) -> CallLog:
    """The logging state of a call; ``attempts``: a Router call, whose engine reports each
    attempt to ``CallLog.attempt``."""
    return CallLog(call_type, params, started, attempts)
