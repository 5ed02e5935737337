"""Responses API through the mock: OpenAI's own endpoint passed through, and the bridge to chat
completions for other providers. Every object and event is checked against the official
``openai`` SDK's types, so the shapes are OpenAI's."""

from __future__ import annotations

import json

import openai
import pytest
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter

import llmrelay as litellm

EVENT = TypeAdapter(ResponseStreamEvent)

TOOLS = [
    {"type": "function", "name": "get_weather", "description": "Weather for a city",
     "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
    {"type": "function", "name": "get_time",
     "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}}},
]


def openai_params(mock):
    return {"api_base": mock.url, "api_key": "sk-test"}


def anthropic_params(mock):
    return {"api_base": mock.url, "api_key": "sk-ant-test"}


def check(response):
    """The object validates as the SDK's `Response`."""
    Response.model_validate(response.model_dump())
    return response


def test_openai_passthrough_whole(mock):
    r = check(litellm.responses(model="gpt-4o", input="Hello there", instructions="be brief",
                                **openai_params(mock)))
    assert r.status == "completed"
    assert r.output_text == "This is a mock response from llmrelay-mock."
    assert r.output[0].content[0].text == r.output_text
    assert r["usage"]["input_tokens"] > 0
    assert r._hidden_params["custom_llm_provider"] == "openai"
    assert r._hidden_params["response_cost"] > 0
    sent = mock.last_request()
    assert sent["path"] == "/responses"
    assert sent["body"] == {"model": "gpt-4o", "input": "Hello there", "instructions": "be brief"}


def test_openai_passthrough_stream(mock):
    stream = litellm.responses(model="gpt-4o", input="Hello there", stream=True, **openai_params(mock))
    events = list(stream)
    for event in events:
        EVENT.validate_python(event.model_dump())
    kinds = [e.type for e in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == "This is a mock response from llmrelay-mock."
    assert stream.completed_response.output_text == text


def test_bridge_whole_translates_to_the_provider(mock):
    r = check(litellm.responses(
        model="anthropic/claude-sonnet-4-5",
        input=[{"role": "user", "content": [{"type": "input_text", "text": "Hello there"}]}],
        instructions="be brief", max_output_tokens=200, temperature=0.3, **anthropic_params(mock),
    ))
    assert r.id.startswith("resp_")
    assert r.status == "completed"
    assert r.output_text == "This is a mock response from llmrelay-mock."
    assert r.instructions == "be brief" and r.max_output_tokens == 200 and r.temperature == 0.3
    assert r.usage.input_tokens > 0 and r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
    assert r._hidden_params["custom_llm_provider"] == "anthropic"
    sent = mock.last_request()
    assert sent["path"] == "/v1/messages"
    assert sent["body"]["system"][0]["text"] == "be brief"
    assert sent["body"]["max_tokens"] == 200
    assert sent["body"]["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Hello there"}]}]


def test_bridge_tool_loop_with_previous_response_id(mock):
    first = check(litellm.responses(model="anthropic/claude-sonnet-4-5", input="Weather in Paris?",
                                    tools=TOOLS, **anthropic_params(mock)))
    calls = [item for item in first.output if item.type == "function_call"]
    assert [c.name for c in calls] == ["get_weather", "get_time"]
    assert json.loads(calls[0].arguments) == {"city": "mock"}
    outputs = [{"type": "function_call_output", "call_id": c.call_id, "output": "sunny"} for c in calls]
    second = check(litellm.responses(model="anthropic/claude-sonnet-4-5", input=outputs, tools=TOOLS,
                                     previous_response_id=first.id, **anthropic_params(mock)))
    assert second.previous_response_id == first.id
    assert second.output_text
    messages = mock.last_request()["body"]["messages"]
    # The stored turn (user question, assistant tool_use blocks) precedes the tool results.
    assert messages[0]["content"][0]["text"] == "Weather in Paris?"
    assert [b["type"] for b in messages[1]["content"] if b["type"] == "tool_use"] == ["tool_use", "tool_use"]
    assert [b["tool_use_id"] for b in messages[2]["content"]] == [c.call_id for c in calls]


