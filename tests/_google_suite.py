"""Scenario suite shared by the Gemini API (test_gemini.py) and Vertex AI (test_vertex.py) tests: each
scenario runs whole and streamed through the mock upstream's Google dialect."""

from __future__ import annotations

import base64
import http.server
import json
import threading
from pathlib import Path

import pytest
from conftest import USER

import llmrelay as litellm

FIXTURES = Path(__file__).resolve().parents[1] / "rust/llmrelay-providers/tests/fixtures/gemini"

TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Weather of a city", "parameters": {
        "$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "additionalProperties": False,
        "properties": {"location": {"type": "string", "title": "Location"},
                       "unit": {"anyOf": [{"type": "string", "enum": ["c", "f"]}, {"type": "null"}], "default": None}},
        "required": ["location"]}}},
    {"type": "function", "function": {"name": "get_time", "parameters": {
        "type": "object", "properties": {"tz": {"$ref": "#/$defs/Tz"}}, "$defs": {"Tz": {"type": "string"}}}}},
    # LiteLLM issue #18442: an MCP tool with empty parameters.
    {"type": "function", "function": {"name": "list_servers", "parameters": {"type": "object", "properties": {}}}},
]

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg==")


def service_account(mock) -> dict:
    account = json.loads((FIXTURES / "test_service_account.json").read_text())
    account["token_uri"] = mock.url + "/token"
    return account


class Target:
    """Where a scenario runs: the Gemini API or Vertex AI."""

    def __init__(self, provider: str) -> None:
        self.provider = provider

    def model(self, name: str = "gemini-2.5-flash") -> str:
        return f"{self.provider}/{name}"

    def params(self, mock, **extra):
        if self.provider == "gemini":
            return {"api_base": mock.url, "api_key": "gk-test", "num_retries": 0, **extra}
        return {"api_base": mock.url, "vertex_project": "llmrelay-test-project", "vertex_location": "us-central1",
                "vertex_credentials": service_account(mock), "num_retries": 0, **extra}

    def path(self, model: str, method: str) -> str:
        if self.provider == "gemini":
            return f"/v1beta/models/{model}:{method}"
        return (f"/v1/projects/llmrelay-test-project/locations/us-central1/publishers/google/models/"
                f"{model}:{method}")

    def call(self, mock, stream: bool, model: str = "gemini-2.5-flash", messages=USER, **kwargs):
        response = litellm.completion(model=self.model(model), messages=messages, stream=stream,
                                      **self.params(mock, **kwargs))
        if stream:
            chunks = list(response)
            return litellm.stream_chunk_builder(chunks, messages=messages), chunks
        return response, None

    def generate_requests(self, mock) -> list[dict]:
        return [r for r in mock.requests() if ":generateContent" in r["path"] or ":streamGenerateContent" in r["path"]]

    def sent(self, mock) -> dict:
        return self.generate_requests(mock)[-1]


STREAM = pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])


@STREAM
def test_plain_chat_system_and_merging(mock, target, stream):
    r, _ = target.call(mock, stream, messages=[{"role": "system", "content": "be brief"}, *USER, *USER,
                                                {"role": "assistant", "content": "Hi"}, *USER])
    assert r.choices[0].message.content
    assert r.choices[0].finish_reason == "stop"
    sent = target.sent(mock)
    method = "streamGenerateContent" if stream else "generateContent"
    assert sent["path"] == target.path("gemini-2.5-flash", method)
    if stream:
        assert sent["query"] == "alt=sse"
    body = sent["body"]
    assert body["systemInstruction"] == {"parts": [{"text": "be brief"}]}
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    assert len(body["contents"][0]["parts"]) == 2
    assert "model" not in body
    assert r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0


def test_auth_headers(mock, target):
    target.call(mock, False)
    headers = target.sent(mock)["headers"]
    if target.provider == "gemini":
        assert headers["x-goog-api-key"] == "gk-test"
    else:
        assert headers["authorization"].startswith("Bearer ya29.mock-")


