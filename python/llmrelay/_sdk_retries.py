"""SDK-level (no Router) fallbacks and retries as LiteLLM's ``completion`` offers them:
``completion(..., fallbacks=[...])`` tries each fallback model (a name, or a dict of its own
parameters) after the call fails; ``retry_policy=RetryPolicy(...)`` retries a failed call through
``completion_with_retries`` as many times as the policy gives its exception class;
``completion_with_retries`` / ``acompletion_with_retries`` call the function again on any error
(``num_retries`` attempts in all, LiteLLM's ``stop_after_attempt``)."""

from __future__ import annotations

import sys
from typing import Any, Callable

__all__ = [
    "acompletion_with_retries",
    "aresponses_with_retries",
    "completion_with_retries",
    "responses_with_retries",
    "with_fallbacks",
    "with_retry_policy",
]


def _package() -> Any:
    return sys.modules[__package__]


def _fallback_calls(model: str, kwargs: dict, fallbacks: list) -> list[dict]:
    calls = [dict(kwargs, model=model)]
    for fallback in fallbacks:
        if isinstance(fallback, str):
            calls.append(dict(kwargs, model=fallback))
        elif isinstance(fallback, dict) and "model" in fallback:
            calls.append(dict(kwargs, **fallback))
        elif isinstance(fallback, dict):
            # Router-style {"group": ["fallback", ...]}: the names listed for this model.
            for name in fallback.get(model, []):
                calls.append(dict(kwargs, model=name))
        else:
            raise TypeError(f"fallbacks entries are model names or dicts, got {fallback!r}")
    return calls


def with_fallbacks(function: Callable[..., Any], model: str, kwargs: dict) -> Any:
    """Call ``function`` with ``model``, then with each fallback until one succeeds; the last
    error is raised when all fail."""
    fallbacks = kwargs.pop("fallbacks")
    last: BaseException | None = None
    for call in _fallback_calls(model, kwargs, list(fallbacks or [])):
        try:
            return function(**call)
        except Exception as error:  # the next fallback is tried
            last = error
    assert last is not None
    raise last


async def awith_fallbacks(function: Callable[..., Any], model: str, kwargs: dict) -> Any:
    fallbacks = kwargs.pop("fallbacks")
    last: BaseException | None = None
    for call in _fallback_calls(model, kwargs, list(fallbacks or [])):
        try:
            return await function(**call)
        except Exception as error:  # the next fallback is tried
            last = error
    assert last is not None
    raise last


def with_retry_policy(error: BaseException, kwargs: dict, is_async: bool) -> Any:
    """After ``error``: the retried call when ``retry_policy`` grants retries for its class
    (through ``litellm.completion_with_retries``), else ``None``."""
    from .router_utils.get_retry_from_policy import get_num_retries_from_retry_policy

    policy = kwargs.pop("retry_policy", None)
    retries = get_num_retries_from_retry_policy(error, policy)
    if not retries:
        return None
    package = _package()
    retry = package.acompletion_with_retries if is_async else package.completion_with_retries
    return retry(**dict(kwargs, num_retries=retries))


def completion_with_retries(*args: Any, **kwargs: Any) -> Any:
    """Call ``original_function`` (default ``litellm.completion``) until it succeeds, at most
    ``num_retries`` (default 3) attempts; each attempt runs with ``num_retries=0,
    max_retries=0`` so retries do not multiply."""
    num_retries = kwargs.pop("num_retries", 3)
    original = kwargs.pop("original_function", None) or _package().completion
    kwargs.pop("retry_strategy", None)
    kwargs.update(num_retries=0, max_retries=0)
    attempts = max(int(num_retries or 1), 1)
    for attempt in range(attempts):
        try:
            return original(*args, **kwargs)
        except Exception:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


async def acompletion_with_retries(*args: Any, **kwargs: Any) -> Any:
    """Async ``completion_with_retries`` (default ``litellm.acompletion``)."""
    num_retries = kwargs.pop("num_retries", 3)
    original = kwargs.pop("original_function", None) or _package().acompletion
    kwargs.pop("retry_strategy", None)
    kwargs.update(num_retries=0, max_retries=0)
    attempts = max(int(num_retries or 1), 1)
    for attempt in range(attempts):
        try:
            result = original(*args, **kwargs)
            if hasattr(result, "__await__"):
                result = await result
            return result
        except Exception:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def responses_with_retries(*args: Any, **kwargs: Any) -> Any:
    """``completion_with_retries`` for the Responses API (default ``litellm.responses``)."""
    kwargs.setdefault("original_function", None)
    if kwargs["original_function"] is None:
        from .responses import main

        kwargs["original_function"] = main.responses
    return completion_with_retries(*args, **kwargs)


async def aresponses_with_retries(*args: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("original_function", None)
    if kwargs["original_function"] is None:
        from .responses import main

        kwargs["original_function"] = main.aresponses
    return await acompletion_with_retries(*args, **kwargs)
