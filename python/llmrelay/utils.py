"""Token, cost and model-info helpers (LiteLLM's ``litellm.utils`` surface), computed in Rust."""

from __future__ import annotations

from typing import Any

from . import _native
from ._native import NativeError

__all__ = [
    "completion_cost",
    "cost_per_token",
    "decode",
    "encode",
    "function_to_dict",
    "get_llm_provider",
    "get_max_tokens",
    "get_model_info",
    "get_supported_openai_params",
    "get_token_count",
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
    """Tokens of ``text`` or of chat ``messages`` (with LiteLLM's per-message overhead);
    ``custom_tokenizer`` (from ``create_pretrained_tokenizer`` / ``create_tokenizer``) counts
    with that Hugging Face tokenizer instead."""
    if messages is not None:
        # Message objects (a response's message handed back into the history) count as dicts.
        messages = [m.model_dump(exclude_none=True) if hasattr(m, "model_dump") else m for m in messages]
    if isinstance(custom_tokenizer, dict) and custom_tokenizer.get("tokenizer") is not None:
        return _count_with(custom_tokenizer["tokenizer"], text, messages)
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
        from .exceptions import TokenCountInputError

        info = error.args[0]
        raise TokenCountInputError(info.message, model, info.provider) from None


def _count_with(tokenizer: Any, text: Any, messages: list | None) -> int:
    """Tokens by a Hugging Face tokenizer: of ``text``, or of the text content of ``messages``."""
    pieces: list[str] = []
    if text is not None:
        pieces = [text] if isinstance(text, str) else list(text)
    for message in messages or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            pieces.append(content)
        elif isinstance(content, list):
            pieces.extend(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return sum(len(tokenizer.encode(piece).ids) for piece in pieces)


def encode(model: str = "", text: str = "", custom_tokenizer: Any = None) -> list[int]:
    """Token ids of ``text``. Like LiteLLM, ``encode`` uses cl100k_base for OpenAI models (while
    ``token_counter`` counts o200k models with o200k_base); see docs/compatibility.md."""
    return _native.encode("cl100k_base", text)


def decode(model: str = "", tokens: list[int] | None = None, custom_tokenizer: Any = None) -> str:
    try:
        return _native.decode("cl100k_base", list(tokens or []))
    except NativeError as error:
        raise _raise(error) from None


from .cost_calculator import (  # noqa: E402  (LiteLLM also exports them from litellm.utils)
    completion_cost,
    cost_per_token,
    response_cost_calculator,
)
from .litellm_core_utils.get_llm_provider_logic import get_llm_provider  # noqa: E402


def _model_info_entry(model: str, custom_llm_provider: str | None) -> dict | None:
    """The catalog entry LiteLLM resolves ``model`` to: the name itself, a fine-tune id's base,
    the name under the detected provider, an Azure-style alias (``gpt-35-turbo`` →
    ``azure/gpt-35-turbo``)."""
    from .cost_calculator import model_candidates

    providers: list[str | None] = [custom_llm_provider]
    if custom_llm_provider is None:
        try:
            providers.append(_native.get_llm_provider(model, None, None)[1])
        except NativeError:
            pass
    removed = _removed_catalog_keys()
    for provider in providers:
        names = model_candidates(model)
        if provider in ("bedrock", "bedrock_converse"):
            names += [n for n in (_without_bedrock_region(m) for m in names) if n]
        for candidate in names:
            info = _native.model_info(candidate, provider)
            if info is not None and info.get("key") not in removed:
                return info
    if custom_llm_provider in (None, "azure") and "/" not in model:
        info = _native.model_info(f"azure/{model}", "azure")
        if info is not None:
            return info
    return None


_catalog_keys: frozenset | None = None


def _removed_catalog_keys() -> frozenset:
    """Catalog entries the caller deleted from ``litellm.model_cost`` (LiteLLM no longer
    finds them); empty until ``litellm.model_cost`` is read or replaced."""
    import json
    import sys

    global _catalog_keys
    current = sys.modules[__package__].__dict__.get("model_cost")
    if not isinstance(current, dict):
        return frozenset()
    if _catalog_keys is None:
        _catalog_keys = frozenset(json.loads(_native.model_cost_map_text()))
    return frozenset(key for key in _catalog_keys if key not in current)


_BEDROCK_REGION_PREFIXES = ("us.", "eu.", "apac.", "jp.", "au.", "ca.", "global.", "us-gov.")


def _without_bedrock_region(model: str) -> str | None:
    """A cross-region inference profile's base model (``us.anthropic.claude-…`` →
    ``anthropic.claude-…``), which LiteLLM prices when the profile has no entry."""
    for prefix in _BEDROCK_REGION_PREFIXES:
        if model.startswith(prefix):
            return model[len(prefix):]
    return None


def _uncatalogued_entry(model: str, custom_llm_provider: str | None) -> dict | None:
    """Providers whose models LiteLLM describes without a catalog entry (Hugging Face: any
    hub model, zero cost) and user-defined ``custom_provider_map`` providers."""
    from ._custom_llm import handler_for

    try:
        name, provider = _native.get_llm_provider(model, custom_llm_provider, None)
    except NativeError:
        name, provider = model, custom_llm_provider
    if handler_for(model, custom_llm_provider) is not None:
        provider = (custom_llm_provider or model.split("/", 1)[0])
    elif provider != "huggingface":
        return None
    return {"key": model, "litellm_provider": provider, "mode": "chat",
            "input_cost_per_token": 0, "output_cost_per_token": 0}


def get_model_info(model: str, custom_llm_provider: str | None = None, **kwargs: Any) -> dict:
    """Every ``ModelInfo`` field of a model (unset ones ``None``), as LiteLLM returns them."""
    info = _model_info_entry(model, custom_llm_provider)
    if info is None:
        info = _uncatalogued_entry(model, custom_llm_provider)
    if info is None:
        from .exceptions import ModelNotMappedError

        raise ModelNotMappedError(
            f"This model isn't mapped yet. model={model}, custom_llm_provider={custom_llm_provider}. "
            "Add it here - https://github.com/BerriAI/litellm/blob/main/model_prices_and_context_window.json."
        )
    result = dict.fromkeys(_native.model_info_keys())
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


_BEDROCK_ALIASES = {"bedrock_converse": "bedrock", "bedrock_invoke": "bedrock"}
_REASONING_PARAMS = ("reasoning_effort", "thinking")


def _catalog_flag(model: str, provider: str, flag: str) -> bool | None:
    try:
        info = _model_info_entry(model, provider)
    except Exception:
        return None
    return None if info is None else bool(info.get(flag))


def _refined(model: str, provider: str, params: list[str]) -> list[str]:
    """LiteLLM's model-level refinements of a provider's list: Bedrock names no model family
    it knows → only the basic three; Nova adds ``web_search_options``; Gemini and Azure offer
    the reasoning parameters to reasoning models only (per the catalog)."""
    if provider == "bedrock":
        bare = model.split("/")[-1]
        if "." not in bare:  # Bedrock model ids are "<vendor>.<model>"; a label names none
            return ["max_tokens", "max_completion_tokens", "stream"]
        if "nova" in bare and "web_search_options" not in params:
            params = params + ["web_search_options"]
    elif provider in ("gemini", "vertex_ai", "vertex_ai_beta"):
        if not _catalog_flag(model, provider, "supports_reasoning"):
            params = [p for p in params if p not in _REASONING_PARAMS]
    elif provider == "azure":
        if _catalog_flag(model, provider, "supports_reasoning") and "reasoning_effort" not in params:
            params = params + ["reasoning_effort"]
    return params


def get_supported_openai_params(
    model: str,
    custom_llm_provider: str | None = None,
    request_type: str = "chat_completion",
    base_model: str | None = None,
) -> list[str] | None:
    """The OpenAI parameters a provider accepts for a model, as LiteLLM lists them;
    ``base_model`` (an Azure or Bedrock deployment's underlying model) can only add to them.
    ``None`` for a provider this build does not serve."""
    from ._custom_llm import handler_for

    handler = handler_for(model, custom_llm_provider)
    if handler is not None:
        method = getattr(handler, "get_supported_openai_params", None)
        return list(method(model=model.split("/", 1)[-1])) if callable(method) else list(_native.openai_chat_params())
    provider = _BEDROCK_ALIASES.get(custom_llm_provider or "", custom_llm_provider)
    if provider is None:
        try:
            _, provider = _native.get_llm_provider(model, None, None)
        except NativeError:
            return None
    if provider not in _native.implemented_providers():
        return None
    if request_type in ("embeddings", "embedding") and provider == "sambanova":
        return []
    native = _native.supported_openai_params(model, provider)
    params = _refined(model, provider, list(_native.openai_chat_params()) if native is None else list(native))
    if base_model and base_model != model:
        extra = get_supported_openai_params(base_model, provider, request_type) or []
        params = params + [p for p in extra if p not in params]
    return params


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


# ------------------------------------------------------------------------------------------
# Names LiteLLM code imports from ``litellm.utils``
# ------------------------------------------------------------------------------------------


class ModelResponseIterator:
    """Iterate (sync or async) over one ready response, once: LiteLLM's helper for custom
    providers that stream a single chunk."""

    def __init__(self, model_response: Any, convert_to_delta: bool = False) -> None:
        self.model_response = model_response
        self.convert_to_delta = convert_to_delta
        self.is_done = False

    def __iter__(self) -> "ModelResponseIterator":
        return self

    def __next__(self) -> Any:
        if self.is_done:
            raise StopIteration
        self.is_done = True
        return self.model_response

    def __aiter__(self) -> "ModelResponseIterator":
        return self

    async def __anext__(self) -> Any:
        if self.is_done:
            raise StopAsyncIteration
        self.is_done = True
        return self.model_response


def custom_llm_setup() -> None:
    """Add the providers of ``litellm.custom_provider_map`` to ``litellm.provider_list``
    (calls find them without this; LiteLLM code calls it)."""
    import sys

    from ._custom_llm import provider_names

    package = sys.modules[__package__]
    providers = package.provider_list
    for name in provider_names():
        if name not in providers:
            providers.append(name)
        if name not in package._custom_providers:
            package._custom_providers.append(name)


def __getattr__(name: str) -> Any:
    # Response classes LiteLLM re-exports from litellm.utils.
    from .types import utils as types_utils

    if name in ("TranscriptionResponse", "Usage", "Choices", "Message", "ModelResponse",
                "ModelResponseStream", "StreamingChoices", "Delta", "EmbeddingResponse",
                "ImageResponse", "TextCompletionResponse", "CallTypes", "HiddenParams"):
        return getattr(types_utils, name)
    if name in ("trim_messages", "get_modified_max_tokens", "validate_environment",
                "get_valid_models", "check_valid_key", "create_pretrained_tokenizer",
                "create_tokenizer", "register_prompt_template"):
        from . import _sdk_helpers

        return getattr(_sdk_helpers, name)
    if name in ("completion_with_retries", "acompletion_with_retries"):
        from . import _sdk_retries

        return getattr(_sdk_retries, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_token_count(messages: list, model: str) -> int:
    """Tokens of chat ``messages`` for ``model`` (``token_counter(model, messages=...)``)."""
    return token_counter(model=model, messages=messages)


_JSON_SCHEMA_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean",
                      "list": "array", "dict": "object", "tuple": "array", "NoneType": "null"}


def _numpy_doc_sections(docstring: str) -> tuple[str, dict[str, tuple[str, str]]]:
    """The summary and the ``Parameters`` entries (name → (type, description)) of a
    numpy-style docstring."""
    lines = docstring.splitlines()
    summary: list[str] = []
    index = 0
    while index < len(lines) and lines[index].strip():
        summary.append(lines[index].strip())
        index += 1
    params: dict[str, tuple[str, str]] = {}
    section = None
    current: str | None = None
    for position, line in enumerate(lines):
        stripped = line.strip()
        underline = lines[position + 1].strip() if position + 1 < len(lines) else ""
        if stripped and underline and set(underline) == {"-"}:
            section = stripped
            current = None
            continue
        if set(stripped) == {"-"} or section != "Parameters" or not stripped:
            continue
        if not line.startswith((" ", "\t")):
            name, _, kind = stripped.partition(":")
            current = name.strip()
            params[current] = (kind.strip(), "")
        elif current is not None:
            kind, description = params[current]
            params[current] = (kind, (description + "\n" + stripped).strip())
    return " ".join(summary), params


def function_to_dict(input_function: Any) -> dict:
    """An OpenAI function schema from a function's type hints and numpy-style docstring
    (``{type}`` choices become an ``enum``), as LiteLLM's ``function_to_dict``."""
    import inspect
    from ast import literal_eval

    description, documented = _numpy_doc_sections(inspect.getdoc(input_function) or "")
    properties: dict[str, dict] = {}
    required: list[str] = []
    for name, parameter in inspect.signature(input_function).parameters.items():
        annotation = parameter.annotation
        kind = _JSON_SCHEMA_TYPES.get(getattr(annotation, "__name__", ""), None)
        entry: dict[str, Any] = {}
        if name in documented:
            doc_kind, doc_description = documented[name]
            if "{" in doc_kind:
                try:
                    entry["enum"] = str(list(literal_eval(doc_kind)))
                    kind = "string"
                except (ValueError, SyntaxError):
                    pass
            elif doc_kind:
                kind = _JSON_SCHEMA_TYPES.get(doc_kind.split(",")[0].strip(), kind)
            entry["description"] = doc_description
        properties[name] = {"type": kind, **entry}
        if parameter.default is inspect.Parameter.empty:
            required.append(name)
    return {"name": input_function.__name__, "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required}}
