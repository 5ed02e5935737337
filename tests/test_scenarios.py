"""The Providers I scenario suite: the same OpenAI-shaped calls against every provider through the
mock upstream, whole and streamed — OpenAI (baseline), Anthropic, Bedrock, the Gemini API,
Vertex AI and Claude on Vertex. Provider-specific wire checks live in each provider's own test
file; this file checks that what the caller sees is the same everywhere.

A profile names the model, how to reach the mock, and the few ways a provider legitimately differs
(e.g. which exception a mid-stream error becomes)."""

from __future__ import annotations

import base64
import http.server
import json
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

import openai
import pytest
from conftest import USER

import llmrelay as litellm

# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg=="
)
PNG_B64 = base64.b64encode(PNG).decode()

TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
     "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}},
    {"type": "function", "function": {"name": "get_time", "description": "Time in a zone",
     "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}}}},
]


@dataclass
class Profile:
    name: str
    model: str
    params: Callable[[Any], dict]
    # Exception classes for statuses injected with x-mock-status.
    errors: dict[int, type] = field(default_factory=dict)
    mid_stream_error: type = openai.APIError
    # Whether image URLs must reach the provider as inlined bytes.
    inlines_image_urls: bool = False
    reasoning: bool = True
    # Whether `response_format: json_object` constrains the provider (Anthropic has no JSON mode
    # without a schema: LiteLLM sends nothing for it, and the model answers freely).
    json_object_mode: bool = True
    # Where reasoning signatures travel: Anthropic-style `thinking_blocks`, or Gemini's
    # `thoughtSignature` carried on the tool calls (LiteLLM's shape for Gemini).
    signature_in: str = "thinking_blocks"
    # Whether tool-call arguments stream in pieces (Gemini sends each call whole).
    streams_tool_arguments: bool = True
    # Whether `tool_choice="none"` is accepted (LiteLLM raises UnsupportedParamsError for Bedrock
    # unless drop_params is set: Converse has no "none").
    tool_choice_none: bool = True


def _openai_params(mock: Any) -> dict:
    return {"api_base": mock.api_base, "api_key": "sk-test"}


def _anthropic_params(mock: Any) -> dict:
    return {"api_base": mock.url, "api_key": "sk-ant-test"}


def _bedrock_params(mock: Any) -> dict:
    # The mock's default test credentials (rust/llmrelay-mock/README.md), signed with SigV4.
    return {"api_base": mock.url, "aws_access_key_id": "AKIDLLMRELAYMOCK",
            "aws_secret_access_key": "llmrelay-mock-secret-key", "aws_region_name": "us-east-1"}


def _gemini_params(mock: Any) -> dict:
    return {"api_base": mock.url, "api_key": "gk-test"}


def _vertex_params(mock: Any) -> dict:
    from _google_suite import service_account

    return {"api_base": mock.url, "vertex_project": "llmrelay-test-project",
            "vertex_location": "us-central1", "vertex_credentials": service_account(mock)}


COMMON_ERRORS = {
    429: openai.RateLimitError,
    401: openai.AuthenticationError,
    400: openai.BadRequestError,
}

PROFILES = [
    Profile("openai", "openai/gpt-4o", _openai_params,
            errors={**COMMON_ERRORS, 503: litellm.ServiceUnavailableError}, reasoning=False),
    Profile("anthropic", "anthropic/claude-sonnet-4-5", _anthropic_params,
            errors={**COMMON_ERRORS, 529: litellm.InternalServerError},
            mid_stream_error=litellm.InternalServerError, json_object_mode=False,
            inlines_image_urls=True),  # plain http:// URLs only; https goes by reference
    Profile("bedrock", "bedrock/us.anthropic.claude-3-7-sonnet-20250219-v1:0", _bedrock_params,
            errors={429: openai.RateLimitError, 400: openai.BadRequestError,
                    403: litellm.PermissionDeniedError, 503: litellm.ServiceUnavailableError},
            inlines_image_urls=True, json_object_mode=False, tool_choice_none=False),
    Profile("gemini", "gemini/gemini-2.5-flash", _gemini_params,
            errors={**COMMON_ERRORS, 503: litellm.ServiceUnavailableError},
            inlines_image_urls=True, signature_in="thoughtSignature", streams_tool_arguments=False),
    Profile("vertex_ai", "vertex_ai/gemini-2.5-flash", _vertex_params,
            errors={**COMMON_ERRORS, 503: litellm.ServiceUnavailableError},
            inlines_image_urls=True, signature_in="thoughtSignature", streams_tool_arguments=False),
    Profile("vertex_ai-claude", "vertex_ai/claude-sonnet-4-5", _vertex_params,
            errors={**COMMON_ERRORS, 529: litellm.InternalServerError},
            mid_stream_error=litellm.InternalServerError, json_object_mode=False,
            inlines_image_urls=True),
]


@pytest.fixture(params=PROFILES, ids=lambda p: p.name)
def profile(request: Any) -> Profile:
    return request.param


@pytest.fixture(params=[False, True], ids=["whole", "stream"])
def stream(request: Any) -> bool:
    return request.param


def call(profile: Profile, mock: Any, stream: bool, **kwargs: Any) -> Any:
    """One completion; a stream is consumed and rebuilt into a whole response."""
    messages = kwargs.pop("messages", USER)
    extra = kwargs.pop("extra_headers", None)
    params = profile.params(mock)
    if extra:
        params["extra_headers"] = extra
    response = litellm.completion(model=profile.model, messages=messages, stream=stream, **params, **kwargs)
    if not stream:
        return response
    chunks = list(response)
    assert chunks, "a stream yields chunks"
    return litellm.stream_chunk_builder(chunks, messages=messages)


@pytest.fixture(scope="module")
def image_url() -> Any:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self.send_response(200)
            self.send_header("content-type", "image/png")
            self.send_header("content-length", str(len(PNG)))
            self.end_headers()
            self.wfile.write(PNG)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/pixel.png"
    server.shutdown()
    server.server_close()


def test_plain_chat(profile, mock, stream):
    r = call(profile, mock, stream)
    assert r.choices[0].message.content == "This is a mock response from llmrelay-mock."
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


def test_system_prompts_and_same_role_turns(profile, mock, stream):
    messages = [{"role": "system", "content": "be brief"}, {"role": "system", "content": "be kind"},
                *USER, {"role": "user", "content": "and again"},
                {"role": "assistant", "content": "Hi."}, {"role": "assistant", "content": "How can I help?"},
                {"role": "user", "content": "Weather?"}]
    r = call(profile, mock, stream, messages=messages)
    assert r.choices[0].message.content


def test_stop_sequences(profile, mock, stream):
    r = call(profile, mock, stream, stop=["END"], extra_headers={"x-mock-content": "Hello END world"})
    assert r.choices[0].message.content == "Hello "
    assert r.choices[0].finish_reason == "stop"


def test_max_tokens_cuts_with_length(profile, mock, stream):
    r = call(profile, mock, stream, max_tokens=2)
    assert r.choices[0].finish_reason == "length"
    assert len(r.choices[0].message.content) < len("This is a mock response from llmrelay-mock.")


@pytest.mark.parametrize(
    ("tool_choice", "expected"),
    [("auto", ["get_weather", "get_time"]), ("required", None), ("none", []),
     ({"type": "function", "function": {"name": "get_time"}}, ["get_time"])],
    ids=["auto", "required", "none", "named"],
)
def test_tool_choice(profile, mock, stream, tool_choice, expected):
    if tool_choice == "none" and not profile.tool_choice_none:
        with pytest.raises(litellm.UnsupportedParamsError):
            call(profile, mock, stream, tools=TOOLS, tool_choice=tool_choice)
        return
    r = call(profile, mock, stream, tools=TOOLS, tool_choice=tool_choice)
    calls = r.choices[0].message.tool_calls or []
    names = [c.function.name for c in calls]
    if expected is None:  # required: at least one call, whichever the model picks
        assert names
    else:
        assert names == expected
    if names:
        assert r.choices[0].finish_reason == "tool_calls"
        for c in calls:
            assert c.id and isinstance(json.loads(c.function.arguments), dict)
    else:
        assert r.choices[0].message.content


def test_streamed_tool_arguments_arrive_delta_by_delta(profile, mock):
    chunks = list(litellm.completion(model=profile.model, messages=USER, tools=TOOLS, stream=True,
                                     **profile.params(mock)))
    pieces: dict[int, list[str]] = {}
    for chunk in chunks:
        for tc in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            if tc.function and tc.function.arguments:
                pieces.setdefault(tc.index, []).append(tc.function.arguments)
    assert sorted(pieces) == [0, 1]
    if profile.streams_tool_arguments:
        assert all(len(p) >= 2 for p in pieces.values()), pieces
    assert set(json.loads("".join(pieces[0]))) == {"location"}


def test_tool_results_sent_back(profile, mock, stream):
    first = call(profile, mock, False, tools=TOOLS)
    message = first.choices[0].message
    results = [{"role": "tool", "tool_call_id": c.id, "content": "sunny"} for c in message.tool_calls]
    messages = [*USER, message.model_dump(), *results]
    r = call(profile, mock, stream, messages=messages, tools=TOOLS)
    assert r.choices[0].message.content
    assert r.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("kind", ["base64", "url"])
def test_images(profile, mock, stream, image_url, kind):
    url = f"data:image/png;base64,{PNG_B64}" if kind == "base64" else image_url
    messages = [{"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                             {"type": "image_url", "image_url": {"url": url}}]}]
    r = call(profile, mock, stream, messages=messages)
    assert r.choices[0].message.content
    if kind == "url" and profile.inlines_image_urls:
        assert PNG_B64 in json.dumps(mock.last_request()["body"])


def test_response_format(profile, mock, stream):
    r = call(profile, mock, stream, response_format={"type": "json_object"})
    if profile.json_object_mode:
        assert isinstance(json.loads(r.choices[0].message.content), dict)
    else:
        assert r.choices[0].message.content
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
              "additionalProperties": False}
    r = call(profile, mock, stream,
             response_format={"type": "json_schema", "json_schema": {"name": "place", "schema": schema, "strict": True}})
    assert set(json.loads(r.choices[0].message.content)) == {"city"}


@pytest.mark.parametrize("how", ["reasoning_effort", "thinking"])
def test_reasoning_and_round_trip(profile, mock, stream, how):
    if not profile.reasoning:
        pytest.skip(f"{profile.name}: the mock model does not reason")
    knob = ({"reasoning_effort": "low"} if how == "reasoning_effort"
            else {"thinking": {"type": "enabled", "budget_tokens": 2048}})
    first = call(profile, mock, stream, tools=TOOLS[:1], **knob)
    message = first.choices[0].message
    assert message.reasoning_content
    call_ = message.tool_calls[0]
    assistant = {"role": "assistant", "content": message.content, "tool_calls": [call_.model_dump()]}
    if profile.signature_in == "thinking_blocks":
        assert message.thinking_blocks and message.thinking_blocks[0].get("signature")
        assistant["thinking_blocks"] = message.thinking_blocks
    messages = [*USER, assistant, {"role": "tool", "tool_call_id": call_.id, "content": "sunny"}]
    second = call(profile, mock, stream, messages=messages, tools=TOOLS[:1], **knob)
    assert second.choices[0].message.content
    # The signature went back upstream.
    sent = json.dumps(mock.last_request()["body"])
    if profile.signature_in == "thinking_blocks":
        assert message.thinking_blocks[0]["signature"] in sent
    else:
        assert f'"{profile.signature_in}"' in sent


def test_cache_control_passes_and_usage_maps(profile, mock, stream):
    messages = [{"role": "system", "content": [{"type": "text", "text": "policy " * 100,
                                                "cache_control": {"type": "ephemeral"}}]}, *USER]
    r = call(profile, mock, stream, messages=messages)
    assert r.choices[0].message.content
    assert r.usage.prompt_tokens > 0


@pytest.mark.parametrize("status", [429, 401, 400, 503, 529])
def test_errors_map_to_litellm_classes(profile, mock, status):
    expected = profile.errors.get(status)
    if expected is None:
        pytest.skip(f"{profile.name}: status {status} is not one of its documented errors")
    with pytest.raises(expected):
        litellm.completion(model=profile.model, messages=USER,
                           extra_headers={"x-mock-status": str(status), "x-mock-retry-after": "0"},
                           **profile.params(mock))


def test_context_window_error(profile, mock):
    with pytest.raises(litellm.ContextWindowExceededError):
        litellm.completion(model=profile.model, messages=USER,
                           extra_headers={"x-mock-status": "400",
                                          "x-mock-error-message": "prompt is too long: 250000 tokens > 200000 maximum"},
                           **profile.params(mock))


def test_error_mid_stream(profile, mock):
    with pytest.raises(profile.mid_stream_error):
        list(litellm.completion(model=profile.model, messages=USER, stream=True,
                                extra_headers={"x-mock-error-after": "3"}, **profile.params(mock)))
