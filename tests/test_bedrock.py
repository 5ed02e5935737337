"""AWS Bedrock through the mock upstream (Converse, ConverseStream, InvokeModel), whole and
streamed: the Providers I scenario suite. The mock verifies every SigV4 signature with the
credentials below (its documented defaults)."""

from __future__ import annotations

import base64
import http.server
import json
import threading

import pytest
from conftest import USER

import llmrelay as litellm

MODEL = "bedrock/us.anthropic.claude-3-5-sonnet-20240620-v1:0"
THINKING_MODEL = "bedrock/converse/us.anthropic.claude-3-7-sonnet-20250219-v1:0"
ACCESS_KEY = "AKIDLLMRELAYMOCK"
SECRET_KEY = "llmrelay-mock-secret-key"
API_KEY = "llmrelay-mock-bedrock-api-key"

TOOLS = [
    {"type": "function", "function": {
        "name": "get_weather", "description": "Weather by city", "parameters": {
            "type": "object", "properties": {"location": {"type": "string"}},
            "required": ["location"]}}},
    {"type": "function", "function": {"name": "get_time", "parameters": {
        "type": "object", "properties": {"tz": {"type": "string"}}}}},
]
PNG = b"\x89PNG\r\n\x1a\n" + b"llmrelay-test-image"


def params(mock, **extra):
    return {"api_base": mock.url, "aws_access_key_id": ACCESS_KEY,
            "aws_secret_access_key": SECRET_KEY, "aws_region_name": "us-east-1",
            "num_retries": 0, **extra}


def deltas(chunks, field):
    return [getattr(c.choices[0].delta, field, None) for c in chunks
            if c.choices and getattr(c.choices[0].delta, field, None)]


@pytest.mark.parametrize("stream", [False, True])
def test_plain_chat_system_and_merged_turns(mock, stream):
    r = litellm.completion(
        model=MODEL, stream=stream,
        messages=[{"role": "system", "content": "be brief"}, *USER, *USER], **params(mock))
    if stream:
        chunks = list(r)
        assert chunks[0].choices[0].delta.role == "assistant"
        r = litellm.stream_chunk_builder(chunks, messages=USER)
    assert r.choices[0].message.content.startswith("This is a mock")
    assert r.choices[0].finish_reason == "stop"
    sent = mock.last_request()
    suffix = "converse-stream" if stream else "converse"
    assert sent["path"] == f"/model/us.anthropic.claude-3-5-sonnet-20240620-v1%3A0/{suffix}"
    assert "/us-east-1/bedrock/aws4_request" in sent["headers"]["authorization"]
    body = sent["body"]
    assert body["system"] == [{"text": "be brief"}]
    # The mock rejects non-alternating roles as Bedrock does: the two user turns were merged.
    assert [m["role"] for m in body["messages"]] == ["user"]
    assert body["messages"][0]["content"] == [{"text": "Hello there"}, {"text": "Hello there"}]
    if not stream:
        assert r._hidden_params["custom_llm_provider"] == "bedrock"
        assert r._hidden_params["response_cost"] > 0
        assert r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0


def test_bare_inference_profile_id_routes_to_bedrock(mock):
    r = litellm.completion(model="us.anthropic.claude-3-5-sonnet-20240620-v1:0", messages=USER,
                           **params(mock))
    assert r._hidden_params["custom_llm_provider"] == "bedrock"


def test_stop_sequences_and_max_tokens(mock):
    r = litellm.completion(model=MODEL, messages=USER, stop=["END"], temperature=0.2, top_p=0.9,
                           extra_headers={"x-mock-content": "Hello END world"}, **params(mock))
    assert r.choices[0].message.content == "Hello "
    assert r.choices[0].finish_reason == "stop"
    assert mock.last_request()["body"]["inferenceConfig"] == {
        "temperature": 0.2, "topP": 0.9, "stopSequences": ["END"]}
    r = litellm.completion(model=MODEL, messages=USER, max_tokens=2, **params(mock))
    assert r.choices[0].finish_reason == "length"
    assert mock.last_request()["body"]["inferenceConfig"]["maxTokens"] == 2


