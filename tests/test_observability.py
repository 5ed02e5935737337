"""Logging integrations by name, in the proxy and the SDK, against the mock's recording
receivers: Langfuse ingestion (validated with the ``langfuse`` SDK's own ingestion models),
Datadog's logs intake, the generic_api webhook, OTLP/HTTP (decoded with
``opentelemetry-proto``); and the proxy's request log (one line per request, JSON with
``json_logs``)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import openai
import pytest

import llmrelay
from llmrelay import _native

from test_proxy import MASTER_KEY, base_config, start_proxy

USER = [{"role": "user", "content": "hello observability"}]


def receiver_env(mock: Any) -> dict[str, str]:
    return {
        "LANGFUSE_PUBLIC_KEY": "pk-lf-test",
        "LANGFUSE_SECRET_KEY": "sk-lf-test",
        "LANGFUSE_HOST": mock.url,
        "DD_API_KEY": "dd-test",
        "DD_BASE_URL": mock.url,
        "GENERIC_LOGGER_ENDPOINT": mock.url + "/webhook",
        "OTEL_EXPORTER_OTLP_ENDPOINT": mock.url,
        "OTEL_SERVICE_NAME": "llmrelay-test",
    }


def recorded(mock: Any, path: str) -> list[dict]:
    return [r for r in mock.requests() if r["path"] == path]


def otlp_spans(mock: Any) -> list[Any]:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    spans = []
    for encoded in mock._call("GET", "/__mock/otlp"):
        request = ExportTraceServiceRequest()
        request.ParseFromString(base64.b64decode(encoded))
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                spans.extend(scope_spans.spans)
    return spans


def check_langfuse(batch: list[dict]) -> None:
    """Each event parses as the langfuse SDK's own ingestion model for its type (its API types
    are pydantic v1 models: ``parse_obj``)."""
    ingestion = pytest.importorskip("langfuse.api.resources.ingestion.types")
    models = {
        "trace-create": ingestion.IngestionEvent_TraceCreate,
        "generation-create": ingestion.IngestionEvent_GenerationCreate,
    }
    for event in batch:
        parsed = models[event["type"]].parse_obj(event)
        assert parsed.type == event["type"]
        assert parsed.body.id == event["body"]["id"]
    generation = next(e for e in batch if e["type"] == "generation-create")
    body = models["generation-create"].parse_obj(generation).body
    assert body.trace_id == generation["body"]["traceId"]
    assert body.usage_details["input"] == generation["body"]["usage"]["input"]


def test_proxy_sends_each_integration_and_one_request_line(tmp_path, mock):
    pytest.importorskip("opentelemetry.proto")
    mock._call("POST", "/__mock/reset")
    config = base_config(
        mock,
        "litellm_settings:\n"
        '          callbacks: ["otel", "langfuse", "datadog", "generic_api", "prometheus"]\n'
        "          json_logs: true",
    )
    proxy = start_proxy(tmp_path, config, env=receiver_env(mock))
    try:
        client = openai.OpenAI(base_url=proxy.url + "/v1", api_key=MASTER_KEY, max_retries=0)
        traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        response = client.chat.completions.create(
            model="gpt-4o", messages=USER, extra_headers={"traceparent": traceparent}
        )
        client.close()
    finally:
        # Shutdown delivers what the queues hold.
        assert proxy.stop() == 0
    ingestion = recorded(mock, "/api/public/ingestion")
    assert len(ingestion) == 1
    batch = ingestion[0]["body"]["batch"]
    check_langfuse(batch)
    generation = next(e["body"] for e in batch if e["type"] == "generation-create")
    assert generation["input"] == USER
    assert generation["usage"]["total"] == response.usage.total_tokens
    assert generation["costDetails"]["total"] > 0
    assert generation["metadata"]["model_group"] == "gpt-4o"
    logs = recorded(mock, "/api/v2/logs")
    assert len(logs) == 1 and logs[0]["headers"]["dd-api-key"] == "dd-test"
    message = json.loads(logs[0]["body"][0]["message"])
    assert message["model_group"] == "gpt-4o" and message["status"] == "success"
    hooks = recorded(mock, "/webhook")
    assert hooks[0]["body"][0]["total_tokens"] == response.usage.total_tokens
    spans = otlp_spans(mock)
    assert len(spans) == 1
    span = spans[0]
    assert span.trace_id.hex() == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert span.parent_span_id.hex() == "00f067aa0ba902b7"
    attributes = {kv.key: kv.value for kv in span.attributes}
    assert attributes["gen_ai.request.model"].string_value == "gpt-4o"
    assert attributes["gen_ai.usage.input_tokens"].int_value == response.usage.prompt_tokens
    assert attributes["litellm.model_group"].string_value == "gpt-4o"
    lines = [
        json.loads(line)
        for line in proxy.log.read_text().splitlines()
        if line.startswith("{") and '"message":"request"' in line
    ]
    assert len(lines) == 1, proxy.log.read_text()
    line = lines[0]
    assert line["model_group"] == "gpt-4o"
    assert line["status_code"] == 200
    assert line["total_tokens"] == response.usage.total_tokens
    assert line["deployment"] and line["request_id"]


def test_proxy_request_log_is_text_by_default_and_redacts_when_asked(tmp_path, mock):
    config = base_config(
        mock,
        "litellm_settings:\n"
        '          success_callback: ["generic_api"]\n'
        "          turn_off_message_logging: true",
    )
    proxy = start_proxy(tmp_path, config, env={"GENERIC_LOGGER_ENDPOINT": mock.url + "/webhook"})
    try:
        status, headers, _ = proxy.request(
            "POST", "/v1/chat/completions", {"model": "gpt-4o", "messages": USER}
        )
        assert status == 200
        bad = proxy.request("POST", "/v1/chat/completions", {"model": "gpt-4o"})[0]
        assert bad == 400
    finally:
        assert proxy.stop() == 0
    text = proxy.log.read_text()
    lines = [line for line in text.splitlines() if " request request_id=" in line]
    assert len(lines) == 1, text
    assert f"request_id={headers['x-litellm-call-id']}" in lines[0]
    assert "model_group=gpt-4o" in lines[0] and "status_code=200" in lines[0]
    payload = recorded(mock, "/webhook")[0]["body"][0]
    assert "hello observability" not in json.dumps(payload)
    assert payload["messages"][0]["content"] == "redacted-by-litellm"


def test_proxy_refuses_to_start_without_an_integrations_keys(tmp_path, mock):
    config = base_config(mock, 'litellm_settings:\n          callbacks: ["langfuse"]')
    proxy = start_proxy(tmp_path, config, env={"LANGFUSE_PUBLIC_KEY": ""}, wait=False)
    assert proxy.process.wait(timeout=20) == 1
    assert "LANGFUSE_PUBLIC_KEY" in proxy.log.read_text()


@pytest.fixture
def integrations(monkeypatch, mock):
    for name, value in receiver_env(mock).items():
        monkeypatch.setenv(name, value)
    yield
    llmrelay.success_callback = []
    llmrelay.failure_callback = []
    llmrelay.callbacks = []
    llmrelay.completion(model="openai/gpt-4o-mini", messages=USER, **mock.params())


def test_sdk_success_callback_names_run_the_rust_integrations(integrations, mock):
    llmrelay.success_callback = ["langfuse", "generic_api"]
    response = llmrelay.completion(model="openai/gpt-4o-mini", messages=USER, **mock.params())
    _native.flush_integrations()
    batch = recorded(mock, "/api/public/ingestion")[0]["body"]["batch"]
    check_langfuse(batch)
    generation = next(e["body"] for e in batch if e["type"] == "generation-create")
    assert generation["usage"]["input"] == response.usage.prompt_tokens
    assert generation["output"]["content"] == response.choices[0].message.content
    assert recorded(mock, "/webhook")[0]["body"][0]["response"]["id"] == response.id
    stats = _native.integration_stats()
    assert stats["langfuse"]["delivered"] == 1 and stats["langfuse"]["dropped"] == 0


def test_sdk_failure_callback_only_sees_failures_and_async_calls_log_too(integrations, mock):
    llmrelay.failure_callback = ["generic_api"]
    llmrelay.completion(model="openai/gpt-4o-mini", messages=USER, **mock.params())
    with pytest.raises(Exception):
        llmrelay.completion(
            model="openai/gpt-4o-mini", messages=USER, api_base="http://127.0.0.1:9/v1",
            api_key="sk-test", num_retries=0,
        )
    _native.flush_integrations()
    sent = recorded(mock, "/webhook")
    assert len(sent) == 1
    assert sent[0]["body"][0]["status"] == "failure"


def test_sdk_integrations_stop_when_the_names_go(integrations, mock):
    llmrelay.callbacks = ["generic_api"]
    llmrelay.completion(model="openai/gpt-4o-mini", messages=USER, **mock.params())
    llmrelay.callbacks = []
    llmrelay.completion(model="openai/gpt-4o-mini", messages=USER, **mock.params())
    time.sleep(0.1)
    _native.flush_integrations()
    assert len(recorded(mock, "/webhook")) == 1
    assert _native.integration_stats() == {}


def test_sdk_langsmith_and_sentry(integrations, monkeypatch, mock):
    host = mock.url.removeprefix("http://")
    monkeypatch.setenv("SENTRY_DSN", f"http://public-key@{host}/7")
    monkeypatch.setenv("LANGSMITH_API_KEY", "ls-test")
    monkeypatch.setenv("LANGSMITH_BASE_URL", mock.url)
    llmrelay.success_callback = ["langsmith"]
    llmrelay.failure_callback = ["sentry"]
    response = llmrelay.completion(model="openai/gpt-4o-mini", messages=USER, **mock.params())
    with pytest.raises(Exception):
        llmrelay.completion(
            model="openai/gpt-4o-mini", messages=USER, api_base="http://127.0.0.1:9/v1",
            api_key="sk-test", num_retries=0,
        )
    _native.flush_integrations()
    runs = recorded(mock, "/runs/batch")
    assert len(runs) == 1
    run = runs[0]["body"]["post"][0]
    assert run["run_type"] == "llm" and run["outputs"]["id"] == response.id
    envelopes = recorded(mock, "/api/7/envelope/")
    assert len(envelopes) == 1
    event = json.loads(envelopes[0]["body"].splitlines()[2])
    assert event["level"] == "error" and event["exception"]["values"][0]["type"]
