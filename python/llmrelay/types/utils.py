"""Response objects and enums with the shapes of ``litellm.types.utils``.

Every class here is a plain Python class (see :mod:`llmrelay._base`), not a pydantic
model.  Two ways to build one:

* the public constructors, which accept LiteLLM's keyword arguments and convert
  nested dicts into the nested classes;
* ``Cls._from_wire(d)``, used by the engine: it takes ownership of an
  OpenAI-shaped dict (as decoded from JSON), wraps the nested parts in place and
  adopts the dict as the object's ``__dict__``.  The caller must not reuse ``d``.

This module must stay cheap to import: standard library only.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any, ClassVar

from .._base import FieldMissingError, _Base

__all__ = [
    "CallTypes",
    "ChatCompletionDeltaToolCall",
    "ChatCompletionMessageToolCall",
    "ChatCompletionTokenLogprob",
    "ChoiceLogprobs",
    "Choices",
    "CompletionTokensDetailsWrapper",
    "CostBreakdown",
    "Delta",
    "Embedding",
    "EmbeddingResponse",
    "FieldMissingError",
    "Function",
    "FunctionCall",
    "ImageObject",
    "ImageResponse",
    "LlmProviders",
    "Logprobs",
    "Message",
    "ModelResponse",
    "ModelResponseStream",
    "PromptTokensDetailsWrapper",
    "ServerToolUse",
    "StandardLoggingGuardrailInformation",
    "StandardLoggingHiddenParams",
    "StandardLoggingMetadata",
    "StandardLoggingModelInformation",
    "StandardLoggingPayload",
    "StandardLoggingPayloadErrorInformation",
    "StandardLoggingPayloadStatusFields",
    "TokenCountResponse",
    "StreamingChoices",
    "TextChoices",
    "TextCompletionResponse",
    "TopLogprob",
    "TranscriptionResponse",
    "Usage",
    "all_litellm_params",
    "map_finish_reason",
    "provider_list",
]

_new = object.__new__


def _uuid4() -> str:
    """A random (version 4) UUID string, without importing :mod:`uuid` (slow to import)."""
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def _chatcmpl_id() -> str:
    return "chatcmpl-" + _uuid4()


# ----------------------------------------------------------------------------- finish reasons

_OPENAI_FINISH_REASONS = frozenset(
    ("stop", "length", "tool_calls", "function_call", "content_filter")
)

_FINISH_REASON_MAP = {
    # stop
    "end_turn": "stop",
    "stop_sequence": "stop",
    "STOP": "stop",
    "eos": "stop",
    "eos_token": "stop",
    "COMPLETE": "stop",
    "ERROR": "stop",
    "FINISH_REASON_UNSPECIFIED": "stop",
    "MALFORMED_FUNCTION_CALL": "stop",
    # length
    "max_tokens": "length",
    "MAX_TOKENS": "length",
    # tools
    "tool_use": "tool_calls",
    # content filter
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "ERROR_TOXIC": "content_filter",
    "OTHER": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "guardrail_intervened": "content_filter",
    "refusal": "content_filter",
    "content_filtered": "content_filter",
}


def map_finish_reason(finish_reason: str) -> str:
    """Map a provider finish reason onto OpenAI's set (unknown values become ``"stop"``)."""
    if finish_reason in _OPENAI_FINISH_REASONS:
        return finish_reason
    return _FINISH_REASON_MAP.get(finish_reason, "stop")


# ----------------------------------------------------------------------------- small helpers


def _invalid(title: str, field: str, kind: str, message: str, value: Any) -> None:
    """Raise pydantic's ``ValidationError`` for a bad field, as LiteLLM's pydantic classes do
    (pydantic is imported only on this error path)."""
    from pydantic import ValidationError
    from pydantic_core import InitErrorDetails, PydanticCustomError

    raise ValidationError.from_exception_data(
        title, [InitErrorDetails(type=PydanticCustomError(kind, message), loc=(field,), input=value)]
    )


def _as(cls: type, value: Any) -> Any:
    """Coerce a dict (or foreign pydantic object) into ``cls``; pass other values through."""
    if value is None or isinstance(value, cls):
        return value
    if isinstance(value, dict):
        return cls(**value)
    dump = getattr(value, "model_dump", None)
    if dump is not None:
        return cls(**dump())
    return value


def _wrap(cls: type, d: dict) -> Any:
    """Adopt ``d`` as the ``__dict__`` of a new ``cls`` instance (no copying, no checks)."""
    obj = _new(cls)
    obj.__dict__ = d
    return obj


# ----------------------------------------------------------------------------- tool calls


class Function(_Base):
    """``function`` member of a tool call: ``arguments`` (JSON string) and ``name``."""

    _order: ClassVar[tuple[str, ...]] = ("arguments", "name")
    _always: ClassVar[dict[str, Any]] = {"arguments": "", "name": None}

    def __init__(self, arguments: dict | str | None = None, name: str | None = None, **params: Any):
        if arguments is None:
            arguments = ""
        elif isinstance(arguments, dict):
            import json

            arguments = json.dumps(arguments)
        d = self.__dict__
        d["arguments"] = arguments
        d["name"] = name
        if params:
            d.update(params)


class FunctionCall(Function):
    """Legacy ``function_call`` on messages and deltas."""


class ChatCompletionMessageToolCall(_Base):
    _order: ClassVar[tuple[str, ...]] = ("function", "id", "type")
    _always: ClassVar[dict[str, Any]] = {"id": None, "type": "function"}

    def __init__(
        self,
        function: dict | Function,
        id: str | None = None,
        type: str | None = None,
        **params: Any,
    ):
        d = self.__dict__
        d["function"] = _as(Function, function)
        d["id"] = id if id is not None else _uuid4()
        d["type"] = type if type is not None else "function"
        if params:
            d.update(params)

    @classmethod
    def _from_wire(cls, d: dict) -> ChatCompletionMessageToolCall:
        fn = d.get("function")
        if type(fn) is dict:
            d["function"] = _wrap(Function, fn)
        return _wrap(cls, d)


class ChatCompletionDeltaToolCall(_Base):
    """A tool-call fragment in a streaming delta.  Only the fields passed are "set"."""

    _order: ClassVar[tuple[str, ...]] = ("id", "function", "type", "index")
    _defaults: ClassVar[dict[str, Any]] = {"id": None, "function": None, "type": None, "index": 0}

    def __init__(self, **data: Any):
        fn = data.get("function")
        if fn is not None:
            data["function"] = _as(Function, fn)
        self.__dict__.update(data)

    @classmethod
    def _from_wire(cls, d: dict) -> ChatCompletionDeltaToolCall:
        fn = d.get("function")
        if type(fn) is dict:
            d["function"] = _wrap(Function, fn)
        elif fn is None:
            d["function"] = Function()
        if "id" not in d:
            d["id"] = None
        if not d.get("type"):
            d["type"] = "function"
        return _wrap(cls, d)


def _delta_tool_call(tc: Any) -> Any:
    if isinstance(tc, dict):
        tc = dict(tc)
        fn = tc.get("function")
        tc["function"] = _as(Function, fn) if fn is not None else Function()
        if not tc.get("type"):
            tc["type"] = "function"
        tc.setdefault("index", 0)
        return ChatCompletionDeltaToolCall(**tc)
    return tc


