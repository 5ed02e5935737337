"""Token, cost and model-info helpers (LiteLLM's ``litellm.utils`` surface), computed in Rust."""

from __future__ import annotations

from typing import Any

from . import _native
from ._model_info_keys import MODEL_INFO_KEYS, OPENAI_CHAT_PARAMS
from ._native import NativeError

__all__ = [
    "completion_cost",
    "cost_per_token",
    "decode",
    "encode",
    "get_llm_provider",
    "get_max_tokens",
    "get_model_info",
    "get_supported_openai_params",
    "register_model",
    "supports_function_calling",
    "supports_parallel_function_calling",
    "supports_prompt_caching",
    "supports_reasoning",
    "supports_response_schema",
    "supports_system_messages",
    "supports_tool_choice",
    "supports_vision",
    "token_counter",
]


def _raise(error: NativeError) -> Exception:
    from .main import _raise_native

    return _raise_native(error)


def token_counter(
    model: str = "",
    custom_tokenizer: Any = None,
    text: str | list[str] | None = None,
    messages: list | None = None,
    count_response_tokens: bool = False,
    tools: list | None = None,
    tool_choice: Any = None,
    use_default_image_token_count: bool = False,
    default_token_count: int | None = None,
) -> int:
    """Tokens of ``text`` or of chat ``messages`` (with LiteLLM's per-message overhead)."""
    try:
        if text is not None:
            return _native.token_counter(model, text=text)
        return _native.token_counter(
            model,
            messages,
            None,
            tools,
            tool_choice,
            count_response_tokens,
            use_default_image_token_count,
            default_token_count,
        )
    except NativeError as error:
        raise _raise(error) from None


def encode(model: str = "", text: str = "", custom_tokenizer: Any = None) -> list[int]:
    """Token ids of ``text``. Like LiteLLM, ``encode`` uses cl100k_base for OpenAI models (while
    ``token_counter`` counts o200k models with o200k_base); see docs/compatibility.md."""
    return _native.encode("cl100k_base", text)


def decode(model: str = "", tokens: list[int] | None = None, custom_tokenizer: Any = None) -> str:
    try:
        return _native.decode("cl100k_base", list(tokens or []))
    except NativeError as error:
        raise _raise(error) from None


def get_llm_provider(
    model: str,
    custom_llm_provider: str | None = None,
    api_base: str | None = None,
    api_key: str | None = None,
    litellm_params: Any = None,
) -> tuple[str, str, str | None, str | None]:
    """``(model, provider, dynamic_api_key, api_base)`` as LiteLLM returns them."""
    try:
        name, provider = _native.get_llm_provider(model, custom_llm_provider, api_base)
    except NativeError as error:
        raise _raise(error) from None
    return name, provider, api_key, api_base


def _usage_numbers(usage: Any) -> tuple[int, int, int, int, int]:
    if usage is None:
        return 0, 0, 0, 0, 0
    get = usage.get if isinstance(usage, dict) else (lambda k, d=None: getattr(usage, k, d))
    prompt = get("prompt_tokens", 0) or 0
    completion = get("completion_tokens", 0) or 0
    pdetails = get("prompt_tokens_details", None)
    cdetails = get("completion_tokens_details", None)

    def field(obj: Any, name: str) -> int:
        if obj is None:
            return 0
        value = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
        return value or 0

    cached = field(pdetails, "cached_tokens") or (get("cache_read_input_tokens", 0) or 0)
    creation = field(pdetails, "cache_creation_tokens") or (get("cache_creation_input_tokens", 0) or 0)
    reasoning = field(cdetails, "reasoning_tokens")
    return prompt, completion, cached, creation, reasoning


def cost_per_token(
    model: str = "",
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    custom_llm_provider: str | None = None,
    cache_creation_input_tokens: int | None = 0,
    cache_read_input_tokens: int | None = 0,
    usage_object: Any = None,
    service_tier: str | None = None,
    custom_cost_per_token: dict | None = None,
    **kwargs: Any,
) -> tuple[float, float]:
    """``(prompt_cost_usd, completion_cost_usd)``; cached and reasoning tokens at their rates."""
    reasoning = 0
    if usage_object is not None:
        prompt_tokens, completion_tokens, cached, creation, reasoning = _usage_numbers(usage_object)
        cache_read_input_tokens = cache_read_input_tokens or cached
        cache_creation_input_tokens = cache_creation_input_tokens or creation
    custom = custom_cost_per_token or {}
    try:
        prompt_cost, completion_cost, _ = _native.cost_per_token(
            model,
            prompt_tokens or 0,
            completion_tokens or 0,
            cache_read_input_tokens or 0,
            cache_creation_input_tokens or 0,
            reasoning,
            custom_llm_provider,
            service_tier,
            custom.get("input_cost_per_token"),
            custom.get("output_cost_per_token"),
        )
    except NativeError as error:
        raise _raise(error) from None
    return prompt_cost, completion_cost


