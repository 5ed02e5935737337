"""LiteLLM's SDK helper functions: tokenizers, ``get_modified_max_tokens``, ``trim_messages``,
``validate_environment``, ``get_valid_models``, ``check_valid_key``,
``register_prompt_template``."""

from __future__ import annotations

import os
import sys
from typing import Any, Optional

__all__ = [
    "check_valid_key",
    "create_pretrained_tokenizer",
    "create_tokenizer",
    "custom_prompt_dict",
    "get_modified_max_tokens",
    "get_valid_models",
    "register_prompt_template",
    "trim_messages",
    "validate_environment",
]

# Prompt templates registered with register_prompt_template (LiteLLM's litellm.custom_prompt_dict).
custom_prompt_dict: dict[str, dict] = {}


def _package() -> Any:
    return sys.modules[__package__]


def _tokenizers() -> Any:
    try:
        import tokenizers
    except ImportError:
        raise ImportError(
            "custom tokenizers need the Hugging Face `tokenizers` package: pip install tokenizers"
        ) from None
    return tokenizers


def create_pretrained_tokenizer(identifier: str, revision: str = "main",
                                auth_token: Optional[str] = None) -> dict:
    """A Hugging Face hub tokenizer for ``token_counter(custom_tokenizer=...)``:
    ``{"type": "huggingface_tokenizer", "tokenizer": Tokenizer}``."""
    tokenizer = _tokenizers().Tokenizer.from_pretrained(identifier, revision=revision,
                                                        token=auth_token)
    return {"type": "huggingface_tokenizer", "tokenizer": tokenizer}


def create_tokenizer(json: str) -> dict:
    """A tokenizer from its ``tokenizer.json`` text, for ``token_counter(custom_tokenizer=...)``."""
    return {"type": "huggingface_tokenizer", "tokenizer": _tokenizers().Tokenizer.from_str(json)}


def get_modified_max_tokens(model: str, base_model: str, messages: Optional[list],
                            user_max_tokens: Optional[int], buffer_perc: Optional[float] = None,
                            buffer_num: Optional[float] = None) -> Optional[int]:
    """``max_tokens`` that still fits the model, as LiteLLM computes it: unknown model → the
    caller's value; a model whose input and output share one window (max input == max output)
    → what is left after the prompt (``None`` when the prompt alone fills it); otherwise the
    caller's value capped at the model's max output."""
    try:
        info = _package().get_model_info(base_model)
    except Exception:
        return user_max_tokens
    max_output = info.get("max_output_tokens")
    max_input = info.get("max_input_tokens")
    if max_output is None:
        return user_max_tokens
    if max_input is not None and max_input == max_output:
        input_tokens = _package().token_counter(model=base_model, messages=messages)
        buffer = max(int((buffer_perc if buffer_perc is not None else 0.1) * input_tokens),
                     int(buffer_num if buffer_num is not None else 10))
        remaining = max_output - input_tokens - buffer
        if remaining <= 0:
            return None
        if user_max_tokens is None or user_max_tokens > remaining:
            return remaining
        return user_max_tokens
    if user_max_tokens is not None and user_max_tokens > max_output:
        return max_output
    return user_max_tokens


def _count(model: Optional[str], messages: list) -> int:
    return _package().token_counter(model=model or "", messages=messages)


def _shorten(message: dict, model: Optional[str], budget: int) -> Optional[dict]:
    content = message.get("content")
    if not isinstance(content, str) or budget <= 0:
        return None
    low, high = 0, len(content)
    while low < high:  # longest prefix whose message fits the budget
        middle = (low + high + 1) // 2
        if _count(model, [dict(message, content=content[:middle])]) <= budget:
            low = middle
        else:
            high = middle - 1
    return dict(message, content=content[:low]) if low else None


