"""LiteLLM-compatible exception classes.

Every provider error is an instance of the matching ``openai`` SDK exception, so
``except openai.RateLimitError`` catches :class:`RateLimitError`.  Messages carry
LiteLLM's ``"litellm.<ClassName>: "`` prefix and ``str(e)`` appends
``" LiteLLM Retried: N times"`` / ``", LiteLLM Max Retries: M"`` when set.

This module imports ``openai`` (and its HTTP library) at import time, so the
package must import it lazily.  Engine errors become these classes in
``llmrelay._errors``.
"""

from __future__ import annotations

import importlib
import sys
from enum import Enum
from typing import Any

import openai

__all__ = [
    "LITELLM_EXCEPTION_TYPES",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "AuthenticationError",
    "BadGatewayError",
    "BadRequestError",
    "BlockedPiiEntityError",
    "BudgetExceededError",
    "CallerCredentialAuthenticationError",
    "CallerCredentialRateLimitError",
    "ContentPolicyViolationError",
    "ContextWindowExceededError",
    "EndpointNotSupportedByModelError",
    "GuardrailRaisedException",
    "ImageFetchError",
    "InternalServerError",
    "InvalidRequestError",
    "JSONSchemaValidationError",
    "LiteLLMUnknownProvider",
    "MalformedRequestFieldError",
    "MidStreamFallbackError",
    "MockException",
    "ModelNotMappedError",
    "ModifyResponseException",
    "NotFoundError",
    "OpenAIError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateLimitError",
    "RateLimitErrorCategory",
    "RateLimitType",
    "RejectedRequestError",
    "SensitiveDataRouteException",
    "ServiceUnavailableError",
    "Timeout",
    "UnprocessableEntityError",
    "UnsupportedEndpointError",
    "UnsupportedParamsError",
    "VectorStoreSearchError",
]


# ----------------------------------------------------------------------------- HTTP plumbing


def _load_httpx() -> Any:
    """The HTTP library the installed openai SDK uses (``httpx`` for 1.x/2.x, ``httpx2`` for 3.x)."""
    try:
        name = openai.DefaultHttpxClient.__mro__[1].__module__.split(".")[0]
        return importlib.import_module(name)
    except (AttributeError, IndexError, ImportError):
        pass
    for name in ("httpx2", "httpx"):  # pragma: no cover - only if the SDK layout changes
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise ImportError("neither httpx nor httpx2 is importable")  # pragma: no cover


_httpx = _load_httpx()

# Synthetic request/response used when the caller has none (as LiteLLM does).
_SYNTHETIC_URL = "https://litellm.ai"
_DEFAULT_API_URL = "https://api.openai.com/v1"


def _request(method: str = "POST", url: str = _DEFAULT_API_URL) -> Any:
    return _httpx.Request(method=method, url=url)


def _response(status_code: int, headers: dict | None = None, url: str = _SYNTHETIC_URL) -> Any:
    return _httpx.Response(
        status_code=status_code,
        headers=headers or None,
        request=_httpx.Request(method="GET", url=url),
    )


def _budget_exceeded_status_code() -> int:
    pkg = sys.modules.get("llmrelay")
    code = getattr(pkg, "budget_exceeded_status_code", None) if pkg is not None else None
    return code if isinstance(code, int) else 422