def completion_cost(
    completion_response: Any = None,
    model: str | None = None,
    prompt: str = "",
    messages: list | None = None,
    completion: str = "",
    custom_llm_provider: str | None = None,
    custom_cost_per_token: dict | None = None,
    service_tier: str | None = None,
    **kwargs: Any,
) -> float:
    """USD cost of a response (from its usage) or of prompt/completion text (tokenized)."""
    hidden: dict = {}
    if completion_response is not None:
        hidden = getattr(completion_response, "_hidden_params", None) or {}
        get = (
            completion_response.get
            if isinstance(completion_response, dict)
            else (lambda k, d=None: getattr(completion_response, k, d))
        )
        usage = get("usage", None)
        provider = custom_llm_provider or hidden.get("custom_llm_provider")
        candidates = [m for m in (model, hidden.get("litellm_model_name"), get("model", None)) if m]
        if not candidates:
            raise ValueError("completion_cost needs a model: the response has none")
        prompt_tokens, completion_tokens, cached, creation, reasoning = _usage_numbers(usage)
        service_tier = service_tier or get("service_tier", None)
        last_error: NativeError | None = None
        for candidate in candidates:
            try:
                p, c, _ = _native.cost_per_token(
                    candidate, prompt_tokens, completion_tokens, cached, creation, reasoning,
                    provider, service_tier,
                    (custom_cost_per_token or {}).get("input_cost_per_token"),
                    (custom_cost_per_token or {}).get("output_cost_per_token"),
                )
                return p + c
            except NativeError as error:
                last_error = error
        assert last_error is not None
        raise _raise(last_error) from None
    if not model:
        raise ValueError("completion_cost needs completion_response or model")
    prompt_tokens = (
        token_counter(model=model, messages=messages) if messages else token_counter(model=model, text=prompt)
    )
    completion_tokens = token_counter(model=model, text=completion) if completion else 0
    p, c = cost_per_token(
        model, prompt_tokens, completion_tokens, custom_llm_provider=custom_llm_provider,
        custom_cost_per_token=custom_cost_per_token, service_tier=service_tier,
    )
    return p + c


response_cost_calculator = completion_cost


def get_model_info(model: str, custom_llm_provider: str | None = None, **kwargs: Any) -> dict:
    """Every ``ModelInfo`` field of a model (unset ones ``None``), as LiteLLM returns them."""
    info = _native.model_info(model, custom_llm_provider)
    if info is None and custom_llm_provider is None:
        try:
            _, provider = _native.get_llm_provider(model, None, None)
        except NativeError:
            provider = None
        if provider is not None:
            info = _native.model_info(model, provider)
    if info is None:
        from .exceptions import ModelNotMappedError

        raise ModelNotMappedError(
            f"This model isn't mapped yet. model={model}, custom_llm_provider={custom_llm_provider}. "
            "Add it here - https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json."
        )
    result = dict.fromkeys(MODEL_INFO_KEYS)
    result.update(info)
    if result.get("max_tokens") is None:
        result["max_tokens"] = result.get("max_output_tokens")
    provider = result.get("litellm_provider")
    result["supported_openai_params"] = get_supported_openai_params(model, provider)
    return result


def get_max_tokens(model: str) -> int | None:
    try:
        return get_model_info(model).get("max_output_tokens")
    except Exception:
        return None


def get_supported_openai_params(
    model: str, custom_llm_provider: str | None = None, request_type: str = "chat_completion"
) -> list[str] | None:
    """The OpenAI parameters a provider accepts (OpenAI-compatible providers accept all)."""
    provider = custom_llm_provider
    if provider is None:
        try:
            _, provider = _native.get_llm_provider(model, None, None)
        except NativeError:
            return None
    if provider not in _native.implemented_providers():
        return None
    params = _native.supported_openai_params(model, provider)
    return list(OPENAI_CHAT_PARAMS) if params is None else params


def register_model(model_cost: dict | str, **kwargs: Any) -> dict:
    """Add or update cost-map entries (a dict, or a path to a JSON file)."""
    import json

    from . import _model_cost_cache

    if isinstance(model_cost, str):
        with open(model_cost.removeprefix("file://"), encoding="utf-8") as handle:
            model_cost = json.load(handle)
    provider = kwargs.get("custom_llm_provider")
    _native.register_model(model_cost, provider)
    cache = _model_cost_cache()
    for key, value in model_cost.items():
        entry = dict(cache.get(key) or {})
        entry.update(value)
        if provider and "litellm_provider" not in entry:
            entry["litellm_provider"] = provider
        cache[key] = entry
    return cache


def _supports(flag: str, model: str, custom_llm_provider: str | None) -> bool:
    try:
        info = get_model_info(model, custom_llm_provider)
    except Exception:
        return False
    return bool(info.get(flag))


def supports_function_calling(model: str, custom_llm_provider: str | None = None) -> bool:
    return _supports("supports_function_calling", model, custom_llm_provider)


def supports_parallel_function_calling(model: str, custom_llm_provider: str | None = None) -> bool:
    return _supports("supports_parallel_function_calling", model, custom_llm_provider)


def supports_vision(model: str, custom_llm_provider: str | None = None) -> bool:
    return _supports("supports_vision", model, custom_llm_provider)


def supports_response_schema(model: str, custom_llm_provider: str | None = None) -> bool:
    return _supports("supports_response_schema", model, custom_llm_provider)


def supports_reasoning(model: str, custom_llm_provider: str | None = None) -> bool:
    return _supports("supports_reasoning", model, custom_llm_provider)


def supports_system_messages(model: str, custom_llm_provider: str | None) -> bool:
    return _supports("supports_system_messages", model, custom_llm_provider)


def supports_prompt_caching(model: str, custom_llm_provider: str | None = None) -> bool:
    return _supports("supports_prompt_caching", model, custom_llm_provider)


def supports_tool_choice(model: str, custom_llm_provider: str | None = None) -> bool:
    return _supports("supports_tool_choice", model, custom_llm_provider)
