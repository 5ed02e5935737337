"""The proxy's bridge to custom guardrail classes (``litellm_params.guardrail: module.ClassName``).

The Rust server builds one :class:`GuardrailAdapter` per configured entry (at start-up, when the
config is resolved) and calls it for each hook the guardrail's ``mode`` names: the adapter runs
the guardrail's coroutine on the shared host loop (a daemon thread) and the server awaits the
``concurrent.futures.Future`` without holding the GIL.

Replies are ``{"ok": ...}`` or ``{"error": {"status", "message", "detail"?}}``; the server turns
an error into LiteLLM's answer: an ``HTTPException``'s status, its ``detail`` as the message
(a ``detail`` dict also as ``provider_specific_fields``), 500 for any other exception.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib
import itertools
import os
import sys
import threading
from typing import Any

from ._proxy_hooks import _to_json, _user_api_key_dict

__all__ = ["GuardrailAdapter", "build"]

_END = object()


class _Loop:
    """One event loop thread shared by every custom guardrail of the process."""

    _lock = threading.Lock()
    _loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def get(cls) -> asyncio.AbstractEventLoop:
        with cls._lock:
            if cls._loop is None:
                loop = asyncio.new_event_loop()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.run_forever()

                threading.Thread(target=run, name="llmrelay-guardrails", daemon=True).start()
                cls._loop = loop
            return cls._loop


def _overrides(guardrail: Any, name: str) -> bool:
    """Whether the guardrail's class defines ``name`` itself (not the no-op of the bases)."""
    from .integrations.custom_guardrail import CustomGuardrail
    from .integrations.custom_logger import CustomLogger

    method = getattr(type(guardrail), name, None)
    if method is None:
        return False
    return method is not getattr(CustomGuardrail, name, None) and method is not getattr(
        CustomLogger, name, None
    )


def _error_info(error: BaseException) -> dict:
    status = getattr(error, "status_code", None)
    if not isinstance(status, int):
        status = getattr(error, "code", None)
        try:
            status = int(status) if status is not None else None
        except (TypeError, ValueError):
            status = None
    detail = getattr(error, "detail", None)
    info: dict[str, Any] = {"status": status if isinstance(status, int) else 500}
    if isinstance(detail, dict):
        info["detail"] = _to_json(detail)
        info["message"] = str(detail.get("error", detail))
    elif detail is not None:
        info["message"] = str(detail)
    else:
        info["message"] = str(error) or type(error).__name__
    return info


def _response_object(response: Any) -> Any:
    if isinstance(response, dict):
        from .types.utils import ModelResponse

        return ModelResponse(**response)
    return response


def _chunk_object(chunk: dict) -> Any:
    from .types.utils import ModelResponseStream

    return ModelResponseStream(**chunk)


class _Stream:
    def __init__(self) -> None:
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.outbox: asyncio.Queue = asyncio.Queue()
        self.task: asyncio.Task | None = None


