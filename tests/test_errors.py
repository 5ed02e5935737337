"""Errors: LiteLLM's exception classes from upstream statuses, bad input before any network
call, retries honouring Retry-After, timeouts, and failures in the middle of a stream."""

from __future__ import annotations

import time
import uuid

import openai
import pytest
from conftest import USER

import llmrelay as litellm
from llmrelay import exceptions

STATUS_CASES = [
    (400, exceptions.BadRequestError, openai.BadRequestError),
    (401, exceptions.AuthenticationError, openai.AuthenticationError),
    (403, exceptions.PermissionDeniedError, openai.PermissionDeniedError),
    (404, exceptions.NotFoundError, openai.NotFoundError),
    (408, exceptions.Timeout, openai.APITimeoutError),
    (422, exceptions.UnprocessableEntityError, openai.UnprocessableEntityError),
    (429, exceptions.RateLimitError, openai.RateLimitError),
    (500, exceptions.InternalServerError, openai.InternalServerError),
    (502, exceptions.BadGatewayError, openai.APIStatusError),
    (503, exceptions.ServiceUnavailableError, openai.APIStatusError),
    (504, exceptions.Timeout, openai.APITimeoutError),
    (418, exceptions.APIError, openai.APIError),
]


@pytest.mark.parametrize(("status", "cls", "openai_cls"), STATUS_CASES)
def test_every_status_maps_to_its_class(mock, status, cls, openai_cls):
    with pytest.raises(cls) as info:
        litellm.completion(
            model="openai/gpt-4o-mini", messages=USER,
            extra_headers={"x-mock-status": str(status), "x-mock-retry-after": "0"},
            **mock.params(),
        )
    error = info.value
    assert isinstance(error, openai_cls)
    assert isinstance(error, openai.OpenAIError)
    assert error.llm_provider == "openai"
    assert error.model == "openai/gpt-4o-mini"
    assert error.message.startswith(f"litellm.{cls.__name__}")
    if cls is not exceptions.Timeout:
        assert error.status_code == status


def test_exception_classes_reexported_at_top_level():
    assert litellm.RateLimitError is exceptions.RateLimitError
    assert litellm.ContextWindowExceededError is exceptions.ContextWindowExceededError


def test_context_window_and_content_policy_by_message(mock):
    with pytest.raises(litellm.ContextWindowExceededError) as info:
        litellm.completion(
            model="openai/gpt-4o-mini", messages=USER,
            extra_headers={"x-mock-status": "400",
                           "x-mock-error-message": "This model's maximum context length is 8192 tokens"},
            **mock.params(),
        )
    assert isinstance(info.value, litellm.BadRequestError)
    assert info.value.status_code == 400
    with pytest.raises(litellm.ContentPolicyViolationError):
        litellm.completion(
            model="openai/gpt-4o-mini", messages=USER,
            extra_headers={"x-mock-status": "400",
                           "x-mock-error-message": "Your request was rejected by our safety system"},
            **mock.params(),
        )


def test_rate_limit_carries_retry_after(mock):
    with pytest.raises(litellm.RateLimitError) as info:
        litellm.completion(
            model="openai/gpt-4o-mini", messages=USER,
            extra_headers={"x-mock-status": "429", "x-mock-retry-after": "7"}, **mock.params(),
        )
    assert info.value.retry_after == 7


def test_retries_honour_retry_after(mock):
    key = str(uuid.uuid4())
    started = time.monotonic()
    r = litellm.completion(
        model="openai/gpt-4o-mini", messages=USER, num_retries=2,
        extra_headers={"x-mock-status": "429", "x-mock-retry-after": "1", "x-mock-fail-times": "2",
                       "x-mock-fail-key": key},
        **mock.params(),
    )
    elapsed = time.monotonic() - started
    assert r.choices[0].message.content
    assert r._hidden_params["num_retries"] == 2
    # Two waits of the upstream's Retry-After (1 s each): the backoff honoured it.
    assert elapsed >= 2.0
    assert len(mock.requests()) == 3


