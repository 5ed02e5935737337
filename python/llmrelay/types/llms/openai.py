"""OpenAI-shaped TypedDicts used by custom providers (``litellm.types.llms.openai``)."""

from .._typed_dicts import (
    ChatCompletionDeltaChunk,
    ChatCompletionToolCallChunk,
    ChatCompletionToolCallFunctionChunk,
    ChatCompletionUsageBlock,
)

__all__ = [
    "ChatCompletionDeltaChunk",
    "ChatCompletionToolCallChunk",
    "ChatCompletionToolCallFunctionChunk",
    "ChatCompletionUsageBlock",
]
