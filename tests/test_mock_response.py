"""mock_response: LiteLLM's canned replies and errors, with usage and cost, and no network."""

from __future__ import annotations

import openai
import pytest
from conftest import USER

import llmrelay as litellm


def test_text_mock_whole(mock):
    r = litellm.completion(model="gpt-4o", messages=USER, mock_response="hello world", n=2)
    assert [c.message.content for c in r.choices] == ["hello world", "hello world"]
    assert r.choices[0].finish_reason == "stop"
    assert (r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens) == (10, 20, 30)
    # LiteLLM observed: gpt-4o at 10/20 tokens costs 0.000225.
    assert r._hidden_params["response_cost"] == pytest.approx(0.000225, rel=1e-12)
    assert r._hidden_params["custom_llm_provider"] == "openai"
    assert litellm.completion_cost(completion_response=r) == pytest.approx(0.000225, rel=1e-12)
    assert mock.requests() == []


def test_text_mock_stream_in_three_char_chunks():
    chunks = list(
        litellm.completion(
            model="gpt-4o", messages=USER, mock_response="abcdefgh", stream=True,
            stream_options={"include_usage": True},
        )
    )
    contents = [c.choices[0].delta.content for c in chunks if c.choices]
    assert contents == ["abc", "def", "gh", None]
    assert chunks[-2].choices[0].finish_reason == "stop"
    # A mocked stream counts its completion tokens from the streamed text, as LiteLLM does.
    completion = litellm.token_counter(model="gpt-4o", text="abcdefgh")
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == completion
    assert chunks[-1].usage.total_tokens == 10 + completion


async def test_async_mock_stream():
    stream = await litellm.acompletion(model="gpt-4o", messages=USER, mock_response="xyz!", stream=True)
    assert [c.choices[0].delta.content async for c in stream] == ["xyz", "!", None]


def test_mock_prompt_tokens_override():
    r = litellm.completion(model="gpt-4o", messages=USER, mock_response="x", prompt_tokens=7)
    assert r.usage.prompt_tokens == 7


def test_mock_tool_calls():
    calls = [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
    r = litellm.completion(model="gpt-4o", messages=USER, mock_response="x", mock_tool_calls=calls)
    assert r.choices[0].message.tool_calls[0].function.name == "f"


@pytest.mark.parametrize(
    ("name", "cls", "status"),
    [
        ("litellm.RateLimitError", "RateLimitError", 429),
        ("litellm.ContextWindowExceededError", "ContextWindowExceededError", 400),
        ("litellm.InternalServerError", "InternalServerError", 500),
    ],
)
def test_mock_error_strings(name, cls, status):
    with pytest.raises(getattr(litellm, cls)) as info:
        litellm.completion(model="gpt-4o", messages=USER, mock_response=name)
    assert info.value.status_code == status


def test_mock_rate_limit_message():
    with pytest.raises(litellm.RateLimitError) as info:
        litellm.completion(model="gpt-4o", messages=USER, mock_response="litellm.RateLimitError")
    assert "this is a mock rate limit error" in str(info.value)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("litellm.ContextWindowExceededError", "this is a mock context window exceeded error"),
        ("litellm.InternalServerError", "this is a mock internal server error"),
    ],
)
def test_mock_error_string_messages_are_litellms(name, message):
    with pytest.raises(Exception) as info:
        litellm.completion(model="gpt-4o", messages=USER, mock_response=name)
    assert str(info.value).endswith(message)


@pytest.mark.parametrize("name", ["litellm.BadRequestError", "litellm.Timeout",
                                  "litellm.AuthenticationError"])
def test_other_class_strings_are_answer_text_as_in_litellm(name):
    response = litellm.completion(model="gpt-4o", messages=USER, mock_response=name)
    assert response.choices[0].message.content == name


def test_a_router_mock_exception_keeps_its_message_and_class():
    router = litellm.Router(model_list=[{"model_name": "m", "litellm_params": {
        "model": "openai/gpt-4o-mini", "api_key": "sk-x"}}], num_retries=0)
    with pytest.raises(litellm.InternalServerError) as info:
        router.completion(model="m", messages=USER, mock_response=Exception("boom one"))
    assert "boom one" in str(info.value)
    with pytest.raises(litellm.RateLimitError) as info:
        router.completion(model="m", messages=USER, mock_response=litellm.RateLimitError(
            "slow down", llm_provider="openai", model="gpt-4o-mini"))
    assert str(info.value).startswith("litellm.RateLimitError: slow down")
    assert info.value.status_code == 429
    deployment = litellm.Router(model_list=[{"model_name": "m", "litellm_params": {
        "model": "openai/gpt-4o-mini", "api_key": "sk-x",
        "mock_response": litellm.NotFoundError("no such thing", llm_provider="openai",
                                               model="gpt-4o-mini")}}], num_retries=0)
    with pytest.raises(litellm.NotFoundError) as info:
        deployment.completion(model="m", messages=USER)
    assert "no such thing" in str(info.value)


def test_mock_exception_instance_and_class():
    with pytest.raises(litellm.InternalServerError):
        litellm.completion(model="gpt-4o", messages=USER, mock_response=Exception("boom"))
    rate_limit = litellm.RateLimitError("slow", llm_provider="openai", model="gpt-4o")
    with pytest.raises(litellm.RateLimitError) as info:
        litellm.completion(model="gpt-4o", messages=USER, mock_response=rate_limit)
    assert info.value is rate_limit
    assert isinstance(info.value, openai.RateLimitError)


def test_mock_dict_and_model_response():
    r = litellm.completion(
        model="gpt-4o", messages=USER,
        mock_response={"choices": [{"message": {"role": "assistant", "content": "from dict"}}]},
    )
    assert r.choices[0].message.content == "from dict"
    canned = litellm.ModelResponse(choices=[{"message": {"role": "assistant", "content": "canned"}}])
    assert litellm.completion(model="gpt-4o", messages=USER, mock_response=canned) is canned


def test_mock_streaming_error_mid_stream():
    stream = litellm.completion(
        model="gpt-4o", messages=USER, mock_response="Exception: mock_streaming_error", stream=True
    )
    with pytest.raises(litellm.APIError):
        list(stream)


def test_mock_delay_and_timeout():
    import time

    started = time.monotonic()
    litellm.completion(model="gpt-4o", messages=USER, mock_response="x", mock_delay=0.2)
    assert time.monotonic() - started >= 0.2
    with pytest.raises(litellm.Timeout):
        litellm.completion(model="gpt-4o", messages=USER, mock_response="x", mock_timeout=True, timeout=0.1)


def test_mock_text_completion_and_embedding():
    r = litellm.text_completion(model="gpt-3.5-turbo-instruct", prompt="p", mock_response="tc")
    assert r.choices[0].text == "tc"
    assert (r.usage.prompt_tokens, r.usage.completion_tokens) == (10, 20)
    e = litellm.embedding(model="text-embedding-3-small", input=["a"], mock_response=[0.1, 0.2])
    assert e.data[0]["embedding"] == [0.1, 0.2]
    assert (e.usage.prompt_tokens, e.usage.total_tokens) == (10, 0)
