"""Per-deployment pricing parameters (LiteLLM's ``MirroredPricingParams`` and
``CustomPricingLiteLLMParams``) as pydantic models; loaded on first use (pydantic comes with
the ``openai`` SDK)."""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, create_model

from .utils import all_litellm_params

__all__ = ["CustomPricingLiteLLMParams", "MirroredPricingParams", "PRICING_FIELDS",
           "SPECIAL_MODEL_INFO_PARAMS"]

# The pricing keys a deployment may set in ``litellm_params`` (LiteLLM's order).
_first = all_litellm_params.index("input_cost_per_token")
_last = all_litellm_params.index("regional_endpoint_uplift_multiplier")
PRICING_FIELDS: tuple[str, ...] = tuple(all_litellm_params[_first : _last + 1])

# The pricing keys a ``Deployment`` copies from ``litellm_params`` onto ``model_info``.
SPECIAL_MODEL_INFO_PARAMS: tuple[str, ...] = PRICING_FIELDS[:7]


def _annotation(name: str) -> Any:
    if name == "tiered_pricing":
        return Optional[list[dict[str, Any]]]
    if name == "search_context_cost_per_query":
        return Optional[dict[str, Any]]
    if name == "output_vector_size":
        return Optional[int]
    return Optional[float]


def _fields(names: tuple[str, ...]) -> dict[str, Any]:
    return {name: (_annotation(name), None) for name in names}


MirroredPricingParams = create_model(  # type: ignore[call-overload]
    "MirroredPricingParams",
    __base__=BaseModel,
    __module__="llmrelay.types.utils",
    **_fields(SPECIAL_MODEL_INFO_PARAMS),
)
MirroredPricingParams.__doc__ = "The pricing keys a deployment mirrors onto its model_info."

CustomPricingLiteLLMParams = create_model(  # type: ignore[call-overload]
    "CustomPricingLiteLLMParams",
    __base__=MirroredPricingParams,
    __module__="llmrelay.types.utils",
    **_fields(PRICING_FIELDS[7:]),
)
CustomPricingLiteLLMParams.__doc__ = "Every pricing key a deployment may set (custom pricing)."