def test_retries_exhausted_report_count(mock):
    key = str(uuid.uuid4())
    with pytest.raises(litellm.InternalServerError) as info:
        litellm.completion(
            model="openai/gpt-4o-mini", messages=USER, num_retries=1,
            extra_headers={"x-mock-status": "500", "x-mock-retry-after": "0", "x-mock-fail-times": "5",
                           "x-mock-fail-key": key},
            **mock.params(),
        )
    assert info.value.num_retries == 1
    assert "LiteLLM Retried: 1 times" in str(info.value)
    assert len(mock.requests()) == 2


def test_bad_request_is_not_retried(mock):
    with pytest.raises(litellm.BadRequestError):
        litellm.completion(
            model="openai/gpt-4o-mini", messages=USER, num_retries=3,
            extra_headers={"x-mock-status": "400"}, **mock.params(),
        )
    assert len(mock.requests()) == 1


def test_whole_request_timeout(mock):
    started = time.monotonic()
    with pytest.raises(litellm.Timeout) as info:
        litellm.completion(
            model="openai/gpt-4o-mini", messages=USER, timeout=0.2,
            extra_headers={"x-mock-latency-ms": "2000"}, **mock.params(),
        )
    assert time.monotonic() - started < 1.5
    assert isinstance(info.value, openai.APITimeoutError)


def test_first_byte_timeout(mock):
    with pytest.raises(litellm.Timeout):
        litellm.completion(
            model="openai/gpt-4o-mini", messages=USER,
            timeout={"read": 0.2, "timeout": 30},
            extra_headers={"x-mock-first-byte-delay-ms": "2000"}, **mock.params(),
        )


def test_stream_idle_timeout(mock):
    stream = litellm.completion(
        model="openai/gpt-4o-mini", messages=USER, stream=True, stream_timeout=0.2,
        extra_headers={"x-mock-chunk-interval-ms": "1500", "x-mock-chunk-count": "3"}, **mock.params(),
    )
    with pytest.raises(litellm.Timeout):
        list(stream)


def test_connection_refused_is_internal_server_error():
    # As LiteLLM: a failed connection is InternalServerError (500), "Connection error.".
    with pytest.raises(litellm.InternalServerError) as info:
        litellm.completion(model="openai/x", messages=USER, api_base="http://127.0.0.1:9/v1", api_key="k")
    assert info.value.status_code == 500
    assert "Connection error." in str(info.value)


def test_upstream_message_names_the_provider(mock):
    with pytest.raises(litellm.BadRequestError) as info:
        litellm.completion(
            model="openai/gpt-4o-mini", messages=USER,
            extra_headers={"x-mock-status": "400", "x-mock-error-message": "bad thing"}, **mock.params(),
        )
    assert str(info.value).startswith("litellm.BadRequestError: OpenAIException - bad thing")


def test_error_mid_stream(mock):
    stream = litellm.completion(
        model="openai/gpt-4o-mini", messages=USER, stream=True,
        extra_headers={"x-mock-error-after": "3"}, **mock.params(),
    )
    received = []
    with pytest.raises(litellm.InternalServerError):
        for chunk in stream:
            received.append(chunk)
    assert len(received) == 3


def test_disconnect_mid_stream(mock):
    stream = litellm.completion(
        model="openai/gpt-4o-mini", messages=USER, stream=True,
        extra_headers={"x-mock-disconnect-after": "2"}, **mock.params(),
    )
    with pytest.raises(litellm.APIConnectionError):
        list(stream)


def test_malformed_upstream_body(mock):
    with pytest.raises(litellm.APIError) as info:
        litellm.completion(
            model="openai/gpt-4o-mini", messages=USER, extra_headers={"x-mock-malformed": "1"},
            **mock.params(),
        )
    assert info.value.status_code == 500


def test_failure_before_first_chunk_is_retried(mock):
    key = str(uuid.uuid4())
    chunks = list(
        litellm.completion(
            model="openai/gpt-4o-mini", messages=USER, stream=True, num_retries=1,
            extra_headers={"x-mock-status": "503", "x-mock-retry-after": "0", "x-mock-fail-times": "1",
                           "x-mock-fail-key": key},
            **mock.params(),
        )
    )
    assert chunks


# -- bad input fails before any network call ------------------------------------------------


def test_unknown_model_names_the_model(mock):
    with pytest.raises(litellm.BadRequestError) as info:
        litellm.completion(model="definitely-not-a-model", messages=USER)
    assert "definitely-not-a-model" in str(info.value)
    assert "LLM Provider NOT provided" in str(info.value)
    assert mock.requests() == []


