"""Logging names LiteLLM code imports from ``litellm.litellm_core_utils.litellm_logging``."""

from ..integrations.custom_logger import CustomLogger

__all__ = ["CustomLogger"]