@STREAM
def test_stop_and_max_tokens(mock, target, stream):
    # `seed` is on LiteLLM's Vertex list only (the Gemini API one rejects it).
    seed = {"seed": 7} if target.provider == "vertex_ai" else {}
    r, _ = target.call(mock, stream, stop=["END"], max_tokens=3, temperature=0.2, top_p=0.9, n=1, **seed,
                       presence_penalty=0.1, frequency_penalty=0.2, extra_headers={"x-mock-content": "a long answer " * 20})
    config = target.sent(mock)["body"]["generationConfig"]
    assert config["stopSequences"] == ["END"]
    assert config["maxOutputTokens"] == 3
    assert config["temperature"] == 0.2 and config["topP"] == 0.9 and config.get("seed") == seed.get("seed")
    assert config["candidateCount"] == 1
    assert config["presencePenalty"] == 0.1 and config["frequencyPenalty"] == 0.2
    assert r.choices[0].finish_reason == "length"
    r, _ = target.call(mock, stream, stop="END", extra_headers={"x-mock-content": "first END second"})
    assert r.choices[0].message.content == "first "


@STREAM
@pytest.mark.parametrize(("choice", "mode", "calls"), [
    ("auto", "AUTO", 3), ("none", "NONE", 0), ("required", "ANY", 3),
    ({"type": "function", "function": {"name": "get_time"}}, "ANY", 1)])
def test_tools_and_tool_choice(mock, target, stream, choice, mode, calls):
    r, _ = target.call(mock, stream, tools=TOOLS, tool_choice=choice)
    body = target.sent(mock)["body"]
    assert body["toolConfig"]["functionCallingConfig"]["mode"] == mode
    declarations = body["tools"][0]["functionDeclarations"]
    weather = declarations[0]["parameters"]
    assert "$schema" not in weather and "additionalProperties" not in weather
    assert weather["properties"]["unit"] == {"type": "string", "enum": ["c", "f"], "nullable": True}
    assert declarations[1]["parameters"]["properties"]["tz"] == {"type": "string"}
    assert "parameters" not in declarations[2]
    tool_calls = r.choices[0].message.tool_calls or []
    assert len(tool_calls) == calls
    if calls:
        assert r.choices[0].finish_reason == "tool_calls"
        assert json.loads(tool_calls[0].function.arguments)
    if isinstance(choice, dict):
        assert body["toolConfig"]["functionCallingConfig"]["allowedFunctionNames"] == ["get_time"]
        assert tool_calls[0].function.name == "get_time"


@STREAM
def test_tool_results_sent_back(mock, target, stream):
    r, _ = target.call(mock, False, tools=TOOLS, tool_choice="required")
    calls = r.choices[0].message.tool_calls
    messages = [*USER, {"role": "assistant", "content": None, "tool_calls": [c.model_dump() for c in calls]},
                *[{"role": "tool", "tool_call_id": c.id, "content": json.dumps({"ok": c.function.name})} for c in calls]]
    r2, _ = target.call(mock, stream, messages=messages, tools=TOOLS)
    assert r2.choices[0].message.content
    contents = target.sent(mock)["body"]["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    responses = [p["functionResponse"] for p in contents[2]["parts"]]
    assert [p["name"] for p in responses] == [c.function.name for c in calls]
    assert responses[0]["response"] == {"ok": calls[0].function.name}


@pytest.fixture(scope="module")
def image_server():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("content-type", "image/png")
            self.send_header("content-length", str(len(PNG)))
            self.end_headers()
            self.wfile.write(PNG)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/cat.png"
    server.shutdown()
    server.server_close()


@STREAM
def test_images_base64_and_url(mock, target, stream, image_server):
    data_url = "data:image/jpeg;base64," + base64.b64encode(b"jpegbytes").decode()
    messages = [{"role": "user", "content": [
        {"type": "text", "text": "What are these?"},
        {"type": "image_url", "image_url": {"url": data_url}},
        {"type": "image_url", "image_url": image_server}]}]
    r, _ = target.call(mock, stream, messages=messages)
    assert r.choices[0].message.content
    parts = target.sent(mock)["body"]["contents"][0]["parts"]
    assert parts[1] == {"inlineData": {"mimeType": "image/jpeg", "data": base64.b64encode(b"jpegbytes").decode()}}
    assert parts[2] == {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(PNG).decode()}}


