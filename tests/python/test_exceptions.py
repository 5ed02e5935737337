"""Exceptions: openai class identity, LiteLLM message formats, and the engine's _from_native."""

from __future__ import annotations

import openai
import pytest
from llmrelay import exceptions as E
from llmrelay._errors import build as _from_native

# (class, openai base it must subclass)
OPENAI_BASES = [
    (E.BadRequestError, openai.BadRequestError),
    (E.ContextWindowExceededError, openai.BadRequestError),
    (E.ContentPolicyViolationError, openai.BadRequestError),
    (E.UnsupportedParamsError, openai.BadRequestError),
    (E.RejectedRequestError, openai.BadRequestError),
    (E.LiteLLMUnknownProvider, openai.BadRequestError),
    (E.ImageFetchError, openai.BadRequestError),
    (E.PaymentRequiredError, openai.BadRequestError),
    (E.InvalidRequestError, openai.BadRequestError),
    (E.AuthenticationError, openai.AuthenticationError),
    (E.CallerCredentialAuthenticationError, openai.AuthenticationError),
    (E.PermissionDeniedError, openai.PermissionDeniedError),
    (E.NotFoundError, openai.NotFoundError),
    (E.Timeout, openai.APITimeoutError),
    (E.Timeout, openai.APIConnectionError),
    (E.UnprocessableEntityError, openai.UnprocessableEntityError),
    (E.RateLimitError, openai.RateLimitError),
    (E.CallerCredentialRateLimitError, openai.RateLimitError),
    (E.InternalServerError, openai.InternalServerError),
    (E.BadGatewayError, openai.APIStatusError),
    (E.ServiceUnavailableError, openai.APIStatusError),
    (E.MidStreamFallbackError, openai.APIStatusError),
    (E.APIError, openai.APIError),
    (E.APIConnectionError, openai.APIConnectionError),
    (E.APIResponseValidationError, openai.APIResponseValidationError),
    (E.JSONSchemaValidationError, openai.APIResponseValidationError),
    (E.MockException, openai.APIError),
    (E.OpenAIError, openai.OpenAIError),
]


@pytest.mark.parametrize(
    ("cls", "base"), OPENAI_BASES, ids=lambda v: getattr(v, "__name__", str(v))
)
def test_subclasses_openai(cls, base):
    assert issubclass(cls, base)


def test_litellm_internal_hierarchy():
    for cls in (
        E.ContextWindowExceededError,
        E.ContentPolicyViolationError,
        E.UnsupportedParamsError,
        E.RejectedRequestError,
        E.LiteLLMUnknownProvider,
        E.ImageFetchError,
    ):
        assert issubclass(cls, E.BadRequestError)
    assert issubclass(E.MidStreamFallbackError, E.ServiceUnavailableError)
    assert issubclass(E.JSONSchemaValidationError, E.APIResponseValidationError)
    for cls in (
        E.BudgetExceededError,
        E.ModelNotMappedError,
        E.GuardrailRaisedException,
        E.BlockedPiiEntityError,
        E.ModifyResponseException,
        E.SensitiveDataRouteException,
    ):
        assert not issubclass(cls, openai.OpenAIError)