class _LiteLLMErrorMixin:
    """Shared attributes and ``__str__``/``__repr__`` of the provider exceptions."""

    status_code: int
    message: str
    llm_provider: str | None
    model: str | None
    litellm_debug_info: str | None
    max_retries: int | None
    num_retries: int | None

    def _set_common(
        self,
        message: str,
        llm_provider: str | None,
        model: str | None,
        litellm_debug_info: str | None,
        max_retries: int | None,
        num_retries: int | None,
    ) -> None:
        self.message = message
        self.llm_provider = llm_provider
        self.model = model
        self.litellm_debug_info = litellm_debug_info
        self.max_retries = max_retries
        self.num_retries = num_retries

    def __str__(self) -> str:
        text = self.message
        if getattr(self, "num_retries", None):
            text += f" LiteLLM Retried: {self.num_retries} times"
        if getattr(self, "max_retries", None):
            text += f", LiteLLM Max Retries: {self.max_retries}"
        return text

    __repr__ = __str__

    def _init_status(
        self,
        status: int,
        class_name: str,
        message: str,
        llm_provider: str | None,
        model: str | None,
        response: Any,
        litellm_debug_info: str | None,
        max_retries: int | None,
        num_retries: int | None,
        body: object | None,
    ) -> None:
        """The common construction of an ``openai.APIStatusError`` subclass."""
        self.status_code = status
        self._set_common(
            f"litellm.{class_name}: {message}",
            llm_provider,
            model,
            litellm_debug_info,
            max_retries,
            num_retries,
        )
        if response is None:
            response = _response(status)
        elif hasattr(response, "status_code") and getattr(response, "_request", False) is None:
            # openai's errors read response.request; a response built without one gets a
            # copy that has it, as LiteLLM does.
            library = importlib.import_module(type(response).__module__.split(".")[0])
            response = library.Response(status_code=response.status_code, headers=response.headers,
                                        content=response.content,
                                        request=library.Request("POST", _DEFAULT_API_URL))
        super().__init__(self.message, response=response, body=body)  # type: ignore[call-arg]
        self.status_code = status


# ----------------------------------------------------------------------------- 4xx


class BadRequestError(_LiteLLMErrorMixin, openai.BadRequestError):
    def __init__(
        self,
        message: str,
        model: str | None,
        llm_provider: str | None,
        response: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
        body: dict | None = None,
    ):
        self._init_status(
            400, "BadRequestError", message, llm_provider, model, response,
            litellm_debug_info, max_retries, num_retries, body,
        )


class UnprocessableEntityError(_LiteLLMErrorMixin, openai.UnprocessableEntityError):
    def __init__(
        self,
        message: str,
        model: str | None,
        llm_provider: str | None,
        response: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
    ):
        self._set_common(
            f"litellm.UnprocessableEntityError: {message}",
            llm_provider,
            model,
            litellm_debug_info,
            max_retries,
            num_retries,
        )
        if response is None:
            response = _response(422)
        super().__init__(self.message, response=response, body=None)
        self.status_code = getattr(response, "status_code", 422)


class Timeout(_LiteLLMErrorMixin, openai.APITimeoutError):
    def __init__(
        self,
        message: str,
        model: str | None,
        llm_provider: str | None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
        headers: dict | None = None,
        exception_status_code: int | None = None,
        response: Any = None,
    ):
        super().__init__(request=_request())
        self.status_code = exception_status_code or 408
        self._set_common(
            f"litellm.Timeout: {message}",
            llm_provider,
            model,
            litellm_debug_info,
            max_retries,
            num_retries,
        )
        self.headers = headers
        if response is not None:
            self.response = response


class PermissionDeniedError(_LiteLLMErrorMixin, openai.PermissionDeniedError):
    def __init__(
        self,
        message: str,
        llm_provider: str | None,
        model: str | None,
        response: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
    ):
        self._set_common(
            f"litellm.PermissionDeniedError: {message}",
            llm_provider,
            model,
            litellm_debug_info,
            max_retries,
            num_retries,
        )
        if response is None:
            response = _response(403)
        super().__init__(self.message, response=response, body=None)
        self.status_code = 403


class AuthenticationError(_LiteLLMErrorMixin, openai.AuthenticationError):
    def __init__(
        self,
        message: str,
        llm_provider: str | None,
        model: str | None,
        response: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
    ):
        self._set_common(
            f"litellm.AuthenticationError: {message}",
            llm_provider,
            model,
            litellm_debug_info,
            max_retries,
            num_retries,
        )
        if response is None:
            response = _response(401)
        super().__init__(self.message, response=response, body=None)
        self.status_code = 401


class NotFoundError(_LiteLLMErrorMixin, openai.NotFoundError):
    def __init__(
        self,
        message: str,
        model: str | None,
        llm_provider: str | None,
        response: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
    ):
        self._set_common(
            f"litellm.NotFoundError: {message}",
            llm_provider,
            model,
            litellm_debug_info,
            max_retries,
            num_retries,
        )
        if response is None:
            response = _response(404)
        super().__init__(self.message, response=response, body=None)
        self.status_code = 404


