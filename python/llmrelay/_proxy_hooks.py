"""The proxy's bridge to ``litellm_settings.callbacks``: the Rust server submits each hook call
here; it runs as a coroutine on this host's own event loop (a daemon thread) and the server
awaits the ``concurrent.futures.Future`` without holding the GIL.

Every method answers ``{"ok": ...}`` or ``{"error": {"status", "message"}}`` rather than
raising, so a hook's exception reaches the client with its status (``HTTPException``-style
``status_code`` / ``detail``, else 500 for a crash in the hook, 400 for a rejection)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime
import logging
import threading
from types import SimpleNamespace
from typing import Any

from ._errors import build as _from_native

__all__ = ["HookHost"]

_log = logging.getLogger("llmrelay.proxy")


def _user_api_key_dict(info: dict) -> Any:
    """LiteLLM's ``UserAPIKeyAuth``: attribute access over the authenticated key's fields."""
    return SimpleNamespace(**info)


def _time(seconds: float | None) -> datetime.datetime | None:
    return None if seconds is None else datetime.datetime.fromtimestamp(seconds)


def _status_message(error: BaseException) -> tuple[int, str]:
    status = getattr(error, "status_code", None)
    detail = getattr(error, "detail", None)
    message = str(detail if detail is not None else error)
    if isinstance(detail, dict):
        message = str(detail.get("error", detail))
    if isinstance(status, int):
        return status, message
    return 500, message or type(error).__name__


def _response_object(call_type: str, response: Any) -> Any:
    """The response as LiteLLM hooks receive it: a ``ModelResponse`` for chat."""
    if call_type == "completion" and isinstance(response, dict):
        from .types.utils import ModelResponse

        return ModelResponse(**response)
    return response


def _to_json(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump()
    if hasattr(value, "json") and callable(value.json):
        return value.json()
    return value


class HookHost:
    """Runs hook coroutines on a private event loop."""

    def __init__(self, callbacks: list[Any]) -> None:
        self.callbacks = callbacks
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="llmrelay-proxy-hooks", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)

    def submit(self, method: str, payload: dict) -> concurrent.futures.Future:
        """Called by the server (with the GIL) for each hook call."""
        return asyncio.run_coroutine_threadsafe(self._guard(method, payload), self.loop)

    async def _guard(self, method: str, payload: dict) -> dict:
        try:
            return {"ok": await getattr(self, method)(payload)}
        except Exception as error:  # a hook's failure is reported, never lost
            status, message = _status_message(error)
            return {"error": {"status": status, "message": message}}

    def _having(self, name: str) -> list[Any]:
        return [cb for cb in self.callbacks if hasattr(cb, name)]

    async def pre_call(self, payload: dict) -> dict:
        data = payload["data"]
        user = _user_api_key_dict(payload["user_api_key_dict"])
        for callback in self._having("async_pre_call_hook"):
            result = await callback.async_pre_call_hook(
                user_api_key_dict=user, cache=None, data=data, call_type=payload["call_type"]
            )
            if isinstance(result, Exception):
                raise result
            if isinstance(result, str):
                return {"respond": result}
            if isinstance(result, dict):
                data = result
        return {"data": data}

    async def post_call_success(self, payload: dict) -> dict:
        user = _user_api_key_dict(payload["user_api_key_dict"])
        response = _response_object(payload["call_type"], payload["response"])
        replaced = None
        for callback in self._having("async_post_call_success_hook"):
            result = await callback.async_post_call_success_hook(
                data=payload["data"], user_api_key_dict=user, response=response
            )
            if result is not None:
                response = result
                replaced = result
        return {"response": None if replaced is None else _to_json(replaced)}

    async def post_call_failure(self, payload: dict) -> None:
        user = _user_api_key_dict(payload["user_api_key_dict"])
        exception = _exception(payload["error"])
        for callback in self._having("async_post_call_failure_hook"):
            await callback.async_post_call_failure_hook(
                request_data=payload["data"], original_exception=exception, user_api_key_dict=user
            )

    def _kwargs(self, payload: dict) -> dict:
        request = payload["request"] or {}
        return {
            "model": payload["model_group"],
            "messages": request.get("messages"),
            "call_type": payload["call_type"],
            "litellm_call_id": payload["call_id"],
            "stream": payload["stream"],
            "response_cost": payload["response_cost"],
            "optional_params": {k: v for k, v in request.items() if k not in ("model", "messages")},
            "litellm_params": {
                "metadata": {
                    "user_api_key_hash": payload["user_api_key_dict"].get("token"),
                    "user_api_key_user_id": payload["user_api_key_dict"].get("user_id"),
                    "model_group": payload["model_group"],
                    "model_info": {"id": payload["model_id"]},
                },
                "api_base": payload["api_base"],
            },
            "start_time": _time(payload["start_time"]),
            "end_time": _time(payload["end_time"]),
            "completion_start_time": _time(payload["completion_start_time"]),
            # The pipeline's one payload, the same an SDK callback receives.
            "standard_logging_object": payload.get("standard_logging_object"),
        }

    async def log_success(self, payload: dict) -> None:
        kwargs = self._kwargs(payload)
        # A stream's answer comes assembled by the engine (LiteLLM's stream_chunk_builder).
        response = _response_object(payload["call_type"], payload["response"])
        if response is not None and payload.get("response_cost") is not None:
            hidden = getattr(response, "_hidden_params", None)
            if isinstance(hidden, dict):
                hidden["response_cost"] = payload["response_cost"]
        start, end = kwargs["start_time"], kwargs["end_time"]
        for callback in self._having("async_log_success_event"):
            await callback.async_log_success_event(kwargs, response, start, end)

    async def log_failure(self, payload: dict) -> None:
        kwargs = self._kwargs(payload)
        kwargs["exception"] = _exception(payload["error"]) if payload.get("error") else None
        start, end = kwargs["start_time"], kwargs["end_time"]
        for callback in self._having("async_log_failure_event"):
            await callback.async_log_failure_event(kwargs, None, start, end)


def _exception(error: dict) -> Exception:
    """The engine error as the LiteLLM exception class it maps to."""
    return _from_native(
        error["kind"], error["status"], error["message"], error.get("provider"), error.get("model")
    )
