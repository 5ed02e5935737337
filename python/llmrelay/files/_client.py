"""The OpenAI-compatible endpoint the Files and Batches functions talk to (LiteLLM's
``get_openai_credentials``: ``api_base`` / ``litellm.api_base`` / ``OPENAI_BASE_URL`` /
``OPENAI_API_BASE``, ``api_key`` / ``litellm.api_key`` / ``OPENAI_API_KEY``), and the openai
SDK's errors turned into LiteLLM's exception classes."""

from __future__ import annotations

import os
from typing import Any, Awaitable, Callable, TypeVar

import openai

from .. import _errors

T = TypeVar("T")

# What LiteLLM's files and batches functions serve over the OpenAI protocol.
_OPENAI_COMPATIBLE = ("openai", "hosted_vllm", "litellm_proxy")

_KIND_BY_STATUS = {
    400: "bad_request",
    401: "authentication",
    403: "permission_denied",
    404: "not_found",
    408: "timeout",
    409: "bad_request",
    413: "bad_request",
    422: "unprocessable_entity",
    429: "rate_limit",
    500: "internal_server",
    502: "bad_gateway",
    503: "service_unavailable",
}


def _settings(kwargs: dict, function: str) -> dict:
    import llmrelay

    provider = kwargs.pop("custom_llm_provider", None) or "openai"
    if provider not in _OPENAI_COMPATIBLE:
        raise _errors.build(
            "bad_request",
            400,
            f"llmrelay doesn't support {provider} for '{function}'. Only {list(_OPENAI_COMPATIBLE)} "
            "(an OpenAI-compatible endpoint, such as the llmrelay proxy) are supported.",
            provider,
            "n/a",
        )
    api_base = (kwargs.pop("api_base", None) or getattr(llmrelay, "api_base", None)
                or os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_BASE")
                or "https://api.openai.com/v1")
    api_key = (kwargs.pop("api_key", None) or getattr(llmrelay, "api_key", None)
               or getattr(llmrelay, "openai_key", None) or os.environ.get("OPENAI_API_KEY"))
    timeout = kwargs.pop("timeout", None) or kwargs.pop("request_timeout", None) or 600.0
    return {
        "base_url": api_base,
        "api_key": api_key or "",
        "organization": kwargs.pop("organization", None),
        "timeout": timeout,
        "max_retries": kwargs.pop("max_retries", None) or 0,
    }


def _mapped(error: openai.APIError) -> Exception:
    if isinstance(error, openai.APITimeoutError):
        return _errors.build("timeout", 408, str(error), "openai", None)
    if isinstance(error, openai.APIConnectionError):
        return _errors.build("api_connection", 500, str(error), "openai", None)
    if isinstance(error, openai.APIStatusError):
        status = error.status_code
        kind = _KIND_BY_STATUS.get(status, "api_error")
        body = error.body
        message = error.message
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            message = body["message"]
        return _errors.build(kind, status, f"OpenAIException - {message}", "openai", None,
                             headers=dict(error.response.headers), body=body)
    return error


def client(kwargs: dict, function: str) -> openai.OpenAI:
    return openai.OpenAI(**_settings(kwargs, function))


def async_client(kwargs: dict, function: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(**_settings(kwargs, function))


def extras(extra_headers: dict | None, extra_body: dict | None) -> dict:
    options: dict[str, Any] = {}
    if extra_headers:
        options["extra_headers"] = extra_headers
    if extra_body:
        options["extra_body"] = extra_body
    return options


def call(function: str, kwargs: dict, run: Callable[[openai.OpenAI], T]) -> T:
    with client(kwargs, function) as sdk:
        try:
            return run(sdk)
        except openai.APIError as error:
            raise _mapped(error) from error


async def acall(function: str, kwargs: dict,
                run: Callable[[openai.AsyncOpenAI], Awaitable[T]]) -> T:
    async with async_client(kwargs, function) as sdk:
        try:
            return await run(sdk)
        except openai.APIError as error:
            raise _mapped(error) from error


__all__ = ["acall", "call", "extras"]
