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

from typing import Any, List, Union  # noqa: E402

# One event of an OpenAI Realtime session as LiteLLM's cost code reads it (a JSON object).
OpenAIRealtimeStreamList = List[Union[dict, Any]]
__all__ += ["OpenAIRealtimeStreamList"]
