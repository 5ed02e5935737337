"""llmrelay: a LiteLLM-compatible LLM gateway. Rust engine, Python face.

``import llmrelay as litellm`` runs code written for LiteLLM. Module-level settings below are
LiteLLM's globals; the heavy parts (the ``openai`` SDK for exception classes, the 3 MB price
map as a dict) load on first use, so importing stays cheap.
"""

from __future__ import annotations

from typing import Any

from . import _native
from .main import (
    CustomStreamWrapper,
    TextCompletionStreamWrapper,
    acompletion,
    acount_tokens,
    aembedding,
    atext_completion,
    completion,
    embedding,
    mock_completion,
    text_completion,
)
from .responses import ResponsesAPIResponse, aresponses, responses
from .endpoints import (
    aimage_generation,
    amoderation,
    arerank,
    image_generation,
    moderation,
    rerank,
)
from .router import Router
from .search import asearch, search
from .types.utils import (
    Choices,
    Delta,
    EmbeddingResponse,
    ImageResponse,
    LlmProviders,
    OpenAIModerationResponse,
    RerankResponse,
    Message,
    ModelResponse,
    ModelResponseStream,
    StreamingChoices,
    TextChoices,
    TextCompletionResponse,
    TranscriptionResponse,
    Usage,
)
from .utils import (
    completion_cost,
    cost_per_token,
    decode,
    encode,
    get_llm_provider,
    get_max_tokens,
    get_model_info,
    get_supported_openai_params,
    register_model,
    response_cost_calculator,
    supports_function_calling,
    supports_parallel_function_calling,
    supports_reasoning,
    supports_response_schema,
    supports_system_messages,
    supports_vision,
    token_counter,
)

__version__ = _native.__version__


def stream_chunk_builder(chunks: list, messages: list | None = None, start_time: Any = None,
                         end_time: Any = None) -> Any:
    """Rebuild a whole ``ModelResponse`` (or ``TextCompletionResponse``) from stream chunks;
    usage comes from a usage chunk, else is counted from the text (LiteLLM's rule)."""
    from ._stream_builder import build

    return build(chunks, messages, start_time, end_time, count_tokens=True)

# ------------------------------------------------------------------------------------------------
# LiteLLM's module-level settings (same names and defaults)
# ------------------------------------------------------------------------------------------------
callbacks: list = []
success_callback: list = []
failure_callback: list = []
input_callback: list = []
service_callback: list = []
_async_success_callback: list = []
_async_failure_callback: list = []
turn_off_message_logging: bool = False
redact_user_api_key_info: bool = False
# LiteLLM's default: the Router's final error says which model groups failed and what the
# fallbacks did; False leaves that note out of the message.
expose_router_debug_in_errors: bool = True

api_key: str | None = None
api_base: str | None = None
api_version: str | None = None
organization: str | None = None
headers: dict | None = None
openai_key: str | None = None

drop_params: bool = False
modify_params: bool = False
max_tokens: int = 4096
num_retries: int | None = None
request_timeout: float = 6000.0
set_verbose: bool = False
suppress_debug_info: bool = False
include_cost_in_streaming_usage: bool = False
model_alias_map: dict = {}
cache: Any = None
custom_provider_map: list = []  # [{"provider": "my-llm", "custom_handler": MyCustomLLM()}]
# Names of the custom_provider_map providers that custom_llm_setup() has registered.
_custom_providers: list = []
default_fallbacks: list | None = None
num_retries_per_request: int | None = None
retry: bool = True
vertex_project: str | None = None
vertex_location: str | None = None
disable_hf_tokenizer_download: bool = False
use_litellm_proxy: bool = False
budget_exceeded_status_code: int = 422

_model_cost: dict | None = None


def _model_cost_cache() -> dict:
    """The price map as a dict (``litellm.model_cost``), parsed on first use."""
    global _model_cost
    if _model_cost is None:
        import json

        data = json.loads(_native.model_cost_map_text())
        data.pop("fallback_generalizations", None)
        for entry in data.values():
            # LiteLLM's map keeps the legacy "max_tokens" (the output limit, else the input one).
            if isinstance(entry, dict) and "max_tokens" not in entry:
                limit = entry.get("max_output_tokens") or entry.get("max_input_tokens")
                if limit is not None:
                    entry["max_tokens"] = limit
        _model_cost = data
    return _model_cost