@pytest.mark.parametrize("stream", [False, True])
def test_parallel_tool_calls_and_streamed_arguments(mock, stream):
    r = litellm.completion(model=MODEL, messages=USER, tools=TOOLS, tool_choice="auto",
                           stream=stream, **params(mock))
    if stream:
        chunks = list(r)
        pieces = [(tc.index, tc.function.arguments)
                  for calls in deltas(chunks, "tool_calls") for tc in calls]
        assert len([p for p in pieces if p[0] == 0]) >= 3  # argument deltas stream one by one
        r = litellm.stream_chunk_builder(chunks, messages=USER)
    calls = r.choices[0].message.tool_calls
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]
    assert json.loads(calls[0].function.arguments) == {"location": "mock"}
    assert calls[0].id.startswith("tooluse_")
    assert r.choices[0].finish_reason == "tool_calls"
    tool_config = mock.last_request()["body"]["toolConfig"]
    assert tool_config["toolChoice"] == {"auto": {}}
    assert tool_config["tools"][0]["toolSpec"] == {
        "name": "get_weather", "description": "Weather by city",
        "inputSchema": {"json": TOOLS[0]["function"]["parameters"]}}


def test_tool_choice_required_named_none_and_parallel_off(mock):
    r = litellm.completion(model=MODEL, messages=USER, tools=TOOLS, tool_choice="required",
                           **params(mock))
    assert mock.last_request()["body"]["toolConfig"]["toolChoice"] == {"any": {}}
    assert r.choices[0].message.content is None  # forced use: calls only
    named = {"type": "function", "function": {"name": "get_time"}}
    r = litellm.completion(model=MODEL, messages=USER, tools=TOOLS, tool_choice=named,
                           **params(mock))
    assert mock.last_request()["body"]["toolConfig"]["toolChoice"] == {"tool": {"name": "get_time"}}
    assert [c.function.name for c in r.choices[0].message.tool_calls] == ["get_time"]
    with pytest.raises(litellm.UnsupportedParamsError):
        litellm.completion(model=MODEL, messages=USER, tools=TOOLS, tool_choice="none",
                           **params(mock))
    litellm.completion(model=MODEL, messages=USER, tools=TOOLS, tool_choice="none",
                       drop_params=True, **params(mock))
    assert "toolChoice" not in mock.last_request()["body"]["toolConfig"]
    r = litellm.completion(model=MODEL, messages=USER, tools=TOOLS, parallel_tool_calls=False,
                           **params(mock))
    assert len(r.choices[0].message.tool_calls) == 1
    assert mock.last_request()["body"]["additionalModelRequestFields"]["tool_choice"] == {
        "type": "auto", "disable_parallel_tool_use": True}