def test_bridge_stream_keeps_every_argument_delta(mock):
    stream = litellm.responses(model="anthropic/claude-sonnet-4-5", input="Weather in Paris?",
                               tools=TOOLS, stream=True, **anthropic_params(mock))
    events = list(stream)
    for event in events:
        EVENT.validate_python(event.model_dump())
    assert [e.sequence_number for e in events] == list(range(len(events)))
    done = stream.completed_response
    check(done)
    calls = [(index, item) for index, item in enumerate(done.output) if item.type == "function_call"]
    assert len(calls) == 2
    for index, item in calls:
        deltas = [e.delta for e in events
                  if e.type == "response.function_call_arguments.delta" and e.output_index == index]
        assert len(deltas) >= 2
        assert "".join(deltas) == item.arguments
    assert done.usage.output_tokens > 0


def test_bridge_stream_text(mock):
    stream = litellm.responses(model="anthropic/claude-sonnet-4-5", input="Hello there", stream=True,
                               **anthropic_params(mock))
    events = list(stream)
    kinds = [e.type for e in events]
    assert kinds[:4] == ["response.created", "response.in_progress", "response.output_item.added",
                         "response.content_part.added"]
    assert kinds[-1] == "response.completed"
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == stream.completed_response.output_text == "This is a mock response from llmrelay-mock."


@pytest.mark.asyncio
async def test_aresponses_whole_and_stream(mock):
    r = check(await litellm.aresponses(model="anthropic/claude-sonnet-4-5", input="Hello there",
                                       **anthropic_params(mock)))
    assert r.output_text
    stream = await litellm.aresponses(model="gpt-4o", input="Hello there", stream=True, **openai_params(mock))
    kinds = [event.type async for event in stream]
    assert kinds[-1] == "response.completed"


def test_json_schema_text_format(mock):
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    r = check(litellm.responses(
        model="anthropic/claude-sonnet-4-5", input="Where?",
        text={"format": {"type": "json_schema", "name": "place", "schema": schema, "strict": True}},
        **anthropic_params(mock),
    ))
    assert json.loads(r.output_text) == {"city": "mock"}


def test_mock_response_and_reasoning_item(mock):
    r = check(litellm.responses(model="gpt-4o", input="hi", mock_response="hello from mock"))
    assert r.output_text == "hello from mock"


def test_errors(mock):
    with pytest.raises(litellm.BadRequestError) as info:
        litellm.responses(model="anthropic/claude-sonnet-4-5", input="hi",
                          previous_response_id="resp_unknown", **anthropic_params(mock))
    assert "resp_unknown" in str(info.value)
    with pytest.raises(litellm.BadRequestError, match="web_search"):
        litellm.responses(model="anthropic/claude-sonnet-4-5", input="hi",
                          tools=[{"type": "web_search"}], **anthropic_params(mock))
    for params in (openai_params(mock), anthropic_params(mock)):
        model = "gpt-4o" if params["api_key"] == "sk-test" else "anthropic/claude-sonnet-4-5"
        with pytest.raises(openai.RateLimitError):
            litellm.responses(model=model, input="hi", extra_headers={"x-mock-status": "429"}, **params)


def test_callbacks_see_responses_usage(mock):
    seen = []
    litellm.success_callback = [lambda kwargs, response, start, end: seen.append(kwargs)]
    try:
        litellm.responses(model="anthropic/claude-sonnet-4-5", input="Hello there", **anthropic_params(mock))
        from llmrelay import _logging

        _logging.flush()
    finally:
        litellm.success_callback = []
    assert seen and seen[0]["standard_logging_object"]["prompt_tokens"] > 0
    assert seen[0]["standard_logging_object"]["call_type"] == "responses"
