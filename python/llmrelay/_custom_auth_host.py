"""The proxy's bridge to ``general_settings.custom_auth: module.function`` (LiteLLM's custom
auth hook).

The Rust server builds one :class:`AuthAdapter` when the proxy starts (the function is imported
relative to the config file, as LiteLLM's ``get_instance_fn`` does) and submits each request
to it: the function runs on the shared host loop (a daemon thread) and the server awaits the
``concurrent.futures.Future`` without holding the GIL.

The function is called as LiteLLM calls it, ``await fn(request=request, api_key=api_key)``,
with a Starlette-like :class:`Request` (``headers``, ``url``, ``method``, ``query_params``,
``client``, ``await request.body()`` / ``await request.json()``). It returns a
``UserAPIKeyAuth`` (or a dict of its fields), or a string: a key the proxy then checks as
usual. What it raises is answered as LiteLLM answers it: an ``HTTPException``'s status and
``detail``, a ``ProxyException`` as raised, a ``BudgetExceededError`` as a 400, anything else
as a 401 ``"Authentication Error, <message>"``.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import importlib
import importlib.util
import inspect
import json
import os
import sys
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from ._guardrail_host import _Loop

__all__ = ["AuthAdapter", "Request", "build"]


class Headers(Mapping[str, str]):
    """Case-insensitive request headers (Starlette's ``Headers``): the first value of a name."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = [(name.lower(), value) for name, value in pairs]

    def __getitem__(self, name: str) -> str:
        lowered = name.lower()
        for key, value in self._pairs:
            if key == lowered:
                return value
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        seen: list[str] = []
        for key, _ in self._pairs:
            if key not in seen:
                seen.append(key)
        return iter(seen)

    def __len__(self) -> int:
        return len({key for key, _ in self._pairs})

    def getlist(self, name: str) -> list[str]:
        lowered = name.lower()
        return [value for key, value in self._pairs if key == lowered]

    def raw(self) -> list[tuple[bytes, bytes]]:
        return [(key.encode("latin-1"), value.encode("latin-1")) for key, value in self._pairs]


class QueryParams(Mapping[str, str]):
    """The query string's parameters (the first value of a name; ``getlist`` for all)."""

    def __init__(self, query: str) -> None:
        self._pairs = parse_qsl(query, keep_blank_values=True)

    def __getitem__(self, name: str) -> str:
        for key, value in self._pairs:
            if key == name:
                return value
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(dict(self._pairs))

    def __len__(self) -> int:
        return len(dict(self._pairs))

    def getlist(self, name: str) -> list[str]:
        return [value for key, value in self._pairs if key == name]


class URL:
    """The request URL (Starlette's ``URL``: ``path``, ``query``, ``hostname``, ``port``, …)."""

    def __init__(self, url: str) -> None:
        self._url = url
        parts = urlsplit(url)
        self.scheme = parts.scheme
        self.netloc = parts.netloc
        self.path = parts.path
        self.query = parts.query
        self.fragment = parts.fragment
        self.hostname = parts.hostname
        self.port = parts.port

    def __str__(self) -> str:
        return self._url

    def __repr__(self) -> str:
        return f"URL({self._url!r})"

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(self._url)


class Address(NamedTuple):
    host: str
    port: int


class Request:
    """The incoming request as a ``custom_auth`` function sees it (Starlette's ``Request``)."""

    def __init__(self, payload: dict) -> None:
        self.method: str = payload["method"]
        self.headers = Headers([tuple(pair) for pair in payload["headers"]])
        host = payload.get("host") or "localhost"
        self.url = URL(f"http://{host}{payload['path_and_query']}")
        self.query_params = QueryParams(self.url.query)
        self.path_params: dict[str, Any] = {}
        client = payload.get("client")
        self.client = Address(client[0], int(client[1])) if client else None
        self._body = base64.b64decode(payload.get("body") or "")
        cookies: dict[str, str] = {}
        for header in self.headers.getlist("cookie"):
            for item in header.split(";"):
                name, _, value = item.strip().partition("=")
                if name:
                    cookies[name] = value
        self.cookies = cookies
        self.state = type("State", (), {})()
        self.scope = {
            "type": "http",
            "method": self.method,
            "path": self.url.path,
            "query_string": self.url.query.encode(),
            "headers": self.headers.raw(),
            "client": self.client,
        }

    async def body(self) -> bytes:
        return self._body

    async def json(self) -> Any:
        return json.loads(self._body)

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.url.path}>"


