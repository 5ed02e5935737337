"""Provider-side helpers with LiteLLM's module paths (``litellm.llms.*``)."""
