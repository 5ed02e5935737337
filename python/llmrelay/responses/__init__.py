"""The Responses API (``litellm.responses``); the calls live in ``llmrelay.responses.main``
(LiteLLM's module path)."""

from .main import (
    ResponsesAPIResponse,
    ResponsesAPIStreamEvent,
    ResponsesAPIStreamingIterator,
    aresponses,
    responses,
)

__all__ = [
    "ResponsesAPIResponse",
    "ResponsesAPIStreamEvent",
    "ResponsesAPIStreamingIterator",
    "aresponses",
    "responses",
]
