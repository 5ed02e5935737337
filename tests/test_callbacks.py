"""Callbacks: functions and CustomLogger subclasses receive LiteLLM's kwargs, including the
standard_logging_object; a raising callback never breaks the call."""

from __future__ import annotations

import asyncio
import threading

import pytest
from conftest import USER

import llmrelay as litellm
from llmrelay import _logging
from llmrelay.integrations.custom_logger import CustomLogger


class Recorder(CustomLogger):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, dict, object]] = []
        self.threads: list[str] = []

    def log_pre_api_call(self, model, messages, kwargs):
        self.events.append(("pre", kwargs, None))

    def log_post_api_call(self, kwargs, response_obj, start_time, end_time):
        self.events.append(("post", kwargs, response_obj))

    def log_success_event(self, kwargs, response_obj, start_time, end_time):
        self.threads.append(threading.current_thread().name)
        self.events.append(("success", kwargs, response_obj))

    def log_failure_event(self, kwargs, response_obj, start_time, end_time):
        self.events.append(("failure", kwargs, response_obj))

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        self.events.append(("async_success", kwargs, response_obj))

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time):
        self.events.append(("async_failure", kwargs, response_obj))

    def kinds(self) -> list[str]:
        return [kind for kind, _, _ in self.events]


def test_custom_logger_sync_success(mock):
    recorder = Recorder()
    litellm.callbacks = [recorder]
    r = litellm.completion(model="openai/gpt-4o-mini", messages=USER, metadata={"team": "a"}, **mock.params())
    _logging.flush()
    assert recorder.kinds() == ["pre", "post", "success"]
    # Run off the caller's thread, like LiteLLM's success handler.
    assert recorder.threads[0] != threading.current_thread().name
    _, kwargs, response = recorder.events[2]
    assert response is r
    assert kwargs["model"] == "gpt-4o-mini"  # as LiteLLM reports it: no provider prefix
    assert kwargs["messages"] == USER
    assert kwargs["call_type"] == "completion"
    assert kwargs["response_cost"] == r._hidden_params["response_cost"]
    slo = kwargs["standard_logging_object"]
    for field in ("id", "call_type", "model", "custom_llm_provider", "api_base", "messages", "response",
                  "prompt_tokens", "completion_tokens", "total_tokens", "response_cost", "startTime",
                  "endTime", "completionStartTime", "status", "error_str", "metadata"):
        assert field in slo, field
    assert slo["status"] == "success"
    assert slo["custom_llm_provider"] == "openai"
    assert slo["api_base"] == mock.api_base
    assert slo["total_tokens"] == r.usage.total_tokens
    assert slo["response"]["id"] == r.id
    assert slo["metadata"]["team"] == "a"
    assert slo["startTime"] <= slo["endTime"]
    assert slo["id"] == kwargs["litellm_call_id"]


def test_failure_callback_gets_error(mock):
    recorder = Recorder()
    litellm.callbacks = [recorder]
    with pytest.raises(litellm.RateLimitError):
        litellm.completion(
            model="openai/gpt-4o-mini", messages=USER,
            extra_headers={"x-mock-status": "429", "x-mock-retry-after": "0"}, **mock.params(),
        )
    _logging.flush()
    assert recorder.kinds() == ["pre", "post", "failure"]
    _, kwargs, exc = recorder.events[2]
    assert isinstance(exc, litellm.RateLimitError)
    slo = kwargs["standard_logging_object"]
    assert slo["status"] == "failure"
    assert slo["error_information"]["error_code"] == "429"
    assert slo["error_information"]["error_class"] == "RateLimitError"
    assert "mock" in slo["error_str"].lower() or slo["error_str"]


def test_function_callbacks(mock):
    seen: list = []

    def on_success(kwargs, response, start_time, end_time):
        seen.append(("ok", response.id, start_time <= end_time))

    def on_failure(kwargs, exc, start_time, end_time):
        seen.append(("fail", type(exc).__name__))

    litellm.success_callback = [on_success]
    litellm.failure_callback = [on_failure]
    r = litellm.completion(model="gpt-4o", messages=USER, mock_response="hi")
    with pytest.raises(litellm.InternalServerError):
        litellm.completion(model="gpt-4o", messages=USER, mock_response="litellm.InternalServerError")
    _logging.flush()
    assert seen == [("ok", r.id, True), ("fail", "InternalServerError")]


def test_raising_callback_never_breaks_the_call(mock, caplog):
    def explode(kwargs, response, start_time, end_time):
        raise RuntimeError("callback bug")

    class Broken(CustomLogger):
        def log_pre_api_call(self, model, messages, kwargs):
            raise RuntimeError("pre bug")

        def log_success_event(self, kwargs, response_obj, start_time, end_time):
            raise RuntimeError("success bug")

    litellm.success_callback = [explode]
    litellm.callbacks = [Broken()]
    r = litellm.completion(model="openai/gpt-4o-mini", messages=USER, **mock.params())
    _logging.flush()
    assert r.choices[0].message.content
    assert "callback" in caplog.text


async def test_async_custom_logger(mock):
    recorder = Recorder()
    litellm.callbacks = [recorder]
    r = await litellm.acompletion(model="openai/gpt-4o-mini", messages=USER, **mock.params())
    await _logging.aflush()
    assert recorder.kinds() == ["pre", "post", "async_success"]
    assert recorder.events[2][2] is r
    with pytest.raises(litellm.RateLimitError):
        await litellm.acompletion(model="gpt-4o", messages=USER, mock_response="litellm.RateLimitError")
    await _logging.aflush()
    assert recorder.kinds()[-1] == "async_failure"


async def test_raising_async_callback(mock):
    class Broken(CustomLogger):
        async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
            raise RuntimeError("async bug")

    litellm.callbacks = [Broken()]
    r = await litellm.acompletion(model="gpt-4o", messages=USER, mock_response="x")
    await _logging.aflush()
    assert r.choices[0].message.content == "x"
    await asyncio.sleep(0)


def test_stream_success_logged_once_with_assembled_response(mock):
    recorder = Recorder()
    litellm.callbacks = [recorder]
    chunks = list(litellm.completion(model="openai/gpt-4o-mini", messages=USER, stream=True, **mock.params()))
    _logging.flush()
    assert recorder.kinds() == ["pre", "post", "success"]
    _, kwargs, response = recorder.events[2]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert response.choices[0].message.content == text
    assert kwargs["standard_logging_object"]["stream"] is True
    assert kwargs["response_cost"] > 0
    assert kwargs["standard_logging_object"]["completionStartTime"] >= kwargs["standard_logging_object"]["startTime"]


async def test_async_stream_logged(mock):
    recorder = Recorder()
    litellm.callbacks = [recorder]
    stream = await litellm.acompletion(model="gpt-4o", messages=USER, mock_response="streamed", stream=True)
    async for _ in stream:
        pass
    await _logging.aflush()
    assert recorder.kinds() == ["pre", "post", "async_success"]
    assert recorder.events[2][2].choices[0].message.content == "streamed"