class GuardrailAdapter:
    """One configured custom guardrail, as the server calls it."""

    def __init__(self, guardrail: Any) -> None:
        self.guardrail = guardrail
        self.loop = _Loop.get()
        self._streams: dict[int, _Stream] = {}
        self._ids = itertools.count(1)
        self.hooks = {
            "pre_call": _overrides(guardrail, "async_pre_call_hook"),
            "during_call": _overrides(guardrail, "async_moderation_hook"),
            "post_call": _overrides(guardrail, "async_post_call_success_hook"),
            "stream": _overrides(guardrail, "async_post_call_streaming_iterator_hook"),
            "apply": bool(getattr(guardrail, "uses_apply_guardrail_interface", lambda: False)()),
        }

    # ------------------------------------------------------------------ calls
    def submit(self, method: str, payload: dict) -> concurrent.futures.Future:
        """Called by the server (with the GIL) for each hook run."""
        return asyncio.run_coroutine_threadsafe(self._guard(method, payload), self.loop)

    async def _guard(self, method: str, payload: dict) -> dict:
        try:
            return {"ok": await getattr(self, "_" + method)(payload)}
        except Exception as error:  # reported to the caller with its status, never lost
            return {"error": _error_info(error)}

    async def _pre_call(self, payload: dict) -> dict:
        guardrail, data = self.guardrail, payload["data"]
        if self.hooks["pre_call"]:
            result = await guardrail.async_pre_call_hook(
                user_api_key_dict=_user_api_key_dict(payload["user_api_key_dict"]),
                cache=None,
                data=data,
                call_type=payload["call_type"],
            )
            if isinstance(result, Exception):
                raise result
            if isinstance(result, str):
                return {"respond": result}
            if isinstance(result, dict):
                data = result
            return {"data": _to_json(data)}
        if self.hooks["apply"]:
            inputs = await guardrail.apply_guardrail(
                inputs={"texts": list(payload["texts"])}, request_data=data, input_type="request"
            )
            return {"texts": list((inputs or {}).get("texts") or payload["texts"])}
        return {}

    async def _during_call(self, payload: dict) -> dict:
        if self.hooks["during_call"]:
            await self.guardrail.async_moderation_hook(
                data=payload["data"],
                user_api_key_dict=_user_api_key_dict(payload["user_api_key_dict"]),
                call_type=payload["call_type"],
            )
        return {}

    async def _post_call(self, payload: dict) -> dict:
        guardrail, data = self.guardrail, payload["data"]
        if self.hooks["post_call"]:
            response = _response_object(payload["response"])
            result = await guardrail.async_post_call_success_hook(
                data=data,
                user_api_key_dict=_user_api_key_dict(payload["user_api_key_dict"]),
                response=response,
            )
            if result is None:
                result = response
            return {"response": _to_json(result)}
        if self.hooks["apply"]:
            inputs = await guardrail.apply_guardrail(
                inputs={"texts": list(payload["texts"])}, request_data=data, input_type="response"
            )
            return {"texts": list((inputs or {}).get("texts") or payload["texts"])}
        return {}

    # ---------------------------------------------------------------- streams
    def stream_open(self, payload: dict) -> int:
        """Start the guardrail's ``async_post_call_streaming_iterator_hook`` over a stream the
        server feeds with :meth:`stream_feed`; read it with :meth:`stream_next`."""
        handle = next(self._ids)
        stream = _Stream()
        self._streams[handle] = stream

        async def upstream():
            while True:
                item = await stream.inbox.get()
                if item is _END:
                    return
                yield _chunk_object(item)

        async def pump() -> None:
            try:
                hook = self.guardrail.async_post_call_streaming_iterator_hook(
                    user_api_key_dict=_user_api_key_dict(payload["user_api_key_dict"]),
                    response=upstream(),
                    request_data=payload["data"],
                )
                async for chunk in hook:
                    await stream.outbox.put({"chunk": _to_json(chunk)})
                await stream.outbox.put({"end": True})
            except asyncio.CancelledError:
                raise
            except Exception as error:
                await stream.outbox.put({"error": _error_info(error)})

        def start() -> None:
            stream.task = self.loop.create_task(pump())

        self.loop.call_soon_threadsafe(start)
        return handle

    def stream_feed(self, handle: int, chunk: dict | None) -> None:
        """One upstream chunk (``None``: the upstream ended)."""
        stream = self._streams.get(handle)
        if stream is not None:
            item = _END if chunk is None else chunk
            self.loop.call_soon_threadsafe(stream.inbox.put_nowait, item)

    def stream_next(self, handle: int) -> concurrent.futures.Future:
        """The next item the hook yields: ``{"chunk"}``, ``{"end"}`` or ``{"error"}``."""
        stream = self._streams[handle]

        async def next_item() -> dict:
            return {"ok": await stream.outbox.get()}

        return asyncio.run_coroutine_threadsafe(next_item(), self.loop)

    def stream_close(self, handle: int) -> None:
        stream = self._streams.pop(handle, None)
        if stream is not None and stream.task is not None:
            self.loop.call_soon_threadsafe(stream.task.cancel)


def _import_class(class_path: str, config_dir: str | None) -> Any:
    directory = os.path.abspath(config_dir or ".")
    if directory not in sys.path:
        sys.path.insert(0, directory)
    module_name, _, class_name = class_path.rpartition(".")
    module = importlib.import_module(module_name)
    return getattr(module, class_name)


def _event_hook(mode: Any) -> Any:
    if isinstance(mode, dict) and "tags" in mode:
        from .types.guardrails import Mode

        return Mode(tags=mode.get("tags"), default=mode.get("default"))
    return mode


def build(
    class_path: str, config_dir: str | None, guardrail_name: str, litellm_params: dict
) -> GuardrailAdapter:
    """Import ``module.ClassName`` (next to the config first, as LiteLLM does) and build it with
    ``guardrail_name``, ``event_hook`` (the ``mode``) and ``default_on``."""
    cls = _import_class(class_path, config_dir)
    guardrail = cls(
        guardrail_name=guardrail_name,
        event_hook=_event_hook(litellm_params.get("mode")),
        default_on=bool(litellm_params.get("default_on", False)),
    )
    return GuardrailAdapter(guardrail)