@STREAM
def test_response_format(mock, target, stream):
    r, _ = target.call(mock, stream, response_format={"type": "json_object"})
    assert target.sent(mock)["body"]["generationConfig"]["responseMimeType"] == "application/json"
    assert json.loads(r.choices[0].message.content)
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
              "required": ["city"], "additionalProperties": False}
    r, _ = target.call(mock, stream, response_format={"type": "json_schema", "json_schema": {
        "name": "trip", "schema": schema, "strict": True}})
    config = target.sent(mock)["body"]["generationConfig"]
    assert config["responseJsonSchema"] == schema
    assert set(json.loads(r.choices[0].message.content)) == {"city", "days"}
    target.call(mock, stream, model="gemini-1.5-pro", response_format={"type": "json_schema", "json_schema": {
        "name": "trip", "schema": schema}})
    config = target.sent(mock)["body"]["generationConfig"]
    assert "additionalProperties" not in config["responseSchema"]
    assert config["responseSchema"]["propertyOrdering"] == ["city", "days"]


@STREAM
def test_reasoning_effort_and_thinking(mock, target, stream):
    r, _ = target.call(mock, stream, reasoning_effort="low")
    assert target.sent(mock)["body"]["generationConfig"]["thinkingConfig"] == {
        "thinkingBudget": 1024, "includeThoughts": True}
    assert r.choices[0].message.reasoning_content
    assert r.usage.completion_tokens_details.reasoning_tokens > 0
    r, _ = target.call(mock, stream, thinking={"type": "enabled", "budget_tokens": 2048})
    assert target.sent(mock)["body"]["generationConfig"]["thinkingConfig"] == {
        "includeThoughts": True, "thinkingBudget": 2048}
    target.call(mock, stream, model="gemini-3-pro-preview", reasoning_effort="high")
    assert target.sent(mock)["body"]["generationConfig"]["thinkingConfig"] == {
        "thinkingLevel": "high", "includeThoughts": True}