class ContextWindowExceededError(BadRequestError):
    def __init__(
        self,
        message: str,
        model: str | None,
        llm_provider: str | None,
        response: Any = None,
        litellm_debug_info: str | None = None,
    ):
        super().__init__(
            message=message,
            model=model,
            llm_provider=llm_provider,
            response=response,
            litellm_debug_info=litellm_debug_info,
        )
        # LiteLLM stacks both prefixes: "litellm.ContextWindowExceededError: litellm.BadRequestError: ..."
        self.message = f"litellm.ContextWindowExceededError: {self.message}"


class RejectedRequestError(BadRequestError):
    def __init__(
        self,
        message: str,
        model: str | None,
        llm_provider: str | None,
        request_data: dict,
        litellm_debug_info: str | None = None,
    ):
        self.request_data = request_data
        super().__init__(
            message=f"litellm.RejectedRequestError: {message}",
            model=model,
            llm_provider=llm_provider,
            response=_response(400, url=_DEFAULT_API_URL),
            litellm_debug_info=litellm_debug_info,
        )


class ContentPolicyViolationError(BadRequestError):
    def __init__(
        self,
        message: str,
        model: str | None,
        llm_provider: str | None,
        response: Any = None,
        litellm_debug_info: str | None = None,
        provider_specific_fields: dict | None = None,
        body: dict | None = None,
    ):
        super().__init__(
            message=f"litellm.ContentPolicyViolationError: {message}",
            model=model,
            llm_provider=llm_provider,
            response=response,
            litellm_debug_info=litellm_debug_info,
            body=body,
        )
        self.provider_specific_fields = provider_specific_fields


class UnsupportedParamsError(BadRequestError):
    def __init__(
        self,
        message: str,
        llm_provider: str | None = None,
        model: str | None = None,
        status_code: int = 400,
        response: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
    ):
        super().__init__(
            message,
            model=model,
            llm_provider=llm_provider,
            response=response if response is not None else _response(status_code),
            litellm_debug_info=litellm_debug_info,
            max_retries=max_retries,
            num_retries=num_retries,
        )
        self.args = (message,)
        self.message = f"litellm.UnsupportedParamsError: {message}"
        self.status_code = status_code


class ImageFetchError(BadRequestError):
    def __init__(
        self,
        message: str,
        model: str | None = None,
        llm_provider: str | None = None,
        response: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
        body: dict | None = None,
    ):
        super().__init__(
            message,
            model,
            llm_provider,
            response,
            litellm_debug_info,
            max_retries,
            num_retries,
            body,
        )


class LiteLLMUnknownProvider(BadRequestError):
    def __init__(self, model: str, custom_llm_provider: str | None = None):
        self.custom_llm_provider = custom_llm_provider
        super().__init__(
            message=(
                f"Unmapped LLM provider for this endpoint. You passed model={model}, "
                f"custom_llm_provider={custom_llm_provider}. Check supported provider and route: "
                "https://docs.litellm.ai/docs/providers"
            ),
            model=model,
            llm_provider=custom_llm_provider,
        )


class PaymentRequiredError(BadRequestError):
    def __init__(
        self,
        message: str,
        model: str | None = None,
        llm_provider: str | None = None,
        response: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
        body: dict | None = None,
    ):
        super().__init__(
            message,
            model,
            llm_provider,
            response if response is not None else _response(402),
            litellm_debug_info,
            max_retries,
            num_retries,
            body,
        )
        self.status_code = 402


class TokenCountInputError(BadRequestError, ValueError):
    """``token_counter`` input LiteLLM rejects with ``ValueError`` (an invalid image ``detail``,
    a malformed message); also a ``BadRequestError`` so either ``except`` catches it."""


class TagRoutingError(AuthenticationError, ValueError):
    """A Router request whose tags allow none of its model group's deployments ("Not allowed
    to access model due to tags configuration"): LiteLLM's Router raises ``ValueError`` and its
    proxy answers 401, so either ``except`` catches it."""


class MalformedRequestFieldError(BadRequestError):
    pass


class UnsupportedEndpointError(BadRequestError):
    pass


class EndpointNotSupportedByModelError(BadRequestError):
    pass


class VectorStoreSearchError(BadRequestError):
    def __init__(
        self, failures: Any = (), model: str | None = None, llm_provider: str | None = None
    ):
        self.failures = list(failures)
        super().__init__(
            message=f"Vector store search failed: {self.failures}",
            model=model,
            llm_provider=llm_provider,
        )


