"""Base classes provider integrations share (``litellm.llms.base_llm``)."""
