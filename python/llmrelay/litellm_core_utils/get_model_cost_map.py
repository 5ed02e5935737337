"""``get_model_cost_map`` (``litellm.litellm_core_utils.get_model_cost_map``)."""

from __future__ import annotations

import json

from .. import _native

__all__ = ["get_model_cost_map"]


def get_model_cost_map(url: str = "") -> dict:
    """The price map the engine uses, as a fresh dict (``url`` is accepted for LiteLLM's
    signature; the map is the bundled one, or ``LLMRELAY_MODEL_COST_MAP`` when set, and never
    fetched over the network)."""
    data = json.loads(_native.model_cost_map_text())
    data.pop("fallback_generalizations", None)
    return data
