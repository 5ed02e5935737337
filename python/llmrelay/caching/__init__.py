"""LiteLLM's ``litellm.caching``: the response cache (``Cache``) and its enums."""

from .caching import Cache, CacheMode, LiteLLMCacheType, disable_cache, enable_cache, update_cache

__all__ = ["Cache", "CacheMode", "LiteLLMCacheType", "disable_cache", "enable_cache", "update_cache"]
