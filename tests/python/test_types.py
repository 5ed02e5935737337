"""Response types: dump shapes against LiteLLM-observed output, mapping access, wire decoding."""

from __future__ import annotations

import copy
import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _litellm_observed import LITELLM_OBSERVED
from llmrelay.types import utils as U
from llmrelay.types.utils import (
    ChatCompletionDeltaToolCall,
    ChatCompletionMessageToolCall,
    Choices,
    CompletionTokensDetailsWrapper,
    Delta,
    Embedding,
    EmbeddingResponse,
    Function,
    FunctionCall,
    Message,
    ModelResponse,
    ModelResponseStream,
    PromptTokensDetailsWrapper,
    StreamingChoices,
    TextChoices,
    TextCompletionResponse,
    Usage,
)

# repr/JSON key order differs from LiteLLM only in where PromptTokensDetailsWrapper puts
# cache_write_tokens when it is added after construction (dict contents are identical).
_KEY_ORDER_ONLY = {
    (
        "Usage(prompt_tokens=10, completion_tokens=5, total_tokens=15, cache_read_input_tokens=0, "
        "cache_creation_input_tokens=0)"
    ),
    (
        "Usage(prompt_tokens=1, completion_tokens=2, total_tokens=3, reasoning_tokens=7, "
        "cache_read_input_tokens=5, cache_creation_input_tokens=3)"
    ),
}

_NS = {name: getattr(U, name) for name in U.__all__ if not name.startswith("Standard")}


@pytest.mark.parametrize(
    ("expr", "dump", "full", "to_dict", "rep"), LITELLM_OBSERVED, ids=lambda v: str(v)[:60]
)
def test_matches_litellm_observed(expr, dump, full, to_dict, rep):
    obj = eval(expr, dict(_NS))  # expressions come from the generated test table
    assert obj.model_dump() == dump
    assert obj.model_dump(exclude_unset=False) == full
    assert obj.to_dict() == to_dict
    if expr not in _KEY_ORDER_ONLY:
        assert repr(obj) == rep
        # key order too (pydantic field order, extras last)
        assert list(obj.model_dump()) == list(dump)
        assert json.dumps(obj.model_dump(exclude_unset=False)) == json.dumps(full)


# --------------------------------------------------------------------------- defaults


def test_bare_model_response_has_default_choice():
    r = ModelResponse()
    assert r.id.startswith("chatcmpl-") and len(r.id) == len("chatcmpl-") + 36
    assert abs(r.created - time.time()) < 5
    assert r.object == "chat.completion"
    assert len(r.choices) == 1
    c = r.choices[0]
    assert isinstance(c, Choices) and c.finish_reason == "stop" and c.index == 0
    assert isinstance(c.message, Message)
    assert c.message.content is None and c.message.role == "assistant"
    assert r._hidden_params == {}
    assert r._response_ms is None
    assert r._response_headers is None
    assert "usage" not in r and not hasattr(r, "usage")


def test_hidden_params_are_per_object_and_never_dumped():
    a, b = ModelResponse(id="a", created=1), ModelResponse(id="b", created=1)
    a._hidden_params["response_cost"] = 0.5
    assert b._hidden_params == {}
    a._response_ms = 12.5
    a._response_headers = {"x-request-id": "r"}
    for dumped in (
        a.model_dump(),
        a.model_dump(exclude_unset=False),
        a.to_dict(),
        json.loads(a.to_json()),
    ):
        assert not any(k.startswith("_") for k in dumped)
    assert "_hidden_params" not in a
    r = ModelResponse(hidden_params={"x": 1}, response_ms=3.0, _response_headers={"h": "v"})
    assert (
        r._hidden_params == {"x": 1} and r._response_ms == 3.0 and r._response_headers == {"h": "v"}
    )