class RateLimitErrorCategory(str, Enum):
    """Values of :attr:`RateLimitError.category` (stored as plain strings)."""

    VENDOR_RATE_LIMIT = "vendor_rate_limit"
    VENDOR_BATCH_RATE_LIMIT = "vendor_batch_rate_limit"
    LITELLM_RATE_LIMIT = "litellm_rate_limit"
    LITELLM_BATCH_RATE_LIMIT = "litellm_batch_rate_limit"


class RateLimitType(str, Enum):
    """Values of :attr:`RateLimitError.rate_limit_type` (stored as plain strings)."""

    REQUESTS = "requests"
    TOKENS = "tokens"
    CONCURRENT_REQUESTS = "concurrent_requests"
    BUDGET = "budget"


def _plain(v: Any) -> Any:
    return v.value if isinstance(v, Enum) else v


def _parse_retry_after(headers: Any) -> float | None:
    """Seconds to wait, from ``retry-after-ms`` / ``retry-after`` (delta seconds or HTTP date)."""
    if not headers:
        return None
    try:
        get = headers.get
    except AttributeError:
        return None

    def _h(name: str) -> Any:
        v = get(name)
        if v is None:
            v = get(name.title())
        return v

    ms = _h("retry-after-ms")
    if ms is not None:
        try:
            return float(ms) / 1000.0
        except (TypeError, ValueError):
            pass
    ra = _h("retry-after")
    if ra is None:
        return None
    try:
        return float(ra)
    except (TypeError, ValueError):
        pass
    import email.utils
    import time

    try:
        parsed = email.utils.parsedate_tz(str(ra))
        if parsed is None:
            return None
        return max(0.0, email.utils.mktime_tz(parsed) - time.time())
    except (TypeError, ValueError, OverflowError):
        return None


class RateLimitError(_LiteLLMErrorMixin, openai.RateLimitError):
    def __init__(
        self,
        message: str,
        llm_provider: str | None,
        model: str | None,
        response: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
        category: str | RateLimitErrorCategory = "vendor_rate_limit",
        rate_limit_type: str | RateLimitType | None = None,
        headers: dict[str, str] | None = None,
        detail: Any = None,
        body: object | None = None,
        retry_after: float | None = None,
    ):
        self.status_code = 429
        self._set_common(
            f"litellm.RateLimitError: {message}",
            llm_provider,
            model,
            litellm_debug_info,
            max_retries,
            num_retries,
        )
        self.category = _plain(category)
        self.rate_limit_type = _plain(rate_limit_type)
        self.headers = headers
        self.detail = detail
        if response is None:
            response = _response(429, headers=headers)
        super().__init__(self.message, response=response, body=body)
        self.status_code = 429
        if self.code is None:
            self.code = "429"
        if self.type is None:
            self.type = "throttling_error"
        if retry_after is None:
            retry_after = _parse_retry_after(headers)
            if retry_after is None:
                retry_after = _parse_retry_after(getattr(response, "headers", None))
        self.retry_after = retry_after


class CallerCredentialAuthenticationError(AuthenticationError):
    """The caller's own credential was rejected (never cools down a deployment)."""


class CallerCredentialRateLimitError(RateLimitError):
    """The caller's own credential hit a rate limit (never cools down a deployment)."""


# ----------------------------------------------------------------------------- 5xx / other


class ServiceUnavailableError(_LiteLLMErrorMixin, openai.APIStatusError):
    def __init__(
        self,
        message: str,
        llm_provider: str | None,
        model: str | None,
        response: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
    ):
        self._init_status(
            503, "ServiceUnavailableError", message, llm_provider, model, response,
            litellm_debug_info, max_retries, num_retries, None,
        )


class BadGatewayError(_LiteLLMErrorMixin, openai.APIStatusError):
    def __init__(
        self,
        message: str,
        llm_provider: str | None,
        model: str | None,
        response: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
    ):
        self._init_status(
            502, "BadGatewayError", message, llm_provider, model, response,
            litellm_debug_info, max_retries, num_retries, None,
        )