# ----------------------------------------------------------------------------- logprobs


class TopLogprob(_Base):
    _order: ClassVar[tuple[str, ...]] = ("token", "bytes", "logprob")
    _always: ClassVar[dict[str, Any]] = {"token": None, "bytes": None, "logprob": None}

    def __init__(
        self,
        token: str | None = None,
        bytes: list | None = None,
        logprob: float | None = None,
        **params: Any,
    ):
        d = self.__dict__
        d["token"] = token
        d["bytes"] = bytes
        d["logprob"] = logprob
        if params:
            d.update(params)


class ChatCompletionTokenLogprob(_Base):
    _order: ClassVar[tuple[str, ...]] = ("token", "bytes", "logprob", "top_logprobs")
    _always: ClassVar[dict[str, Any]] = {
        "token": None,
        "bytes": None,
        "logprob": None,
        "top_logprobs": None,
    }

    def __init__(
        self,
        token: str | None = None,
        bytes: list | None = None,
        logprob: float | None = None,
        top_logprobs: list | None = None,
        **params: Any,
    ):
        d = self.__dict__
        d["token"] = token
        d["bytes"] = bytes
        d["logprob"] = logprob
        if top_logprobs is not None and not isinstance(top_logprobs, (list, tuple)):
            _invalid("ChatCompletionTokenLogprob", "top_logprobs", "list_type",
                     "Input should be a valid list", top_logprobs)
        d["top_logprobs"] = (
            [_as(TopLogprob, t) for t in top_logprobs] if top_logprobs is not None else []
        )
        if params:
            d.update(params)


class ChoiceLogprobs(_Base):
    """``choices[].logprobs`` of a chat completion."""

    _order: ClassVar[tuple[str, ...]] = ("content",)
    _always: ClassVar[dict[str, Any]] = {"content": None}

    def __init__(self, content: list | None = None, **params: Any):
        d = self.__dict__
        d["content"] = (
            [_as(ChatCompletionTokenLogprob, t) for t in content] if content is not None else None
        )
        if params:
            d.update(params)


class Logprobs(_Base):
    """``choices[].logprobs`` of a legacy text completion."""

    _order: ClassVar[tuple[str, ...]] = ("text_offset", "token_logprobs", "tokens", "top_logprobs")
    _always: ClassVar[dict[str, Any]] = {
        "text_offset": None,
        "token_logprobs": None,
        "tokens": None,
        "top_logprobs": None,
    }

    def __init__(
        self,
        text_offset: list | None = None,
        token_logprobs: list | None = None,
        tokens: list | None = None,
        top_logprobs: list | None = None,
        **params: Any,
    ):
        d = self.__dict__
        d["text_offset"] = text_offset
        d["token_logprobs"] = token_logprobs
        d["tokens"] = tokens
        d["top_logprobs"] = top_logprobs
        if params:
            d.update(params)


# ----------------------------------------------------------------------------- messages

_MESSAGE_OPTIONAL = (
    "audio",
    "images",
    "reasoning_content",
    "thinking_blocks",
    "reasoning_items",
    "annotations",
)


class Message(_Base):
    """An assistant message (``choices[].message``)."""

    _order: ClassVar[tuple[str, ...]] = (
        "content",
        "role",
        "tool_calls",
        "function_call",
        "audio",
        "images",
        "reasoning_content",
        "thinking_blocks",
        "reasoning_items",
        "provider_specific_fields",
        "annotations",
    )
    _always: ClassVar[dict[str, Any]] = {
        "content": None,
        "role": "assistant",
        "tool_calls": None,
        "function_call": None,
    }
    _defaults: ClassVar[dict[str, Any]] = {"provider_specific_fields": None}
    _json_is_dict = True

    def __init__(
        self,
        content: str | None = None,
        role: str = "assistant",
        function_call: Any = None,
        tool_calls: list | None = None,
        audio: Any = None,
        images: list | None = None,
        provider_specific_fields: dict[str, Any] | None = None,
        reasoning_content: str | None = None,
        thinking_blocks: list | None = None,
        reasoning_items: list | None = None,
        annotations: list | None = None,
        **params: Any,
    ):
        d = self.__dict__
        d["content"] = content
        d["role"] = role
        d["tool_calls"] = (
            [_as(ChatCompletionMessageToolCall, tc) for tc in tool_calls] if tool_calls else None
        )
        d["function_call"] = _as(FunctionCall, function_call)
        if audio is not None:
            d["audio"] = audio
        if images is not None:
            d["images"] = images
        if reasoning_content is not None:
            d["reasoning_content"] = reasoning_content
        if thinking_blocks is not None:
            d["thinking_blocks"] = thinking_blocks
        if reasoning_items is not None:
            d["reasoning_items"] = reasoning_items
        if provider_specific_fields:
            d["provider_specific_fields"] = provider_specific_fields
        if annotations is not None:
            d["annotations"] = annotations
        if params:
            d.update(params)

    @classmethod
    def _from_wire(cls, m: dict) -> Message:
        return _message_from_wire(m)


_MESSAGE_KNOWN = frozenset(Message._order)
_MESSAGE_OPTIONAL_SET = frozenset(_MESSAGE_OPTIONAL)


def _message_from_wire(m: dict) -> Message:
    """Normalise an OpenAI wire message the way LiteLLM's OpenAI path does.

    Unknown keys (``refusal`` ...) move into ``provider_specific_fields``;
    ``thinking_blocks`` is also mirrored there; optional fields that are ``None``
    are dropped; tool calls / function_call are wrapped.
    """
    extra = None
    drop = None
    for k, v in m.items():
        if k not in _MESSAGE_KNOWN:
            if extra is None:
                extra = [k]
            else:
                extra.append(k)
        elif v is None and k in _MESSAGE_OPTIONAL_SET:
            if drop is None:
                drop = [k]
            else:
                drop.append(k)
    if drop is not None:
        for k in drop:
            del m[k]
    psf = m.get("provider_specific_fields")
    if extra is not None:
        psf = dict(psf) if psf else {}
        for k in extra:
            psf[k] = m.pop(k)
    tbs = m.get("thinking_blocks")
    if tbs is not None:
        psf = dict(psf) if psf else {}
        psf["thinking_blocks"] = tbs
    if psf:
        m["provider_specific_fields"] = psf
    elif "provider_specific_fields" in m:
        del m["provider_specific_fields"]
    if not m.get("role"):
        m["role"] = "assistant"
    tcs = m.get("tool_calls")
    if tcs:
        m["tool_calls"] = [
            ChatCompletionMessageToolCall._from_wire(tc) if type(tc) is dict else tc for tc in tcs
        ]
    elif tcs is not None:
        m["tool_calls"] = None
    fc = m.get("function_call")
    if type(fc) is dict:
        m["function_call"] = _wrap(FunctionCall, fc)
    return _wrap(Message, m)


_DELTA_OPTIONAL = (
    "reasoning_content",
    "thinking_blocks",
    "reasoning_items",
    "images",
    "annotations",
)


