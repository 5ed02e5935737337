"""``token_counter`` (``litellm.litellm_core_utils.token_counter``): LiteLLM's counting rules,
computed in the engine."""

from ..utils import token_counter

__all__ = ["token_counter"]