class InternalServerError(_LiteLLMErrorMixin, openai.InternalServerError):
    def __init__(
        self,
        message: str,
        llm_provider: str | None,
        model: str | None,
        response: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
        body: object | None = None,
    ):
        self._init_status(
            500, "InternalServerError", message, llm_provider, model, response,
            litellm_debug_info, max_retries, num_retries, body,
        )
        if self.type is None:
            self.type = "internal_server_error"


class MidStreamFallbackError(ServiceUnavailableError):
    """The stream failed after it started; carries what was generated so far."""

    def __init__(
        self,
        message: str,
        model: str | None,
        llm_provider: str | None,
        original_exception: Exception | None = None,
        response: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
        generated_content: str = "",
        is_pre_first_chunk: bool = False,
    ):
        status = getattr(original_exception, "status_code", None)
        if not isinstance(status, int):
            status = 503
        super().__init__(
            message,
            llm_provider=llm_provider,
            model=model,
            response=response
            if response is not None
            else _response(status, url="https://openai.com/v1/"),
            litellm_debug_info=litellm_debug_info,
            max_retries=max_retries,
            num_retries=num_retries,
        )
        self.status_code = status
        text = f"litellm.MidStreamFallbackError: {message}"
        if original_exception is not None:
            text += (
                f" Original exception: {type(original_exception).__name__}: {original_exception}"
            )
        self.message = text
        self.args = (text,)
        self.original_exception = original_exception
        self.generated_content = generated_content
        self.is_pre_first_chunk = is_pre_first_chunk


class APIError(_LiteLLMErrorMixin, openai.APIError):
    """Any other provider status (``status_code`` is whatever the provider returned)."""

    def __init__(
        self,
        status_code: int,
        message: str,
        llm_provider: str | None,
        model: str | None,
        request: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
        body: object | None = None,
    ):
        self.status_code = status_code
        self._set_common(
            f"litellm.APIError: {message}",
            llm_provider,
            model,
            litellm_debug_info,
            max_retries,
            num_retries,
        )
        super().__init__(
            self.message, request=request if request is not None else _request(), body=body
        )
        self.status_code = status_code


class APIConnectionError(_LiteLLMErrorMixin, openai.APIConnectionError):
    def __init__(
        self,
        message: str,
        llm_provider: str | None,
        model: str | None,
        request: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
    ):
        self._set_common(
            f"litellm.APIConnectionError: {message}",
            llm_provider,
            model,
            litellm_debug_info,
            max_retries,
            num_retries,
        )
        self.status_code = 500
        super().__init__(
            message=self.message, request=request if request is not None else _request()
        )
        self.status_code = 500


class APIResponseValidationError(_LiteLLMErrorMixin, openai.APIResponseValidationError):
    def __init__(
        self,
        message: str,
        llm_provider: str | None,
        model: str | None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
    ):
        # LiteLLM leaves this message unprefixed.
        self._set_common(message, llm_provider, model, litellm_debug_info, max_retries, num_retries)
        response = _httpx.Response(status_code=500, request=_request())
        super().__init__(response=response, body=None, message=message)
        self.status_code = 500


class JSONSchemaValidationError(APIResponseValidationError):
    def __init__(self, model: str, llm_provider: str, raw_response: str, schema: str) -> None:
        self.raw_response = raw_response
        self.schema = schema
        message = (
            f"litellm.JSONSchemaValidationError: model={model}, returned an invalid response={raw_response}, "
            f"for schema={schema}.\nAccess raw response with `e.raw_response`"
        )
        super().__init__(message=message, llm_provider=llm_provider, model=model)


class MockException(_LiteLLMErrorMixin, openai.APIError):
    """Raised by ``mock_response`` error strings; ``status_code`` is whatever was given."""

    def __init__(
        self,
        status_code: int,
        message: str,
        llm_provider: str | None,
        model: str | None,
        request: Any = None,
        litellm_debug_info: str | None = None,
        max_retries: int | None = None,
        num_retries: int | None = None,
    ):
        self.status_code = status_code
        self._set_common(
            f"litellm.MockException: {message}",
            llm_provider,
            model,
            litellm_debug_info,
            max_retries,
            num_retries,
        )
        super().__init__(
            self.message, request=request if request is not None else _request(), body=None
        )
        self.status_code = status_code

    __repr__ = Exception.__repr__