# Observed with LiteLLM 1.104: (constructed exception, status_code, str(e), e.message)
def _observed():
    return [
        (
            E.BadRequestError("bad", model="gpt-4o", llm_provider="openai"),
            400,
            "litellm.BadRequestError: bad",
            "litellm.BadRequestError: bad",
        ),
        (
            E.BadRequestError(
                "bad", model="gpt-4o", llm_provider="openai", num_retries=2, max_retries=3
            ),
            400,
            "litellm.BadRequestError: bad LiteLLM Retried: 2 times, LiteLLM Max Retries: 3",
            "litellm.BadRequestError: bad",
        ),
        (
            E.BadRequestError("bad", model="m", llm_provider="p", max_retries=3),
            400,
            "litellm.BadRequestError: bad, LiteLLM Max Retries: 3",
            "litellm.BadRequestError: bad",
        ),
        (
            E.AuthenticationError("nope", llm_provider="openai", model="gpt-4o"),
            401,
            "litellm.AuthenticationError: nope",
            "litellm.AuthenticationError: nope",
        ),
        (
            E.PermissionDeniedError("nope", llm_provider="openai", model="gpt-4o", response=None),
            403,
            "litellm.PermissionDeniedError: nope",
            "litellm.PermissionDeniedError: nope",
        ),
        (
            E.NotFoundError("nf", model="gpt-4o", llm_provider="openai"),
            404,
            "litellm.NotFoundError: nf",
            "litellm.NotFoundError: nf",
        ),
        (
            E.Timeout("slow", model="gpt-4o", llm_provider="openai"),
            408,
            "litellm.Timeout: slow",
            "litellm.Timeout: slow",
        ),
        (
            E.Timeout("slow", model="gpt-4o", llm_provider="openai", exception_status_code=504),
            504,
            "litellm.Timeout: slow",
            "litellm.Timeout: slow",
        ),
        (
            E.Timeout("slow", model="gpt-4o", llm_provider="openai", num_retries=3, max_retries=3),
            408,
            "litellm.Timeout: slow LiteLLM Retried: 3 times, LiteLLM Max Retries: 3",
            "litellm.Timeout: slow",
        ),
        (
            E.RateLimitError("rl", llm_provider="openai", model="gpt-4o"),
            429,
            "litellm.RateLimitError: rl",
            "litellm.RateLimitError: rl",
        ),
        (
            E.RateLimitError(
                "rl",
                llm_provider="openai",
                model="gpt-4o",
                headers={"retry-after": "7"},
                num_retries=1,
            ),
            429,
            "litellm.RateLimitError: rl LiteLLM Retried: 1 times",
            "litellm.RateLimitError: rl",
        ),
        (
            E.ContextWindowExceededError("too long", model="gpt-4o", llm_provider="openai"),
            400,
            "litellm.ContextWindowExceededError: litellm.BadRequestError: too long",
            "litellm.ContextWindowExceededError: litellm.BadRequestError: too long",
        ),
        (
            E.ContentPolicyViolationError("bad content", model="gpt-4o", llm_provider="openai"),
            400,
            "litellm.BadRequestError: litellm.ContentPolicyViolationError: bad content",
            "litellm.BadRequestError: litellm.ContentPolicyViolationError: bad content",
        ),
        (
            E.UnsupportedParamsError("unsupp", llm_provider="cohere", model="command-r"),
            400,
            "litellm.UnsupportedParamsError: unsupp",
            "litellm.UnsupportedParamsError: unsupp",
        ),
        (
            E.InternalServerError("ise", llm_provider="openai", model="gpt-4o"),
            500,
            "litellm.InternalServerError: ise",
            "litellm.InternalServerError: ise",
        ),
        (
            E.BadGatewayError("bg", llm_provider="openai", model="gpt-4o"),
            502,
            "litellm.BadGatewayError: bg",
            "litellm.BadGatewayError: bg",
        ),
        (
            E.ServiceUnavailableError("su", llm_provider="openai", model="gpt-4o"),
            503,
            "litellm.ServiceUnavailableError: su",
            "litellm.ServiceUnavailableError: su",
        ),
        (
            E.MidStreamFallbackError("msf", model="gpt-4o", llm_provider="openai"),
            503,
            "litellm.MidStreamFallbackError: msf",
            "litellm.MidStreamFallbackError: msf",
        ),
        (
            E.APIError(418, "teapot", llm_provider="openai", model="gpt-4o"),
            418,
            "litellm.APIError: teapot",
            "litellm.APIError: teapot",
        ),
        (
            E.APIConnectionError("conn", llm_provider="openai", model="gpt-4o"),
            500,
            "litellm.APIConnectionError: conn",
            "litellm.APIConnectionError: conn",
        ),
        (
            E.APIResponseValidationError("val", llm_provider="openai", model="gpt-4o"),
            500,
            "val",
            "val",
        ),
        (
            E.MockException(400, "mock", llm_provider="azure", model="gpt-4o"),
            400,
            "litellm.MockException: mock",
            "litellm.MockException: mock",
        ),
        (E.InvalidRequestError("inv", model="gpt-4o", llm_provider="openai"), 400, "inv", "inv"),
        (
            E.BudgetExceededError(current_cost=1.5, max_budget=1.0),
            422,
            "Budget has been exceeded! Current cost: 1.5, Max budget: 1.0",
            "Budget has been exceeded! Current cost: 1.5, Max budget: 1.0",
        ),
        (
            E.LiteLLMUnknownProvider(model="foo"),
            400,
            (
                "litellm.BadRequestError: Unmapped LLM provider for this endpoint. You passed model=foo, "
                "custom_llm_provider=None. Check supported provider and route: https://docs.litellm.ai/docs/providers"
            ),
            None,
        ),
        (
            E.RejectedRequestError(
                "rej", model="gpt-4o", llm_provider="openai", request_data={"a": 1}
            ),
            400,
            "litellm.BadRequestError: litellm.RejectedRequestError: rej",
            None,
        ),
        (
            E.GuardrailRaisedException(guardrail_name="g1", message="blocked"),
            400,
            "Guardrail raised an exception, Guardrail: g1, Message: blocked",
            None,
        ),
        (
            E.BlockedPiiEntityError(entity_type="EMAIL", guardrail_name="g"),
            400,
            "Blocked entity detected: EMAIL by Guardrail: g. This entity is not allowed to be used in this request.",
            None,
        ),
        (E.ImageFetchError("imgfail"), 400, "litellm.BadRequestError: imgfail", None),
    ]