def test_unknown_prefix_is_unknown_model():
    with pytest.raises(litellm.BadRequestError):
        litellm.completion(model="nosuchprovider/model-x", messages=USER)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"messages": None}, "messages is required"),
        ({"messages": "hello"}, "messages must be a list"),
        ({"messages": []}, "messages must not be empty"),
        ({"messages": ["hi"]}, "messages[0]"),
        # An unknown role: LiteLLM's text, naming the message as passed.
        ({"messages": [{"role": "wizard", "content": "x"}]},
         "Invalid Message passed in {'role': 'wizard', 'content': 'x'}"),
        ({"messages": USER, "temperature": "hot"}, "temperature"),
        ({"messages": USER, "num_retries": -1}, "num_retries"),
        ({"messages": USER, "timeout": "soon"}, "timeout"),
        ({"messages": USER, "extra_headers": ["x"]}, "extra_headers"),
        ({"messages": USER, "some_param": object()}, "some_param"),
    ],
)
def test_malformed_input(mock, kwargs, needle):
    with pytest.raises(litellm.BadRequestError) as info:
        litellm.completion(model="openai/gpt-4o-mini", **kwargs, **mock.params())
    assert needle in str(info.value)
    assert info.value.status_code == 400
    assert mock.requests() == []


def test_missing_model():
    with pytest.raises(litellm.BadRequestError):
        litellm.completion(model="", messages=USER)


def test_missing_api_key(monkeypatch, mock):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(litellm.AuthenticationError) as info:
        litellm.completion(model="gpt-4o-mini", messages=USER)
    assert "OPENAI_API_KEY" in str(info.value)
    assert mock.requests() == []


def test_embedding_bad_input(mock):
    with pytest.raises(litellm.BadRequestError):
        litellm.embedding(model="text-embedding-3-small", input=[], **mock.params())
    with pytest.raises(litellm.BadRequestError):
        litellm.embedding(model="text-embedding-3-small", input=[{"a": 1}], **mock.params())


async def test_async_errors(mock):
    with pytest.raises(litellm.RateLimitError):
        await litellm.acompletion(
            model="openai/gpt-4o-mini", messages=USER,
            extra_headers={"x-mock-status": "429", "x-mock-retry-after": "0"}, **mock.params(),
        )
    stream = await litellm.acompletion(
        model="openai/gpt-4o-mini", messages=USER, stream=True,
        extra_headers={"x-mock-error-after": "2"}, **mock.params(),
    )
    with pytest.raises(litellm.InternalServerError):
        async for _ in stream:
            pass


def test_error_body_is_parsed(mock):
    with pytest.raises(litellm.RateLimitError) as info:
        litellm.completion(
            model="openai/gpt-4o-mini", messages=USER,
            extra_headers={"x-mock-status": "429", "x-mock-retry-after": "0"}, **mock.params(),
        )
    assert isinstance(info.value.body, dict)
    assert info.value.code == "rate_limit_exceeded"


def test_total_timeout_does_not_cut_a_running_stream(mock):
    # 4 chunks 150 ms apart outlast timeout=0.3, but headers came at once: the stream completes.
    chunks = list(
        litellm.completion(
            model="openai/gpt-4o-mini", messages=USER, stream=True, timeout=0.3,
            extra_headers={"x-mock-chunk-count": "4", "x-mock-chunk-interval-ms": "150"},
            **mock.params(),
        )
    )
    assert len(chunks) >= 5


def test_mock_timeout_without_timeout_uses_one_second():
    import time

    started = time.monotonic()
    with pytest.raises(litellm.Timeout):
        litellm.completion(model="gpt-4o", messages=USER, mock_response="x", mock_timeout=True)
    assert time.monotonic() - started < 5


def test_stream_retries_respect_the_budget(mock):
    # Every attempt fails before its first chunk: 1 call + num_retries retries, no more.
    with pytest.raises(litellm.InternalServerError) as info:
        list(litellm.completion(
            model="openai/gpt-4o-mini", messages=USER, stream=True, num_retries=2,
            extra_headers={"x-mock-error-after": "0"}, **mock.params(),
        ))
    assert len(mock.requests()) == 3
    assert info.value.num_retries == 2
