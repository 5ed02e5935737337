"""The Search API's response types (``litellm.llms.base_llm.search``)."""
