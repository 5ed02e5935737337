"""Calls to user-defined providers (``litellm.custom_provider_map``): which handler serves a
model, and the completion / stream / embedding / image calls made on it with LiteLLM's
keyword arguments."""

from __future__ import annotations

import sys
import time
from typing import Any, Optional

__all__ = ["call", "handler_for", "provider_names"]

# Keys of a call's kwargs that are not request parameters (they go elsewhere in the call).
_NOT_OPTIONAL = frozenset(
    {"model", "messages", "input", "prompt", "api_key", "api_base", "base_url", "timeout",
     "stream", "custom_llm_provider", "metadata", "litellm_call_id", "headers", "extra_headers",
     "client", "logger_fn", "num_retries", "max_retries", "litellm_logging_obj"}
)


def _entries() -> list:
    package = sys.modules[__package__]
    return list(getattr(package, "custom_provider_map", None) or [])


def provider_names() -> list[str]:
    return [entry["provider"] for entry in _entries() if isinstance(entry, dict) and "provider" in entry]


def handler_for(model: Optional[str], custom_llm_provider: Optional[str] = None) -> Any:
    """The registered handler serving ``model`` (``"<provider>/<model>"`` or an explicit
    ``custom_llm_provider``), else ``None``."""
    entries = _entries()
    if not entries or not isinstance(model, str):
        return None
    provider = custom_llm_provider or (model.split("/", 1)[0] if "/" in model else None)
    for entry in entries:
        if isinstance(entry, dict) and entry.get("provider") == provider:
            return entry.get("custom_handler")
    return None


def _split(model: str, custom_llm_provider: Optional[str]) -> tuple[str, str]:
    if custom_llm_provider:
        prefix = custom_llm_provider + "/"
        return (model[len(prefix):] if model.startswith(prefix) else model), custom_llm_provider
    provider, _, name = model.partition("/")
    return name, provider


def _common(params: dict, model_response: Any) -> dict:
    model, provider = _split(params["model"], params.get("custom_llm_provider"))
    optional = {k: v for k, v in params.items() if k not in _NOT_OPTIONAL and not k.startswith("mock_")}
    return {
        "model": model,
        "api_key": params.get("api_key"),
        "api_base": params.get("api_base") or params.get("base_url"),
        "timeout": params.get("timeout"),
        "optional_params": optional,
        "logging_obj": None,
        "model_response": model_response,
        "litellm_params": {"custom_llm_provider": provider, "metadata": params.get("metadata")},
        "_provider": provider,
    }


def _chat_kwargs(params: dict, is_async: bool) -> dict:
    from .types.utils import ModelResponse

    kwargs = _common(params, ModelResponse())
    kwargs.pop("_provider")
    kwargs.update(
        messages=params.get("messages") or [],
        custom_prompt_dict={},
        print_verbose=lambda *a, **k: None,
        encoding=None,
        acompletion=is_async,
        logger_fn=params.get("logger_fn"),
        headers=params.get("extra_headers") or params.get("headers") or {},
        client=params.get("client"),
    )
    return kwargs


def _stamp(response: Any, params: dict) -> Any:
    provider = _split(params["model"], params.get("custom_llm_provider"))[1]
    hidden = getattr(response, "_hidden_params", None)
    if isinstance(hidden, dict):
        hidden.setdefault("custom_llm_provider", provider)
    return response


def completion(handler: Any, params: dict) -> Any:
    if params.get("stream"):
        return CustomProviderStream(handler.streaming(**_chat_kwargs(params, False)), params)
    return _stamp(handler.completion(**_chat_kwargs(params, False)), params)


async def acompletion(handler: Any, params: dict) -> Any:
    if params.get("stream"):
        return CustomProviderStream(handler.astreaming(**_chat_kwargs(params, True)), params)
    return _stamp(await handler.acompletion(**_chat_kwargs(params, True)), params)


def _embedding_kwargs(params: dict) -> dict:
    from .types.utils import EmbeddingResponse

    kwargs = _common(params, EmbeddingResponse())
    kwargs.pop("_provider")
    value = params.get("input")
    kwargs.update(input=value if isinstance(value, list) else [value],
                  print_verbose=lambda *a, **k: None)
    return kwargs


def embedding(handler: Any, params: dict) -> Any:
    return handler.embedding(**_embedding_kwargs(params))


async def aembedding(handler: Any, params: dict) -> Any:
    return await handler.aembedding(**_embedding_kwargs(params))


def _image_kwargs(params: dict) -> dict:
    from .types.utils import ImageResponse

    kwargs = _common(params, ImageResponse())
    kwargs.pop("_provider")
    kwargs.pop("litellm_params")
    kwargs.update(prompt=params.get("prompt"), client=params.get("client"))
    return kwargs


def image_generation(handler: Any, params: dict) -> Any:
    return handler.image_generation(**_image_kwargs(params))


async def aimage_generation(handler: Any, params: dict) -> Any:
    return await handler.aimage_generation(**_image_kwargs(params))


class CustomProviderStream:
    """``completion(..., stream=True)`` on a custom provider: its ``GenericStreamingChunk``s
    as ``ModelResponseStream`` chunks (a text chunk, then the finish chunk), sync and async."""

    def __init__(self, source: Any, params: dict) -> None:
        from .types.utils import _uuid4

        self.completion_stream = source
        self.model = params.get("model")
        self.messages = params.get("messages")
        self.custom_llm_provider = _split(params["model"], params.get("custom_llm_provider"))[1]
        self.chunks: list = []
        self._pending: list = []
        self._id = "chatcmpl-" + _uuid4()
        self._created = int(time.time())
        self._hidden_params = {"custom_llm_provider": self.custom_llm_provider}
        self._iterator: Any = None

    def _convert(self, generic: Any) -> list:
        from .types.utils import ModelResponseStream

        def chunk(delta: dict, finish: Optional[str]) -> Any:
            return ModelResponseStream._from_wire({
                "id": self._id, "object": "chat.completion.chunk", "created": self._created,
                "model": self.model,
                "choices": [{"index": generic.get("index", 0), "delta": delta,
                             "finish_reason": finish}],
            })

        out = []
        delta: dict = {"role": "assistant"} if not self.chunks else {}
        text = generic.get("text")
        tool = generic.get("tool_use")
        if text:
            delta["content"] = text
        if tool:
            delta["tool_calls"] = [tool]
        if text or tool:
            out.append(chunk(delta, None))
        if generic.get("is_finished"):
            out.append(chunk({}, generic.get("finish_reason") or "stop"))
        self.chunks.extend(out)
        return out

    def __iter__(self) -> CustomProviderStream:
        return self

    def __next__(self) -> Any:
        while not self._pending:
            if self._iterator is None:
                self._iterator = iter(self.completion_stream)
            self._pending = self._convert(next(self._iterator))
        return self._pending.pop(0)

    def __aiter__(self) -> CustomProviderStream:
        return self

    async def __anext__(self) -> Any:
        while not self._pending:
            if self._iterator is None:
                self._iterator = self.completion_stream.__aiter__()
            self._pending = self._convert(await self._iterator.__anext__())
        return self._pending.pop(0)
