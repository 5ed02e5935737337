"""``litellm.anthropic.messages.create`` / ``acreate`` (and ``litellm.anthropic_messages``):
Anthropic's Messages API over any model from the SDK — a message dict, or server-sent
events as bytes with ``stream=True``, as LiteLLM's SDK answers; the ``anthropic`` SDK's own
models read what comes back."""

from __future__ import annotations

import asyncio
import json

import anthropic
import pytest

import llmrelay as litellm

ASK = [{"role": "user", "content": "Hello there"}]


def _events(chunks: list[bytes]) -> list[dict]:
    events = []
    for chunk in chunks:
        assert isinstance(chunk, bytes)
        text = chunk.decode()
        assert text.startswith("event: ") and text.endswith("\n\n"), text
        name, data = text[len("event: "):].split("\ndata: ", 1)
        event = json.loads(data)
        assert event["type"] == name
        events.append(event)
    return events


def test_module_paths() -> None:
    import llmrelay.anthropic_interface as interface

    assert litellm.anthropic is interface
    assert litellm.anthropic.messages.create is interface.messages.create
    assert litellm.anthropic_messages is interface.messages.acreate


def test_whole_message_over_an_openai_model(mock) -> None:
    message = litellm.anthropic.messages.create(
        model="openai/gpt-4o-mini", messages=ASK, max_tokens=50, system="Be brief.",
        api_base=mock.api_base, api_key="sk-test")
    assert isinstance(message, dict)
    parsed = anthropic.types.Message.model_validate(message)
    assert parsed.role == "assistant" and parsed.type == "message"
    assert parsed.content[0].type == "text" and parsed.content[0].text
    assert parsed.stop_reason == "end_turn"
    assert parsed.usage.input_tokens > 0 and parsed.usage.output_tokens > 0
    sent = mock.last_request()["body"]
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
    assert sent["max_tokens"] == 50


def test_streamed_events_as_bytes(mock) -> None:
    chunks = list(litellm.anthropic.messages.create(
        model="openai/gpt-4o-mini", messages=ASK, max_tokens=50, stream=True,
        api_base=mock.api_base, api_key="sk-test"))
    events = _events(chunks)
    kinds = [e["type"] for e in events]
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert "content_block_delta" in kinds and kinds[-2] == "message_delta"
    text = "".join(e["delta"].get("text", "") for e in events if e["type"] == "content_block_delta")
    assert text
    assert events[-2]["usage"]["output_tokens"] > 0


def test_async_whole_and_streamed(mock) -> None:
    async def run() -> tuple[dict, list[bytes]]:
        whole = await litellm.anthropic.messages.acreate(
            model="openai/gpt-4o-mini", messages=ASK, max_tokens=20,
            api_base=mock.api_base, api_key="sk-test")
        stream = await litellm.anthropic_messages(
            model="openai/gpt-4o-mini", messages=ASK, max_tokens=20, stream=True,
            api_base=mock.api_base, api_key="sk-test")
        return whole, [chunk async for chunk in stream]

    whole, chunks = asyncio.run(run())
    assert whole["content"][0]["text"]
    assert _events(chunks)[-1] == {"type": "message_stop"}


def test_string_mock_response_is_litellms_fixed_message() -> None:
    message = litellm.anthropic.messages.create(
        model="anthropic/claude-3-5-haiku-20241022", messages=ASK, max_tokens=10,
        mock_response="Hi!")
    assert message["content"] == [{"text": "Hi!", "type": "text"}]
    assert message["model"] == "claude-sonnet-4-20250514"
    assert message["usage"] == {"input_tokens": 2095, "output_tokens": 503}
    with pytest.raises(litellm.RateLimitError, match="this is a mock rate limit error"):
        litellm.anthropic.messages.create(model="m", messages=ASK, max_tokens=10,
                                          mock_response="litellm.RateLimitError")


def test_bad_requests_raise_before_any_call(mock) -> None:
    with pytest.raises(litellm.BadRequestError, match="max_tokens"):
        litellm.anthropic.messages.create(model="openai/gpt-4o-mini", messages=ASK,
                                          max_tokens=0, api_base=mock.api_base)
    assert mock.requests() == []
