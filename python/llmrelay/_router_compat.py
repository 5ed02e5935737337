"""LiteLLM Router methods computed in Python from the native router's data: constructor
argument checks, retry decisions (``should_retry_this_error``, ``_time_to_sleep_before_retry``),
model-group and deployment info, per-deployment pricing registered in the catalog, and the
``router.chat.completions.create`` surface."""

from __future__ import annotations

import random
from typing import Any, Optional

__all__ = [
    "ROUTER_ARGUMENTS",
    "check_arguments",
    "deployment_model_info",
    "model_group_info",
    "register_deployment_pricing",
    "should_retry_this_error",
    "time_to_sleep_before_retry",
]

# LiteLLM 1.104's Router(...) parameters, plus llmrelay's own (queueing, Redis sync, health).
ROUTER_ARGUMENTS = frozenset(
    """model_list assistants_config search_tools guardrail_list redis_url redis_host redis_port
    redis_password redis_db cache_responses cache_kwargs caching_groups client_ttl
    polling_interval default_priority num_retries max_fallbacks timeout stream_timeout
    default_litellm_params default_max_parallel_requests set_verbose debug_level
    default_fallbacks fallbacks context_window_fallbacks content_policy_fallbacks
    model_group_alias enable_pre_call_checks enable_tag_filtering tag_filtering_match_any
    tag_routing_prefix plugins retry_after retry_policy model_group_retry_policy allowed_fails
    allowed_fails_policy cooldown_time disable_cooldowns routing_strategy
    optional_pre_call_checks routing_strategy_args routing_groups provider_budget_config
    alerting_config router_general_settings deployment_affinity_ttl_seconds
    model_group_affinity_config ignore_invalid_deployments enable_health_check_routing
    health_check_staleness_threshold health_check_ignore_transient_errors
    background_health_check_model_groups enable_weighted_failover fallback_access_check
    fallback_budget_check auto_router_capability_limit
    redis_sync_interval_ms max_queue_wait max_queue_size max_cooldown_wait
    background_health_checks health_check_interval health_check_timeout""".split()
)


def check_arguments(kwargs: dict) -> None:
    """``TypeError`` for an argument Router does not take, worded as Python words it for
    LiteLLM's ``Router.__init__`` (so a typo such as ``num_retires`` is not silently ignored)."""
    for name in kwargs:
        if name not in ROUTER_ARGUMENTS:
            raise TypeError(f"Router.__init__() got an unexpected keyword argument '{name}'")


# ------------------------------------------------------------------------------ retries


def should_retry_this_error(error: BaseException, healthy_deployments: Optional[list] = None,
                            all_deployments: Optional[list] = None,
                            context_window_fallbacks: Optional[list] = None,
                            content_policy_fallbacks: Optional[list] = None,
                            regular_fallbacks: Optional[list] = None) -> bool:
    """``True`` when the router would retry ``error``; otherwise ``error`` is raised: context
    window and content policy errors go to their fallbacks when there are some, a 404 is never
    retried, and nothing is retried when no healthy deployment is left."""
    from .exceptions import (
        AuthenticationError,
        ContentPolicyViolationError,
        ContextWindowExceededError,
        NotFoundError,
    )

    if isinstance(error, ContextWindowExceededError) and context_window_fallbacks:
        raise error
    if isinstance(error, ContentPolicyViolationError) and content_policy_fallbacks:
        raise error
    if isinstance(error, NotFoundError):
        raise error
    healthy = len(healthy_deployments or [])
    if healthy <= 0:
        raise error
    if isinstance(error, AuthenticationError) and healthy <= 1:
        raise error
    return True


def _retry_after_seconds(error: BaseException) -> Optional[float]:
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return float(value) * scale
        except (TypeError, ValueError):
            continue
    return None