class Delta(_Base):
    """The incremental message in a streaming chunk (``choices[].delta``)."""

    _order: ClassVar[tuple[str, ...]] = (
        "reasoning_content",
        "thinking_blocks",
        "reasoning_items",
        "provider_specific_fields",
        "content",
        "role",
        "function_call",
        "tool_calls",
        "audio",
        "images",
        "annotations",
    )
    _tail: ClassVar[tuple[str, ...]] = (
        "content",
        "role",
        "function_call",
        "tool_calls",
        "audio",
        "images",
        "annotations",
    )
    _always: ClassVar[dict[str, Any]] = {
        "content": None,
        "role": None,
        "function_call": None,
        "tool_calls": None,
        "audio": None,
    }
    _defaults: ClassVar[dict[str, Any]] = {"provider_specific_fields": None}

    def __init__(
        self,
        content: str | None = None,
        role: str | None = None,
        function_call: Any = None,
        tool_calls: list | None = None,
        audio: Any = None,
        images: list | None = None,
        reasoning_content: str | None = None,
        thinking_blocks: list | None = None,
        reasoning_items: list | None = None,
        annotations: list | None = None,
        **params: Any,
    ):
        d = self.__dict__
        # Some providers (Cerebras, Groq for gpt-oss) stream `reasoning`: LiteLLM's name for it
        # is `reasoning_content`, which wins when both are given.
        reasoning = params.pop("reasoning", None)
        if reasoning_content is None:
            reasoning_content = reasoning
        if reasoning_content is not None:
            d["reasoning_content"] = reasoning_content
        if thinking_blocks is not None:
            d["thinking_blocks"] = thinking_blocks
        if reasoning_items is not None:
            d["reasoning_items"] = reasoning_items
        psf = params.pop("provider_specific_fields", None)
        if psf:
            d["provider_specific_fields"] = psf
        if params:
            d.update(params)
        d["content"] = content
        d["role"] = role
        d["function_call"] = _as(FunctionCall, function_call)
        d["tool_calls"] = (
            [_delta_tool_call(tc) for tc in tool_calls] if tool_calls is not None else None
        )
        d["audio"] = audio
        if images is not None:
            d["images"] = images
        if annotations is not None:
            d["annotations"] = annotations

    @classmethod
    def _from_wire(cls, d: dict) -> Delta:
        return _delta_from_wire(d)


def _delta_from_wire(d: dict) -> Delta:
    for k in _DELTA_OPTIONAL:
        if k in d and d[k] is None:
            del d[k]
    if "provider_specific_fields" in d and not d["provider_specific_fields"]:
        del d["provider_specific_fields"]
    tcs = d.get("tool_calls")
    if tcs:
        d["tool_calls"] = [
            ChatCompletionDeltaToolCall._from_wire(tc) if type(tc) is dict else tc for tc in tcs
        ]
    fc = d.get("function_call")
    if type(fc) is dict:
        d["function_call"] = _wrap(FunctionCall, fc)
    return _wrap(Delta, d)


# ----------------------------------------------------------------------------- choices


class Choices(_Base):
    """A non-streaming choice: ``finish_reason``, ``index``, ``message`` (+ ``logprobs``)."""

    _order: ClassVar[tuple[str, ...]] = (
        "finish_reason",
        "index",
        "message",
        "logprobs",
        "provider_specific_fields",
    )
    _always: ClassVar[dict[str, Any]] = {"finish_reason": "stop", "index": 0}

    def __init__(
        self,
        finish_reason: str | None = None,
        index: int = 0,
        message: Message | dict | None = None,
        logprobs: Any = None,
        enhancements: Any = None,
        provider_specific_fields: dict[str, Any] | None = None,
        **params: Any,
    ):
        d = self.__dict__
        if finish_reason is None:
            finish_reason = "stop"
        elif finish_reason not in _OPENAI_FINISH_REASONS:
            provider_specific_fields = (
                dict(provider_specific_fields) if provider_specific_fields else {}
            )
            provider_specific_fields["native_finish_reason"] = finish_reason
            finish_reason = map_finish_reason(finish_reason)
        d["finish_reason"] = finish_reason
        d["index"] = index
        d["message"] = Message() if message is None else _as(Message, message)
        if logprobs is not None:
            d["logprobs"] = _as(ChoiceLogprobs, logprobs)
        if provider_specific_fields is not None:
            d["provider_specific_fields"] = provider_specific_fields
        if enhancements is not None:
            d["enhancements"] = enhancements
        if params:
            d.update(params)


_CHOICE_KNOWN = frozenset(
    ("finish_reason", "index", "message", "logprobs", "provider_specific_fields", "enhancements")
)


def _choice_from_wire(c: dict, idx: int) -> Choices:
    msg = c.get("message")
    if type(msg) is dict:
        msg = c["message"] = _message_from_wire(msg)
    elif msg is None:
        msg = c["message"] = Message()
    psf = c.get("provider_specific_fields")
    psf = dict(psf) if psf else {}
    extra = None
    for k in c:
        if k not in _CHOICE_KNOWN:
            if extra is None:
                extra = [k]
            else:
                extra.append(k)
    if extra is not None:
        for k in extra:
            psf[k] = c.pop(k)
    fr = c.get("finish_reason")
    if fr not in _OPENAI_FINISH_REASONS:
        if fr is None:
            fr = c.get("finish_details") or "stop"
        if fr not in _OPENAI_FINISH_REASONS:
            psf["native_finish_reason"] = fr
            fr = map_finish_reason(fr)
    if fr == "stop" and msg.__dict__.get("tool_calls"):
        fr = "tool_calls"
    c["finish_reason"] = fr
    if "index" not in c:
        c["index"] = idx
    lp = c.get("logprobs")
    if lp is None:
        c.pop("logprobs", None)
    elif type(lp) is dict:
        c["logprobs"] = ChoiceLogprobs(**lp)
    if c.get("enhancements", 0) is None:
        del c["enhancements"]
    c["provider_specific_fields"] = psf
    return _wrap(Choices, c)


class StreamingChoices(_Base):
    """A streaming choice: ``finish_reason``, ``index``, ``delta``, ``logprobs``."""

    _order: ClassVar[tuple[str, ...]] = ("finish_reason", "index", "delta", "logprobs")
    _always: ClassVar[dict[str, Any]] = {"finish_reason": None, "index": 0, "logprobs": None}

    def __init__(
        self,
        finish_reason: str | None = None,
        index: int = 0,
        delta: Delta | dict | None = None,
        logprobs: Any = None,
        enhancements: Any = None,
        **params: Any,
    ):
        d = self.__dict__
        d["finish_reason"] = map_finish_reason(finish_reason) if finish_reason is not None else None
        d["index"] = index
        d["delta"] = Delta() if delta is None else _as(Delta, delta)
        d["logprobs"] = _as(ChoiceLogprobs, logprobs) if isinstance(logprobs, dict) else logprobs
        if enhancements is not None:
            d["enhancements"] = enhancements
        if params:
            d.update(params)


