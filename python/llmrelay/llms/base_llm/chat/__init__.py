"""Chat-completion base classes (``litellm.llms.base_llm.chat``)."""