def time_to_sleep_before_retry(error: BaseException, remaining_retries: int, num_retries: int,
                               healthy_deployments: Optional[list] = None,
                               all_deployments: Optional[list] = None,
                               retry_after: float = 0.0) -> float:
    """Seconds to wait before the next attempt: none when another deployment can take it
    (rate limit with healthy deployments among several); the upstream's ``retry-after`` when it
    is at most 60 s; else exponential backoff (0.5 s doubling, at most 8 s, ±25 % jitter), never
    below the router's ``retry_after``."""
    from .exceptions import RateLimitError

    healthy = len(healthy_deployments or [])
    total = len(all_deployments or [])
    if isinstance(error, RateLimitError) and healthy > 0 and total > 1:
        return 0.0
    if healthy > 0 and total > 1 and not isinstance(error, RateLimitError):
        return 0.0
    wait = _retry_after_seconds(error)
    if wait is not None and 0 < wait <= 60:
        return max(wait, retry_after)
    attempt = max(num_retries - remaining_retries, 0)
    backoff = min(0.5 * (2 ** attempt), 8.0) * (1 + random.uniform(-0.25, 0.25))
    return max(backoff, retry_after)


# ------------------------------------------------------------------------------ model info

_CREDENTIAL_KEYS = ("api_key", "api_base", "api_version", "organization", "aws_access_key_id",
                    "aws_secret_access_key", "aws_session_token", "aws_region_name",
                    "vertex_project", "vertex_location", "vertex_credentials", "region_name",
                    "azure_ad_token", "tenant_id", "client_id", "client_secret",
                    "litellm_credential_name", "custom_llm_provider", "watsonx_region_name")


def deployment_credentials(deployment: dict) -> dict:
    params = deployment.get("litellm_params") or {}
    return {key: params[key] for key in _CREDENTIAL_KEYS if params.get(key) is not None}


def _pricing(deployment: dict) -> dict:
    from .types._pricing import PRICING_FIELDS

    params = deployment.get("litellm_params") or {}
    info = deployment.get("model_info") or {}
    prices = {key: params[key] for key in PRICING_FIELDS if params.get(key) is not None}
    prices.update({key: info[key] for key in PRICING_FIELDS if info.get(key) is not None})
    return prices


def deployment_model_info(deployment: Optional[dict], received_model_name: Optional[str] = None) -> dict:
    """What ``get_model_info`` knows of the model a deployment serves (for a wildcard
    deployment, of ``received_model_name``; for an Azure deployment with ``base_model``, of
    that), with the deployment's own prices, limits and ``model_info`` laid over it."""
    from . import get_model_info

    deployment = deployment or {}
    params = deployment.get("litellm_params") or {}
    own = dict(deployment.get("model_info") or {})
    model = params.get("model") or received_model_name or ""
    if "*" in model and received_model_name:
        model = received_model_name
    base_model = own.get("base_model") or params.get("base_model")
    info: dict = {}
    for name in [m for m in (base_model, model) if m]:
        try:
            info = dict(get_model_info(name, params.get("custom_llm_provider")))
            break
        except Exception:
            continue
    info.update({k: v for k, v in own.items() if v is not None})
    info.update(_pricing(deployment))
    for limit in ("tpm", "rpm"):
        value = params.get(limit, deployment.get(limit))
        if value is not None:
            info[limit] = value
    return info


def model_group_info(router: Any, model_group: str) -> Any:
    """``ModelGroupInfo`` of a group: its providers, the widest limits, the prices of its
    first priced deployment, the union of capabilities and supported parameters."""
    from . import get_llm_provider
    from .types.router import ModelGroupInfo

    deployments = router.get_model_list(model_group)
    if not deployments:
        return None
    providers: list[str] = []
    merged: dict[str, Any] = {"model_group": model_group}
    params_union: list[str] = []
    tpm = rpm = 0
    for deployment in deployments:
        params = deployment.get("litellm_params") or {}
        try:
            provider = get_llm_provider(params.get("model", ""), params.get("custom_llm_provider"))[1]
        except Exception:
            provider = params.get("custom_llm_provider") or "openai"
        if provider not in providers:
            providers.append(provider)
        info = deployment_model_info(deployment, model_group)
        for key in ("max_input_tokens", "max_output_tokens"):
            if info.get(key) is not None:
                merged[key] = max(merged.get(key) or 0, info[key])
        for key in ("input_cost_per_token", "output_cost_per_token", "input_cost_per_pixel", "mode"):
            if merged.get(key) is None and info.get(key) is not None:
                merged[key] = info[key]
        for key, value in info.items():
            if key.startswith("supports_") and value:
                merged[key] = True
        for name in info.get("supported_openai_params") or []:
            if name not in params_union:
                params_union.append(name)
        tpm += params.get("tpm") or deployment.get("tpm") or 0
        rpm += params.get("rpm") or deployment.get("rpm") or 0
    merged["providers"] = providers
    merged["supported_openai_params"] = params_union
    if tpm:
        merged["tpm"] = tpm
    if rpm:
        merged["rpm"] = rpm
    known = set(ModelGroupInfo.model_fields)
    return ModelGroupInfo(**{k: v for k, v in merged.items() if k in known})