def trim_messages(messages: list, model: Optional[str] = None, trim_ratio: float = 0.75,
                  return_response_tokens: bool = False, max_tokens: Optional[int] = None) -> Any:
    """Messages that fit ``max_tokens`` (default: ``trim_ratio`` of the model's input window):
    system messages are kept, the oldest other messages dropped, and the last one shortened if
    it alone is too long. With ``return_response_tokens``: ``(messages, tokens left)``."""
    if max_tokens is None:
        try:
            info = _package().get_model_info(model or "")
        except Exception:
            return (messages, 0) if return_response_tokens else messages
        window = info.get("max_input_tokens") or info.get("max_tokens")
        if not window:
            return (messages, 0) if return_response_tokens else messages
        max_tokens = int(window * trim_ratio)
    current = _count(model, messages)
    if current <= max_tokens:
        return (messages, max_tokens - current) if return_response_tokens else messages
    # The tool results that end the conversation answer the last assistant turn: LiteLLM
    # keeps them whatever the budget and trims what comes before.
    messages = [m.model_dump(exclude_none=True) if hasattr(m, "model_dump") else m for m in messages]
    tail: list = []
    while messages and messages[-1].get("role") == "tool":
        tail.insert(0, messages.pop())
    system = [m for m in messages if m.get("role") == "system"]
    others = [m for m in messages if m.get("role") != "system"]
    while len(others) > 1 and _count(model, system + others) > max_tokens:
        others.pop(0)
    if others and _count(model, system + others) > max_tokens:
        shortened = _shorten(others[-1], model, max_tokens - (_count(model, system) if system else 0))
        others = [shortened] if shortened else []
    trimmed = system + others + tail
    if return_response_tokens:
        return trimmed, max_tokens - _count(model, trimmed)
    return trimmed


_NEEDS_API_BASE = {"ollama": "OLLAMA_API_BASE", "ollama_chat": "OLLAMA_API_BASE"}


def validate_environment(model: Optional[str] = None, api_key: Optional[str] = None,
                         api_base: Optional[str] = None) -> dict:
    """Whether the environment has what a call to ``model`` needs:
    ``{"keys_in_environment": bool, "missing_keys": [variable, ...]}``."""
    from . import _native

    if not model:
        return {"keys_in_environment": False, "missing_keys": []}
    try:
        _, provider, _, _ = _package().get_llm_provider(model)
    except Exception:
        return {"keys_in_environment": False, "missing_keys": []}
    if provider in _NEEDS_API_BASE:
        # A local server needs its address, not a key (LiteLLM asks for OLLAMA_API_BASE).
        variable = _NEEDS_API_BASE[provider]
        if api_base or os.environ.get(variable):
            return {"keys_in_environment": True, "missing_keys": []}
        return {"keys_in_environment": False, "missing_keys": [variable]}
    endpoint = _native.provider_endpoint(provider)
    if endpoint is None:
        return {"keys_in_environment": False, "missing_keys": []}
    _, key_env, _, requires_key = endpoint
    if api_key or not requires_key or any(os.environ.get(name) for name in key_env):
        return {"keys_in_environment": True, "missing_keys": []}
    return {"keys_in_environment": False, "missing_keys": list(key_env[:1])}


def get_valid_models(check_provider_endpoint: bool = False,
                     custom_llm_provider: Optional[str] = None,
                     api_key: Optional[str] = None, api_base: Optional[str] = None) -> list[str]:
    """The price map's models of every provider whose API key is in the environment (or of
    ``custom_llm_provider`` only). Provider endpoints are not queried."""
    from . import _native

    by_provider = _package().models_by_provider
    providers = [custom_llm_provider] if custom_llm_provider else list(by_provider)
    models: list[str] = []
    for provider in providers:
        endpoint = _native.provider_endpoint(provider)
        if endpoint is None:
            continue
        key_env = endpoint[1]
        if custom_llm_provider and api_key or any(os.environ.get(name) for name in key_env):
            models.extend(by_provider.get(provider, []))
    return models


def check_valid_key(model: str, api_key: str) -> bool:
    """Whether ``api_key`` works for ``model``: one 10-token completion."""
    try:
        _package().completion(model=model, api_key=api_key, max_tokens=10,
                              messages=[{"role": "user", "content": "Hey, how's it going?"}])
    except Exception:
        return False
    return True


def register_prompt_template(model: str, roles: Optional[dict] = None,
                             initial_prompt_value: str = "", final_prompt_value: str = "",
                             tokenizer_config: Optional[dict] = None) -> dict:
    """Record a prompt template for ``model`` in ``litellm.custom_prompt_dict`` (LiteLLM's
    registry). llmrelay's providers send chat messages as chat, so templates are kept for code
    that reads them; see docs/compatibility.md."""
    entry: dict[str, Any] = {"roles": roles or {}, "initial_prompt_value": initial_prompt_value,
                             "final_prompt_value": final_prompt_value}
    if tokenizer_config:
        entry["tokenizer_config"] = tokenizer_config
    custom_prompt_dict[model] = entry
    return custom_prompt_dict
