"""``FireworksAIException`` (``litellm.llms.fireworks_ai.common_utils``): an error from
Fireworks AI, mapped like LiteLLM maps it (a 400 whose text reports a rate limit is a
``RateLimitError``)."""

from ..base_llm.chat.transformation import BaseLLMException

__all__ = ["FireworksAIException"]


class FireworksAIException(BaseLLMException):
    pass