def register_deployment_pricing(deployments: list) -> None:
    """Deployments with their own prices (``litellm_params`` or ``model_info``) or a
    ``base_model`` are registered in the catalog under their id and their model name, so
    ``get_model_info(<id>)`` and cost lookups see them, as LiteLLM's Router does."""
    from . import _native
    from . import get_llm_provider

    entries: dict[str, dict] = {}
    for deployment in deployments:
        prices = _pricing(deployment)
        params = deployment.get("litellm_params") or {}
        base_model = (deployment.get("model_info") or {}).get("base_model") or params.get("base_model")
        if base_model:
            # An Azure deployment with its own name is priced as the model it runs.
            base = _native.model_info(base_model, None)
            if base is not None:
                from .types._pricing import PRICING_FIELDS

                prices = {**{k: base[k] for k in PRICING_FIELDS if base.get(k) is not None}, **prices}
        model = params.get("model")
        model_id = (deployment.get("model_info") or {}).get("id")
        if not prices:
            # No prices of its own: the id still resolves to what the model resolves to.
            name = base_model or model or ""
            if model_id and name and "*" not in name:
                from .utils import _model_info_entry

                known = _model_info_entry(name, params.get("custom_llm_provider"))
                if known is not None:
                    entries[str(model_id)] = {k: v for k, v in known.items() if k != "key"}
            continue
        try:
            provider = get_llm_provider(model or "", params.get("custom_llm_provider"))[1]
        except Exception:
            provider = params.get("custom_llm_provider")
        entry = dict(prices, mode=(deployment.get("model_info") or {}).get("mode", "chat"))
        if provider:
            entry["litellm_provider"] = provider
        if model_id:
            entries[str(model_id)] = entry
        if model:
            entries[model] = entry
    if entries:
        _native.register_model(entries, None)


class _Completions:
    def __init__(self, router: Any) -> None:
        self._router = router

    def create(self, model: str, messages: list, **kwargs: Any) -> Any:
        """``router.chat.completions.create(...)``: ``router.completion(...)``."""
        return self._router.completion(model=model, messages=messages, **kwargs)

    async def acreate(self, model: str, messages: list, **kwargs: Any) -> Any:
        return await self._router.acompletion(model=model, messages=messages, **kwargs)


class Chat:
    """``router.chat``: the OpenAI client surface over the router."""

    def __init__(self, router: Any) -> None:
        self.completions = _Completions(router)


_MOCK_ERROR_PREFIX = "\x01llmrelay-mock-error "  # the engine's internal mock-error form


def mock_exception_string(mock: Any) -> Any:
    """A ``mock_response`` exception as the engine's mock error of the same class, status and
    message (the engine raises it on every attempt, so retries, cooldowns and fallbacks run,
    and the message is the exception's own)."""
    import json

    if isinstance(mock, type) and issubclass(mock, BaseException):
        mock = mock("mock exception")
    if not isinstance(mock, BaseException):
        return mock
    from .exceptions import _LiteLLMErrorMixin
    from .litellm_core_utils.exception_mapping_utils import exception_type

    if getattr(mock, "status_code", None) is None and not isinstance(mock, _LiteLLMErrorMixin):
        name, status = "InternalServerError", 500
    else:
        mapped = exception_type(model="", original_exception=mock,
                                custom_llm_provider=getattr(mock, "llm_provider", None))
        name = type(mapped).__name__
        status = getattr(mapped, "status_code", None) or 500
        if name == "APIError":
            name = "InternalServerError"
    message = getattr(mock, "message", None)
    if not isinstance(message, str):
        message = getattr(mock, "text", None) or str(mock)
    # LiteLLM's classes carry "litellm.<Class>: " in their message; the engine's error adds it.
    prefix = f"litellm.{type(mock).__name__}: "
    if message.startswith(prefix):
        message = message[len(prefix):]
    return _MOCK_ERROR_PREFIX + json.dumps({"class": name, "status": int(status), "message": message})
