"""LiteLLM's ``litellm.anthropic``: Anthropic's Messages API (``messages.create`` /
``messages.acreate``) over any provider."""

from . import messages
from .messages import acreate, create

__all__ = ["acreate", "create", "messages"]
