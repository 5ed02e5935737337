"""stream_chunk_builder: rebuilding responses from chunks (shapes observed with LiteLLM 1.104)."""

from __future__ import annotations

from datetime import datetime, timedelta

from llmrelay._stream_builder import stream_chunk_builder
from llmrelay.types.utils import (
    Delta,
    ModelResponse,
    ModelResponseStream,
    StreamingChoices,
    TextChoices,
    TextCompletionResponse,
    Usage,
)

USER = [{"role": "user", "content": "Hello world"}]


def mk(delta: dict, finish_reason: str | None = None, index: int = 0, **kw) -> ModelResponseStream:
    return ModelResponseStream(
        id="chatcmpl-x",
        created=1700000000,
        model="gpt-4o",
        choices=[StreamingChoices(index=index, delta=Delta(**delta), finish_reason=finish_reason)],
        **kw,
    )


class Counter:
    """Token-count hook: 9 prompt tokens when messages are given, one token per word."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, str]] = []

    def __call__(self, messages, text):
        self.calls.append((messages, text))
        return (9 if messages else 0), len(text.split())


def test_interleaved_parallel_tool_calls():
    chunks = [
        mk(
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_a",
                        "type": "function",
                        "function": {"name": "f1", "arguments": ""},
                    }
                ],
            }
        ),
        mk(
            {
                "tool_calls": [
                    {
                        "index": 1,
                        "id": "call_b",
                        "type": "function",
                        "function": {"name": "f2", "arguments": '{"y"'},
                    }
                ]
            }
        ),
        mk({"tool_calls": [{"index": 0, "function": {"arguments": '{"x":1}'}}]}),
        mk({"tool_calls": [{"index": 1, "function": {"arguments": ":2}"}}]}),
        mk({}, "tool_calls"),
    ]
    counter = Counter()
    built = stream_chunk_builder(chunks, messages=USER, _count_tokens=counter)
    assert isinstance(built, ModelResponse)
    dump = built.model_dump()
    usage = dump.pop("usage")
    # LiteLLM 1.104 output for the same chunks (usage aside)
    assert dump == {
        "id": "chatcmpl-x",
        "created": 1700000000,
        "model": "gpt-4o",
        "object": "chat.completion",
        "system_fingerprint": None,
        "choices": [
            {
                "finish_reason": "tool_calls",
                "index": 0,
                "message": {
                    "content": None,
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "function": {"arguments": '{"x":1}', "name": "f1"},
                            "id": "call_a",
                            "type": "function",
                        },
                        {
                            "function": {"arguments": '{"y":2}', "name": "f2"},
                            "id": "call_b",
                            "type": "function",
                        },
                    ],
                    "function_call": None,
                },
            }
        ],
    }
    # LiteLLM counts the compact JSON of each tool call (52 tokens with gpt-4o's tokenizer)
    assert counter.calls == [
        (
            USER,
            (
                '{"function":{"arguments":"{\\"x\\":1}","name":"f1"},"id":"call_a","type":"function"}'
                '{"function":{"arguments":"{\\"y\\":2}","name":"f2"},"id":"call_b","type":"function"}'
            ),
        )
    ]
    assert usage == {
        "completion_tokens": 1,
        "prompt_tokens": 9,
        "total_tokens": 10,
        "completion_tokens_details": None,
        "prompt_tokens_details": None,
    }


def test_text_content_and_usage_details():
    chunks = [
        mk({"role": "assistant", "content": "Hel"}),
        mk({"content": "lo world"}),
        mk({}, "stop"),
    ]
    built = stream_chunk_builder(chunks, messages=USER, _count_tokens=Counter())
    assert built.model_dump() == {
        "id": "chatcmpl-x",
        "created": 1700000000,
        "model": "gpt-4o",
        "object": "chat.completion",
        "system_fingerprint": None,
        "choices": [
            {
                "finish_reason": "stop",
                "index": 0,
                "message": {
                    "content": "Hello world",
                    "role": "assistant",
                    "tool_calls": None,
                    "function_call": None,
                },
            }
        ],
        "usage": {
            "completion_tokens": 2,
            "prompt_tokens": 9,
            "total_tokens": 11,
            "completion_tokens_details": {
                "accepted_prediction_tokens": None,
                "audio_tokens": None,
                "reasoning_tokens": 0,
                "rejected_prediction_tokens": None,
                "text_tokens": 2,
                "image_tokens": None,
                "video_tokens": None,
            },
            "prompt_tokens_details": None,
        },
    }
    # no messages -> prompt tokens 0
    assert stream_chunk_builder(chunks, _count_tokens=Counter()).usage.prompt_tokens == 0


def test_usage_chunk_wins_and_gets_details():
    chunks = [
        mk({"role": "assistant", "content": "Hi"}),
        mk({}, "stop"),
        ModelResponseStream(
            id="chatcmpl-x",
            created=1700000000,
            model="gpt-4o",
            choices=[],
            usage=Usage(prompt_tokens=3, completion_tokens=1, total_tokens=4),
        ),
    ]
    counter = Counter()
    built = stream_chunk_builder(chunks, messages=USER, _count_tokens=counter)
    assert counter.calls == []
    assert built.usage.model_dump() == {
        "completion_tokens": 1,
        "prompt_tokens": 3,
        "total_tokens": 4,
        "completion_tokens_details": {
            "accepted_prediction_tokens": None,
            "audio_tokens": None,
            "reasoning_tokens": 0,
            "rejected_prediction_tokens": None,
            "text_tokens": 1,
            "image_tokens": None,
            "video_tokens": None,
        },
        "prompt_tokens_details": None,
    }
    assert chunks[2].usage.completion_tokens_details is None  # the chunk itself is untouched


def test_no_usage_and_no_hook_leaves_usage_unset():
    built = stream_chunk_builder([mk({"role": "assistant", "content": "Hi"})])
    assert "usage" not in built
    assert built.choices[0].finish_reason == "stop"  # default when no chunk had one


def test_function_call_and_reasoning():
    chunks = [
        mk({"role": "assistant", "function_call": {"name": "fn", "arguments": ""}}),
        mk({"function_call": {"arguments": '{"a":'}}),
        mk({"function_call": {"arguments": "1}"}}),
        mk({}, "function_call"),
    ]
    counter = Counter()
    built = stream_chunk_builder(chunks, _count_tokens=counter)
    msg = built.choices[0].message
    assert built.choices[0].finish_reason == "function_call"
    assert msg.function_call.model_dump() == {"arguments": '{"a":1}', "name": "fn"}
    assert msg.tool_calls is None and msg.content is None
    assert counter.calls == [(None, '{"arguments":"{\\"a\\":1}","name":"fn"}')]
    assert built.usage.completion_tokens_details is None

    chunks = [
        mk(
            {
                "role": "assistant",
                "reasoning_content": "I ",
                "thinking_blocks": [{"type": "thinking", "thinking": "I ", "signature": ""}],
            }
        ),
        mk(
            {
                "reasoning_content": "think",
                "thinking_blocks": [{"type": "thinking", "thinking": "think", "signature": "sig"}],
            }
        ),
        mk({"content": "ok"}),
        mk({}, "stop"),
    ]
    counter = Counter()
    built = stream_chunk_builder(chunks, messages=USER, _count_tokens=counter)
    assert built.choices[0].message.model_dump() == {
        "content": "ok",
        "role": "assistant",
        "tool_calls": None,
        "function_call": None,
        "reasoning_content": "I think",
        "thinking_blocks": [{"type": "thinking", "thinking": "I think", "signature": "sig"}],
        "provider_specific_fields": None,
    }
    # reasoning is counted on its own (messages=None) and added to the completion tokens
    assert counter.calls == [(None, "I think"), (USER, "ok")]
    assert built.usage.completion_tokens == 3
    assert built.usage.completion_tokens_details.reasoning_tokens == 2
    assert built.usage.completion_tokens_details.text_tokens == 1


def test_multiple_choices_kept_apart_by_index():
    chunks = [
        mk({"role": "assistant", "content": "A"}, index=0),
        mk({"role": "assistant", "content": "B"}, index=1),
        mk({"content": "a"}, index=0),
        mk({"content": "b"}, index=1),
        mk({}, "stop", index=0),
        mk({}, "length", index=1),
    ]
    built = stream_chunk_builder(chunks)
    assert [(c.index, c.message.content, c.finish_reason) for c in built.choices] == [
        (0, "Aa", "stop"),
        (1, "Bb", "length"),
    ]


def test_content_with_tool_calls_and_misc_fields():
    chunks = [
        mk({"role": "assistant", "content": "Let me check"}, system_fingerprint="fp_1"),
        mk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "f", "arguments": "{}"},
                    }
                ]
            }
        ),
        mk({}, "tool_calls"),
    ]
    counter = Counter()
    built = stream_chunk_builder(chunks, _count_tokens=counter)
    assert built.system_fingerprint == "fp_1"
    assert built.choices[0].message.content == "Let me check"
    assert counter.calls == [
        (None, 'Let me check{"function":{"arguments":"{}","name":"f"},"id":"c1","type":"function"}')
    ]
    # empty-string content is kept as "" (not None)
    built = stream_chunk_builder([mk({"role": "assistant", "content": ""}), mk({}, "stop")])
    assert built.choices[0].message.content == ""


def test_dict_chunks_wire_chunks_and_timing():
    raw = [
        {
            "id": "chatcmpl-s1",
            "object": "chat.completion.chunk",
            "created": 5,
            "model": "gpt-4o",
            "choices": [
                {"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": None}
            ],
        },
        {
            "id": "chatcmpl-s1",
            "object": "chat.completion.chunk",
            "created": 5,
            "model": "gpt-4o",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        },
        {
            "id": "chatcmpl-s1",
            "object": "chat.completion.chunk",
            "created": 5,
            "model": "gpt-4o",
            "choices": [],
            "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
        },
    ]
    from_dicts = stream_chunk_builder([dict(c) for c in raw])
    wire = [ModelResponseStream._from_wire(__import__("copy").deepcopy(c)) for c in raw]
    wire[0]._hidden_params.update(
        {"custom_llm_provider": "openai", "received_model_id": "chatcmpl-s1"}
    )
    start = datetime(2024, 1, 1)
    from_wire = stream_chunk_builder(
        wire, start_time=start, end_time=start + timedelta(milliseconds=250)
    )
    for built in (from_dicts, from_wire):
        assert built.id == "chatcmpl-s1" and built.created == 5 and built.model == "gpt-4o"
        assert built.choices[0].message.content == "Hi"
        assert built.usage.total_tokens == 6
    assert from_wire._hidden_params == {"custom_llm_provider": "openai"}
    assert from_wire._response_ms == 250.0
    assert stream_chunk_builder([]) is None


def test_text_completion_chunks():
    chunks = [
        TextCompletionResponse(
            id="cmpl-1",
            created=7,
            model="gpt-3.5-turbo-instruct",
            choices=[TextChoices(text=t, index=0, finish_reason=fr)],
        )
        for t, fr in [("hel", None), ("lo ", None), ("world", None), (None, "stop")]
    ]
    counter = Counter()
    built = stream_chunk_builder(
        chunks, messages=[{"role": "user", "content": "hi"}], _count_tokens=counter
    )
    assert isinstance(built, TextCompletionResponse)
    assert built.model_dump() == {
        "id": "cmpl-1",
        "object": "text_completion",
        "created": 7,
        "model": "gpt-3.5-turbo-instruct",
        "choices": [{"finish_reason": "stop", "index": 0, "text": "hello world", "logprobs": None}],
        "usage": {
            "completion_tokens": 2,
            "prompt_tokens": 9,
            "total_tokens": 11,
            "completion_tokens_details": None,
            "prompt_tokens_details": None,
        },
        "system_fingerprint": None,
    }
    assert counter.calls == [([{"role": "user", "content": "hi"}], "hello world")]
