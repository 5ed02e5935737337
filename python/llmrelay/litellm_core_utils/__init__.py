"""Core helpers with LiteLLM's module paths (``litellm.litellm_core_utils.*``)."""
