"""Exceptions a proxy hook raises to answer the client with a chosen status, without a web
framework installed.

LiteLLM's docs have hooks raise FastAPI's ``HTTPException(status_code=..., detail=...)``;
its custom-auth docs raise ``litellm.proxy._types.ProxyException``. Both are here with the same
constructor arguments and attributes, so hook code written for LiteLLM needs only its import
changed (``fastapi.HTTPException`` itself also works when FastAPI is installed: the proxy reads
``status_code`` and ``detail`` from any exception).

The proxy answers with the exception's status and an OpenAI-shaped error whose ``message`` is
``detail`` (``detail["error"]`` when ``detail`` is a dict)::

    from llmrelay.proxy import HTTPException

    class Handler(CustomLogger):
        async def async_pre_call_hook(self, user_api_key_dict, cache, data, call_type):
            if "forbidden" in str(data.get("messages")):
                raise HTTPException(status_code=400, detail={"error": "Violated content policy"})
            return data
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["HTTPException", "ProxyException"]


class HTTPException(Exception):
    """FastAPI's (Starlette's) ``HTTPException``: ``status_code``, ``detail``, ``headers``."""

    def __init__(self, status_code: int, detail: Any = None,
                 headers: Mapping[str, str] | None = None) -> None:
        if not isinstance(status_code, int) or not 400 <= status_code <= 599:
            raise ValueError(f"status_code must be an HTTP error status (400-599), got {status_code!r}")
        if detail is None:
            from http import HTTPStatus

            detail = HTTPStatus(status_code).phrase
        super().__init__(status_code, detail)
        self.status_code = status_code
        self.detail = detail
        self.headers = dict(headers) if headers is not None else None

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, detail={self.detail!r})"


class ProxyException(Exception):
    """LiteLLM's ``ProxyException``: an error in OpenAI's shape; ``code`` is the HTTP status."""

    def __init__(self, message: str, type: str, param: str | None,
                 code: int | str | None = None, headers: dict[str, str] | None = None,
                 openai_code: str | None = None,
                 provider_specific_fields: dict | None = None) -> None:
        self.message = str(message)
        super().__init__(self.message)
        self.type = type
        self.param = param
        self.code = str(code)
        self.openai_code = openai_code or code
        self.headers = {k: str(v) for k, v in (headers or {}).items()}
        self.provider_specific_fields = provider_specific_fields

    @property
    def status_code(self) -> int:
        """The HTTP status the proxy answers with (``code``; 500 when it is not a status)."""
        try:
            status = int(self.code)
        except ValueError:
            return 500
        return status if 400 <= status <= 599 else 500

    @property
    def detail(self) -> str:
        return self.message

    def to_dict(self) -> dict:
        return {"message": self.message, "type": self.type, "param": self.param,
                "code": self.code}