def _streaming_choice_from_wire(c: dict) -> StreamingChoices:
    delta = c.get("delta")
    if type(delta) is dict:
        c["delta"] = _delta_from_wire(delta)
    elif delta is None:
        c["delta"] = Delta()
    fr = c.get("finish_reason")
    if fr is not None and fr not in _OPENAI_FINISH_REASONS:
        c["finish_reason"] = map_finish_reason(fr)
    lp = c.get("logprobs")
    if lp is not None and type(lp) is dict:
        c["logprobs"] = ChoiceLogprobs(**lp)
    return _wrap(StreamingChoices, c)


# ----------------------------------------------------------------------------- usage


class CompletionTokensDetailsWrapper(_Base):
    _order: ClassVar[tuple[str, ...]] = (
        "accepted_prediction_tokens",
        "audio_tokens",
        "reasoning_tokens",
        "rejected_prediction_tokens",
        "text_tokens",
        "image_tokens",
        "video_tokens",
    )
    _defaults: ClassVar[dict[str, Any]] = dict.fromkeys(_order)

    def __init__(self, **kwargs: Any):
        self.__dict__.update(kwargs)


_PTD_OPTIONAL = frozenset(
    (
        "cache_write_tokens",
        "web_search_requests",
        "google_maps_grounding_requests",
        "tool_use_tokens",
        "character_count",
        "image_count",
        "video_length_seconds",
        "audio_length_seconds",
        "query_count",
        "cache_creation_tokens",
        "cache_creation_token_details",
        "cached_tokens_details",
    )
)


class PromptTokensDetailsWrapper(_Base):
    _order: ClassVar[tuple[str, ...]] = (
        "audio_tokens",
        "cache_write_tokens",
        "cached_tokens",
        "text_tokens",
        "image_tokens",
        "video_tokens",
        "web_search_requests",
        "google_maps_grounding_requests",
        "tool_use_tokens",
        "character_count",
        "image_count",
        "video_length_seconds",
        "audio_length_seconds",
        "query_count",
        "cache_creation_tokens",
        "cache_creation_token_details",
        "cached_tokens_details",
    )
    _defaults: ClassVar[dict[str, Any]] = dict.fromkeys(
        ("audio_tokens", "cached_tokens", "text_tokens", "image_tokens", "video_tokens")
    )

    def __init__(self, **kwargs: Any):
        d = self.__dict__
        for k, v in kwargs.items():
            if v is None and k in _PTD_OPTIONAL:
                continue
            d[k] = v
        # cache_write_tokens and cache_creation_tokens mirror each other
        if "cache_write_tokens" in d:
            d.setdefault("cache_creation_tokens", d["cache_write_tokens"])
        elif "cache_creation_tokens" in d:
            d["cache_write_tokens"] = d["cache_creation_tokens"]


class ServerToolUse(_Base):
    _order: ClassVar[tuple[str, ...]] = (
        "web_search_requests",
        "tool_search_requests",
        "browser_open_requests",
    )
    _defaults: ClassVar[dict[str, Any]] = dict.fromkeys(_order)

    def __init__(self, **kwargs: Any):
        self.__dict__.update(kwargs)


class Usage(_Base):
    """Token usage.  ``prompt_tokens``/``completion_tokens``/``total_tokens`` default to 0.

    ``reasoning_tokens=`` fills ``completion_tokens_details`` (with ``text_tokens``
    = completion - reasoning); ``cache_read_input_tokens=`` is kept as an extra
    attribute and copied to ``prompt_tokens_details.cached_tokens``;
    ``cache_creation_input_tokens=`` likewise to ``cache_write_tokens`` /
    ``cache_creation_tokens``.
    """

    _order: ClassVar[tuple[str, ...]] = (
        "completion_tokens",
        "prompt_tokens",
        "total_tokens",
        "completion_tokens_details",
        "prompt_tokens_details",
        "server_tool_use",
        "cost",
    )
    _always: ClassVar[dict[str, Any]] = {
        "completion_tokens": 0,
        "prompt_tokens": 0,
        "total_tokens": 0,
        "completion_tokens_details": None,
        "prompt_tokens_details": None,
    }

    def __init__(
        self,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        total_tokens: int | None = None,
        reasoning_tokens: int | None = None,
        prompt_tokens_details: Any = None,
        completion_tokens_details: Any = None,
        server_tool_use: Any = None,
        cost: float | None = None,
        **params: Any,
    ):
        ctd = _as(CompletionTokensDetailsWrapper, completion_tokens_details)
        if reasoning_tokens:
            if ctd is None:
                ctd = CompletionTokensDetailsWrapper(reasoning_tokens=reasoning_tokens)
            else:
                ctd.reasoning_tokens = reasoning_tokens
            if ctd.text_tokens is None and completion_tokens is not None:
                ctd.text_tokens = max(0, completion_tokens - reasoning_tokens)
        ptd = _as(PromptTokensDetailsWrapper, prompt_tokens_details)
        cache_read = params.get("cache_read_input_tokens")
        if cache_read is not None:
            if ptd is None:
                ptd = PromptTokensDetailsWrapper()
            ptd.cached_tokens = cache_read
        cache_creation = params.get("cache_creation_input_tokens")
        if cache_creation is not None:
            if ptd is None:
                ptd = PromptTokensDetailsWrapper()
            ptd.cache_write_tokens = cache_creation
            ptd.cache_creation_tokens = cache_creation
        d = self.__dict__
        d["completion_tokens"] = completion_tokens or 0
        d["prompt_tokens"] = prompt_tokens or 0
        d["total_tokens"] = total_tokens or 0
        d["completion_tokens_details"] = ctd
        d["prompt_tokens_details"] = ptd
        if server_tool_use is not None:
            d["server_tool_use"] = _as(ServerToolUse, server_tool_use)
        if cost is not None:
            d["cost"] = cost
        if params:
            d.update(params)

    @classmethod
    def _from_wire(cls, u: dict) -> Usage:
        """Build from an OpenAI ``usage`` dict (takes ownership of ``u``)."""
        if (
            "reasoning_tokens" in u
            or "cache_read_input_tokens" in u
            or "cache_creation_input_tokens" in u
            or u.get("total_tokens") is None
            or u.get("prompt_tokens") is None
            or u.get("completion_tokens") is None
        ):
            return cls(**u)
        ctd = u.get("completion_tokens_details")
        if type(ctd) is dict:
            u["completion_tokens_details"] = _wrap(CompletionTokensDetailsWrapper, ctd)
        ptd = u.get("prompt_tokens_details")
        if type(ptd) is dict:
            if (
                None in ptd.values()
                or "cache_write_tokens" in ptd
                or "cache_creation_tokens" in ptd
            ):
                u["prompt_tokens_details"] = PromptTokensDetailsWrapper(**ptd)
            else:
                u["prompt_tokens_details"] = _wrap(PromptTokensDetailsWrapper, ptd)
        if "server_tool_use" in u:
            stu = u["server_tool_use"]
            if stu is None:
                del u["server_tool_use"]
            elif type(stu) is dict:
                u["server_tool_use"] = _wrap(ServerToolUse, stu)
        if "cost" in u and u["cost"] is None:
            del u["cost"]
        return _wrap(cls, u)


# ----------------------------------------------------------------------------- chat responses


