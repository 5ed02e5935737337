"""Exception mapping (``litellm.litellm_core_utils.exception_mapping_utils``): turn a
provider's error into LiteLLM's exception class by status code."""

from __future__ import annotations

import re
from typing import Any, Optional

__all__ = [
    "ExceptionCheckers",
    "exception_type",
    "extract_and_raise_litellm_exception",
    "get_error_message",
]


class ExceptionCheckers:
    """Tests on an error's text that LiteLLM's mapping uses."""

    @staticmethod
    def is_error_str_rate_limit(error_str: Any, status_code: Optional[int] = None) -> bool:
        """Whether ``error_str`` reports a rate limit ("429" as a word, "rate limit" in any
        spelling, Mistral's "service tier capacity exceeded")."""
        if not isinstance(error_str, str):
            return False
        if re.search(r"\b429\b", error_str) and (not isinstance(status_code, int) or status_code == 429):
            return True
        lowered = error_str.lower()
        return bool(re.search(r"rate[\s_\-]*limit", lowered)) or "service tier capacity exceeded" in lowered


def extract_and_raise_litellm_exception(response: Any, error_str: str, model: str,
                                        custom_llm_provider: str, body: Any = None) -> None:
    """Raise the LiteLLM exception named in ``error_str`` (``litellm.ContextWindowExceededError``
    …), as a LiteLLM-compatible gateway reports it; return when none is named."""
    import inspect

    from .. import exceptions

    match = re.search(r"litellm\.\w+Error", error_str)
    if match is None:
        return
    cls = getattr(exceptions, match.group(0)[len("litellm."):], None)
    if not isinstance(cls, type) or not issubclass(cls, BaseException):
        return
    accepted = inspect.signature(cls.__init__).parameters
    extra = {k: v for k, v in (("response", response), ("body", body)) if k in accepted}
    raise cls(message=error_str, llm_provider=custom_llm_provider, model=model, **extra)


def get_error_message(error_obj: Any) -> Optional[str]:
    """The upstream error text of an exception (its body's ``error.message`` when present)."""
    body = getattr(error_obj, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return inner["message"]
    message = getattr(error_obj, "message", None)
    return message if isinstance(message, str) else None


def exception_type(
    model: str,
    original_exception: BaseException,
    custom_llm_provider: Optional[str] = None,
    completion_kwargs: Optional[dict] = None,
    extra_kwargs: Optional[dict] = None,
) -> BaseException:
    """LiteLLM's exception for ``original_exception`` (one of LiteLLM's classes is returned
    as is; anything with a ``status_code`` is mapped by status, the rest is an
    ``APIConnectionError``). Returned, not raised: ``raise exception_type(...)``."""
    from .._errors import build
    from ..exceptions import APIConnectionError, _LiteLLMErrorMixin

    if isinstance(original_exception, _LiteLLMErrorMixin):
        return original_exception
    provider = custom_llm_provider or getattr(original_exception, "llm_provider", None) or "openai"
    status = getattr(original_exception, "status_code", None)
    message = get_error_message(original_exception) or str(original_exception)
    if not isinstance(status, int):
        return APIConnectionError(message=message, llm_provider=provider, model=model)
    return build(_kind_for_status(status, message, provider), status, message, provider, model,
                 None, None, None, 0)


def _kind_for_status(status: int, message: str, provider: Optional[str] = None) -> str:
    lowered = message.lower()
    if provider == "fireworks_ai" and status == 400 and ExceptionCheckers.is_error_str_rate_limit(message):
        # Fireworks reports some rate limits as a 400 whose text says so.
        return "rate_limit"
    if status == 400 and ("context length" in lowered or "context window" in lowered
                          or "maximum context" in lowered):
        return "context_window_exceeded"
    if status == 400 and ("content_filter" in lowered or "content policy" in lowered):
        return "content_policy_violation"
    return {400: "bad_request", 401: "authentication", 403: "permission_denied",
            404: "not_found", 408: "timeout", 422: "unprocessable_entity", 429: "rate_limit",
            500: "internal_server", 502: "bad_gateway", 503: "service_unavailable",
            504: "timeout"}.get(status, "api_error")