def test_tool_results_sent_back(mock):
    first = litellm.completion(model=MODEL, messages=USER, tools=TOOLS, **params(mock))
    calls = first.choices[0].message.tool_calls
    messages = [*USER, first.choices[0].message.model_dump(),
                *({"role": "tool", "tool_call_id": c.id, "content": f"result {i}"}
                  for i, c in enumerate(calls))]
    second = litellm.completion(model=MODEL, messages=messages, tools=TOOLS, **params(mock))
    assert second.choices[0].finish_reason == "stop"
    sent = mock.last_request()["body"]["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[1]["content"][0] == {"text": "I'll check that."}
    assert sent[1]["content"][1]["toolUse"]["toolUseId"] == calls[0].id
    assert sent[1]["content"][1]["toolUse"]["input"] == {"location": "mock"}
    assert sent[2]["content"] == [
        {"toolResult": {"toolUseId": calls[0].id, "content": [{"text": "result 0"}]}},
        {"toolResult": {"toolUseId": calls[1].id, "content": [{"text": "result 1"}]}}]


class _ImageHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.send_response(200)
        self.send_header("content-type", "image/png")
        self.send_header("content-length", str(len(PNG)))
        self.end_headers()
        self.wfile.write(PNG)

    def log_message(self, *args):
        pass


@pytest.fixture
def image_url():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ImageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/cat"
    server.shutdown()
    server.server_close()


def test_images_base64_and_url(mock, image_url):
    data_url = "data:image/jpeg;base64," + base64.b64encode(b"jpeg-bytes").decode()
    litellm.completion(model=MODEL, messages=[{"role": "user", "content": [
        {"type": "text", "text": "compare"},
        {"type": "image_url", "image_url": {"url": data_url}},
        {"type": "image_url", "image_url": image_url}]}], **params(mock))
    content = mock.last_request()["body"]["messages"][0]["content"]
    encoded = base64.b64encode(b"jpeg-bytes").decode()
    assert content[1] == {"image": {"format": "jpeg", "source": {"bytes": encoded}}}
    assert content[2]["image"]["format"] == "png"
    assert base64.b64decode(content[2]["image"]["source"]["bytes"]) == PNG


def test_unreachable_image_url_is_a_bad_request(mock):
    with pytest.raises(litellm.BadRequestError):
        litellm.completion(model=MODEL, messages=[{"role": "user", "content": [
            {"type": "image_url", "image_url": "http://127.0.0.1:9/none.png"}]}], **params(mock))
    assert mock.requests() == []


@pytest.mark.parametrize("stream", [False, True])
def test_response_format_json_schema(mock, stream):
    schema = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    response_format = {"type": "json_schema", "json_schema": {"name": "person", "schema": schema}}
    r = litellm.completion(model=MODEL, messages=USER, stream=stream, **params(mock),
                           response_format=response_format)
    if stream:
        r = litellm.stream_chunk_builder(list(r), messages=USER)
    assert json.loads(r.choices[0].message.content) == {"name": "mock"}
    assert not r.choices[0].message.tool_calls
    assert r.choices[0].finish_reason == "stop"
    tool_config = mock.last_request()["body"]["toolConfig"]
    assert tool_config["tools"][0]["toolSpec"]["name"] == "json_tool_call"
    assert tool_config["tools"][0]["toolSpec"]["inputSchema"] == {"json": schema}
    assert tool_config["toolChoice"] == {"tool": {"name": "json_tool_call"}}


def test_response_format_json_object(mock):
    r = litellm.completion(model=MODEL, messages=USER, response_format={"type": "json_object"},
                           extra_headers={"x-mock-content": '{"ok": true}'}, **params(mock))
    assert json.loads(r.choices[0].message.content) == {"ok": True}
    assert "toolConfig" not in mock.last_request()["body"]


@pytest.mark.parametrize("stream", [False, True])
def test_reasoning_effort_and_thinking_blocks(mock, stream):
    r = litellm.completion(model=THINKING_MODEL, messages=USER, reasoning_effort="medium",
                           stream=stream, extra_headers={"x-mock-redacted-thinking": "1"},
                           **params(mock))
    if stream:
        chunks = list(r)
        assert "".join(deltas(chunks, "reasoning_content")).startswith("Let me think")
        r = litellm.stream_chunk_builder(chunks, messages=USER)
    blocks = r.choices[0].message.thinking_blocks
    assert blocks[0]["signature"] and blocks[0]["thinking"].startswith("Let me think")
    assert blocks[1]["type"] == "redacted_thinking"
    assert r.choices[0].message.reasoning_content.startswith("Let me think")
    body = mock.last_request()["body"]
    thinking = body["additionalModelRequestFields"]["thinking"]
    assert thinking == {"type": "enabled", "budget_tokens": 2048}
    assert body["inferenceConfig"]["maxTokens"] == 2048 + 4096
    path = mock.last_request()["path"]
    assert path.startswith("/model/us.anthropic.claude-3-7-sonnet-20250219-v1%3A0/")


def test_explicit_thinking_budget(mock):
    litellm.completion(model=THINKING_MODEL, messages=USER, max_tokens=5000,
                       thinking={"type": "enabled", "budget_tokens": 3000}, **params(mock))
    body = mock.last_request()["body"]
    thinking = body["additionalModelRequestFields"]["thinking"]
    assert thinking == {"type": "enabled", "budget_tokens": 3000}
    assert body["inferenceConfig"]["maxTokens"] == 5000


def test_thinking_round_trip_with_tool_calls(mock):
    first = litellm.completion(model=THINKING_MODEL, messages=USER, tools=TOOLS[:1],
                               reasoning_effort="low", **params(mock))
    message = first.choices[0].message
    signature = message.thinking_blocks[0]["signature"]
    assert message.tool_calls
    second = litellm.completion(
        model=THINKING_MODEL, tools=TOOLS[:1], reasoning_effort="low", **params(mock),
        messages=[*USER, {"role": "assistant", "content": message.content,
                          "tool_calls": [c.model_dump() for c in message.tool_calls],
                          "thinking_blocks": message.thinking_blocks},
                  {"role": "tool", "tool_call_id": message.tool_calls[0].id, "content": "sunny"}])
    assert second.choices[0].message.content
    sent = mock.last_request()["body"]["messages"][1]["content"]
    assert sent[0] == {"reasoningContent": {"reasoningText": {
        "text": message.thinking_blocks[0]["thinking"], "signature": signature}}}
    assert "toolUse" in sent[-1]


def test_prompt_caching_usage_and_cost(mock):
    messages = [{"role": "system", "content": [{"type": "text", "text": "long context " * 50,
                                                 "cache_control": {"type": "ephemeral"}}]},
                {"role": "user", "content": "question", "cache_control": {"type": "ephemeral"}}]
    tools = [{**TOOLS[0], "cache_control": {"type": "ephemeral"}}]
    r = litellm.completion(model=MODEL, messages=messages, tools=tools, tool_choice="auto",
                           extra_headers={"x-mock-cache-read-tokens": "400",
                                          "x-mock-cache-creation-tokens": "50",
                                          "x-mock-prompt-tokens": "100",
                                          "x-mock-completion-tokens": "20"},
                           **params(mock))
    body = mock.last_request()["body"]
    assert body["system"][1] == {"cachePoint": {"type": "default"}}
    assert body["messages"][0]["content"][-1] == {"cachePoint": {"type": "default"}}
    assert body["toolConfig"]["tools"][1] == {"cachePoint": {"type": "default"}}
    assert r.usage.prompt_tokens == 550
    assert r.usage.prompt_tokens_details.cached_tokens == 400
    assert r.usage.prompt_tokens_details.cache_creation_tokens == 50
    # Claude 3.5 Sonnet on Bedrock: input 3e-06, cache read 3e-07, cache write 3.75e-06,
    # output 1.5e-05
    expected = 100 * 3e-06 + 400 * 3e-07 + 50 * 3.75e-06 + 20 * 1.5e-05
    assert r._hidden_params["response_cost"] == pytest.approx(expected, rel=1e-9)


def test_stream_usage_chunk(mock):
    chunks = list(litellm.completion(model=MODEL, messages=USER, stream=True,
                                     stream_options={"include_usage": True}, **params(mock)))
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    chunks = list(litellm.completion(model=MODEL, messages=USER, stream=True, **params(mock)))
    assert all(c.choices for c in chunks)


@pytest.mark.parametrize("stream", [False, True])
def test_guardrail_intervention_is_content_filter(mock, stream):
    guardrail = {"guardrailIdentifier": "mock-intervene", "guardrailVersion": "1",
                 "trace": "enabled"}
    r = litellm.completion(model=MODEL, messages=USER, guardrailConfig=guardrail, stream=stream,
                           **params(mock))
    if stream:
        r = litellm.stream_chunk_builder(list(r), messages=USER)
    assert r.choices[0].finish_reason == "content_filter"
    assert mock.last_request()["body"]["guardrailConfig"] == guardrail


def test_passthrough_converse_fields(mock):
    litellm.completion(model=MODEL, messages=USER, performanceConfig={"latency": "optimized"},
                       additionalModelRequestFields={"top_k": 5}, **params(mock))
    body = mock.last_request()["body"]
    assert body["performanceConfig"] == {"latency": "optimized"}
    assert body["additionalModelRequestFields"] == {"top_k": 5}


@pytest.mark.parametrize(("status", "message", "cls"), [
    (429, None, "RateLimitError"),
    (503, None, "ServiceUnavailableError"),
    (500, None, "ServiceUnavailableError"),
    (400, None, "BadRequestError"),
    (400, "Input is too long for requested model.", "ContextWindowExceededError"),
    (400, "The request was blocked by our content policy.", "ContentPolicyViolationError"),
    (403, None, "PermissionDeniedError"),
    (404, None, "NotFoundError"),
])
def test_errors(mock, status, message, cls):
    headers = {"x-mock-status": str(status)}
    if message:
        headers["x-mock-error-message"] = message
    with pytest.raises(getattr(litellm, cls)) as info:
        litellm.completion(model=MODEL, messages=USER, extra_headers=headers, **params(mock))
    assert "BedrockException" in str(info.value)


def test_bad_signature_and_missing_credentials(mock):
    with pytest.raises(litellm.AuthenticationError) as info:
        litellm.completion(model=MODEL, messages=USER,
                           **{**params(mock), "aws_secret_access_key": "wrong"})
    assert "signature we calculated does not match" in str(info.value)
    with pytest.raises(litellm.AuthenticationError):
        litellm.completion(model=MODEL, messages=USER,
                           **{**params(mock), "aws_access_key_id": "AKIDUNKNOWN"})
    recorded = len(mock.requests())
    with pytest.raises(litellm.AuthenticationError):
        litellm.completion(model=MODEL, messages=USER, api_base=mock.url,
                           aws_profile_name="llmrelay-absent")
    assert len(mock.requests()) == recorded  # failed before any request


def test_bedrock_api_key_bearer(mock):
    r = litellm.completion(model=MODEL, messages=USER, api_base=mock.url, api_key=API_KEY,
                           aws_region_name="us-east-1")
    assert r.choices[0].message.content
    assert mock.last_request()["headers"]["authorization"] == f"Bearer {API_KEY}"


def test_session_token_signed(mock):
    litellm.completion(model=MODEL, messages=USER, aws_session_token="tok-1", **params(mock))
    sent = mock.last_request()["headers"]
    assert sent["x-amz-security-token"] == "tok-1"
    assert "x-amz-security-token" in sent["authorization"]


@pytest.mark.parametrize(("kind", "cls"), [("throttlingException", "RateLimitError"),
                                           ("internalServerException", "ServiceUnavailableError"),
                                           ("validationException", "BadRequestError")])
def test_exception_frame_mid_stream(mock, kind, cls):
    headers = {"x-mock-error-after": "3", "x-mock-error-type": kind}
    stream = litellm.completion(model=MODEL, messages=USER, stream=True, extra_headers=headers,
                                **params(mock))
    received = []
    with pytest.raises(getattr(litellm, cls)):
        for chunk in stream:
            received.append(chunk)
    assert received  # the chunks before the exception arrived


def test_scripted_stream_with_redacted_reasoning_and_tool(mock):
    mock.script({"path": "/converse-stream", "aws_event_stream": [
        {"event": "messageStart", "data": {"role": "assistant"}},
        {"event": "contentBlockDelta", "data": {"contentBlockIndex": 0, "delta": {
            "reasoningContent": {"redactedContent": "c2VjcmV0"}}}},
        {"event": "contentBlockStop", "data": {"contentBlockIndex": 0}},
        {"event": "contentBlockStart", "data": {"contentBlockIndex": 1, "start": {
            "toolUse": {"toolUseId": "tooluse_s", "name": "get_weather"}}}},
        {"event": "contentBlockDelta", "data": {"contentBlockIndex": 1, "delta": {
            "toolUse": {"input": "{\"location\""}}}},
        {"event": "contentBlockDelta", "data": {"contentBlockIndex": 1, "delta": {
            "toolUse": {"input": ": \"Oslo\"}"}}}},
        {"event": "contentBlockStop", "data": {"contentBlockIndex": 1}},
        {"event": "messageStop", "data": {"stopReason": "tool_use"}},
        {"event": "metadata", "data": {
            "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15},
            "metrics": {"latencyMs": 1}}},
    ]})
    chunks = list(litellm.completion(model=MODEL, messages=USER, tools=TOOLS, stream=True,
                                     **params(mock)))
    blocks = [b for found in deltas(chunks, "thinking_blocks") for b in found]
    assert blocks == [{"type": "redacted_thinking", "data": "c2VjcmV0"}]
    r = litellm.stream_chunk_builder(chunks, messages=USER)
    assert json.loads(r.choices[0].message.tool_calls[0].function.arguments) == {"location": "Oslo"}
    assert r.choices[0].finish_reason == "tool_calls"


def test_scripted_mid_stream_model_stream_error(mock):
    mock.script({"path": "/converse-stream", "aws_event_stream": [
        {"event": "messageStart", "data": {"role": "assistant"}},
        {"event": "contentBlockDelta", "data": {
            "contentBlockIndex": 0, "delta": {"text": "partial"}}},
        {"exception": "modelStreamErrorException", "data": {
            "message": "model failed", "originalStatusCode": 500}},
    ]})
    stream = litellm.completion(model=MODEL, messages=USER, stream=True, **params(mock))
    with pytest.raises(litellm.APIError) as info:
        list(stream)
    assert "modelStreamErrorException" in str(info.value)


def test_titan_embeddings(mock):
    r = litellm.embedding(model="bedrock/amazon.titan-embed-text-v2:0", input=["hello", "world"],
                          dimensions=256, **params(mock))
    assert [d["index"] for d in r.data] == [0, 1]
    assert len(r.data[0]["embedding"]) == 256
    assert r.usage.prompt_tokens == 4
    sent = mock.requests()
    assert len(sent) == 2  # Titan takes one text per request (sent concurrently: any order)
    assert {s["path"] for s in sent} == {"/model/amazon.titan-embed-text-v2%3A0/invoke"}
    assert sorted((s["body"] for s in sent), key=str) == [
        {"inputText": "hello", "dimensions": 256}, {"inputText": "world", "dimensions": 256}]
    assert r._hidden_params["response_cost"] > 0


def test_cohere_embeddings(mock):
    r = litellm.embedding(model="bedrock/cohere.embed-english-v3", input=["a", "b"], **params(mock))
    assert len(r.data) == 2
    assert mock.last_request()["body"] == {"texts": ["a", "b"], "input_type": "search_document"}
    litellm.embedding(model="bedrock/cohere.embed-english-v3", input="x", input_type="search_query",
                      embedding_types=["float"], **params(mock))
    assert mock.last_request()["body"] == {
        "texts": ["x"], "input_type": "search_query", "embedding_types": ["float"]}


def test_supported_params():
    supported = litellm.get_supported_openai_params(
        "us.anthropic.claude-3-7-sonnet-20250219-v1:0", "bedrock")
    assert "tools" in supported and "reasoning_effort" in supported
    assert "logit_bias" not in supported


async def test_async_stream_and_embedding(mock):
    stream = await litellm.acompletion(model=MODEL, messages=USER, stream=True, **params(mock))
    chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("This is a mock")
    r = await litellm.aembedding(model="bedrock/amazon.titan-embed-text-v1", input=["a", "b", "c"],
                                 **params(mock))
    assert [d["index"] for d in r.data] == [0, 1, 2]
    assert len(mock.requests()) == 4
