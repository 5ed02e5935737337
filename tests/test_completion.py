"""completion / acompletion through real HTTP to the mock upstream: shapes, parameters, streams."""

from __future__ import annotations

import json

import pytest
from conftest import USER

import llmrelay as litellm

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather of a city",
            "parameters": {
                "type": "object",
                "properties": {"location": {"type": "string"}},
                "required": ["location"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_time",
            "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}},
        },
    },
]


def test_whole_response_shape_and_access(mock):
    r = litellm.completion(model="openai/gpt-4o-mini", messages=USER, **mock.params())
    assert isinstance(r, litellm.ModelResponse)
    assert r.object == "chat.completion"
    assert r.id.startswith("chatcmpl-")
    assert r.choices[0].message.content == r["choices"][0]["message"]["content"]
    assert r.choices[0].message.content.startswith("This is a mock response")
    assert r.choices[0].message.role == "assistant"
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    assert r.usage.prompt_tokens_details.cached_tokens == 0
    assert r.usage.completion_tokens_details.reasoning_tokens == 0
    dumped = r.model_dump()
    assert dumped["choices"][0]["message"]["content"] == r.choices[0].message.content
    assert r.json()["id"] == r.id  # LiteLLM: json() returns the dump (a dict)
    assert r == litellm.ModelResponse(**dumped)
    hidden = r._hidden_params
    assert hidden["custom_llm_provider"] == "openai"
    assert hidden["api_base"] == mock.api_base
    assert hidden["response_cost"] > 0
    assert r._response_ms > 0
    assert "x-ratelimit-limit-requests" in hidden["additional_headers"]


def test_cost_uses_upstream_usage(mock):
    r = litellm.completion(
        model="openai/gpt-4o-mini",
        messages=USER,
        extra_headers={"x-mock-prompt-tokens": "1000", "x-mock-completion-tokens": "500"},
        **mock.params(),
    )
    assert (r.usage.prompt_tokens, r.usage.completion_tokens) == (1000, 500)
    # gpt-4o-mini: 1.5e-07 input, 6e-07 output
    assert r._hidden_params["response_cost"] == pytest.approx(1000 * 1.5e-07 + 500 * 6e-07, rel=1e-12)
    assert litellm.completion_cost(completion_response=r) == pytest.approx(0.00045, rel=1e-12)


def test_parameters_reach_the_wire(mock):
    litellm.completion(
        model="openai/gpt-4o-mini",
        messages=[{"role": "system", "content": "be brief"}, *USER],
        temperature=0.3,
        top_p=0.9,
        n=2,
        stop=["END"],
        max_tokens=50,
        presence_penalty=0.1,
        frequency_penalty=0.2,
        logit_bias={"50256": -100},
        logprobs=True,
        top_logprobs=2,
        seed=7,
        user="u-1",
        tools=TOOLS,
        tool_choice="auto",
        parallel_tool_calls=False,
        response_format={"type": "json_object"},
        reasoning_effort="low",
        top_k=3,  # provider-specific: passed through
        extra_body={"custom_field": True},
        metadata={"trace": "x"},  # LiteLLM's own: never sent
        num_retries=0,
        extra_headers={"x-custom": "yes"},
        organization="org-1",
        **mock.params(),
    )
    sent = mock.last_request()
    body = sent["body"]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["headers"]["authorization"] == "Bearer sk-test"
    assert sent["headers"]["x-custom"] == "yes"
    assert sent["headers"]["openai-organization"] == "org-1"
    assert body["model"] == "gpt-4o-mini"
    for key, value in {
        "temperature": 0.3, "top_p": 0.9, "n": 2, "stop": ["END"], "max_tokens": 50,
        "presence_penalty": 0.1, "frequency_penalty": 0.2, "logit_bias": {"50256": -100},
        "logprobs": True, "top_logprobs": 2, "seed": 7, "user": "u-1", "tool_choice": "auto",
        "parallel_tool_calls": False, "response_format": {"type": "json_object"},
        "reasoning_effort": "low", "top_k": 3, "custom_field": True,
    }.items():
        assert body[key] == value, key
    assert body["tools"] == TOOLS
    for absent in ("metadata", "num_retries", "extra_headers", "api_key", "api_base", "organization",
                   "extra_body", "stream"):
        assert absent not in body, absent


