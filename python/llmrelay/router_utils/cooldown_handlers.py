"""Cooldown decisions (``litellm.router_utils.cooldown_handlers``): which failures put a
deployment in cooldown, and which deployments are cooling down now.

The router's engine keeps the cooldown state; these functions answer LiteLLM's questions
about it with LiteLLM's rules (429, 401, 404, 408 and 5xx cool a deployment down, other 4xx
and connection errors do not; a cooldown time of 0 turns cooldown off).
"""

from __future__ import annotations

import math
from typing import Any, Optional, Union

__all__ = [
    "_async_get_cooldown_deployments",
    "_get_cooldown_deployments",
    "_is_cooldown_required",
    "_should_run_cooldown_logic",
    "cast_exception_status_to_int",
]


def cast_exception_status_to_int(exception_status: Union[str, int]) -> int:
    """The status as an int; 500 when it is not a number."""
    if isinstance(exception_status, int):
        return exception_status
    try:
        return int(exception_status)
    except (TypeError, ValueError):
        return 500


def _is_cooldown_required(litellm_router_instance: Any, model_id: str,
                          exception_status: Union[str, int],
                          exception_str: Optional[str] = None) -> bool:
    """Whether a failure with ``exception_status`` cools the deployment down."""
    if exception_str is not None and "APIConnectionError" in exception_str:
        return False
    if isinstance(exception_status, str):
        if not exception_status:
            return False
        try:
            exception_status = int(exception_status)
        except ValueError:
            return True
    if 400 <= exception_status < 500:
        return exception_status in (401, 404, 408, 429)
    return True


def _should_run_cooldown_logic(litellm_router_instance: Any, deployment: Optional[str],
                               exception_status: Union[str, int], original_exception: Any,
                               time_to_cooldown: Optional[float] = None) -> bool:
    """Whether the cooldown rules apply to this failure of ``deployment`` (a deployment id)."""
    if deployment is None or deployment not in litellm_router_instance.get_model_ids():
        return False
    if time_to_cooldown is not None and math.isclose(time_to_cooldown, 0.0, abs_tol=1e-9):
        return False
    if getattr(litellm_router_instance, "disable_cooldowns", False):
        return False
    return _is_cooldown_required(litellm_router_instance, deployment, exception_status,
                                 str(original_exception))


def _get_cooldown_deployments(litellm_router_instance: Any, parent_otel_span: Any = None) -> list[str]:
    """Ids of the deployments cooling down now."""
    return list(litellm_router_instance.get_cooldown_deployments())


async def _async_get_cooldown_deployments(litellm_router_instance: Any,
                                          parent_otel_span: Any = None) -> list[str]:
    return _get_cooldown_deployments(litellm_router_instance, parent_otel_span)
