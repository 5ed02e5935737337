"""``stream_chunk_builder``: rebuild a full response from streamed chunks.

Chat chunks (:class:`ModelResponseStream`, or dicts of that shape) become a
:class:`ModelResponse`; text-completion chunks (``object`` starting with
``"text_completion"`` or choices carrying ``text``) become a
:class:`TextCompletionResponse`.

Per choice ``index``: content, reasoning_content and tool-call arguments are
concatenated; tool calls are merged by their ``index`` (id/name/type from the first
fragment that has them); ``finish_reason`` is the last non-null one (default
``"stop"``).  Usage comes from the last chunk carrying usage; without one it is
counted with the optional ``_count_tokens(messages, completion_text) ->
(prompt_tokens, completion_tokens)`` hook, and left unset when there is no hook.

Token counting with the hook (LiteLLM's rule): ``completion_text`` is the message
content plus the compact JSON of ``function_call`` and of each tool call; the
``reasoning_content`` of each choice is counted separately by calling the hook
with ``messages=None`` (its completion count is used) and added to the completion
tokens.  When the completion has no tool/function calls,
``completion_tokens_details`` gets ``reasoning_tokens`` and ``text_tokens``
(= completion - reasoning); that is also added to a usage chunk lacking details.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .types.utils import (
    ChatCompletionMessageToolCall,
    Choices,
    CompletionTokensDetailsWrapper,
    Function,
    FunctionCall,
    Message,
    ModelResponse,
    TextChoices,
    TextCompletionResponse,
    Usage,
)

__all__ = ["CountTokens", "stream_chunk_builder"]

CountTokens = Callable[[Any, str], "tuple[int, int]"]


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


class _ToolCallAcc:
    __slots__ = ("args", "id", "name", "type")

    def __init__(self) -> None:
        self.id: str | None = None
        self.type: str | None = None
        self.name: str | None = None
        self.args: list[str] = []


class _ChoiceAcc:
    __slots__ = (
        "annotations",
        "audio",
        "content",
        "fc_args",
        "fc_name",
        "finish_reason",
        "has_content",
        "has_fc",
        "has_reasoning",
        "images",
        "reasoning",
        "role",
        "thinking_blocks",
        "tool_calls",
        "tool_order",
    )

    def __init__(self) -> None:
        self.role: str | None = None
        self.content: list[str] = []
        self.has_content = False
        self.reasoning: list[str] = []
        self.has_reasoning = False
        self.thinking_blocks: list[dict] = []
        self.tool_calls: dict[Any, _ToolCallAcc] = {}
        self.tool_order: list[Any] = []
        self.fc_name: str | None = None
        self.fc_args: list[str] = []
        self.has_fc = False
        self.finish_reason: str | None = None
        self.annotations: list | None = None
        self.audio: dict | None = None
        self.images: list | None = None

    # -------------------------------------------------------------- accumulation
    def add_delta(self, delta: Any) -> None:
        role = _get(delta, "role")
        if role and self.role is None:
            self.role = role
        content = _get(delta, "content")
        if content is not None:
            self.has_content = True
            if isinstance(content, str):
                self.content.append(content)
            else:  # list-of-parts content (rare in deltas): keep the text parts
                for part in content:
                    text = _get(part, "text")
                    if isinstance(text, str):
                        self.content.append(text)
        reasoning = _get(delta, "reasoning_content")
        if reasoning is not None:
            self.has_reasoning = True
            self.reasoning.append(reasoning)
        blocks = _get(delta, "thinking_blocks")
        if blocks:
            self._add_thinking_blocks(blocks)
        tool_calls = _get(delta, "tool_calls")
        if tool_calls:
            for tc in tool_calls:
                self._add_tool_call(tc)
        fc = _get(delta, "function_call")
        if fc is not None:
            self.has_fc = True
            name = _get(fc, "name")
            if name and self.fc_name is None:
                self.fc_name = name
            args = _get(fc, "arguments")
            if args:
                self.fc_args.append(args)
        annotations = _get(delta, "annotations")
        if annotations:
            self.annotations = (self.annotations or []) + list(annotations)
        images = _get(delta, "images")
        if images:
            self.images = (self.images or []) + list(images)
        audio = _get(delta, "audio")
        if audio:
            self._add_audio(audio)

    def _add_thinking_blocks(self, blocks: Iterable[Any]) -> None:
        for block in blocks:
            b = block if isinstance(block, dict) else _as_dict(block)
            last = self.thinking_blocks[-1] if self.thinking_blocks else None
            if b.get("type") == "thinking" and last is not None and last.get("type") == "thinking":
                last["thinking"] = (last.get("thinking") or "") + (b.get("thinking") or "")
                if b.get("signature"):
                    last["signature"] = b["signature"]
            else:
                self.thinking_blocks.append(dict(b))

    def _add_tool_call(self, tc: Any) -> None:
        idx = _get(tc, "index")
        tc_id = _get(tc, "id")
        if idx is None:
            # No index: a new id starts a new call, otherwise continue the last one.
            if tc_id and all(acc.id != tc_id for acc in self.tool_calls.values()):
                idx = ("auto", len(self.tool_order))
            elif self.tool_order:
                idx = self.tool_order[-1]
            else:
                idx = ("auto", 0)
        acc = self.tool_calls.get(idx)
        if acc is None:
            acc = self.tool_calls[idx] = _ToolCallAcc()
            self.tool_order.append(idx)
        if tc_id and acc.id is None:
            acc.id = tc_id
        tc_type = _get(tc, "type")
        if tc_type and acc.type is None:
            acc.type = tc_type
        fn = _get(tc, "function")
        if fn is not None:
            name = _get(fn, "name")
            if name and acc.name is None:
                acc.name = name
            args = _get(fn, "arguments")
            if args:
                acc.args.append(args if isinstance(args, str) else _json(args))

    def _add_audio(self, audio: Any) -> None:
        a = audio if isinstance(audio, dict) else _as_dict(audio)
        if self.audio is None:
            self.audio = dict(a)
            return
        for key in ("data", "transcript"):
            if a.get(key):
                self.audio[key] = (self.audio.get(key) or "") + a[key]
        for key in ("id", "expires_at"):
            if a.get(key) is not None:
                self.audio[key] = a[key]

    # ------------------------------------------------------------------ results
    def text(self) -> str | None:
        return "".join(self.content) if self.has_content else None

    def reasoning_text(self) -> str | None:
        return "".join(self.reasoning) if self.has_reasoning else None

    def has_tools(self) -> bool:
        return bool(self.tool_calls) or self.has_fc

    def message(self) -> Message:
        tool_calls = None
        if self.tool_calls:
            tool_calls = [
                ChatCompletionMessageToolCall(
                    function=Function(arguments="".join(acc.args), name=acc.name),
                    id=acc.id,
                    type=acc.type or "function",
                )
                for acc in (self.tool_calls[k] for k in self.tool_order)
            ]
        function_call = (
            FunctionCall(arguments="".join(self.fc_args), name=self.fc_name)
            if self.has_fc
            else None
        )
        return Message(
            content=self.text(),
            role=self.role or "assistant",
            tool_calls=tool_calls,
            function_call=function_call,
            reasoning_content=self.reasoning_text(),
            thinking_blocks=self.thinking_blocks or None,
            annotations=self.annotations,
            audio=self.audio,
            images=self.images,
        )


def _as_dict(obj: Any) -> dict:
    if isinstance(obj, dict):
        return obj
    dump = getattr(obj, "model_dump", None)
    if dump is not None:
        return dump()
    return dict(getattr(obj, "__dict__", {}))


def _json(v: Any) -> str:
    import json

    return json.dumps(v)


def _usage_of(chunk: Any) -> Any:
    usage = _get(chunk, "usage")
    if usage is None:
        return None
    if isinstance(usage, dict):
        return Usage(**usage)
    return usage


def _copy_usage(usage: Any) -> Usage:
    if isinstance(usage, Usage):
        new = object.__new__(Usage)
        new.__dict__.update(usage.__dict__)
        return new
    dump = getattr(usage, "model_dump", None)
    return Usage(**(dump() if dump is not None else dict(usage.__dict__)))


def _response_ms(start_time: Any, end_time: Any) -> float | None:
    if start_time is None or end_time is None:
        return None
    try:
        delta = end_time - start_time
    except TypeError:
        return None
    seconds = getattr(delta, "total_seconds", None)
    return (seconds() if seconds is not None else float(delta)) * 1000.0


def _first(chunks: list[Any], key: str) -> Any:
    for c in chunks:
        v = _get(c, key)
        if v is not None:
            return v
    return None


def _hidden_params(chunks: list[Any]) -> dict | None:
    for c in chunks:
        if isinstance(c, dict):
            continue
        hp = c.__dict__.get("_hidden_params") if hasattr(c, "__dict__") else None
        if hp:
            out = dict(hp)
            out.pop("received_model_id", None)
            return out
    return None


def _is_text_completion(chunk: Any) -> bool:
    obj = _get(chunk, "object")
    if isinstance(obj, str):
        return obj.startswith("text_completion")
    choices = _get(chunk, "choices") or []
    return (
        bool(choices)
        and _get(choices[0], "delta") is None
        and isinstance(_get(choices[0], "text"), str)
    )


def _completion_output(choices: list[Choices]) -> str:
    """Text whose token count is the completion size (reasoning is counted separately):
    message content, then the compact JSON of function_call and of each tool call."""
    parts: list[str] = []
    for choice in choices:
        msg = choice.message
        if msg.content:
            parts.append(msg.content)
        if msg.function_call is not None:
            parts.append(msg.function_call.model_dump_json())
        if msg.tool_calls:
            parts.extend(tc.model_dump_json() for tc in msg.tool_calls)
    return "".join(parts)


def _reasoning_tokens(choices: list[Choices], count_tokens: CountTokens) -> int:
    total = 0
    for choice in choices:
        text = choice.message.__dict__.get("reasoning_content")
        if text:
            total += count_tokens(None, text)[1]
    return total


def _completion_details(
    completion_tokens: int, reasoning_tokens: int
) -> CompletionTokensDetailsWrapper:
    return CompletionTokensDetailsWrapper(
        accepted_prediction_tokens=None,
        audio_tokens=None,
        reasoning_tokens=reasoning_tokens,
        rejected_prediction_tokens=None,
        text_tokens=max(0, completion_tokens - reasoning_tokens),
        image_tokens=None,
        video_tokens=None,
    )


def stream_chunk_builder(
    chunks: list[Any],
    messages: list | None = None,
    start_time: Any = None,
    end_time: Any = None,
    *,
    _count_tokens: CountTokens | None = None,
) -> ModelResponse | TextCompletionResponse | None:
    """Rebuild the complete response from streamed chunks (``None`` if there are none)."""
    chunks = [c for c in chunks if c is not None]
    if not chunks:
        return None
    if _is_text_completion(chunks[0]):
        return _build_text(chunks, messages, start_time, end_time, _count_tokens)
    return _build_chat(chunks, messages, start_time, end_time, _count_tokens)


def _build_chat(
    chunks: list[Any],
    messages: Any,
    start_time: Any,
    end_time: Any,
    count_tokens: CountTokens | None,
) -> ModelResponse:
    accs: dict[int, _ChoiceAcc] = {}
    usage = None
    for chunk in chunks:
        for choice in _get(chunk, "choices") or ():
            idx = _get(choice, "index") or 0
            acc = accs.get(idx)
            if acc is None:
                acc = accs[idx] = _ChoiceAcc()
            delta = _get(choice, "delta")
            if delta is not None:
                acc.add_delta(delta)
            fr = _get(choice, "finish_reason")
            if fr is not None:
                acc.finish_reason = fr
        u = _usage_of(chunk)
        if u is not None:
            usage = u
    if not accs:
        accs[0] = _ChoiceAcc()
    ordered = [(i, accs[i]) for i in sorted(accs)]

    choices = [
        Choices(finish_reason=acc.finish_reason or "stop", index=i, message=acc.message())
        for i, acc in ordered
    ]
    only_text = not any(acc.has_tools() for _, acc in ordered)

    final_usage: Usage | None = None
    if usage is not None:
        final_usage = _copy_usage(usage)
        if final_usage.completion_tokens_details is None and only_text:
            reasoning = _reasoning_tokens(choices, count_tokens) if count_tokens is not None else 0
            final_usage.completion_tokens_details = _completion_details(
                final_usage.completion_tokens, reasoning
            )
    elif count_tokens is not None:
        reasoning = _reasoning_tokens(choices, count_tokens)
        prompt_tokens, completion_tokens = count_tokens(messages, _completion_output(choices))
        completion_tokens += reasoning
        final_usage = Usage(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
        )
        if only_text:
            final_usage.completion_tokens_details = _completion_details(
                completion_tokens, reasoning
            )

    first = chunks[0]
    response = ModelResponse(
        id=_get(first, "id"),
        created=_get(first, "created"),
        model=_get(first, "model"),
        system_fingerprint=_first(chunks, "system_fingerprint"),
        choices=choices,
        usage=final_usage,
    )
    hp = _hidden_params(chunks)
    if hp is not None:
        response._hidden_params = hp
    ms = _response_ms(start_time, end_time)
    if ms is not None:
        response._response_ms = ms
    return response


def _build_text(
    chunks: list[Any],
    messages: Any,
    start_time: Any,
    end_time: Any,
    count_tokens: CountTokens | None,
) -> TextCompletionResponse:
    texts: dict[int, list[str]] = {}
    finish: dict[int, str | None] = {}
    usage = None
    for chunk in chunks:
        for choice in _get(chunk, "choices") or ():
            idx = _get(choice, "index") or 0
            parts = texts.setdefault(idx, [])
            finish.setdefault(idx, None)
            text = _get(choice, "text")
            if text:
                parts.append(text)
            fr = _get(choice, "finish_reason")
            if fr is not None:
                finish[idx] = fr
        u = _usage_of(chunk)
        # text chunks carry a zero Usage() placeholder; only a populated one counts
        if u is not None and (
            _get(u, "total_tokens") or _get(u, "prompt_tokens") or _get(u, "completion_tokens")
        ):
            usage = u
    if not texts:
        texts[0] = []
        finish[0] = None
    order = sorted(texts)
    choices = [
        TextChoices(
            finish_reason=finish[i] or "stop", index=i, text="".join(texts[i]), logprobs=None
        )
        for i in order
    ]
    if usage is not None:
        final_usage: Usage = _copy_usage(usage)
    elif count_tokens is not None:
        prompt_tokens, completion_tokens = count_tokens(
            messages, "".join("".join(texts[i]) for i in order)
        )
        final_usage = Usage(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
        )
    else:
        final_usage = Usage()
    first = chunks[0]
    response = TextCompletionResponse(
        id=_get(first, "id"),
        created=_get(first, "created"),
        model=_get(first, "model"),
        choices=choices,
        usage=final_usage,
        system_fingerprint=_first(chunks, "system_fingerprint"),
    )
    hp = _hidden_params(chunks)
    if hp is not None:
        response._hidden_params = hp
    ms = _response_ms(start_time, end_time)
    if ms is not None:
        response._response_ms = ms
    return response
