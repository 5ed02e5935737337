"""``get_llm_provider``: which provider serves a model name, and where and with which key it
is reached when the call does not say (``litellm.litellm_core_utils.get_llm_provider_logic``).

The provider comes from the engine's detection rules; the endpoint facts (default base URL,
``<PROVIDER>_API_BASE`` / ``<PROVIDER>_API_KEY`` variables) from the engine's provider table.
As LiteLLM, only OpenAI-compatible services report a default ``api_base``, keyless local
servers a ``fake-api-key``, and ``USE_LITELLM_PROXY`` / ``litellm_proxy/…`` route through a
LiteLLM-compatible gateway (``LITELLM_PROXY_API_BASE``, ``LITELLM_PROXY_API_KEY``).
"""

from __future__ import annotations

import os
from typing import Any, Optional

from .. import _native
from .._native import NativeError

__all__ = ["get_llm_provider", "is_registered_custom_provider"]

# Local servers that take any key: LiteLLM hands them "fake-api-key".
_KEYLESS = frozenset({"hosted_vllm", "llamafile", "lm_studio"})
# Providers that are not reached through the OpenAI-compatible table, or whose base LiteLLM
# resolves later than get_llm_provider: no api_base here.
_NO_DEFAULT_BASE = frozenset(
    {"openai", "text-completion-openai", "anthropic", "azure", "azure_ai", "azure_text",
     "cohere", "cohere_chat", "huggingface", "gemini", "vertex_ai", "vertex_ai_beta", "bedrock",
     "bedrock_converse", "openrouter", "ollama_chat", "litellm_proxy", "hosted_vllm", "lm_studio",
     "vllm", "watsonx", "databricks", "predibase", "replicate", "cloudflare", "voyage",
     "infinity", "oci"}
)


def _env(names: list[str]) -> Optional[str]:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def _truthy(value: Optional[str]) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _proxy(model: str, api_base: Optional[str], api_key: Optional[str]) -> tuple[str, str, Optional[str], Optional[str]]:
    if model.startswith("litellm_proxy/"):
        model = model[len("litellm_proxy/"):]
    return (model, "litellm_proxy", api_key or os.environ.get("LITELLM_PROXY_API_KEY"),
            api_base or os.environ.get("LITELLM_PROXY_API_BASE"))


def _get_openai_compatible_provider_info(  # noqa: D401 (LiteLLM's name)
    model: str, api_base: Optional[str], api_key: Optional[str], dynamic_api_key: Optional[str]
) -> tuple[str, str, Optional[str], Optional[str]]:
    """``(model, provider, dynamic_api_key, api_base)`` of a ``provider/model`` name served by
    an OpenAI-compatible service."""
    provider, _, name = model.partition("/")
    endpoint = _native.provider_endpoint(provider)
    if endpoint is None:
        return name, provider, dynamic_api_key or api_key, api_base
    default_base, key_env, base_env, _requires_key = endpoint
    base = api_base or _env(list(base_env))
    if base is None and provider not in _NO_DEFAULT_BASE:
        base = default_base
    key = dynamic_api_key or api_key or _env(list(key_env))
    if key is None and provider in _KEYLESS:
        key = "fake-api-key"
    return name, provider, key, base


def get_llm_provider(
    model: str,
    custom_llm_provider: Optional[str] = None,
    api_base: Optional[str] = None,
    api_key: Optional[str] = None,
    litellm_params: Any = None,
) -> tuple[str, str, Optional[str], Optional[str]]:
    """``(model, provider, dynamic_api_key, api_base)`` as LiteLLM returns them; raises
    ``BadRequestError`` ("LLM Provider NOT provided …") for a name no provider serves."""
    from .._custom_llm import handler_for

    if litellm_params is not None:
        get = litellm_params.get if isinstance(litellm_params, dict) else (
            lambda k, d=None: getattr(litellm_params, k, d))
        api_base = api_base or get("api_base")
        api_key = api_key or get("api_key")
    if handler_for(model, custom_llm_provider) is not None:
        provider = custom_llm_provider or model.split("/", 1)[0]
        prefix = provider + "/"
        return (model[len(prefix):] if model.startswith(prefix) else model), provider, api_key, api_base
    if model.startswith("litellm_proxy/") or custom_llm_provider == "litellm_proxy" or _truthy(
        os.environ.get("USE_LITELLM_PROXY")
    ):
        return _proxy(model, api_base, api_key)
    if model == "*" and custom_llm_provider is None:
        # A catch-all route ("*" in a model_list) is served as OpenAI, as in LiteLLM.
        return model, "openai", api_key, api_base
    try:
        name, provider = _native.get_llm_provider(model, custom_llm_provider, api_base)
    except NativeError as error:
        from .._call import exception

        raise exception(error) from None
    if provider in _NO_DEFAULT_BASE and provider not in _KEYLESS:
        return name, provider, api_key, api_base
    _, _, key, base = _get_openai_compatible_provider_info(
        f"{provider}/{name}", api_base, api_key, None
    )
    return name, provider, key, base


def is_registered_custom_provider(custom_llm_provider: Optional[str]) -> bool:
    """Whether ``custom_llm_provider`` names a provider of ``litellm.custom_provider_map``."""
    from .._custom_llm import provider_names

    return bool(custom_llm_provider) and custom_llm_provider in provider_names()