class InvalidRequestError(openai.BadRequestError):
    """Legacy (pre-1.0 openai) name; message is not prefixed."""

    def __init__(self, message: str, model: str | None, llm_provider: str | None):
        self.status_code = 400
        self.message = message
        self.model = model
        self.llm_provider = llm_provider
        super().__init__(self.message, response=_response(400), body=None)
        self.status_code = 400


class OpenAIError(openai.OpenAIError):
    """Legacy wrapper around an original openai exception."""

    def __init__(self, original_exception: Any = None):
        super().__init__()
        self.llm_provider = "openai"
        self.original_exception = original_exception


# ----------------------------------------------------------------------------- not openai-derived


class BudgetExceededError(Exception):
    def __init__(
        self,
        current_cost: float,
        max_budget: float,
        message: str | None = None,
        llm_provider: str | None = None,
        entity_type: str | None = None,
        entity_id: str | None = None,
    ):
        self.current_cost = current_cost
        self.max_budget = max_budget
        self.entity_type = entity_type
        self.entity_id = entity_id
        self.llm_provider = llm_provider or ""
        self.status_code = _budget_exceeded_status_code()
        self.category = "litellm_rate_limit"
        self.rate_limit_type = "budget"
        if message is None:
            message = (
                f"Budget has been exceeded! Current cost: {current_cost}, Max budget: {max_budget}"
            )
        self.message = message
        super().__init__(message)


class ModelNotMappedError(Exception):
    """``get_model_info`` found no entry for the model."""


class GuardrailRaisedException(Exception):
    def __init__(
        self,
        guardrail_name: str | None = None,
        message: str = "",
        should_wrap_with_default_message: bool = True,
        status_code: int = 400,
        blocked_content: bool = False,
    ):
        self.guardrail_name = guardrail_name
        self.status_code = status_code
        self.blocked_content = blocked_content
        if should_wrap_with_default_message:
            self.message = (
                f"Guardrail raised an exception, Guardrail: {guardrail_name}, Message: {message}"
            )
        else:
            self.message = message
        super().__init__(self.message)


class BlockedPiiEntityError(Exception):
    def __init__(self, entity_type: str, guardrail_name: str | None = None, status_code: int = 400):
        self.entity_type = entity_type
        self.guardrail_name = guardrail_name
        self.status_code = status_code
        self.message = (
            f"Blocked entity detected: {entity_type} by Guardrail: {guardrail_name}. "
            "This entity is not allowed to be used in this request."
        )
        super().__init__(self.message)


class ModifyResponseException(Exception):
    """Raised by a guardrail to answer with ``message`` instead of calling the model."""

    def __init__(
        self,
        message: str,
        model: str,
        request_data: dict[str, Any],
        guardrail_name: str | None = None,
        detection_info: dict[str, Any] | None = None,
        original_response: Any = None,
    ):
        self.message = message
        self.model = model
        self.request_data = request_data
        self.guardrail_name = guardrail_name
        self.detection_info = detection_info
        self.original_response = original_response
        super().__init__(message)


class SensitiveDataRouteException(Exception):
    """Raised by a guardrail to re-route a request holding sensitive data."""

    def __init__(
        self,
        route_to_model: str,
        session_id: str,
        guardrail_name: str | None = None,
        detection_info: dict[str, Any] | None = None,
        message: str | None = None,
        sticky_session_routing: bool = True,
    ):
        self.route_to_model = route_to_model
        self.session_id = session_id
        self.guardrail_name = guardrail_name
        self.detection_info = detection_info
        self.sticky_session_routing = sticky_session_routing
        self.message = (
            message
            or f"Sensitive data detected by {guardrail_name}. Routing to model: {route_to_model}"
        )
        super().__init__(self.message)


LITELLM_EXCEPTION_TYPES = [
    AuthenticationError,
    NotFoundError,
    BadRequestError,
    UnprocessableEntityError,
    UnsupportedParamsError,
    Timeout,
    PermissionDeniedError,
    RateLimitError,
    ContextWindowExceededError,
    RejectedRequestError,
    ContentPolicyViolationError,
    InternalServerError,
    ServiceUnavailableError,
    BadGatewayError,
    APIError,
    APIConnectionError,
    APIResponseValidationError,
    OpenAIError,
    JSONSchemaValidationError,
    MidStreamFallbackError,
]
