"""LiteLLM's ``litellm.batches``: the Batches API functions (see :mod:`.main`)."""