def test_nested_dicts_become_classes():
    r = ModelResponse(
        choices=[
            {
                "message": {
                    "content": None,
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "a",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{}"},
                        }
                    ],
                },
                "finish_reason": "stop",
                "index": 0,
            }
        ],
        usage={"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
    )
    tc = r.choices[0].message.tool_calls[0]
    assert isinstance(tc, ChatCompletionMessageToolCall) and isinstance(tc.function, Function)
    assert tc.function.name == "f"
    assert isinstance(r.usage, Usage)
    # the constructor keeps finish_reason as given (only the wire path rewrites it)
    assert r.choices[0].finish_reason == "stop"
    m = Message(content="x", function_call={"name": "f", "arguments": "{}"})
    assert isinstance(m.function_call, FunctionCall)
    s = ModelResponseStream(
        choices=[{"delta": {"content": "x"}, "index": 0, "finish_reason": None}]
    )
    assert isinstance(s.choices[0], StreamingChoices) and isinstance(s.choices[0].delta, Delta)
    t = TextCompletionResponse(choices=[{"text": "hi", "index": 0, "finish_reason": "stop"}])
    assert isinstance(t.choices[0], TextChoices)


def test_usage_token_details_behaviour():
    u = Usage(
        prompt_tokens=10,
        completion_tokens=20,
        total_tokens=30,
        cache_read_input_tokens=5,
        cache_creation_input_tokens=3,
        reasoning_tokens=7,
    )
    assert isinstance(u.prompt_tokens_details, PromptTokensDetailsWrapper)
    assert u.prompt_tokens_details.cached_tokens == 5
    assert u.prompt_tokens_details.cache_write_tokens == 3
    assert u.prompt_tokens_details.cache_creation_tokens == 3
    assert isinstance(u.completion_tokens_details, CompletionTokensDetailsWrapper)
    assert u.completion_tokens_details.reasoning_tokens == 7
    assert u.completion_tokens_details.text_tokens == 13
    assert u.cache_read_input_tokens == 5 and u["cache_creation_input_tokens"] == 3
    assert not hasattr(u, "reasoning_tokens")  # consumed, not stored
    assert Usage(prompt_tokens=None).prompt_tokens == 0
    with pytest.raises(AttributeError):
        Usage().cost  # noqa: B018 - optional field absent until set


# --------------------------------------------------------------------------- mapping access


def test_mapping_style_access():
    r = ModelResponse(id="x", created=1, model="m")
    assert r["id"] == "x" and r.get("model") == "m"
    assert r.get("nope", 7) == 7 and r.get("usage") is None
    assert "id" in r and "usage" not in r and "_hidden_params" not in r and 3 not in r
    with pytest.raises(KeyError):
        r["nope"]
    with pytest.raises(AttributeError):  # LiteLLM raises AttributeError here; both work
        r["nope"]
    r["foo"] = 1
    assert r.foo == 1 and r.model_dump()["foo"] == 1
    m = Message(content="x")
    assert m.get("reasoning_content", "dflt") == "dflt" and "reasoning_content" not in m
    assert "provider_specific_fields" in m and m["provider_specific_fields"] is None
    with pytest.raises(AttributeError):
        m.reasoning_content  # noqa: B018 - unset optional fields do not exist, as in LiteLLM
    assert list(m) == [
        ("content", "x"),
        ("role", "assistant"),
        ("tool_calls", None),
        ("function_call", None),
        ("provider_specific_fields", None),
    ]
    assert dict(ModelResponse(id="x", created=1))["choices"][0].finish_reason == "stop"


def test_equality_and_hash():
    assert ModelResponse(id="a", created=1) == ModelResponse(id="a", created=1)
    assert ModelResponse(id="a", created=1) != ModelResponse(id="b", created=1)
    assert Message(content="x") == Message(content="x")
    assert Message(content="x") == {
        "content": "x",
        "role": "assistant",
        "tool_calls": None,
        "function_call": None,
    }
    assert Message(content="x") != Delta(content="x")
    with pytest.raises(TypeError):
        hash(Message())


