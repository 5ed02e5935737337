"""Router helpers with LiteLLM's module paths (``litellm.router_utils.*``)."""