class ModelResponse(_Base):
    """A chat completion (``object="chat.completion"``)."""

    _order: ClassVar[tuple[str, ...]] = (
        "id",
        "created",
        "model",
        "object",
        "system_fingerprint",
        "choices",
        "usage",
    )
    _always: ClassVar[dict[str, Any]] = {
        "model": None,
        "object": "chat.completion",
        "system_fingerprint": None,
    }
    _unset_dump = True
    _json_is_dict = True

    _response_ms: float | None = None
    _response_headers: dict | None = None

    def __init__(
        self,
        id: str | None = None,
        choices: list | None = None,
        created: int | None = None,
        model: str | None = None,
        object: str | None = None,
        system_fingerprint: str | None = None,
        usage: Usage | dict | None = None,
        stream: bool | None = None,
        stream_options: dict | None = None,
        response_ms: float | None = None,
        hidden_params: dict | None = None,
        _response_headers: dict | None = None,
        **params: Any,
    ):
        d = self.__dict__
        d["id"] = id or _chatcmpl_id()
        d["created"] = created if created is not None else int(time.time())
        d["model"] = model
        d["object"] = object or "chat.completion"
        d["system_fingerprint"] = system_fingerprint
        if choices is None:
            d["choices"] = [Choices()]
        else:
            d["choices"] = [Choices(**c) if isinstance(c, dict) else c for c in choices]
        if usage is not None:
            d["usage"] = _as(Usage, usage)
        if response_ms is not None:
            d["_response_ms"] = response_ms
        if hidden_params is not None:
            d["_hidden_params"] = hidden_params
        if _response_headers is not None:
            d["_response_headers"] = _response_headers
        if params:
            d.update(params)

    @classmethod
    def _from_wire(cls, d: dict) -> ModelResponse:
        """Build from an OpenAI chat-completion dict; takes ownership of ``d``.

        Choices/messages/tool calls/usage are wrapped; the message is normalised like
        LiteLLM's OpenAI path (unknown message keys -> ``provider_specific_fields``,
        ``finish_reason`` mapped, ``"stop"`` with tool calls -> ``"tool_calls"``).
        Unknown top-level keys (``service_tier`` ...) are kept as extra fields.
        """
        choices = d.get("choices")
        if choices:
            d["choices"] = [
                _choice_from_wire(c, i) if type(c) is dict else c for i, c in enumerate(choices)
            ]
        elif choices is None:
            d["choices"] = []
        u = d.get("usage")
        if u is not None:
            if type(u) is dict:
                d["usage"] = Usage._from_wire(u)
        elif "usage" in d:
            del d["usage"]
        if not d.get("id"):
            d["id"] = _chatcmpl_id()
        if d.get("created") is None:
            d["created"] = int(time.time())
        return _wrap(cls, d)


class ModelResponseStream(_Base):
    """A streaming chunk (``object="chat.completion.chunk"``)."""

    _order: ClassVar[tuple[str, ...]] = (
        "id",
        "created",
        "model",
        "object",
        "system_fingerprint",
        "choices",
        "provider_specific_fields",
    )
    _always: ClassVar[dict[str, Any]] = {
        "object": "chat.completion.chunk",
        "provider_specific_fields": None,
    }
    _defaults: ClassVar[dict[str, Any]] = {"model": None, "system_fingerprint": None}
    _unset_dump = True
    _json_is_dict = True

    _response_ms: float | None = None
    _response_headers: dict | None = None

    def __init__(
        self,
        choices: list | StreamingChoices | dict | None = None,
        id: str | None = None,
        created: int | None = None,
        provider_specific_fields: dict[str, Any] | None = None,
        **kwargs: Any,
    ):
        d = self.__dict__
        d["id"] = id or _chatcmpl_id()
        d["created"] = created if created is not None else int(time.time())
        if "model" in kwargs:
            d["model"] = kwargs.pop("model")
        d["object"] = kwargs.pop("object", None) or "chat.completion.chunk"
        if "system_fingerprint" in kwargs:
            d["system_fingerprint"] = kwargs.pop("system_fingerprint")
        if choices is None:
            choices = [StreamingChoices()]
        elif not isinstance(choices, list):
            choices = [choices]
        d["choices"] = [StreamingChoices(**c) if isinstance(c, dict) else c for c in choices]
        d["provider_specific_fields"] = provider_specific_fields
        usage = kwargs.pop("usage", None)
        if usage is not None:
            d["usage"] = _as(Usage, usage)
        hidden = kwargs.pop("hidden_params", None)
        if hidden is not None:
            d["_hidden_params"] = hidden
        if kwargs:
            d.update(kwargs)

    @classmethod
    def _from_wire(cls, d: dict) -> ModelResponseStream:
        """Build from an OpenAI ``chat.completion.chunk`` dict; takes ownership of ``d``.

        ``usage: null`` is dropped (the attribute then does not exist, as in LiteLLM);
        delta fields that are ``None`` and optional (``reasoning_content`` ...) are dropped.
        """
        choices = d.get("choices")
        if choices:
            d["choices"] = [
                _streaming_choice_from_wire(c) if type(c) is dict else c for c in choices
            ]
        elif choices is None:
            d["choices"] = []
        if "usage" in d:
            u = d["usage"]
            if u is None:
                del d["usage"]
            elif type(u) is dict:
                d["usage"] = Usage._from_wire(u)
        if not d.get("id"):
            d["id"] = _chatcmpl_id()
        if d.get("created") is None:
            d["created"] = int(time.time())
        return _wrap(cls, d)


# ----------------------------------------------------------------------------- embeddings


class Embedding(_Base):
    _order: ClassVar[tuple[str, ...]] = ("embedding", "index", "object")
    _always: ClassVar[dict[str, Any]] = {"embedding": None, "index": 0, "object": "embedding"}

    def __init__(
        self, embedding: Any = None, index: int = 0, object: str = "embedding", **params: Any
    ):
        d = self.__dict__
        d["embedding"] = embedding
        d["index"] = index
        d["object"] = object
        if params:
            d.update(params)


class EmbeddingResponse(_Base):
    """``object="list"`` with ``data`` entries ``{embedding, index, object}``."""

    _order: ClassVar[tuple[str, ...]] = ("model", "data", "object", "usage")
    _always: ClassVar[dict[str, Any]] = {"model": None, "object": "list"}
    _json_is_dict = True

    _response_ms: float | None = None
    _response_headers: dict | None = None

    def __init__(
        self,
        model: str | None = None,
        usage: Usage | dict | None = None,
        response_ms: float | None = None,
        data: list | None = None,
        hidden_params: dict | None = None,
        _response_headers: dict | None = None,
        **params: Any,
    ):
        d = self.__dict__
        d["model"] = model
        d["data"] = data if data is not None else []
        d["object"] = params.pop("object", None) or "list"
        d["usage"] = Usage() if usage is None else _as(Usage, usage)
        if response_ms is not None:
            d["_response_ms"] = response_ms
        if hidden_params is not None:
            d["_hidden_params"] = hidden_params
        if _response_headers is not None:
            d["_response_headers"] = _response_headers
        if params:
            d.update(params)

    @classmethod
    def _from_wire(cls, d: dict) -> EmbeddingResponse:
        """Build from an OpenAI embeddings response; ``data`` entries stay plain dicts."""
        u = d.get("usage")
        if type(u) is dict:
            d["usage"] = Usage._from_wire(u)
        elif u is None:
            d["usage"] = Usage()
        if d.get("data") is None:
            d["data"] = []
        return _wrap(cls, d)


