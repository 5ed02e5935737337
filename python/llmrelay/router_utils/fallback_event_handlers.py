"""Fallback helpers (``litellm.router_utils.fallback_event_handlers``)."""

from __future__ import annotations

from typing import Any, Optional, Sequence

__all__ = ["_check_non_standard_fallback_format"]


def _check_non_standard_fallback_format(fallbacks: Optional[Sequence[Any]]) -> bool:
    """Whether ``fallbacks`` lists targets directly (``["model-b"]`` or
    ``[{"model": "model-b", "temperature": 0}]``, a call's own fallbacks) rather than
    mapping model groups to targets (``[{"group-a": ["model-b"]}]``). A dict whose
    ``litellm_params`` key holds a list (``{"model": ["b"]}``) is still a mapping."""
    from ..types.router import LiteLLMParamsTypedDict

    if not isinstance(fallbacks, list) or not fallbacks:
        return False
    if all(isinstance(item, str) for item in fallbacks):
        return True
    if not all(isinstance(item, dict) for item in fallbacks):
        return False
    params = LiteLLMParamsTypedDict.__annotations__
    return any(key in params and not isinstance(value, list)
               for item in fallbacks for key, value in item.items())
