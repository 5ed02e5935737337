"""Anthropic through the mock upstream (Messages API), whole and streamed: the start of the
Providers I scenario suite."""

from __future__ import annotations

import json

import pytest
from conftest import USER

import llmrelay as litellm

TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}},
    {"type": "function", "function": {"name": "get_time", "parameters": {
        "type": "object", "properties": {"tz": {"type": "string"}}}}},
]


def params(mock, **extra):
    return {"api_base": mock.url, "api_key": "sk-ant-test", **extra}


def test_plain_chat_and_wire_request(mock):
    r = litellm.completion(
        model="anthropic/claude-sonnet-4-5",
        messages=[{"role": "system", "content": "be brief"}, *USER, *USER],
        stop=["END"], **params(mock),
    )
    assert r.choices[0].message.content
    assert r.choices[0].finish_reason == "stop"
    assert r._hidden_params["custom_llm_provider"] == "anthropic"
    assert r._hidden_params["response_cost"] > 0
    sent = mock.last_request()
    assert sent["path"] == "/v1/messages"
    assert sent["headers"]["x-api-key"] == "sk-ant-test"
    assert sent["headers"]["anthropic-version"] == "2023-06-01"
    body = sent["body"]
    assert body["system"][0]["text"] == "be brief"
    assert [m["role"] for m in body["messages"]] == ["user"]  # consecutive user turns merged
    assert body["stop_sequences"] == ["END"]
    assert body["max_tokens"] > 0


def test_bare_claude_name_is_anthropic(mock):
    r = litellm.completion(model="claude-sonnet-4-5", messages=USER, **params(mock))
    assert r._hidden_params["custom_llm_provider"] == "anthropic"


@pytest.mark.parametrize("stream", [False, True])
def test_parallel_tool_calls(mock, stream):
    r = litellm.completion(model="anthropic/claude-sonnet-4-5", messages=USER, tools=TOOLS,
                           stream=stream, **params(mock))
    if stream:
        chunks = list(r)
        deltas = [(tc.index, tc.function.arguments) for c in chunks if c.choices and c.choices[0].delta.tool_calls
                  for tc in c.choices[0].delta.tool_calls]
        assert len(deltas) >= 6  # each input_json_delta is its own chunk
        r = litellm.stream_chunk_builder(chunks, messages=USER)
    calls = r.choices[0].message.tool_calls
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]
    assert json.loads(calls[0].function.arguments) == {"location": "mock"}
    assert r.choices[0].finish_reason == "tool_calls"
    body = mock.last_request()["body"]
    assert body["tools"][0]["input_schema"]["properties"] == {"location": {"type": "string"}}


def test_thinking_round_trip_with_tool_calls(mock):
    first = litellm.completion(model="anthropic/claude-sonnet-4-5", messages=USER, tools=TOOLS[:1],
                               reasoning_effort="low", **params(mock))
    message = first.choices[0].message
    assert message.reasoning_content
    assert message.thinking_blocks[0]["signature"]
    assert mock.last_request()["body"]["thinking"]["budget_tokens"] == 1024
    call = message.tool_calls[0]
    second = litellm.completion(
        model="anthropic/claude-sonnet-4-5", tools=TOOLS[:1], reasoning_effort="low",
        messages=[*USER,
                  {"role": "assistant", "content": message.content, "tool_calls": [call.model_dump()],
                   "thinking_blocks": message.thinking_blocks},
                  {"role": "tool", "tool_call_id": call.id, "content": "sunny"}],
        **params(mock),
    )
    assert second.choices[0].message.content
    sent = mock.last_request()["body"]["messages"]
    assert sent[1]["content"][0]["type"] == "thinking"
    assert sent[1]["content"][0]["signature"] == message.thinking_blocks[0]["signature"]
    assert sent[2]["content"][0]["type"] == "tool_result"