@pytest.mark.parametrize(
    ("exc", "status", "text", "message"), _observed(), ids=lambda v: type(v).__name__
)
def test_observed_formats(exc, status, text, message):
    assert exc.status_code == status
    assert str(exc) == text
    if message is not None:
        assert exc.message == message


def test_common_attributes_and_args():
    e = E.RateLimitError(
        "rl", "openai", "gpt-4o", litellm_debug_info="dbg", max_retries=2, num_retries=1
    )
    assert (e.llm_provider, e.model, e.litellm_debug_info, e.max_retries, e.num_retries) == (
        "openai",
        "gpt-4o",
        "dbg",
        2,
        1,
    )
    assert e.code == "429" and e.type == "throttling_error" and e.category == "vendor_rate_limit"
    assert e.response.status_code == 429 and e.request is not None
    # openai constructs args from the (prefixed) message; LiteLLM quirks preserved
    assert E.BadRequestError("x", "m", "p").args == ("litellm.BadRequestError: x",)
    assert E.Timeout("x", "m", "p").args == ("Request timed out.",)
    assert E.UnsupportedParamsError("x").args == ("x",)
    assert E.ContextWindowExceededError("x", "m", "p").args == ("litellm.BadRequestError: x",)
    assert repr(E.NotFoundError("x", "m", "p")) == "litellm.NotFoundError: x"
    assert repr(E.MockException(500, "x", "p", "m")) == "MockException('litellm.MockException: x')"
    assert E.InternalServerError("x", "p", "m").type == "internal_server_error"
    b = E.BadRequestError("x", "m", "p", body={"error": {"message": "x"}})
    assert b.body == {"error": {"message": "x"}}


def test_rate_limit_retry_after():
    assert E.RateLimitError("rl", "p", "m", headers={"retry-after": "7"}).retry_after == 7.0
    assert E.RateLimitError("rl", "p", "m", headers={"retry-after-ms": "1500"}).retry_after == 1.5
    assert E.RateLimitError("rl", "p", "m").retry_after is None
    assert E.RateLimitError("rl", "p", "m", retry_after=3.0).retry_after == 3.0
    e = E.RateLimitError("rl", "p", "m", headers={"retry-after": "7"})
    assert e.response.headers["retry-after"] == "7"  # visible to openai-style retry logic


def test_midstream_fallback_wraps_original():
    orig = E.RateLimitError("rl", "p", "m")
    e = E.MidStreamFallbackError(
        "x", model="m", llm_provider="p", original_exception=orig, generated_content="abc"
    )
    assert e.status_code == 429
    assert (
        str(e)
        == "litellm.MidStreamFallbackError: x Original exception: RateLimitError: litellm.RateLimitError: rl"
    )
    assert (
        e.generated_content == "abc"
        and e.original_exception is orig
        and e.is_pre_first_chunk is False
    )