def _load(path: str, directory: str) -> Any:
    """``module.function``: the module is a file next to the config first (LiteLLM's
    ``get_instance_fn``), then an importable module."""
    module_name, _, name = path.rpartition(".")
    if not module_name or not name:
        raise ValueError(f"custom_auth must be a module.function path, got {path!r}")
    candidate = os.path.join(directory, *module_name.split(".")) + ".py"
    if os.path.isfile(candidate):
        spec = importlib.util.spec_from_file_location(module_name, candidate)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {candidate}")
        module = importlib.util.module_from_spec(spec)
        sys.modules.setdefault(module_name, module)
        spec.loader.exec_module(module)
    else:
        if directory not in sys.path:
            sys.path.insert(0, directory)
        module = importlib.import_module(module_name)
    function = getattr(module, name)
    if not callable(function):
        raise TypeError(f"custom_auth {path!r} is not callable")
    return function


def _caller(result: Any) -> dict:
    """The fields of what the function returned, validated as LiteLLM's ``UserAPIKeyAuth``."""
    from .proxy._types import UserAPIKeyAuth

    caller = UserAPIKeyAuth.model_validate(
        result.model_dump() if hasattr(result, "model_dump") and not isinstance(
            result, UserAPIKeyAuth) else result
    )
    return caller.model_dump(mode="json", exclude_none=True, exclude={"parent_otel_span"})


def _refusal(error: BaseException) -> dict:
    """LiteLLM's answer to an exception raised in ``custom_auth``."""
    from .exceptions import BudgetExceededError
    from .proxy._types import ProxyException

    if isinstance(error, BudgetExceededError):
        return {"status": 400, "message": str(getattr(error, "message", error)),
                "type": "budget_exceeded"}
    if isinstance(error, ProxyException) or (
        hasattr(error, "type") and hasattr(error, "code") and hasattr(error, "message")
    ):
        try:
            status = int(getattr(error, "code"))
        except (TypeError, ValueError):
            status = 500
        return {"status": status, "message": str(getattr(error, "message")),
                "type": str(getattr(error, "type"))}
    status = getattr(error, "status_code", None)
    if isinstance(status, int):
        detail = getattr(error, "detail", None)
        message = detail if detail is not None else f"Authentication Error({error})"
        if isinstance(message, dict):
            message = message.get("error", message)
        return {"status": status, "message": str(message), "type": "auth_error"}
    return {"status": 401, "message": f"Authentication Error, {error}", "type": "auth_error"}


class AuthAdapter:
    """One loaded ``custom_auth`` function."""

    def __init__(self, function: Any) -> None:
        self.function = function

    def submit(self, payload: dict) -> concurrent.futures.Future:
        """Called by the server (with the GIL) for each request."""
        return asyncio.run_coroutine_threadsafe(self._run(payload), _Loop.get())

    async def _run(self, payload: dict) -> dict:
        try:
            result = self.function(request=Request(payload), api_key=payload.get("api_key"))
            if inspect.isawaitable(result):
                result = await result
        except Exception as error:  # the function's refusal is the answer
            return {"error": _refusal(error)}
        try:
            if isinstance(result, str):
                return {"ok": {"api_key": result}}
            return {"ok": {"caller": _caller(result)}}
        except Exception as error:  # a malformed return value is the proxy's 500
            return {"error": {"status": 500, "type": "internal_server_error",
                              "message": f"custom_auth returned an invalid UserAPIKeyAuth: {error}"}}


def build(path: str, directory: str) -> AuthAdapter:
    """Import ``path`` (``module.function``) relative to ``directory``."""
    return AuthAdapter(_load(path, os.path.abspath(directory or ".")))