# ----------------------------------------------------------------------------- text completion


class TextChoices(_Base):
    _order: ClassVar[tuple[str, ...]] = ("finish_reason", "index", "text", "logprobs")
    _json_is_dict = True
    _always: ClassVar[dict[str, Any]] = {
        "finish_reason": None,
        "index": 0,
        "text": None,
        "logprobs": None,
    }

    def __init__(
        self,
        finish_reason: str | None = None,
        index: int = 0,
        text: str | None = None,
        logprobs: Any = None,
        **params: Any,
    ):
        d = self.__dict__
        d["finish_reason"] = map_finish_reason(finish_reason) if finish_reason is not None else None
        d["index"] = index
        d["text"] = text
        d["logprobs"] = _as(Logprobs, logprobs) if isinstance(logprobs, dict) else logprobs
        if params:
            d.update(params)


def _text_choice_from_wire(c: dict) -> TextChoices:
    fr = c.get("finish_reason")
    if fr is not None and fr not in _OPENAI_FINISH_REASONS:
        c["finish_reason"] = map_finish_reason(fr)
    lp = c.get("logprobs")
    if type(lp) is dict:
        c["logprobs"] = _wrap(Logprobs, lp)
    return _wrap(TextChoices, c)


class TextCompletionResponse(_Base):
    """A legacy text completion (``object="text_completion"``)."""

    _order: ClassVar[tuple[str, ...]] = ("id", "object", "created", "model", "choices", "usage")
    _always: ClassVar[dict[str, Any]] = {"object": "text_completion", "model": None}

    _response_ms: float | None = None
    _response_headers: dict | None = None

    def __init__(
        self,
        id: str | None = None,
        choices: list | None = None,
        created: int | None = None,
        model: str | None = None,
        usage: Usage | dict | None = None,
        stream: bool = False,
        response_ms: float | None = None,
        object: str | None = None,
        **params: Any,
    ):
        d = self.__dict__
        d["id"] = id or _chatcmpl_id()
        d["object"] = object or ("text_completion.chunk" if stream else "text_completion")
        d["created"] = created if created is not None else int(time.time())
        d["model"] = model
        if choices is None:
            d["choices"] = [TextChoices()]
        else:
            d["choices"] = [TextChoices(**c) if isinstance(c, dict) else c for c in choices]
        d["usage"] = Usage() if usage is None else _as(Usage, usage)
        if response_ms is not None:
            d["_response_ms"] = response_ms
        hidden = params.pop("hidden_params", None)
        if hidden is not None:
            d["_hidden_params"] = hidden
        if params:
            d.update(params)

    @classmethod
    def _from_wire(cls, d: dict) -> TextCompletionResponse:
        """Build from an OpenAI ``text_completion`` dict; takes ownership of ``d``."""
        choices = d.get("choices")
        if choices:
            d["choices"] = [_text_choice_from_wire(c) if type(c) is dict else c for c in choices]
        elif choices is None:
            d["choices"] = []
        u = d.get("usage")
        if type(u) is dict:
            d["usage"] = Usage._from_wire(u)
        elif u is None:
            d["usage"] = Usage()
        if not d.get("id"):
            d["id"] = _chatcmpl_id()
        if d.get("created") is None:
            d["created"] = int(time.time())
        return _wrap(cls, d)


# ----------------------------------------------------------------------------- images / audio


class ImageObject(_Base):
    _order: ClassVar[tuple[str, ...]] = (
        "b64_json",
        "revised_prompt",
        "url",
        "provider_specific_fields",
    )
    _json_is_dict = True
    _always: ClassVar[dict[str, Any]] = {"b64_json": None, "revised_prompt": None, "url": None}
    _defaults: ClassVar[dict[str, Any]] = {"provider_specific_fields": None}

    def __init__(
        self,
        b64_json: str | None = None,
        url: str | None = None,
        revised_prompt: str | None = None,
        provider_specific_fields: dict | None = None,
        **kwargs: Any,
    ):
        d = self.__dict__
        d["b64_json"] = b64_json
        d["revised_prompt"] = revised_prompt
        d["url"] = url
        if provider_specific_fields is not None:
            d["provider_specific_fields"] = provider_specific_fields
        if kwargs:
            d.update(kwargs)


class ImageResponse(_Base):
    _order: ClassVar[tuple[str, ...]] = (
        "created",
        "background",
        "data",
        "output_format",
        "quality",
        "size",
        "usage",
    )
    _json_is_dict = True
    _always: ClassVar[dict[str, Any]] = {
        "background": None,
        "output_format": None,
        "quality": None,
        "size": None,
    }

    _response_ms: float | None = None
    _response_headers: dict | None = None

    def __init__(
        self,
        created: int | None = None,
        data: list | None = None,
        response_ms: float | None = None,
        usage: Any = None,
        hidden_params: dict | None = None,
        **kwargs: Any,
    ):
        d = self.__dict__
        d["created"] = created if created is not None else int(time.time())
        d["data"] = [_as(ImageObject, x) for x in data] if data else []
        if usage is None:
            usage = {
                "input_tokens": 0,
                "input_tokens_details": {"image_tokens": 0, "text_tokens": 0},
                "output_tokens": 0,
                "total_tokens": 0,
            }
        d["usage"] = usage
        for k in ("background", "output_format", "quality", "size"):
            if k in kwargs:
                d[k] = kwargs.pop(k)
        if response_ms is not None:
            d["_response_ms"] = response_ms
        if hidden_params is not None:
            d["_hidden_params"] = hidden_params
        if kwargs:
            d.update(kwargs)


class RerankResponse(_Base):
    """LiteLLM's ``RerankResponse``: ``id``, ``results`` (dicts with ``index``,
    ``relevance_score`` and, when documents are returned, ``document: {"text": ...}``), ``meta``."""

    _order: ClassVar[tuple[str, ...]] = ("id", "results", "meta")
    _json_is_dict = True
    _always: ClassVar[dict[str, Any]] = {"id": None, "results": None, "meta": None}

    _response_ms: float | None = None

    def __init__(
        self, id: str | None = None, results: list | None = None, meta: dict | None = None,
        **kwargs: Any,
    ):
        d = self.__dict__
        d["id"] = id
        d["results"] = results
        d["meta"] = meta
        if kwargs:
            d.update(kwargs)

    @classmethod
    def _from_wire(cls, d: dict) -> RerankResponse:
        return _wrap(cls, d)


class OpenAIModerationResult(_Base):
    """One result of a moderation call (OpenAI's ``Moderation`` object)."""

    _order: ClassVar[tuple[str, ...]] = (
        "categories", "category_applied_input_types", "category_scores", "flagged",
    )
    _json_is_dict = True
    _always: ClassVar[dict[str, Any]] = {
        "categories": None, "category_applied_input_types": None, "category_scores": None,
        "flagged": None,
    }

    def __init__(self, **kwargs: Any):
        self.__dict__.update(kwargs)


