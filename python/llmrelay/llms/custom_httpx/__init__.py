"""HTTP clients for custom providers (``litellm.llms.custom_httpx``)."""
