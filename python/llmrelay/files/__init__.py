"""LiteLLM's ``litellm.files``: the Files API functions (see :mod:`.main`)."""
