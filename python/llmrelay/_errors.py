"""Engine errors → LiteLLM's exception classes.

The engine raises ``_native.NativeError(info)``; ``info`` is an ``ErrorInfo`` with named fields
(``kind``, ``message``, ``status``, ``provider``, ``model``, ``retry_after``, ``headers``, ``body``,
``num_retries``, ``param``). :func:`from_native` builds the LiteLLM class for it; :func:`build`
does so from the parts (the proxy's hook host and mocks use it directly).
"""

from __future__ import annotations

import json
from typing import Any

from .exceptions import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadGatewayError,
    BadRequestError,
    BudgetExceededError,
    ContentPolicyViolationError,
    ContextWindowExceededError,
    InternalServerError,
    MockException,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServiceUnavailableError,
    TagRoutingError,
    Timeout,
    UnprocessableEntityError,
    UnsupportedParamsError,
    _response,
)

__all__ = ["build", "from_native"]


# Per-provider wording of a missing API key, as LiteLLM raises it.
_MISSING_KEY_TEXT = {
    "anthropic": "Missing Anthropic API Key - A call is being made to anthropic but no key is set "
    "either in the environment variables or via params. Please set `ANTHROPIC_API_KEY` in your "
    "environment vars",
}


def _litellm_message(info: Any, params: dict | None) -> str:
    """The engine's message in LiteLLM's words where LiteLLM words it differently."""
    message = info.message
    if (info.kind == "bad_request" and info.param == "role" and params
            and message.startswith("Invalid messages[")):
        index = message[len("Invalid messages["):].split("]", 1)[0]
        messages = params.get("messages") or []
        if index.isdigit() and int(index) < len(messages):
            return f"Invalid Message passed in {messages[int(index)]!r}"
    if info.kind == "authentication" and message.startswith("Missing API key for provider"):
        return _MISSING_KEY_TEXT.get(info.provider or "", message)
    if _ROUTER_NOTE in message:
        import llmrelay

        if getattr(llmrelay, "expose_router_debug_in_errors", True) is False:
            # LiteLLM's switch: the Router's note on its model groups stays out.
            return message.split(_ROUTER_NOTE, 1)[0]
    return message


# LiteLLM's RouterErrors.no_deployments_with_tag_routing (the Router's tag refusal).
_TAG_ROUTING_REFUSAL = "Not allowed to access model due to tags configuration"

# How the Router's note on a final error begins (see docs/router.md).
_ROUTER_NOTE = "\n\nLiteLLM: model group '"


def _debug_info(info: Any, params: dict | None) -> str:
    """LiteLLM's ``litellm_debug_info``: which model, provider and endpoint failed."""
    params = params or {}
    metadata = params.get("metadata") if isinstance(params.get("metadata"), dict) else {}
    return (
        f"\nModel: {info.model or params.get('model')}"
        f"\nAPI Base: `{params.get('api_base') or params.get('base_url')}`"
        f"\nProvider: {info.provider}"
        f"\nModel Group: {metadata.get('model_group')}\n"
    )


def from_native(error: Any, params: dict | None = None) -> Exception:
    """The LiteLLM exception for a ``NativeError`` raised by the engine (``params``: the call's
    keyword arguments, for LiteLLM's message texts and ``litellm_debug_info``)."""
    info = error.args[0]
    body: Any = info.body
    if body is not None:
        try:
            body = json.loads(body)
        except ValueError:
            pass
        else:
            # As the openai SDK does: the exception's body is the inner error object, so
            # e.code / e.type / e.param come from it.
            if isinstance(body, dict) and isinstance(body.get("error"), dict):
                body = body["error"]
    return build(
        info.kind,
        info.status,
        _litellm_message(info, params),
        info.provider,
        info.model,
        info.retry_after,
        dict(info.headers) if info.headers else None,
        body,
        info.num_retries,
        litellm_debug_info=_debug_info(info, params),
    )