def __getattr__(name: str) -> Any:
    """Lazily provide what is costly to load: exception classes (they import ``openai``),
    the price map and the name sets derived from it."""
    if name[:1].isupper():
        import importlib

        exceptions = importlib.import_module(__name__ + ".exceptions")
        if name in exceptions.__all__:
            value = getattr(exceptions, name)
            globals()[name] = value
            return value
    if name == "model_cost":
        value = _model_cost_cache()
        globals()[name] = value
        return value
    if name == "model_list":
        value = [k for k in _model_cost_cache() if k != "sample_spec"]
        globals()[name] = value
        return value
    if name == "provider_list":
        value = list(_native.provider_list())
        globals()[name] = value
        return value
    if name == "exceptions":
        import importlib

        return importlib.import_module(__name__ + ".exceptions")
    if name == "models_by_provider":
        grouped: dict[str, list[str]] = {}
        for key, entry in _model_cost_cache().items():
            if key != "sample_spec" and isinstance(entry, dict) and entry.get("litellm_provider"):
                grouped.setdefault(entry["litellm_provider"], []).append(key)
        globals()[name] = grouped
        return grouped
    if name in ("CustomLogger",):
        from .integrations.custom_logger import CustomLogger

        return CustomLogger
    lazy = _LAZY_NAMES.get(name)
    if lazy is not None:
        import importlib

        module = importlib.import_module(__name__ + lazy[0])
        value = module if lazy[1] == "" else getattr(module, lazy[1])
        globals()[name] = value
        return value
    if name in ("open_ai_chat_completion_models", "open_ai_text_completion_models",
                "open_ai_embedding_models", "anthropic_models", "cohere_models"):
        value = _models_of(name)
        globals()[name] = value
        return value
    if name == "openai_compatible_providers":
        value = [p for p in _native.implemented_providers()
                 if _native.provider_endpoint(p) is not None and _native.provider_endpoint(p)[0]]
        globals()[name] = value
        return value
    raise AttributeError(f"module 'llmrelay' has no attribute {name!r}")


# name -> (module, attribute): LiteLLM's top-level names that live in their own modules,
# imported on first access so `import llmrelay` stays cheap.
_LAZY_NAMES: dict[str, tuple[str, str]] = {
    # ("module", ""): the module itself (LiteLLM's `litellm.anthropic` is a module).
    "anthropic": (".anthropic_interface", ""),
    "anthropic_messages": (".anthropic_interface.messages", "anthropic_messages"),
    "Cache": (".caching.caching", "Cache"),
    "enable_cache": (".caching.caching", "enable_cache"),
    "disable_cache": (".caching.caching", "disable_cache"),
    "update_cache": (".caching.caching", "update_cache"),
    "CustomLLM": (".llms.custom_llm", "CustomLLM"),
    "CustomLLMError": (".llms.custom_llm", "CustomLLMError"),
    "HTTPHandler": (".llms.custom_httpx.http_handler", "HTTPHandler"),
    "AsyncHTTPHandler": (".llms.custom_httpx.http_handler", "AsyncHTTPHandler"),
    "GenericStreamingChunk": (".types._typed_dicts", "GenericStreamingChunk"),
    "ChatCompletionUsageBlock": (".types._typed_dicts", "ChatCompletionUsageBlock"),
    "ChatCompletionDeltaChunk": (".types._typed_dicts", "ChatCompletionDeltaChunk"),
    "completion_with_retries": ("._sdk_retries", "completion_with_retries"),
    "acompletion_with_retries": ("._sdk_retries", "acompletion_with_retries"),
    "responses_with_retries": ("._sdk_retries", "responses_with_retries"),
    "aresponses_with_retries": ("._sdk_retries", "aresponses_with_retries"),
    "get_model_cost_map": (".litellm_core_utils.get_model_cost_map", "get_model_cost_map"),
    "create_pretrained_tokenizer": ("._sdk_helpers", "create_pretrained_tokenizer"),
    "create_tokenizer": ("._sdk_helpers", "create_tokenizer"),
    "get_modified_max_tokens": ("._sdk_helpers", "get_modified_max_tokens"),
    "validate_environment": ("._sdk_helpers", "validate_environment"),
    "get_valid_models": ("._sdk_helpers", "get_valid_models"),
    "check_valid_key": ("._sdk_helpers", "check_valid_key"),
    "register_prompt_template": ("._sdk_helpers", "register_prompt_template"),
    "custom_prompt_dict": ("._sdk_helpers", "custom_prompt_dict"),
    "trim_messages": ("._sdk_helpers", "trim_messages"),
    "batch_completion": ("._sdk_batch", "batch_completion"),
    "batch_completion_models": ("._sdk_batch", "batch_completion_models"),
    "batch_completion_models_all_responses": ("._sdk_batch", "batch_completion_models_all_responses"),
    "create_file": (".files.main", "create_file"),
    "acreate_file": (".files.main", "acreate_file"),
    "file_retrieve": (".files.main", "file_retrieve"),
    "afile_retrieve": (".files.main", "afile_retrieve"),
    "file_list": (".files.main", "file_list"),
    "afile_list": (".files.main", "afile_list"),
    "file_delete": (".files.main", "file_delete"),
    "afile_delete": (".files.main", "afile_delete"),
    "file_content": (".files.main", "file_content"),
    "afile_content": (".files.main", "afile_content"),
    "create_batch": (".batches.main", "create_batch"),
    "acreate_batch": (".batches.main", "acreate_batch"),
    "retrieve_batch": (".batches.main", "retrieve_batch"),
    "aretrieve_batch": (".batches.main", "aretrieve_batch"),
    "list_batches": (".batches.main", "list_batches"),
    "alist_batches": (".batches.main", "alist_batches"),
    "cancel_batch": (".batches.main", "cancel_batch"),
    "acancel_batch": (".batches.main", "acancel_batch"),
    "HiddenParams": (".types.utils", "HiddenParams"),
    "TranscriptionResponse": (".types.utils", "TranscriptionResponse"),
    "ImageObject": (".types.utils", "ImageObject"),
    "transcription": ("._audio", "transcription"),
    "atranscription": ("._audio", "atranscription"),
    "speech": ("._audio", "speech"),
    "aspeech": ("._audio", "aspeech"),
}


