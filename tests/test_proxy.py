"""The proxy server end to end: ``python -m llmrelay.proxy`` in front of the mock upstream,
driven by the real ``openai`` and ``anthropic`` SDKs and by plain HTTP."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

import llmrelay

# The server runs in a child process that must import the same llmrelay as these tests (the
# installed package in CI, the source tree with PYTHONPATH=../python in development).
PYTHON_DIR = str(Path(llmrelay.__file__).resolve().parent.parent)
MASTER_KEY = "sk-proxy-test-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Proxy:
    def __init__(self, process: subprocess.Popen, port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log

    def request(self, method: str, path: str, body: Any = None, headers: dict | None = None,
                key: str | None = MASTER_KEY) -> tuple[int, dict, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        all_headers = {"content-type": "application/json", **(headers or {})}
        if key is not None:
            all_headers["authorization"] = f"Bearer {key}"
        data = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
        connection.request(method, path, body=data, headers=all_headers)
        response = connection.getresponse()
        payload = response.read()
        result = (response.status, {k.lower(): v for k, v in response.getheaders()}, payload)
        connection.close()
        return result

    def metrics(self) -> str:
        return self.request("GET", "/metrics", key=None)[2].decode()

    def stop(self) -> int:
        self.process.terminate()
        return self.process.wait(timeout=15)


def start_proxy(tmp_path: Path, config: str, env: dict | None = None,
                wait: bool = True) -> Proxy:
    port = free_port()
    config_path = tmp_path / "config.yaml"
    config_path.write_text(textwrap.dedent(config))
    log = tmp_path / f"proxy-{port}.log"
    environment = {**os.environ, "PYTHONPATH": PYTHON_DIR, **(env or {})}
    environment.pop("LITELLM_MASTER_KEY", None)
    environment.update(env or {})
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "llmrelay.proxy", "--config", str(config_path), "--port",
             str(port), "--host", "127.0.0.1"],
            stdout=out, stderr=subprocess.STDOUT, env=environment, cwd=tmp_path,
        )
    proxy = Proxy(process, port, log)
    if wait:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"proxy exited: {log.read_text()}")
            try:
                if proxy.request("GET", "/health/liveliness", key=None)[0] == 200:
                    return proxy
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"proxy did not start: {log.read_text()}")
    return proxy


def base_config(mock: Any, extra: str = "") -> str:
    return f"""
        model_list:
          - model_name: gpt-4o
            litellm_params:
              model: openai/gpt-4o-mini
              api_base: {mock.api_base}
              api_key: os.environ/UPSTREAM_KEY
          - model_name: embed
            litellm_params:
              model: openai/text-embedding-3-small
              api_base: {mock.api_base}
              api_key: sk-test
          - model_name: claude
            litellm_params:
              model: anthropic/claude-sonnet-4-20250514
              api_base: {mock.url}
              api_key: sk-ant-test
        general_settings:
          master_key: os.environ/PROXY_MASTER_KEY
        environment_variables:
          UPSTREAM_KEY: sk-test
          PROXY_MASTER_KEY: {MASTER_KEY}
        {extra}
    """


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory, mock_server: Any):
    server = start_proxy(tmp_path_factory.mktemp("proxy"), base_config(mock_server))
    yield server
    assert server.stop() == 0


@pytest.fixture
def client(proxy: Proxy) -> Any:
    with openai.OpenAI(base_url=proxy.url + "/v1", api_key=MASTER_KEY, max_retries=0) as sdk:
        yield sdk


@pytest.fixture
def claude(proxy: Proxy) -> Any:
    with anthropic.Anthropic(base_url=proxy.url, api_key=MASTER_KEY, max_retries=0) as sdk:
        yield sdk


USER = [{"role": "user", "content": "Hello there"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}},
    },
}


# ------------------------------------------------------------------------------ openai SDK
def test_chat_whole(client: openai.OpenAI, mock: Any) -> None:
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=USER)
    response = raw.parse()
    assert response.model == "gpt-4o"
    assert response.choices[0].message.content.startswith("This is a mock")
    assert response.usage.total_tokens > 0
    assert raw.headers["x-litellm-call-id"]
    assert float(raw.headers["x-litellm-response-cost"]) > 0
    assert raw.headers["x-litellm-model-id"]
    assert raw.headers["x-ratelimit-remaining-requests"]
    upstream = mock.last_request()
    assert upstream["body"]["model"] == "gpt-4o-mini"
    assert upstream["headers"]["authorization"] == "Bearer sk-test"


def test_chat_stream(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model="gpt-4o", messages=USER, stream=True,
                                            stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "This is a mock response from llmrelay-mock."
    assert all(c.model == "gpt-4o" for c in chunks)
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_chat_tools_whole_and_streamed(client: openai.OpenAI) -> None:
    response = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=[WEATHER_TOOL])
    call = response.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"location": "mock"}
    assert response.choices[0].finish_reason == "tool_calls"
    stream = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Weather?"}], tools=[WEATHER_TOOL],
        stream=True)
    arguments = "".join(
        (c.choices[0].delta.tool_calls or [None])[0].function.arguments or ""
        for c in stream if c.choices and c.choices[0].delta.tool_calls)
    assert json.loads(arguments) == {"location": "mock"}


def test_embeddings_and_models(client: openai.OpenAI) -> None:
    embedding = client.embeddings.create(model="embed", input=["a", "b"])
    assert len(embedding.data) == 2
    assert len(embedding.data[0].embedding) == 8
    ids = [model.id for model in client.models.list()]
    assert ids == ["gpt-4o", "embed", "claude"]


def test_sdk_errors(client: openai.OpenAI, proxy: Proxy) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="nope", messages=USER)
    assert "Invalid model name passed in model=nope" in str(info.value)
    with openai.OpenAI(base_url=proxy.url + "/v1", api_key="sk-wrong-000000000000",
                       max_retries=0) as wrong, pytest.raises(openai.AuthenticationError):
        wrong.models.list()
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="gpt-4o", messages=USER,
                                       extra_body={"extra_headers": {"x-mock-status": "429"}})


def test_responses_bridge(client: openai.OpenAI) -> None:
    response = client.responses.create(model="gpt-4o", input="Hello", instructions="be brief")
    assert response.output_text.startswith("This is a mock")
    assert response.usage.total_tokens > 0
    with client.responses.stream(model="gpt-4o", input="Hello") as stream:
        deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text == "This is a mock response from llmrelay-mock."
    tools = [{"type": "function", "name": "get_weather",
              "parameters": {"type": "object", "properties": {"location": {"type": "string"}}}}]
    with client.responses.stream(model="gpt-4o", input="Weather?", tools=tools) as stream:
        final = stream.get_final_response()
    call = next(item for item in final.output if item.type == "function_call")
    assert json.loads(call.arguments) == {"location": "mock"}
    # The tool result goes back by `previous_response_id`: the proxy keeps the conversation.
    follow = client.responses.create(
        model="gpt-4o", previous_response_id=final.id, tools=tools,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}])
    assert follow.previous_response_id == final.id
    assert follow.output_text.startswith("This is a mock")
    with pytest.raises(openai.BadRequestError, match="resp_unknown"):
        client.responses.create(model="gpt-4o", input="hi", previous_response_id="resp_unknown")


# --------------------------------------------------------------------------- anthropic SDK
def test_messages_whole(claude: anthropic.Anthropic) -> None:
    message = claude.messages.create(model="claude", max_tokens=256, messages=USER)
    assert message.model == "claude"
    assert message.content[0].type == "text"
    assert message.content[0].text.startswith("This is a mock")
    assert message.stop_reason == "end_turn"
    assert message.usage.output_tokens > 0
    # Any provider answers in Anthropic's format.
    message = claude.messages.create(model="gpt-4o", max_tokens=256, messages=USER)
    assert message.content[0].text.startswith("This is a mock")


@pytest.mark.parametrize("model", ["claude", "gpt-4o"])
def test_messages_stream(claude: anthropic.Anthropic, model: str) -> None:
    with claude.messages.stream(model=model, max_tokens=256, messages=USER) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "This is a mock response from llmrelay-mock."
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens > 0


@pytest.mark.parametrize("model", ["claude", "gpt-4o"])
def test_messages_tools(claude: anthropic.Anthropic, model: str) -> None:
    tools = [{"name": "get_weather", "description": "Weather",
              "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}}}]
    question = [{"role": "user", "content": "Weather in Paris?"}]
    message = claude.messages.create(model=model, max_tokens=256, tools=tools, messages=question)
    assert message.stop_reason == "tool_use"
    use = next(block for block in message.content if block.type == "tool_use")
    assert use.name == "get_weather" and use.input == {"location": "mock"}
    with claude.messages.stream(model=model, max_tokens=256, tools=tools,
                                messages=question) as stream:
        final = stream.get_final_message()
    use = next(block for block in final.content if block.type == "tool_use")
    assert use.input == {"location": "mock"}
    # The tool result goes back and the answer is text.
    follow_up = question + [
        {"role": "assistant", "content": message.content},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": message.content[-1].id,
                                      "content": "sunny"}]},
    ]
    answer = claude.messages.create(model=model, max_tokens=256, tools=tools, messages=follow_up)
    assert answer.stop_reason == "end_turn"


def test_messages_errors_and_count_tokens(claude: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as info:
        claude.messages.create(model="nope", max_tokens=10, messages=USER)
    assert "Invalid model name" in str(info.value)
    count = claude.messages.count_tokens(model="claude", messages=USER)
    assert count.input_tokens > 0


# ------------------------------------------------------------------------------- HTTP level
def test_auth_and_error_shapes(proxy: Proxy) -> None:
    status, headers, body = proxy.request("POST", "/v1/chat/completions",
                                          {"model": "gpt-4o", "messages": USER}, key=None)
    assert status == 401
    assert headers["x-litellm-call-id"]
    assert json.loads(body) == {"error": {
        "message": "Authentication Error, No api key passed in.", "type": "auth_error",
        "param": None, "code": "401"}}
    status, _, body = proxy.request("POST", "/v1/chat/completions", b"{not json")
    assert status == 400 and json.loads(body)["error"]["type"] == "invalid_request_error"
    status, _, _ = proxy.request("POST", "/v1/chat/completions", {"model": "gpt-4o"})
    assert status == 400
    status, _, body = proxy.request("POST", "/v1/chat/completions",
                                    {"model": "gpt-4o", "messages": USER},
                                    headers={"authorization": ""}, key=None)
    assert status == 401
    status, _, body = proxy.request("GET", "/health/readiness", key=None)
    assert status == 200 and json.loads(body)["status"] == "healthy"
    status, _, body = proxy.request("GET", "/openapi.json", key=None)
    assert "/v1/chat/completions" in json.loads(body)["paths"]


def test_passthrough_injects_provider_key(proxy: Proxy, mock: Any) -> None:
    status, headers, body = proxy.request(
        "POST", "/openai/chat/completions", {"model": "gpt-4o-mini", "messages": USER})
    assert status == 200, body
    assert json.loads(body)["model"] == "gpt-4o-mini"
    recorded = mock.last_request()
    assert recorded["path"] == "/v1/chat/completions"
    assert recorded["headers"]["authorization"] == "Bearer sk-test"
    status, _, body = proxy.request(
        "POST", "/anthropic/v1/messages",
        {"model": "claude-sonnet-4-20250514", "max_tokens": 20, "messages": USER})
    assert status == 200, body
    recorded = mock.last_request()
    assert recorded["headers"]["x-api-key"] == "sk-ant-test"
    assert recorded["headers"]["anthropic-version"]


def test_metrics(proxy: Proxy, client: openai.OpenAI) -> None:
    client.chat.completions.create(model="gpt-4o", messages=USER)
    text = proxy.metrics()
    assert 'litellm_proxy_total_requests_metric_total{model_group="gpt-4o"' in text
    assert 'litellm_spend_metric_total{model_group="gpt-4o"}' in text
    assert 'litellm_total_tokens_metric_total{model_group="gpt-4o"}' in text


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_client_disconnect_cancels_the_stream(proxy: Proxy) -> None:
    before = _metric(proxy.metrics(), 'litellm_request_total_latency_metric_count{model_group="gpt-4o"}')
    connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    body = {"model": "gpt-4o", "messages": USER, "stream": True,
            "extra_headers": {"x-mock-chunk-interval-ms": "400", "x-mock-chunk-count": "30"}}
    connection.request("POST", "/v1/chat/completions", body=json.dumps(body),
                       headers={"authorization": f"Bearer {MASTER_KEY}",
                                "content-type": "application/json"})
    response = connection.getresponse()
    assert response.status == 200
    assert response.read(6) == b"data: "
    connection.sock.shutdown(socket.SHUT_RDWR)
    response.close()
    connection.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        text = proxy.metrics()
        finished = _metric(text, 'litellm_request_total_latency_metric_count{model_group="gpt-4o"}')
        if finished > before and _metric(text, "litellm_in_flight_requests") == 0:
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"the abandoned stream was not closed:\n{text}")
    # 30 chunks at 400 ms would take 12 s; the books closed long before.


# ------------------------------------------------------------------------- start-up checks
def test_weak_master_key_is_refused(tmp_path: Path, mock: Any) -> None:
    config = base_config(mock).replace("PROXY_MASTER_KEY: " + MASTER_KEY, "PROXY_MASTER_KEY: sk-1234")
    proxy = start_proxy(tmp_path, config, wait=False)
    assert proxy.process.wait(timeout=20) == 1
    assert "refused to start" in proxy.log.read_text()
    proxy = start_proxy(tmp_path, config,
                        env={"LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY": "true"})
    assert proxy.request("GET", "/v1/models", key="sk-1234")[0] == 200
    assert proxy.stop() == 0


def test_invalid_config_names_the_field(tmp_path: Path) -> None:
    proxy = start_proxy(tmp_path, """
        model_list:
          - model_name: a
            litellm_params:
              api_key: x
    """, env={"LITELLM_MASTER_KEY": MASTER_KEY}, wait=False)
    assert proxy.process.wait(timeout=20) == 1
    assert "model_list[0].litellm_params" in proxy.log.read_text()


HOOKS = '''
import json
from llmrelay.integrations.custom_logger import CustomLogger

class Hooks(CustomLogger):
    async def async_pre_call_hook(self, user_api_key_dict, cache, data, call_type):
        text = data["messages"][-1]["content"]
        if text == "forbidden":
            raise ValueError("blocked by policy")
        if text == "canned":
            return "a canned answer"
        data["messages"][-1]["content"] = text + " (checked)"
        return data

    async def async_post_call_success_hook(self, data, user_api_key_dict, response):
        response.choices[0].message.content += " [reviewed]"
        return response

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        with open("events.jsonl", "a") as out:
            out.write(json.dumps({"model": kwargs["model"], "stream": kwargs["stream"],
                                  "cost": kwargs["response_cost"],
                                  "text": response_obj.choices[0].message.content}) + "\\n")

handler = Hooks()
'''


def test_python_hooks(tmp_path: Path, mock: Any) -> None:
    (tmp_path / "my_hooks.py").write_text(HOOKS)
    proxy = start_proxy(tmp_path, base_config(mock, "litellm_settings:\n          callbacks: [my_hooks.handler]"))
    try:
        client = openai.OpenAI(base_url=proxy.url + "/v1", api_key=MASTER_KEY, max_retries=0)
        response = client.chat.completions.create(model="gpt-4o", messages=USER)
        assert response.choices[0].message.content.endswith("[reviewed]")
        client.close()
        client = openai.OpenAI(base_url=proxy.url + "/v1", api_key=MASTER_KEY, max_retries=0)
        assert mock.last_request()["body"]["messages"][-1]["content"] == "Hello there (checked)"
        canned = client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "canned"}])
        assert canned.choices[0].message.content == "a canned answer"
        with pytest.raises(openai.InternalServerError) as info:
            client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "forbidden"}])
        assert "blocked by policy" in str(info.value)
        list(client.chat.completions.create(model="gpt-4o", messages=USER, stream=True))
        events_file = tmp_path / "events.jsonl"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            events = [json.loads(line) for line in events_file.read_text().splitlines()] \
                if events_file.exists() else []
            if len(events) >= 2:
                break
            time.sleep(0.1)
        assert {event["stream"] for event in events} == {False, True}
        assert all(event["model"] == "gpt-4o" and event["cost"] > 0 for event in events)
        client.close()
    finally:
        assert proxy.stop() == 0


def test_one_model_mode_and_validate(tmp_path: Path, mock: Any) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": PYTHON_DIR, "LITELLM_MASTER_KEY": MASTER_KEY}
    process = subprocess.Popen(
        [sys.executable, "-m", "llmrelay.proxy", "--model", "openai/gpt-4o-mini", "--alias",
         "mini", "--api_base", mock.api_base, "--api_key", "sk-test", "--port", str(port),
         "--num_workers", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=MASTER_KEY,
                               max_retries=0)
        deadline = time.monotonic() + 20
        while True:
            try:
                response = client.chat.completions.create(model="mini", messages=USER)
                break
            except openai.APIConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        assert response.model == "mini"
        client.close()
    finally:
        process.terminate()
        assert process.wait(timeout=15) == 0
    config = tmp_path / "ok.yaml"
    config.write_text(textwrap.dedent(base_config(mock)))
    result = subprocess.run(
        [sys.executable, "-m", "llmrelay.proxy", "--config", str(config), "--validate_config"],
        env=env, capture_output=True, timeout=30)
    assert result.returncode == 0, result.stderr


def test_openai_sdk_images_moderations_audio(tmp_path: Path, mock: Any) -> None:
    extra = f"""
          - model_name: dall-e-3
            litellm_params: {{model: openai/dall-e-3, api_base: {mock.api_base}, api_key: sk-test}}
          - model_name: omni-moderation-latest
            litellm_params: {{model: openai/omni-moderation-latest, api_base: {mock.api_base}, api_key: sk-test}}
          - model_name: tts-1
            litellm_params: {{model: openai/tts-1, api_base: {mock.api_base}, api_key: sk-test}}
          - model_name: whisper-1
            litellm_params: {{model: openai/whisper-1, api_base: {mock.api_base}, api_key: sk-test}}
    """
    config = base_config(mock).replace("        general_settings:", extra.rstrip() + "\n        general_settings:", 1)
    server = start_proxy(tmp_path, config)
    try:
        with openai.OpenAI(base_url=server.url + "/v1", api_key=MASTER_KEY, max_retries=0) as sdk:
            image = sdk.images.generate(model="dall-e-3", prompt="a lighthouse", n=1)
            assert image.data
            moderation = sdk.moderations.create(model="omni-moderation-latest", input="hello")
            assert moderation.results
            audio = sdk.audio.speech.create(model="tts-1", voice="alloy", input="hi")
            assert audio.response.headers["content-type"] == "audio/mpeg" and audio.content
            text = sdk.audio.transcriptions.create(model="whisper-1",
                                                   file=("hello.wav", b"RIFF....WAVEfmt ", "audio/wav"))
            assert text.text
            with pytest.raises(openai.BadRequestError):
                sdk.images.generate(model="not-a-group", prompt="x")
    finally:
        assert server.stop() == 0
