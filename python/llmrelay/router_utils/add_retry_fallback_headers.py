"""The ``x-litellm-attempted-*`` headers on a response's ``_hidden_params``
(``litellm.router_utils.add_retry_fallback_headers``)."""

from __future__ import annotations

import json
from typing import Any, Optional
from urllib.parse import quote

__all__ = [
    "add_fallback_headers_to_response",
    "add_retry_headers_to_response",
    "get_fallback_errors_from_headers",
    "get_hidden_params_dict",
    "safe_header_value",
]


def get_hidden_params_dict(response: Any, create: bool = False) -> dict:
    """The response's ``_hidden_params`` as a dict (a dict response keeps them under the key
    ``_hidden_params``); ``create=True`` adds an empty one to a dict response without."""
    if isinstance(response, dict):
        hidden = response.get("_hidden_params")
        if hidden is None:
            if not create:
                return {}
            hidden = response["_hidden_params"] = {}
        return hidden if isinstance(hidden, dict) else _as_dict(hidden)
    hidden = getattr(response, "_hidden_params", None)
    if hidden is None:
        return {}
    return hidden if isinstance(hidden, dict) else _as_dict(hidden)


def _as_dict(value: Any) -> dict:
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump()
    return dict(value) if hasattr(value, "keys") else {}


def _add_headers(response: Any, headers: dict) -> Any:
    if response is None:
        return None
    if isinstance(response, dict):
        hidden = get_hidden_params_dict(response, create=True)
    else:
        hidden = getattr(response, "_hidden_params", None)
        if hidden is None:
            return response
        if not isinstance(hidden, dict):
            hidden = _as_dict(hidden)
            response._hidden_params = hidden
    additional = hidden.get("additional_headers")
    if not isinstance(additional, dict):
        additional = {}
    additional.update(headers)
    hidden["additional_headers"] = additional
    return response


def add_retry_headers_to_response(response: Any, attempted_retries: int,
                                  max_retries: Optional[int] = None) -> Any:
    """Record the retries made (and allowed) on ``response``."""
    headers: dict[str, Any] = {"x-litellm-attempted-retries": attempted_retries}
    if max_retries is not None:
        headers["x-litellm-max-retries"] = max_retries
    return _add_headers(response, headers)


def add_fallback_headers_to_response(response: Any, attempted_fallbacks: int,
                                     fallback_errors: Optional[list] = None) -> Any:
    """Record the fallbacks tried (and, when given, their errors as JSON) on ``response``."""
    headers: dict[str, Any] = {"x-litellm-attempted-fallbacks": attempted_fallbacks}
    if fallback_errors:
        headers["x-litellm-fallback-errors"] = json.dumps(fallback_errors)
    return _add_headers(response, headers)


def get_fallback_errors_from_headers(headers: Any) -> list:
    """The fallback errors recorded in ``headers`` (``[]`` when absent or unreadable)."""
    value = (headers or {}).get("x-litellm-fallback-errors")
    if value is None:
        return []
    if isinstance(value, list):
        return value
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return []
    return parsed if isinstance(parsed, list) else []


def safe_header_value(value: str) -> str:
    """``value`` as an HTTP header value: Latin-1 text as is, anything else percent-encoded."""
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return quote(value, safe="/:@-._~ ")
    return value
