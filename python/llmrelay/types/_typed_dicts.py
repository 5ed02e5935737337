"""TypedDicts and small types of ``litellm.types.utils`` / ``litellm.types.llms.openai`` that
custom providers and cost code use; loaded on first use."""

from __future__ import annotations

from typing import Any, Literal, Optional, TypedDict, Union

from pydantic import BaseModel

__all__ = [
    "CacheCreationTokenDetails",
    "ChatCompletionDeltaChunk",
    "ChatCompletionToolCallChunk",
    "ChatCompletionToolCallFunctionChunk",
    "ChatCompletionUsageBlock",
    "GenericStreamingChunk",
    "HiddenParams",
    "ModelInfo",
    "OPENAI_RESPONSE_HEADERS",
    "PromptTokensDetails",
]


class ChatCompletionUsageBlock(TypedDict):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletionToolCallFunctionChunk(TypedDict, total=False):
    name: Optional[str]
    arguments: str


class ChatCompletionToolCallChunk(TypedDict, total=False):
    id: Optional[str]
    type: Literal["function"]
    function: ChatCompletionToolCallFunctionChunk
    index: int


class ChatCompletionDeltaChunk(TypedDict, total=False):
    content: Optional[str]
    tool_calls: Optional[list[ChatCompletionToolCallChunk]]
    role: str


class GenericStreamingChunk(TypedDict, total=False):
    """One chunk a ``CustomLLM.streaming`` / ``astreaming`` generator yields."""

    text: str
    tool_use: Optional[ChatCompletionToolCallChunk]
    is_finished: bool
    finish_reason: str
    usage: Optional[ChatCompletionUsageBlock]
    index: int
    provider_specific_fields: Optional[dict[str, Any]]


class ModelInfo(TypedDict, total=False):
    """What ``get_model_info`` returns (every key is present; unknown ones are ``None``)."""

    key: str
    max_tokens: Optional[int]
    max_input_tokens: Optional[int]
    max_output_tokens: Optional[int]
    input_cost_per_token: float
    output_cost_per_token: float
    litellm_provider: str
    mode: str
    supported_openai_params: Optional[list[str]]
    supports_function_calling: Optional[bool]
    supports_vision: Optional[bool]


class HiddenParams(BaseModel):
    """A response's ``_hidden_params`` as a model (LiteLLM's ``HiddenParams``)."""

    model_config = {"extra": "allow", "protected_namespaces": ()}

    original_response: Optional[Any] = None
    model_id: Optional[str] = None
    api_base: Optional[str] = None

    def __setattr__(self, name: str, value: Any) -> None:
        # LiteLLM sets `_response_ms` and other underscore keys on it; they are dumped too.
        if name.startswith("_") and not name.startswith("__"):
            extra = self.__pydantic_extra__
            if extra is not None:
                extra[name] = value
                return
        super().__setattr__(name, value)

    def __getattr__(self, name: str) -> Any:
        extra = self.__dict__.get("__pydantic_extra__") or object.__getattribute__(self, "__pydantic_extra__")
        if extra and name in extra:
            return extra[name]
        return super().__getattr__(name)  # type: ignore[misc]

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def json(self, **kwargs: Any) -> dict:  # type: ignore[override]
        return self.model_dump(**kwargs)


class CacheCreationTokenDetails(BaseModel):
    ephemeral_5m_input_tokens: Optional[int] = None
    ephemeral_1h_input_tokens: Optional[int] = None


def _prompt_tokens_details() -> Any:
    from openai.types.completion_usage import PromptTokensDetails as details

    return details


PromptTokensDetails: Any = _prompt_tokens_details()

# Upstream headers LiteLLM copies into ``_hidden_params["additional_headers"]``.
OPENAI_RESPONSE_HEADERS: list[str] = [
    "x-ratelimit-remaining-requests",
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-limit-requests",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-reset-requests",
    "x-ratelimit-reset-tokens",
]

_Json = Union[dict, list, str, int, float, bool, None]
