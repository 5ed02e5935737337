"""Base configuration types with LiteLLM's module paths (``litellm.llms.base_llm.*``)."""