class OpenAIModerationResponse(_Base):
    """What ``moderation()`` returns: ``id``, ``model``, ``results``."""

    _order: ClassVar[tuple[str, ...]] = ("id", "model", "results")
    _json_is_dict = True
    _always: ClassVar[dict[str, Any]] = {"id": None, "model": None, "results": None}

    _response_ms: float | None = None

    def __init__(
        self, id: str | None = None, model: str | None = None, results: list | None = None,
        **kwargs: Any,
    ):
        d = self.__dict__
        d["id"] = id
        d["model"] = model
        d["results"] = [_as(OpenAIModerationResult, r) for r in results] if results else []
        if kwargs:
            d.update(kwargs)

    @classmethod
    def _from_wire(cls, d: dict) -> OpenAIModerationResponse:
        d["results"] = [OpenAIModerationResult(**r) for r in d.get("results") or []]
        return _wrap(cls, d)


class TranscriptionResponse(_Base):
    _order: ClassVar[tuple[str, ...]] = ("text", "usage")
    _json_is_dict = True
    _always: ClassVar[dict[str, Any]] = {"text": None}
    _defaults: ClassVar[dict[str, Any]] = {"usage": None}

    _response_ms: float | None = None
    _response_headers: dict | None = None

    def __init__(self, text: str | None = None, **kwargs: Any):
        d = self.__dict__
        d["text"] = text
        if kwargs:
            d.update(kwargs)


# ----------------------------------------------------------------------------- lazy names

_LAZY = {
    "CallTypes": "_enums",
    "LlmProviders": "_enums",
    "provider_list": "_enums",
    "StandardLoggingPayload": "_logging_types",
    "StandardLoggingMetadata": "_logging_types",
    "StandardLoggingHiddenParams": "_logging_types",
    "StandardLoggingModelInformation": "_logging_types",
    "StandardLoggingPayloadErrorInformation": "_logging_types",
    "StandardLoggingPayloadStatusFields": "_logging_types",
    "StandardLoggingGuardrailInformation": "_logging_types",
    "CostBreakdown": "_logging_types",
    "CustomPricingLiteLLMParams": "_pricing",
    "MirroredPricingParams": "_pricing",
    "CacheCreationTokenDetails": "_typed_dicts",
    "ChatCompletionDeltaChunk": "_typed_dicts",
    "ChatCompletionUsageBlock": "_typed_dicts",
    "GenericStreamingChunk": "_typed_dicts",
    "ModelInfo": "_typed_dicts",
    "OPENAI_RESPONSE_HEADERS": "_typed_dicts",
    "PromptTokensDetails": "_typed_dicts",
    "HiddenParams": "_typed_dicts",
}

if TYPE_CHECKING:
    from ._enums import CallTypes, LlmProviders, provider_list
    from ._logging_types import (
        CostBreakdown,
        StandardLoggingGuardrailInformation,
        StandardLoggingHiddenParams,
        StandardLoggingMetadata,
        StandardLoggingModelInformation,
        StandardLoggingPayload,
        StandardLoggingPayloadErrorInformation,
        StandardLoggingPayloadStatusFields,
    )


def __getattr__(name: str) -> Any:
    # The enums and TypedDicts cost milliseconds to build; load them on first use.
    modname = _LAZY.get(name)
    if modname is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    mod = importlib.import_module(f"{__package__}.{modname}")
    value = getattr(mod, name)
    globals()[name] = value
    return value


# ----------------------------------------------------------------------------- kwargs