def test_base_url_and_json_schema(mock):
    schema = {
        "type": "json_schema",
        "json_schema": {
            "name": "answer",
            "schema": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
    r = litellm.completion(
        model="openai/my-model", messages=USER, response_format=schema,
        base_url=mock.api_base, api_key="k",
    )
    assert json.loads(r.choices[0].message.content) == {"city": "mock"}
    assert mock.last_request()["body"]["response_format"] == schema


def test_max_completion_tokens_for_reasoning_models(mock):
    litellm.completion(model="openai/o3-mini", messages=USER, max_tokens=20, **mock.params())
    body = mock.last_request()["body"]
    assert body["max_completion_tokens"] == 20 and "max_tokens" not in body


def test_tool_calls_whole(mock):
    r = litellm.completion(model="openai/gpt-4o", messages=USER, tools=TOOLS, **mock.params())
    calls = r.choices[0].message.tool_calls
    assert r.choices[0].finish_reason == "tool_calls"
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]
    assert json.loads(calls[0].function.arguments) == {"location": "mock"}
    assert calls[0].id.startswith("call_") and calls[0].type == "function"


def test_stream_text_and_usage_chunk(mock):
    stream = litellm.completion(
        model="openai/gpt-4o-mini", messages=USER, stream=True,
        stream_options={"include_usage": True}, **mock.params(),
    )
    assert isinstance(stream, litellm.CustomStreamWrapper)
    chunks = list(stream)
    assert all(isinstance(c, litellm.ModelResponseStream) for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("This is a mock response")
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0
    assert mock.last_request()["body"]["stream_options"] == {"include_usage": True}
    rebuilt = litellm.stream_chunk_builder(chunks, messages=USER)
    assert rebuilt.choices[0].message.content == text
    assert rebuilt.usage.total_tokens == chunks[-1].usage.total_tokens
    assert stream._hidden_params["response_cost"] > 0


def test_stream_without_usage_hides_the_usage_chunk_but_prices_it(mock):
    stream = litellm.completion(model="openai/gpt-4o-mini", messages=USER, stream=True, **mock.params())
    chunks = list(stream)
    assert all(c.choices for c in chunks)
    # We asked the official provider family for usage so the cost is exact.
    assert mock.last_request()["body"]["stream_options"] == {"include_usage": True}
    assert stream._hidden_params["usage"]["total_tokens"] > 0
    assert stream._hidden_params["response_cost"] > 0


def test_streamed_tool_calls_arrive_delta_by_delta(mock):
    chunks = list(
        litellm.completion(model="openai/gpt-4o", messages=USER, tools=TOOLS, stream=True, **mock.params())
    )
    deltas = [
        (tc.index, tc.function.arguments)
        for c in chunks if c.choices and c.choices[0].delta.tool_calls
        for tc in c.choices[0].delta.tool_calls
    ]
    # Interleaved: index 0, 1, 0, 1 … each delta its own chunk, nothing merged (LiteLLM #38926).
    indexes = [i for i, _ in deltas]
    assert indexes[:4] == [0, 1, 0, 1]
    assert len(deltas) >= 8
    args = {0: "", 1: ""}
    for index, piece in deltas:
        args[index] += piece or ""
    assert json.loads(args[0]) == {"location": "mock"}
    assert json.loads(args[1]) == {"tz": "mock"}
    rebuilt = litellm.stream_chunk_builder(chunks, messages=USER)
    calls = rebuilt.choices[0].message.tool_calls
    assert [json.loads(c.function.arguments) for c in calls] == [{"location": "mock"}, {"tz": "mock"}]
    assert rebuilt.choices[0].finish_reason == "tool_calls"


def test_replayed_fixture_stream(mock):
    """A recorded OpenAI stream (fixture) replayed by the mock, decoded by the engine."""
    from pathlib import Path

    fixture = Path(__file__).parents[1] / "rust/llmrelay-providers/tests/fixtures/openai/stream_parallel_tools.sse"
    events = [
        line[len("data: "):]
        for line in fixture.read_text().splitlines()
        if line.startswith("data: ") and line != "data: [DONE]"
    ]
    mock.script({"status": 200, "sse": events, "done": True})
    chunks = list(
        litellm.completion(
            model="openai/gpt-4o", messages=USER, stream=True,
            stream_options={"include_usage": True}, **mock.params(),
        )
    )
    pieces = [
        (tc.index, tc.function.arguments)
        for c in chunks if c.choices and c.choices[0].delta.tool_calls
        for tc in c.choices[0].delta.tool_calls
    ]
    assert pieces[2:] == [(0, '{"loc'), (1, '{"loc'), (0, 'ation": "Paris"}'), (1, 'ation": "Tokyo"}')]
    assert chunks[-1].usage.total_tokens == 102


async def test_acompletion_whole_and_stream(mock):
    r = await litellm.acompletion(model="openai/gpt-4o-mini", messages=USER, **mock.params())
    assert r.choices[0].message.content.startswith("This is a mock response")
    stream = await litellm.acompletion(
        model="openai/gpt-4o-mini", messages=USER, stream=True,
        stream_options={"include_usage": True}, **mock.params(),
    )
    chunks = [c async for c in stream]
    assert chunks[-1].usage is not None
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == r.choices[0].message.content


async def test_acompletion_concurrency(mock):
    import asyncio

    results = await asyncio.gather(
        *[litellm.acompletion(model="openai/gpt-4o-mini", messages=USER, **mock.params()) for _ in range(200)]
    )
    assert len({r.id for r in results}) == 200


def test_stream_closed_early_still_accounts(mock):
    stream = litellm.completion(
        model="openai/gpt-4o-mini", messages=USER, stream=True,
        extra_headers={"x-mock-chunk-count": "20"}, **mock.params(),
    )
    first = next(stream)
    assert first.choices[0].delta.role == "assistant"
    stream.close()
    assert "response_cost" in stream._hidden_params


def test_text_completion(mock):
    r = litellm.text_completion(
        model="text-completion-openai/gpt-3.5-turbo-instruct", prompt="Say hi", **mock.params()
    )
    assert isinstance(r, litellm.TextCompletionResponse)
    assert r.object == "text_completion"
    assert r.choices[0].text.startswith("This is a mock response")
    assert mock.last_request()["path"] == "/v1/completions"
    chunks = list(
        litellm.text_completion(
            model="gpt-3.5-turbo-instruct", prompt="Say hi", stream=True, **mock.params()
        )
    )
    assert "".join(c.choices[0].text for c in chunks if c.choices).startswith("This is a mock")


async def test_atext_completion(mock):
    r = await litellm.atext_completion(model="gpt-3.5-turbo-instruct", prompt="x", **mock.params())
    assert r.choices[0].text


def test_embedding(mock):
    r = litellm.embedding(model="text-embedding-3-small", input=["a", "b"], dimensions=4, **mock.params())
    assert isinstance(r, litellm.EmbeddingResponse)
    assert r.object == "list"
    assert [d["index"] for d in r.data] == [0, 1]
    assert len(r.data[0]["embedding"]) == 4
    assert r.usage.prompt_tokens > 0
    sent = mock.last_request()
    assert sent["path"] == "/v1/embeddings"
    assert sent["body"] == {"model": "text-embedding-3-small", "input": ["a", "b"], "dimensions": 4}
    assert r._hidden_params["response_cost"] > 0


async def test_aembedding_base64(mock):
    r = await litellm.aembedding(
        model="openai/text-embedding-3-small", input="a", encoding_format="base64", **mock.params()
    )
    assert isinstance(r.data[0]["embedding"], str)
    coro = litellm.embedding(model="text-embedding-3-small", input="a", aembedding=True, **mock.params())
    assert (await coro).data


def test_api_key_from_environment(mock, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    litellm.completion(model="gpt-4o-mini", messages=USER, api_base=mock.api_base)
    assert mock.last_request()["headers"]["authorization"] == "Bearer sk-from-env"


def test_api_base_from_environment(mock, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("OPENAI_BASE_URL", mock.api_base)
    r = litellm.completion(model="gpt-4o-mini", messages=USER)
    assert r._hidden_params["api_base"] == mock.api_base


def test_module_level_api_key(mock):
    litellm.api_key = "sk-module"
    litellm.completion(model="openai/gpt-4o-mini", messages=USER, api_base=mock.api_base)
    assert mock.last_request()["headers"]["authorization"] == "Bearer sk-module"


def test_openai_compatible_provider_by_custom_llm_provider(mock):
    r = litellm.completion(
        model="my-local-model", custom_llm_provider="hosted_vllm", messages=USER, api_base=mock.api_base
    )
    assert r._hidden_params["custom_llm_provider"] == "hosted_vllm"
    assert mock.last_request()["body"]["model"] == "my-local-model"
    # Like LiteLLM (through the OpenAI SDK), a placeholder key when none is configured.
    assert mock.last_request()["headers"]["authorization"] == "Bearer fake-api-key"


async def test_async_bridge_never_loses_a_wakeup(mock):
    """Many concurrent calls finishing on engine threads all resolve (a liveness check for the
    wake-up protocol of the asyncio bridge, run after an HTTP call has warmed the pool)."""
    import asyncio

    await litellm.acompletion(model="openai/gpt-4o-mini", messages=USER, **mock.params())
    for _ in range(5):
        calls = [litellm.acompletion(model="gpt-4o", messages=USER, mock_response="x") for _ in range(500)]
        results = await asyncio.wait_for(asyncio.gather(*calls), timeout=60)
        assert len(results) == 500


async def test_cancelled_acompletion_aborts(mock):
    import asyncio

    task = asyncio.ensure_future(
        litellm.acompletion(model="openai/gpt-4o-mini", messages=USER,
                            extra_headers={"x-mock-latency-ms": "5000"}, **mock.params())
    )
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.parametrize("stream", [False, True])
def test_instruct_model_through_completion_uses_the_completions_endpoint(mock, stream):
    # As LiteLLM: instruct models (text-completion-openai) are called at /completions.
    r = litellm.completion(model="gpt-3.5-turbo-instruct", messages=USER, max_tokens=50,
                           stream=stream, **mock.params())
    sent = mock.last_request()
    assert sent["path"] == "/v1/completions"
    assert sent["body"]["prompt"] == "Hello there"
    if stream:
        chunks = list(r)
        assert chunks[0].choices[0].delta.role == "assistant"
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    else:
        assert isinstance(r, litellm.ModelResponse)
        text = r.choices[0].message.content
    assert text.startswith("This is a mock response")