def test_json_flavours():
    r = ModelResponse(
        id="x",
        created=1,
        model="m",
        usage=Usage(prompt_tokens=1, completion_tokens=2, total_tokens=3),
    )
    # LiteLLM: json() returns a dict for ModelResponse/ModelResponseStream/Message/EmbeddingResponse
    assert r.json() == r.model_dump()
    assert isinstance(Message(content="x").json(), dict)
    assert isinstance(Usage().json(), str) and json.loads(Usage().json())["total_tokens"] == 0
    assert isinstance(Choices().json(), str)
    compact = r.model_dump_json()
    assert compact.startswith('{"id":"x","created":1,"model":"m"')
    # model_dump_json is a full dump (message.provider_specific_fields included)
    assert json.loads(compact)["choices"][0]["message"]["provider_specific_fields"] is None
    pretty = r.to_json()
    assert pretty.startswith('{\n  "id": "x",\n  "created": 1,')
    assert "provider_specific_fields" not in json.loads(pretty)["choices"][0]["message"]
    assert r.model_dump(exclude_none=True) == {
        "id": "x",
        "created": 1,
        "model": "m",
        "object": "chat.completion",
        "choices": [{"finish_reason": "stop", "index": 0, "message": {"role": "assistant"}}],
        "usage": {"completion_tokens": 2, "prompt_tokens": 1, "total_tokens": 3},
    }
    assert r.model_dump(include={"id", "model"}) == {"id": "x", "model": "m"}
    assert "choices" not in r.model_dump(exclude={"choices"})


def test_pickle_and_deepcopy():
    r = ModelResponse._from_wire(_openai_wire())
    r._hidden_params["response_cost"] = 1.5
    r._response_ms = 4.0
    for clone in (
        pickle.loads(pickle.dumps(r)),
        copy.deepcopy(r),
        copy.copy(r),
        r.model_copy(deep=True),
    ):
        assert clone.model_dump() == r.model_dump()
        assert clone._hidden_params == {"response_cost": 1.5}
        assert clone._response_ms == 4.0
        assert type(clone.choices[0].message) is Message
    deep = copy.deepcopy(r)
    deep.choices[0].message.content = "changed"
    assert r.choices[0].message.content == "Hello there"


# --------------------------------------------------------------------------- wire decoding


def _openai_wire() -> dict:
    return {
        "id": "chatcmpl-abc123",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-4o-2024-08-06",
        "system_fingerprint": "fp_123",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Hello there",
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 9,
            "completion_tokens": 3,
            "total_tokens": 12,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
    }


def test_from_wire_matches_litellm_openai_path():
    # Expected values: LiteLLM 1.104 convert_to_model_response_object() on the same dict.
    r = ModelResponse._from_wire(_openai_wire())
    assert r.model_dump() == {
        "id": "chatcmpl-abc123",
        "created": 1700000000,
        "model": "gpt-4o-2024-08-06",
        "object": "chat.completion",
        "system_fingerprint": "fp_123",
        "choices": [
            {
                "finish_reason": "stop",
                "index": 0,
                "message": {
                    "content": "Hello there",
                    "role": "assistant",
                    "tool_calls": None,
                    "function_call": None,
                    "provider_specific_fields": {"refusal": None},
                    "annotations": [],
                },
                "provider_specific_fields": {},
            }
        ],
        "usage": {
            "completion_tokens": 3,
            "prompt_tokens": 9,
            "total_tokens": 12,
            "completion_tokens_details": {
                "accepted_prediction_tokens": 0,
                "audio_tokens": 0,
                "reasoning_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
            "prompt_tokens_details": {"audio_tokens": 0, "cached_tokens": 0},
        },
        "service_tier": "default",
    }
    full = r.model_dump(exclude_unset=False)
    assert full["usage"]["completion_tokens_details"]["text_tokens"] is None
    assert full["usage"]["prompt_tokens_details"] == {
        "audio_tokens": 0,
        "cached_tokens": 0,
        "text_tokens": None,
        "image_tokens": None,
        "video_tokens": None,
    }
    assert type(r.choices[0]) is Choices and type(r.usage) is Usage
    assert type(r.usage.prompt_tokens_details) is PromptTokensDetailsWrapper
    assert r._hidden_params == {} and r._response_ms is None


def test_from_wire_tool_calls_reasoning_and_finish_reasons():
    r = ModelResponse._from_wire(
        {
            "id": "c4",
            "object": "chat.completion",
            "created": 1,
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "reasoning_content": "thinking...",
                        "audio": None,
                        "thinking_blocks": [
                            {"type": "thinking", "thinking": "hm", "signature": "s"}
                        ],
                        "tool_calls": [
                            {
                                "id": "t",
                                "type": "function",
                                "function": {"name": "f", "arguments": "{}"},
                            }
                        ],
                    },
                    "finish_reason": "stop",
                    "stop_reason": 42,
                }
            ],
        }
    )
    c = r.choices[0]
    assert c.finish_reason == "tool_calls"  # "stop" + tool calls
    assert c.provider_specific_fields == {"stop_reason": 42}
    assert not hasattr(c, "stop_reason")
    m = c.message
    assert m.reasoning_content == "thinking..."
    assert "audio" not in m
    assert m.provider_specific_fields == {
        "thinking_blocks": [{"type": "thinking", "thinking": "hm", "signature": "s"}]
    }
    assert isinstance(m.tool_calls[0], ChatCompletionMessageToolCall)
    assert m.tool_calls[0].function.arguments == "{}"
    assert "usage" not in r

    r = ModelResponse._from_wire(
        {
            "id": "c5",
            "object": "chat.completion",
            "created": 1,
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "x"},
                    "finish_reason": "end_turn",
                },
                {
                    "index": 1,
                    "message": {"role": "assistant", "content": "y", "tool_calls": []},
                    "finish_reason": None,
                },
            ],
            "usage": {
                "prompt_tokens": 5,
                "completion_tokens": 7,
                "total_tokens": 12,
                "cache_read_input_tokens": 2,
            },
        }
    )
    assert r.choices[0].finish_reason == "stop"
    assert r.choices[0].provider_specific_fields == {"native_finish_reason": "end_turn"}
    assert r.choices[1].finish_reason == "stop" and r.choices[1].message.tool_calls is None
    assert r.usage.prompt_tokens_details.cached_tokens == 2 and r.usage.cache_read_input_tokens == 2