# LiteLLM's common (non-OpenAI) keyword arguments accepted by every entry point.
# fmt: off
all_litellm_params: list[str] = [
    "api_key", "api_base", "api_version", "region_name", "headers", "provider_specific_header",
    "client", "shared_session", "ssl_verify", "request_timeout", "force_timeout", "stream_timeout",
    "max_retries", "tenant_id", "client_id", "client_secret", "azure_username", "azure_password",
    "azure_scope", "azure_ad_token_provider", "litellm_credential_name",
    "configurable_clientside_auth_params", "use_xai_oauth", "aws_batch_role_arn", "s3_bucket_name",
    "s3_region_name", "s3_endpoint_url", "s3_output_bucket_name", "s3_bucket_owner",
    "s3_access_key_id", "s3_secret_access_key", "s3_encryption_key_id", "bedrock_tags",
    "custom_llm_provider", "azure", "use_litellm_proxy", "use_chat_completions_api",
    "use_in_pass_through", "allowed_openai_params", "fallbacks", "context_window_fallback_dict",
    "num_retries", "retry_policy", "retry_strategy", "routing_strategy", "cooldown_time",
    "allowed_model_region", "enable_tag_filtering", "fastest_response", "provider_affinity_header",
    "search_tool_name", "model_list", "model_info", "rpm", "tpm", "itpm", "otpm",
    "default_api_key_rpm_limit", "default_api_key_tpm_limit", "max_parallel_requests", "weight",
    "order", "tag_regex", "max_file_size_mb", "auto_router_config_path", "auto_router_config",
    "auto_router_default_model", "auto_router_embedding_model", "auto_router_max_input_chars",
    "auto_router_routing_compression", "auto_router_model_compression", "complexity_router_config",
    "complexity_router_default_model", "adaptive_router_config", "adaptive_router_default_model",
    "quality_router_config", "quality_router_default_model", "caching", "cache", "ttl",
    "enable_prompt_caching", "caching_groups", "cost_per_query", "base_model", "max_budget",
    "budget_duration", "id", "metadata", "litellm_metadata", "tags", "litellm_trace_id",
    "litellm_session_id", "litellm_request_debug", "logger_fn", "verbose", "no-log",
    "max_agentic_loops", "guardrails", "prompt_id", "prompt_variables", "prompt_version",
    "prompt_environment", "prompt_label", "litellm_system_prompt", "custom_prompt_dict", "roles",
    "final_prompt_value", "bos_token", "eos_token", "hf_model_name", "supports_system_message",
    "ensure_alternating_roles", "user_continue_message", "assistant_continue_message",
    "disable_add_transform_inline_image_block", "merge_reasoning_content_in_choices",
    "enable_json_schema_validation", "complete_response", "stream_chunk_size", "keepalive_seconds",
    "allow_client_keepalive_override", "mock_response", "mock_timeout", "litellm_call_id",
    "completion_call_id", "model_alias_map", "data_residency", "litellm_logging_obj",
    "preset_cache_key", "cache_key", "stream_response", "_context_compaction_state",
    "_agentic_loop_depth", "_agentic_loop_fingerprints", "_agentic_loop_api_surface",
    "_code_interpreter_interception_active", "_code_interpreter_interception_sandbox_key",
    "_code_interpreter_interception_session_scoped",
    "_code_interpreter_interception_converted_stream",
    "_websearch_interception_emit_native_blocks", "_websearch_interception_converted_stream",
    "_headroom_interception_converted_stream", "_router_weights", "fallback_depth",
    "max_fallbacks", "attempted_targets", "proxy_server_request", "secret_fields",
    "litellm_trusted_callback_vars", "_litellm_addressed_response_id",
    "_litellm_strip_stream_usage", "client_side_timeout", "model_file_id_mapping", "acompletion",
    "aembedding", "aimg_generation", "atext_completion", "text_completion",
    "allm_passthrough_route", "async_call", "self", "use_client", "model_config", "rust",
    "langfuse_public_key", "langfuse_secret", "langfuse_secret_key", "langfuse_host",
    "langfuse_environment", "langfuse_span_scope", "langfuse_prompt_version", "gcs_bucket_name",
    "gcs_path_service_account", "langsmith_api_key", "langsmith_project", "langsmith_base_url",
    "langsmith_sampling_rate", "langsmith_tenant_id", "humanloop_api_key", "arize_api_key",
    "arize_space_key", "arize_space_id", "arize_success_sampling_rate",
    "arize_error_sampling_rate", "posthog_api_key", "posthog_api_url", "wandb_api_key",
    "weave_project_id", "dd_api_key", "dd_site", "dd_agent_host", "dd_agent_port",
    "newrelic_api_key", "newrelic_region", "turn_off_message_logging",
    "litellm_disabled_callbacks", "input_cost_per_token", "output_cost_per_token",
    "input_cost_per_character", "output_cost_per_character", "cache_read_input_token_cost",
    "cache_creation_input_token_cost", "tiered_pricing", "input_cost_per_second",
    "output_cost_per_second", "output_cost_per_second_1080p", "output_cost_per_second_480p",
    "output_cost_per_second_720p", "output_cost_per_second_768p", "output_cost_per_second_2k",
    "output_cost_per_second_4k", "output_cost_per_image_512", "output_cost_per_image_1024",
    "output_cost_per_image_1536", "input_cost_per_pixel", "output_cost_per_pixel",
    "input_cost_per_token_flex", "input_cost_per_token_priority", "input_cost_per_token_ultrafast",
    "cache_creation_input_token_cost_above_1hr",
    "cache_creation_input_token_cost_above_200k_tokens",
    "cache_creation_input_token_cost_above_272k_tokens",
    "cache_creation_input_token_cost_above_272k_tokens_priority",
    "cache_creation_input_token_cost_above_272k_tokens_flex",
    "cache_creation_input_token_cost_flex", "cache_creation_input_token_cost_priority",
    "cache_creation_input_token_cost_ultrafast", "cache_creation_input_audio_token_cost",
    "cache_read_input_token_cost_flex", "cache_read_input_token_cost_priority",
    "cache_read_input_token_cost_ultrafast", "cache_read_input_token_cost_above_200k_tokens",
    "cache_read_input_token_cost_above_200k_tokens_priority",
    "cache_read_input_token_cost_above_272k_tokens_priority",
    "cache_read_input_token_cost_above_272k_tokens_flex", "cache_read_input_token_cost_batches",
    "cache_read_input_token_cost_above_272k_tokens_batches",
    "cache_creation_input_token_cost_batches",
    "cache_creation_input_token_cost_above_200k_tokens_batches",
    "cache_creation_input_token_cost_above_272k_tokens_batches",
    "cache_read_input_audio_token_cost", "cache_read_input_image_token_cost",
    "input_cost_per_character_above_128k_tokens", "input_cost_per_audio_token",
    "input_cost_per_token_cache_hit", "input_cost_per_token_above_128k_tokens",
    "input_cost_per_token_above_200k_tokens", "input_cost_per_token_above_200k_tokens_priority",
    "input_cost_per_token_above_272k_tokens_priority",
    "input_cost_per_token_above_272k_tokens_flex",
    "input_cost_per_token_above_272k_tokens_batches", "input_cost_per_query",
    "input_cost_per_image", "input_cost_per_image_above_128k_tokens",
    "input_cost_per_audio_per_second", "input_cost_per_audio_per_second_above_128k_tokens",
    "input_cost_per_video_per_second", "input_cost_per_video_per_second_above_128k_tokens",
    "input_cost_per_video_per_second_above_15s_interval",
    "input_cost_per_video_per_second_above_8s_interval", "input_cost_per_audio_token_batches",
    "input_cost_per_image_token_batches", "input_cost_per_token_batches",
    "input_cost_per_video_token_batches", "output_cost_per_token_batches",
    "output_cost_per_token_flex", "output_cost_per_token_priority",
    "output_cost_per_token_ultrafast", "output_cost_per_audio_token",
    "output_cost_per_token_above_128k_tokens", "output_cost_per_token_above_200k_tokens",
    "output_cost_per_token_above_200k_tokens_priority",
    "output_cost_per_token_above_272k_tokens_priority",
    "output_cost_per_token_above_272k_tokens_flex",
    "output_cost_per_token_above_272k_tokens_batches",
    "output_cost_per_character_above_128k_tokens", "output_cost_per_image",
    "output_cost_per_image_token", "output_cost_per_video_token",
    "output_cost_per_reasoning_token", "output_cost_per_reasoning_token_flex",
    "output_cost_per_reasoning_token_priority", "output_cost_per_video_per_second",
    "output_cost_per_audio_per_second", "search_context_cost_per_query",
    "google_maps_grounding_cost_per_query", "citation_cost_per_token",
    "cache_read_input_token_cost_above_272k_tokens",
    "cache_read_input_token_cost_above_512k_tokens", "input_cost_per_image_token",
    "input_cost_per_video_token", "input_cost_per_token_above_272k_tokens",
    "input_cost_per_token_above_512k_tokens", "output_cost_per_token_above_272k_tokens",
    "output_cost_per_token_above_512k_tokens", "output_vector_size", "ocr_cost_per_page",
    "ocr_cost_per_page_batches", "ocr_cost_per_credit", "annotation_cost_per_page",
    "annotation_cost_per_page_batches", "regional_processing_uplift_multiplier_eu",
    "regional_processing_uplift_multiplier_us", "regional_endpoint_uplift_multiplier",
    "drop_params", "additional_drop_params", "mock_tool_calls", "mock_delay", "organization",
    "extra_body", "azure_ad_token", "aws_access_key_id", "aws_secret_access_key",
    "aws_session_token", "aws_region_name", "aws_profile_name", "aws_role_name",
    "aws_session_name", "aws_web_identity_token", "aws_sts_endpoint",
    "aws_bedrock_runtime_endpoint", "vertex_project", "vertex_location", "vertex_credentials",
    "vertex_ai_project", "vertex_ai_location",
]
# fmt: on


class TokenCountResponse(_Base):
    """What ``acount_tokens`` returns (LiteLLM's ``TokenCountResponse``)."""

    _order: ClassVar[tuple[str, ...]] = (
        "total_tokens",
        "request_model",
        "model_used",
        "tokenizer_type",
        "original_response",
        "error",
        "error_message",
        "status_code",
    )
    _json_is_dict = True
    _always: ClassVar[dict[str, Any]] = {
        "original_response": None,
        "error": False,
        "error_message": None,
        "status_code": None,
    }

    def __init__(
        self,
        total_tokens: int = 0,
        request_model: str = "",
        model_used: str = "",
        tokenizer_type: str = "",
        **kwargs: Any,
    ):
        d = self.__dict__
        d["total_tokens"] = total_tokens
        d["request_model"] = request_model
        d["model_used"] = model_used
        d["tokenizer_type"] = tokenizer_type
        for key, value in kwargs.items():
            if value is not None or key not in self._always:
                d[key] = value