def _models_of(name: str) -> list:
    """LiteLLM's per-provider model-name lists, from the price map."""
    provider, mode = {
        "open_ai_chat_completion_models": ("openai", "chat"),
        "open_ai_text_completion_models": ("text-completion-openai", None),
        "open_ai_embedding_models": ("openai", "embedding"),
        "anthropic_models": ("anthropic", None),
        "cohere_models": ("cohere_chat", None),
    }[name]
    return [key for key, entry in _model_cost_cache().items()
            if isinstance(entry, dict) and entry.get("litellm_provider") == provider
            and (mode is None or entry.get("mode") == mode)]


def _turn_on_debug() -> None:
    import logging

    logging.getLogger("llmrelay").setLevel(logging.DEBUG)


turn_on_debug = _turn_on_debug

__all__ = [
    "Choices",
    "CustomStreamWrapper",
    "Delta",
    "EmbeddingResponse",
    "ImageResponse",
    "OpenAIModerationResponse",
    "RerankResponse",
    "aimage_generation",
    "amoderation",
    "arerank",
    "asearch",
    "image_generation",
    "moderation",
    "rerank",
    "search",
    "LlmProviders",
    "Message",
    "ModelResponse",
    "ModelResponseStream",
    "StreamingChoices",
    "Router",
    "TextChoices",
    "TextCompletionResponse",
    "TextCompletionStreamWrapper",
    "TranscriptionResponse",
    "Usage",
    "acompletion",
    "acount_tokens",
    "aembedding",
    "aresponses",
    "responses",
    "ResponsesAPIResponse",
    "atext_completion",
    "completion",
    "completion_cost",
    "cost_per_token",
    "decode",
    "embedding",
    "encode",
    "get_llm_provider",
    "get_max_tokens",
    "get_model_info",
    "get_supported_openai_params",
    "mock_completion",
    "register_model",
    "response_cost_calculator",
    "stream_chunk_builder",
    "supports_function_calling",
    "supports_parallel_function_calling",
    "supports_reasoning",
    "supports_response_schema",
    "supports_system_messages",
    "supports_vision",
    "text_completion",
    "token_counter",
]
