"""Provider-facing types (``litellm.types.llms``)."""