def test_chunk_from_wire():
    s = ModelResponseStream._from_wire(
        {
            "id": "chatcmpl-s1",
            "object": "chat.completion.chunk",
            "created": 1700000002,
            "model": "gpt-4o",
            "system_fingerprint": "fp_9",
            "usage": None,
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "role": "assistant",
                        "content": None,
                        "reasoning_content": None,
                        "tool_calls": [{"index": 0, "function": {"arguments": '{"x":'}}],
                    },
                    "logprobs": None,
                    "finish_reason": None,
                }
            ],
        }
    )
    assert not hasattr(s, "usage")
    d = s.choices[0].delta
    assert type(d) is Delta and "reasoning_content" not in d
    tc = d.tool_calls[0]
    assert type(tc) is ChatCompletionDeltaToolCall and type(tc.function) is Function
    assert s.model_dump() == {
        "id": "chatcmpl-s1",
        "created": 1700000002,
        "model": "gpt-4o",
        "object": "chat.completion.chunk",
        "system_fingerprint": "fp_9",
        "choices": [
            {
                "finish_reason": None,
                "index": 0,
                "delta": {
                    "content": None,
                    "role": "assistant",
                    "function_call": None,
                    "tool_calls": [
                        {
                            "id": None,
                            "function": {"arguments": '{"x":', "name": None},
                            "type": "function",
                            "index": 0,
                        }
                    ],
                    "audio": None,
                },
                "logprobs": None,
            }
        ],
        "provider_specific_fields": None,
    }
    u = ModelResponseStream._from_wire(
        {
            "id": "chatcmpl-s1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "gpt-4o",
            "choices": [],
            "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
        }
    )
    assert u.choices == [] and type(u.usage) is Usage and u.usage.total_tokens == 7
    assert u.model_dump()["usage"] == {
        "completion_tokens": 2,
        "prompt_tokens": 5,
        "total_tokens": 7,
        "completion_tokens_details": None,
        "prompt_tokens_details": None,
    }