def build(
    kind: str,
    status: int | None,
    message: str,
    provider: str | None,
    model: str | None,
    retry_after: float | None = None,
    headers: dict | None = None,
    body: object | None = None,
    num_retries: int | None = None,
    max_retries: int | None = None,
    litellm_debug_info: str | None = None,
) -> Exception:
    """Build the LiteLLM exception for an engine error.

    ``message`` is the text *after* the ``"litellm.<ClassName>: "`` prefix, which the
    class adds.  ``status`` overrides the class's default ``status_code`` when given
    (e.g. ``bad_request`` with 422, ``timeout`` with 504).  ``headers`` become the
    synthetic response's headers (so ``e.response.headers["retry-after"]`` works);
    ``retry_after`` (seconds) is stored on :class:`RateLimitError`.
    Unknown ``kind`` values produce :class:`APIError`.
    """
    common = {
        "litellm_debug_info": litellm_debug_info,
        "max_retries": max_retries,
        "num_retries": num_retries,
    }

    def resp(default: int) -> Any:
        return _response(status or default, headers=headers)

    exc: Exception
    if kind == "bad_request":
        exc = BadRequestError(message, model, provider, response=resp(400), body=body, **common)
        if status:
            exc.status_code = status
    elif kind == "authentication":
        cls = TagRoutingError if message.startswith(_TAG_ROUTING_REFUSAL) else AuthenticationError
        exc = cls(message, provider, model, response=resp(401), **common)
    elif kind == "permission_denied":
        exc = PermissionDeniedError(message, provider, model, response=resp(403), **common)
    elif kind == "not_found":
        exc = NotFoundError(message, model, provider, response=resp(404), **common)
    elif kind == "timeout":
        exc = Timeout(
            message,
            model,
            provider,
            headers=headers,
            exception_status_code=status if status and status != 408 else None,
            **common,
        )
    elif kind == "unprocessable_entity":
        exc = UnprocessableEntityError(message, model, provider, response=resp(422), **common)
    elif kind == "rate_limit":
        exc = RateLimitError(
            message,
            provider,
            model,
            response=resp(429),
            headers=headers,
            body=body,
            retry_after=retry_after,
            **common,
        )
    elif kind == "context_window_exceeded":
        exc = ContextWindowExceededError(
            message, model, provider, response=resp(400), litellm_debug_info=litellm_debug_info
        )
        exc.max_retries = max_retries
        exc.num_retries = num_retries
        if status:
            exc.status_code = status
    elif kind == "content_policy_violation":
        exc = ContentPolicyViolationError(
            message,
            model,
            provider,
            response=resp(400),
            litellm_debug_info=litellm_debug_info,
            body=body,
        )
        exc.max_retries = max_retries
        exc.num_retries = num_retries
        if status:
            exc.status_code = status
    elif kind == "unsupported_params":
        exc = UnsupportedParamsError(message, provider, model, status_code=status or 400, **common)
    elif kind == "internal_server":
        exc = InternalServerError(message, provider, model, response=resp(500), body=body, **common)
        if status:
            exc.status_code = status
    elif kind == "bad_gateway":
        exc = BadGatewayError(message, provider, model, response=resp(502), **common)
    elif kind == "service_unavailable":
        exc = ServiceUnavailableError(message, provider, model, response=resp(503), **common)
    elif kind == "api_connection":
        exc = APIConnectionError(message, provider, model, **common)
    elif kind == "budget_exceeded":
        b = body if isinstance(body, dict) else {}
        exc = BudgetExceededError(
            current_cost=b.get("current_cost", 0.0),
            max_budget=b.get("max_budget", 0.0),
            message=message or None,
            llm_provider=provider,
            entity_type=b.get("entity_type"),
            entity_id=b.get("entity_id"),
        )
        if status:
            exc.status_code = status
    elif kind == "mock":
        exc = MockException(status or 500, message, provider, model, **common)
    else:  # "api_error" and anything unknown
        exc = APIError(status or 500, message, provider, model, body=body, **common)
    if retry_after is not None and not isinstance(exc, RateLimitError):
        exc.retry_after = retry_after  # type: ignore[attr-defined]
    return exc