def test_prompt_caching_usage_and_cost(mock):
    messages = [{"role": "user", "content": [
        {"type": "text", "text": "long context " * 50, "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "question"}]}]
    r = litellm.completion(model="anthropic/claude-sonnet-4-5", messages=messages,
                           extra_headers={"x-mock-cache-read-tokens": "400", "x-mock-cache-creation-tokens": "50",
                                          "x-mock-prompt-tokens": "100"},
                           **params(mock))
    assert r.usage.prompt_tokens_details.cached_tokens == 400
    assert r.usage.prompt_tokens == 550
    assert r.usage.prompt_tokens_details.cache_creation_tokens == 50
    assert mock.last_request()["body"]["messages"][0]["content"][0]["cache_control"] == {"type": "ephemeral"}
    # claude-sonnet-4-5: input 3e-06, cache read 3e-07, cache write 3.75e-06, output 1.5e-05
    expected = 100 * 3e-06 + 400 * 3e-07 + 50 * 3.75e-06 + r.usage.completion_tokens * 1.5e-05
    assert r._hidden_params["response_cost"] == pytest.approx(expected, rel=1e-9)


def test_stream_usage_chunk(mock):
    chunks = list(litellm.completion(model="anthropic/claude-sonnet-4-5", messages=USER, stream=True,
                                     stream_options={"include_usage": True}, **params(mock)))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text


@pytest.mark.parametrize(("status", "cls"), [(429, "RateLimitError"), (401, "AuthenticationError"),
                                             (400, "BadRequestError"), (529, "InternalServerError")])
def test_errors(mock, status, cls):
    with pytest.raises(getattr(litellm, cls)) as info:
        litellm.completion(model="anthropic/claude-sonnet-4-5", messages=USER,
                           extra_headers={"x-mock-status": str(status), "x-mock-retry-after": "0"},
                           **params(mock))
    assert "AnthropicE" in str(info.value)  # LiteLLM: AnthropicException / AnthropicError


def test_error_mid_stream(mock):
    with pytest.raises(litellm.InternalServerError):
        list(litellm.completion(model="anthropic/claude-sonnet-4-5", messages=USER, stream=True,
                                extra_headers={"x-mock-error-after": "4"}, **params(mock)))


def test_unsupported_param_and_drop_params(mock):
    with pytest.raises(litellm.UnsupportedParamsError):
        litellm.completion(model="anthropic/claude-sonnet-4-5", messages=USER, logit_bias={"1": 1},
                           **params(mock))
    r = litellm.completion(model="anthropic/claude-sonnet-4-5", messages=USER, logit_bias={"1": 1},
                           drop_params=True, **params(mock))
    assert r.choices[0].message.content
    assert "logit_bias" not in mock.last_request()["body"]


def test_supported_params_and_rate_limit_headers(mock):
    supported = litellm.get_supported_openai_params("claude-sonnet-4-5", "anthropic")
    assert "tools" in supported and "logit_bias" not in supported
    r = litellm.completion(model="anthropic/claude-sonnet-4-5", messages=USER, **params(mock))
    headers = r._hidden_params["additional_headers"]
    assert "anthropic-ratelimit-requests-limit" in headers
    assert headers["x-ratelimit-limit-requests"] == headers["anthropic-ratelimit-requests-limit"]


@pytest.mark.asyncio
async def test_acount_tokens_uses_the_count_tokens_endpoint(mock):
    messages = [{"role": "system", "content": "be brief"}, *USER]
    r = await litellm.acount_tokens(
        model="anthropic/claude-sonnet-4-5", messages=messages, tools=TOOLS, **params(mock)
    )
    assert r.tokenizer_type == "anthropic_api"
    assert r.request_model == "anthropic/claude-sonnet-4-5"
    assert r.model_used == "claude-sonnet-4-5"
    assert r.total_tokens == r.original_response["input_tokens"] > 0
    sent = mock.last_request()
    assert sent["path"] == "/v1/messages/count_tokens"
    assert "token-counting-2024-11-01" in sent["headers"]["anthropic-beta"]
    # The same translation as a chat call: system lifted out, tools in Anthropic's shape,
    # and nothing the endpoint rejects (max_tokens, stream, sampling).
    assert sent["body"]["system"][0]["text"] == "be brief"
    assert [t["name"] for t in sent["body"]["tools"]] == ["get_weather", "get_time"]
    assert set(sent["body"]) <= {"model", "messages", "system", "tools", "tool_choice", "thinking"}


@pytest.mark.asyncio
async def test_acount_tokens_falls_back_to_local_count(mock, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    # No key: counted locally, as LiteLLM does.
    r = await litellm.acount_tokens(model="anthropic/claude-sonnet-4-5", messages=USER, api_base=mock.url)
    assert r.tokenizer_type == "local_tokenizer"
    assert r.total_tokens == litellm.token_counter(model="claude-sonnet-4-5", messages=USER)
    # The endpoint failing (a 500 from the mock) also falls back to the local count.
    r = await litellm.acount_tokens(
        model="anthropic/claude-sonnet-4-5", messages=USER,
        extra_headers={"x-mock-status": "500"}, **params(mock),
    )
    assert r.tokenizer_type == "local_tokenizer"
    # Providers without a counting endpoint count locally; `system` joins the messages.
    r = await litellm.acount_tokens(model="gpt-4o", messages=USER, system="be brief")
    assert r.tokenizer_type == "local_tokenizer"
    assert r.total_tokens == litellm.token_counter(
        model="gpt-4o", messages=[{"role": "system", "content": "be brief"}, *USER]
    )
    assert r["total_tokens"] == r.total_tokens and r.model_dump()["error"] is False


def test_http_image_url_fetch_errors(mock, monkeypatch):
    # A plain-http image URL is downloaded before translation (as LiteLLM does): a failed
    # download is a BadRequestError naming the URL, and no request reaches the provider.
    missing = mock.url + "/__mock/no-such-image.png"
    image = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": missing}}]}]
    with pytest.raises(litellm.BadRequestError, match="Unable to fetch image from URL"):
        litellm.completion(model="anthropic/claude-sonnet-4-5", messages=image, **params(mock))
    monkeypatch.setenv("MAX_IMAGE_URL_DOWNLOAD_SIZE_MB", "0")
    with pytest.raises(litellm.BadRequestError, match="download is disabled"):
        litellm.completion(model="anthropic/claude-sonnet-4-5", messages=image, **params(mock))
    assert all(r["path"] != "/v1/messages" for r in mock.requests())