def test_catchable_as_openai():
    with pytest.raises(openai.RateLimitError):
        raise E.RateLimitError("rl", "openai", "gpt-4o")
    with pytest.raises(openai.APIStatusError):
        raise E.ServiceUnavailableError("su", "openai", "gpt-4o")
    with pytest.raises(openai.APIConnectionError):
        raise E.Timeout("slow", "gpt-4o", "openai")


# --------------------------------------------------------------------------- _from_native

KINDS = [
    ("bad_request", None, E.BadRequestError, 400, "litellm.BadRequestError: "),
    ("bad_request", 422, E.BadRequestError, 422, "litellm.BadRequestError: "),
    ("authentication", 401, E.AuthenticationError, 401, "litellm.AuthenticationError: "),
    ("permission_denied", 403, E.PermissionDeniedError, 403, "litellm.PermissionDeniedError: "),
    ("not_found", 404, E.NotFoundError, 404, "litellm.NotFoundError: "),
    ("timeout", None, E.Timeout, 408, "litellm.Timeout: "),
    ("timeout", 504, E.Timeout, 504, "litellm.Timeout: "),
    (
        "unprocessable_entity",
        422,
        E.UnprocessableEntityError,
        422,
        "litellm.UnprocessableEntityError: ",
    ),
    ("rate_limit", 429, E.RateLimitError, 429, "litellm.RateLimitError: "),
    (
        "context_window_exceeded",
        400,
        E.ContextWindowExceededError,
        400,
        "litellm.ContextWindowExceededError: litellm.BadRequestError: ",
    ),
    (
        "content_policy_violation",
        400,
        E.ContentPolicyViolationError,
        400,
        "litellm.BadRequestError: litellm.ContentPolicyViolationError: ",
    ),
    ("unsupported_params", 400, E.UnsupportedParamsError, 400, "litellm.UnsupportedParamsError: "),
    ("internal_server", 500, E.InternalServerError, 500, "litellm.InternalServerError: "),
    ("bad_gateway", 502, E.BadGatewayError, 502, "litellm.BadGatewayError: "),
    (
        "service_unavailable",
        503,
        E.ServiceUnavailableError,
        503,
        "litellm.ServiceUnavailableError: ",
    ),
    ("api_connection", None, E.APIConnectionError, 500, "litellm.APIConnectionError: "),
    ("api_error", 418, E.APIError, 418, "litellm.APIError: "),
    ("something_new", 599, E.APIError, 599, "litellm.APIError: "),
    ("mock", 529, E.MockException, 529, "litellm.MockException: "),
]


@pytest.mark.parametrize(("kind", "status", "cls", "code", "prefix"), KINDS, ids=lambda v: str(v))
def test_from_native(kind, status, cls, code, prefix):
    e = _from_native(
        kind, status, "OpenAIException - boom", "openai", "gpt-4o", None, None, None, 2
    )
    assert type(e) is cls
    assert e.status_code == code
    assert e.message == prefix + "OpenAIException - boom"
    assert str(e) == prefix + "OpenAIException - boom LiteLLM Retried: 2 times"
    assert e.llm_provider == "openai" and e.model == "gpt-4o" and e.num_retries == 2


def test_from_native_rate_limit_and_budget():
    e = _from_native(
        "rate_limit",
        429,
        "slow down",
        "anthropic",
        "claude",
        12.5,
        {"retry-after": "12.5"},
        {"error": {"type": "rate_limit_error"}},
        None,
    )
    assert isinstance(e, openai.RateLimitError)
    assert e.retry_after == 12.5 and e.headers == {"retry-after": "12.5"}
    assert e.response.headers["retry-after"] == "12.5"
    assert e.body == {"error": {"type": "rate_limit_error"}}
    t = _from_native(
        "timeout", 408, "took too long", "openai", "gpt-4o", None, {"x": "y"}, None, None
    )
    assert t.headers == {"x": "y"}
    b = _from_native(
        "budget_exceeded",
        None,
        "",
        None,
        None,
        None,
        None,
        {"current_cost": 2.0, "max_budget": 1.0},
        None,
    )
    assert type(b) is E.BudgetExceededError and b.status_code == 422
    assert str(b) == "Budget has been exceeded! Current cost: 2.0, Max budget: 1.0"
