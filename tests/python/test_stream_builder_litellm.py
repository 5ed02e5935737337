"""stream_chunk_builder against LiteLLM's recorded output, and the chunk shapes Python callers hand
over (dicts, objects, loose values) that the engine's canonical chunks do not have.

The recorded outputs come from `scripts/gen_stream_builder_fixtures.py` (LiteLLM 1.104).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import llmrelay
import pytest
from llmrelay._stream_builder import stream_chunk_builder
from llmrelay.types.utils import (
    ModelResponseStream,
    TextChoices,
    TextCompletionResponse,
    Usage,
)

FIXTURE = Path(__file__).parents[2] / "rust/llmrelay-core/tests/fixtures/assemble/litellm.json"
CASES = json.loads(FIXTURE.read_text())["cases"]

FULL_DETAILS_NONE = dict.fromkeys(
    (
        "accepted_prediction_tokens",
        "audio_tokens",
        "reasoning_tokens",
        "rejected_prediction_tokens",
        "text_tokens",
        "image_tokens",
        "video_tokens",
    )
)

# Where llmrelay's builder differs from LiteLLM's, and what it gives instead.
KNOWN_DIFFERENCES = {
    # A usage chunk's token details are kept as the chunk sent them; LiteLLM rebuilds them with
    # every field (the missing ones None).
    "text_usage_chunk_with_details": {
        "completion_tokens_details": {
            "accepted_prediction_tokens": 0,
            "audio_tokens": 0,
            "reasoning_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
        "prompt_tokens_details": {"audio_tokens": 0, "cached_tokens": 0},
    },
    # LiteLLM adds completion_tokens_details only to a plain-text stream (deltas with content
    # and role only) or one with reasoning; llmrelay to every stream without tool calls.
    "annotations_in_last_chunk": {
        "completion_tokens_details": {**FULL_DETAILS_NONE, "reasoning_tokens": 0, "text_tokens": 4},
    },
}


def objects(case: dict) -> list:
    chunks = copy.deepcopy(case["chunks"])
    if case["kind"] == "chat":
        return [ModelResponseStream._from_wire(c) for c in chunks]
    out = []
    for c in chunks:
        c["choices"] = [TextChoices(**choice) for choice in c["choices"]]
        out.append(TextCompletionResponse(**c))
    return out


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_matches_litellm(case):
    expected = copy.deepcopy(case["litellm"])
    expected["usage"].update(KNOWN_DIFFERENCES.get(case["name"], {}))
    built = llmrelay.stream_chunk_builder(objects(case), messages=case["messages"])
    assert built.model_dump() == expected
    # Wire dicts give the same response as the chunk objects.
    from_dicts = llmrelay.stream_chunk_builder(copy.deepcopy(case["chunks"]), case["messages"])
    assert from_dicts.model_dump() == expected


def chat(delta: dict | None = None, finish_reason=None, index=0, **extra) -> dict:
    choices = (
        [] if delta is None else [{"index": index, "delta": delta, "finish_reason": finish_reason}]
    )
    return {
        "id": "chatcmpl-y",
        "object": "chat.completion.chunk",
        "created": 9,
        "model": "gpt-4o",
        "choices": choices,
        **extra,
    }


def test_loose_dict_chunks():
    chunks = [
        # list-of-parts content keeps its text; null scalars count as absent
        chat(
            {
                "role": "assistant",
                "content": [{"type": "text", "text": "A"}, {"type": "image_url"}],
            },
            usage=None,
            system_fingerprint=None,
        ),
        # tool-call fragments without index: a new id starts a call, others continue the last
        chat({"tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": {"x": "é"}}}]}),
        chat({"tool_calls": [{"index": None, "function": {"arguments": "!"}}]}),
        chat({"tool_calls": [{"id": "c2", "function": {"name": "g", "arguments": ""}}]}),
        {"choices": [{"index": None, "delta": None, "finish_reason": "tool_calls"}], "model": None},
    ]
    built = stream_chunk_builder(chunks)
    message = built.choices[0].message
    assert message.content == "A"
    assert [(tc.id, tc.function.name, tc.function.arguments) for tc in message.tool_calls] == [
        ("c1", "f", '{"x": "\\u00e9"}!'),  # non-string arguments: json.dumps, as LiteLLM does
        ("c2", "g", ""),
    ]
    assert built.choices[0].finish_reason == "tool_calls"


def test_missing_header_fields_and_names_stay_none():
    chunks = [
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]},
                }
            ]
        },
    ]
    built = stream_chunk_builder(chunks)
    assert built.model is None
    assert (
        isinstance(built.created, int) and built.created > 1_700_000_000
    )  # now, as ModelResponse()
    assert built.id.startswith("chatcmpl-")
    call = built.choices[0].message.tool_calls[0]
    assert call.function.name is None
    assert len(call.id) == 36  # a generated id, as ChatCompletionMessageToolCall() gives


def test_usage_chunk_keeps_every_field():
    usage = Usage(
        prompt_tokens=10,
        completion_tokens=2,
        total_tokens=12,
        prompt_tokens_details={"cached_tokens": 4, "web_search_requests": 2, "video_tokens": 1},
        completion_tokens_details={"reasoning_tokens": 1, "image_tokens": 3},
        cache_read_input_tokens=4,
        cost=0.25,
    )
    chunks = [
        ModelResponseStream(**chat({"role": "assistant", "content": "Hi"}, "stop")),
        ModelResponseStream(**chat(None), usage=usage),
    ]
    built = llmrelay.stream_chunk_builder(chunks, messages=[{"role": "user", "content": "x"}])
    assert built.usage.model_dump() == usage.model_dump()
    assert built.usage is not usage


def test_engine_counting_uses_the_first_chunk_model_for_dicts_too():
    # gpt-4o counts with o200k_base, gpt-4 with cl100k_base: the two differ on this text
    text = "Думаю о погоде в Париже"
    for model in ("gpt-4o", "gpt-4"):
        chunks = [dict(chat({"role": "assistant", "content": text}, "stop"), model=model)]
        built = llmrelay.stream_chunk_builder(chunks)
        assert built.usage.completion_tokens == llmrelay.token_counter(model=model, text=text)


def test_uncountable_messages_count_zero_prompt_tokens():
    built = llmrelay.stream_chunk_builder([chat({"content": "Hi"}, "stop")], messages=[object()])
    assert built.usage.prompt_tokens == 0
    assert built.usage.completion_tokens == 1


def test_hook_errors_propagate():
    def hook(messages, text):
        raise RuntimeError("counter broke")

    with pytest.raises(RuntimeError, match="counter broke"):
        stream_chunk_builder([chat({"content": "Hi"})], _count_tokens=hook)


def test_invalid_chunk_names_the_field():
    with pytest.raises(llmrelay.BadRequestError, match=r"chunk 1 .*choices\[0\]\.delta\.content"):
        stream_chunk_builder([chat({"content": "a"}), chat({"content": 5})])
    with pytest.raises(TypeError, match="cannot read a set"):
        stream_chunk_builder([{"choices": {1, 2}}])


def test_text_completion_dicts_and_usage():
    chunks = [
        {
            "id": "cmpl-2",
            "object": "text_completion",
            "created": 3,
            "model": "gpt-3.5-turbo-instruct",
            "choices": [{"index": 0, "text": t, "finish_reason": None}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        }
        for t in ("a", None, "b")
    ]
    chunks.append(
        {
            "choices": [],
            "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7, "cost": 0.1},
        }
    )
    built = stream_chunk_builder(chunks)
    assert isinstance(built, TextCompletionResponse)
    assert built.choices[0].text == "ab" and built.choices[0].finish_reason == "stop"
    assert built.usage.model_dump() == {
        "completion_tokens": 2,
        "prompt_tokens": 5,
        "total_tokens": 7,
        "completion_tokens_details": None,
        "prompt_tokens_details": None,
        "cost": 0.1,
    }
    assert built.system_fingerprint is None