def test_embedding_and_text_from_wire():
    e = EmbeddingResponse._from_wire(
        {
            "object": "list",
            "model": "text-embedding-3-small",
            "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
            "usage": {"prompt_tokens": 2, "total_tokens": 2},
        }
    )
    assert e.model_dump() == {
        "model": "text-embedding-3-small",
        "data": [{"embedding": [0.1, 0.2], "index": 0, "object": "embedding"}],
        "object": "list",
        "usage": {
            "completion_tokens": 0,
            "prompt_tokens": 2,
            "total_tokens": 2,
            "completion_tokens_details": None,
            "prompt_tokens_details": None,
        },
    }
    assert isinstance(EmbeddingResponse(data=[Embedding(embedding=[1.0])]).data[0], Embedding)
    t = TextCompletionResponse._from_wire(
        {
            "id": "cmpl-1",
            "object": "text_completion",
            "created": 1700000003,
            "model": "gpt-3.5-turbo-instruct",
            "choices": [
                {"text": "hi there", "index": 0, "logprobs": None, "finish_reason": "length"}
            ],
            "usage": {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5},
        }
    )
    assert t.model_dump() == {
        "id": "cmpl-1",
        "object": "text_completion",
        "created": 1700000003,
        "model": "gpt-3.5-turbo-instruct",
        "choices": [{"finish_reason": "length", "index": 0, "text": "hi there", "logprobs": None}],
        "usage": {
            "completion_tokens": 3,
            "prompt_tokens": 2,
            "total_tokens": 5,
            "completion_tokens_details": None,
            "prompt_tokens_details": None,
        },
    }


def test_from_wire_is_fast():
    raw = json.dumps(_openai_wire())
    n = 2000
    t0 = time.perf_counter()
    for _ in range(n):
        json.loads(raw)
    parse = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(n):
        ModelResponse._from_wire(json.loads(raw))
    build = (time.perf_counter() - t0 - parse) / n
    # a few microseconds normally; generous bound for loaded CI machines
    assert build < 100e-6


# --------------------------------------------------------------------------- enums / lists


def test_enums_and_param_list():
    assert (
        U.LlmProviders.OPENAI == "openai"
        and U.LlmProviders("text-completion-openai").name == "TEXT_COMPLETION_OPENAI"
    )
    for p in [
        "openai",
        "text-completion-openai",
        "azure",
        "anthropic",
        "bedrock",
        "vertex_ai",
        "gemini",
        "cohere",
        "cohere_chat",
        "huggingface",
        "ollama",
        "ollama_chat",
        "hosted_vllm",
        "nvidia_nim",
        "groq",
        "mistral",
        "deepseek",
        "together_ai",
        "fireworks_ai",
        "openrouter",
        "xai",
        "perplexity",
        "deepinfra",
        "cerebras",
        "lm_studio",
        "sambanova",
        "litellm_proxy",
        "custom_openai",
    ]:
        assert p in U.provider_list
    assert issubclass(U.LlmProviders, str)
    for ct in [
        "completion",
        "acompletion",
        "embedding",
        "aembedding",
        "text_completion",
        "atext_completion",
    ]:
        assert U.CallTypes(ct).value == ct
    assert U.CallTypes.pass_through.value == "pass_through_endpoint"
    for p in [
        "api_key",
        "api_base",
        "metadata",
        "mock_response",
        "num_retries",
        "fallbacks",
        "caching",
        "input_cost_per_token",
        "drop_params",
        "custom_llm_provider",
    ]:
        assert p in U.all_litellm_params
    assert U.StandardLoggingPayload.__annotations__["response_cost"] is not None
    assert (
        U.map_finish_reason("end_turn") == "stop" and U.map_finish_reason("max_tokens") == "length"
    )
    assert (
        U.map_finish_reason("tool_use") == "tool_calls"
        and U.map_finish_reason("SAFETY") == "content_filter"
    )
    assert U.map_finish_reason("weird") == "stop"


def test_import_does_not_pull_heavy_modules():
    code = (
        "import sys, time; t = time.perf_counter(); "
        "import llmrelay.types.utils, llmrelay._stream_builder, llmrelay.integrations.custom_logger, "
        "llmrelay.integrations.custom_guardrail; "
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('openai', 'pydantic', 'httpx', 'httpx2')); "
        "print(heavy)"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in [str(Path(U.__file__).parents[2]), env.get("PYTHONPATH")] if p
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "[]"