@STREAM
def test_signatures_round_trip_with_tool_calls(mock, target, stream):
    # Gemini 3 rejects function calls echoed without their thought signature (the mock too).
    r, _ = target.call(mock, stream, model="gemini-3-pro-preview", tools=TOOLS[:1], reasoning_effort="low")
    call = r.choices[0].message.tool_calls[0]
    assert "__thought__" in call.id
    signature = call.id.split("__thought__", 1)[1]
    messages = [*USER, {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
                {"role": "tool", "tool_call_id": call.id, "content": "sunny"}]
    r2, _ = target.call(mock, stream, model="gemini-3-pro-preview", messages=messages, tools=TOOLS[:1])
    assert r2.choices[0].message.content
    model_turn = target.sent(mock)["body"]["contents"][1]["parts"][0]
    assert model_turn["thoughtSignature"] == signature
    assert model_turn["functionCall"]["id"] == call.id.split("__thought__")[0]


@STREAM
def test_prompt_caching_usage_and_cost(mock, target, stream):
    messages = [{"role": "system", "content": [{"type": "text", "text": "long context " * 50,
                                                "cache_control": {"type": "ephemeral"}}]}, *USER]
    r, _ = target.call(mock, stream, messages=messages, stream_options={"include_usage": True} if stream else None,
                       extra_headers={"x-mock-prompt-tokens": "1000", "x-mock-completion-tokens": "10",
                                      "x-mock-cache-read-tokens": "800"})
    assert r.usage.prompt_tokens == 1000
    assert r.usage.prompt_tokens_details.cached_tokens == 800
    cost = litellm.completion_cost(completion_response=r, model=target.model())
    # 2.5 Flash: cache reads at a tenth of the input rate.
    info = litellm.get_model_info(target.model())
    expected = 200 * info["input_cost_per_token"] + 800 * info["cache_read_input_token_cost"] + \
        10 * info["output_cost_per_token"]
    assert cost == pytest.approx(expected, rel=1e-6)
    if not stream:
        assert r._hidden_params["response_cost"] == pytest.approx(expected, rel=1e-6)


@STREAM
def test_safety_finish_reasons_and_blocked_prompt(mock, target, stream):
    method = "streamGenerateContent" if stream else "generateContent"
    candidate = {"candidates": [{"content": {"role": "model", "parts": [{"text": "I can"}]}, "finishReason": "SAFETY",
                                 "index": 0}],
                 "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 2, "totalTokenCount": 7}}
    blocked = {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
               "usageMetadata": {"promptTokenCount": 5, "totalTokenCount": 5}}
    for body in (candidate, blocked):
        mock.script({"path": method, **({"sse": [body], "done": False} if stream else {"json": body})})
        r, _ = target.call(mock, stream)
        assert r.choices[0].finish_reason == "content_filter"


@pytest.mark.parametrize(("status", "cls", "extra"), [
    (429, "RateLimitError", {}), (503, "ServiceUnavailableError", {}),
    (400, "ContextWindowExceededError", {"x-mock-error-message":
        "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576)."}),
    (400, "BadRequestError", {}), (401, "AuthenticationError", {}), (403, "PermissionDeniedError", {}),
    (404, "NotFoundError", {})])
def test_errors(mock, target, status, cls, extra):
    with pytest.raises(getattr(litellm, cls)) as info:
        target.call(mock, False, extra_headers={"x-mock-status": str(status), **extra})
    assert ("GeminiException" if target.provider == "gemini" else "VertexAIException") in str(info.value)


def test_error_mid_stream(mock, target):
    with pytest.raises(litellm.RateLimitError):
        target.call(mock, True, extra_headers={"x-mock-error-after": "2", "x-mock-chunk-count": "6",
                                               "x-mock-error-type": "RESOURCE_EXHAUSTED"})
    mock.script({"path": "streamGenerateContent", "done": False, "sse": [
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "Hel"}]}, "index": 0}]},
        {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}]})
    with pytest.raises(litellm.ServiceUnavailableError):
        target.call(mock, True)


def test_stream_usage_chunk(mock, target):
    chunks = list(litellm.completion(model=target.model(), messages=USER, stream=True,
                                     stream_options={"include_usage": True}, reasoning_effort="low",
                                     **target.params(mock)))
    assert chunks[-1].usage.completion_tokens > 0
    assert any(c.choices and c.choices[0].delta.reasoning_content for c in chunks)


def test_unsupported_params_as_litellm(mock, target):
    # LiteLLM 1.104's lists: `logit_bias` is on neither; `seed` only on Vertex.
    model = target.model()
    with pytest.raises(litellm.UnsupportedParamsError) as info:
        litellm.completion(model=model, messages=USER, logit_bias={"1": 1}, **target.params(mock))
    assert "logit_bias" in str(info.value)
    assert info.value.llm_provider == target.provider
    r = litellm.completion(model=model, messages=USER, logit_bias={"1": 1}, drop_params=True,
                           **target.params(mock))
    assert r.choices[0].message.content
    assert "logit_bias" not in json.dumps(target.sent(mock))
    supported = litellm.get_supported_openai_params(model="gemini-2.5-flash",
                                                    custom_llm_provider=target.provider)
    assert ("seed" in supported) == (target.provider == "vertex_ai")
    assert {"tools", "response_format", "reasoning_effort", "web_search_options"} <= set(supported)
