"""Router surface LiteLLM code and LiteLLM's tests call (issue 11 §1-§2), computed in Python from
the native router's data: constructor checks, retry decisions, deployment and model-group info,
per-deployment prices, mocks without a network call or key."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

import llmrelay as litellm
from llmrelay import Router
from llmrelay.types.router import Deployment, ModelGroupInfo

from conftest import USER


def _router(**kwargs: Any) -> Router:
    model_list = kwargs.pop("model_list", None) or [
        {"model_name": "gpt", "litellm_params": {"model": "openai/gpt-4o-mini", "api_key": "sk-a"},
         "model_info": {"id": "one"}},
        {"model_name": "gpt", "litellm_params": {"model": "openai/gpt-4o", "api_key": "sk-b",
                                                 "api_base": "http://b.invalid/v1"},
         "model_info": {"id": "two"}},
    ]
    return Router(model_list=model_list, **kwargs)


def test_unknown_constructor_argument_is_a_type_error():
    with pytest.raises(TypeError, match="unexpected keyword argument 'num_retires'"):
        Router(model_list=[], num_retires=3)
    # Every LiteLLM argument and llmrelay's own extensions are accepted.
    Router(model_list=[], num_retries=1, routing_strategy="simple-shuffle", set_verbose=False,
           debug_level="INFO", retry_after=1, max_queue_wait=0)


def test_should_retry_this_error():
    router = _router()
    rate_limit = litellm.RateLimitError(message="slow", llm_provider="openai", model="m")
    assert router.should_retry_this_error(rate_limit, healthy_deployments=[{}, {}]) is True
    for error in (rate_limit,
                  litellm.InternalServerError(message="x", llm_provider="openai", model="m"),
                  litellm.Timeout(message="x", model="m", llm_provider="openai")):
        with pytest.raises(type(error)):
            router.should_retry_this_error(error, healthy_deployments=[])
    with pytest.raises(litellm.NotFoundError):  # never retried
        router.should_retry_this_error(
            litellm.NotFoundError(message="x", model="m", llm_provider="openai"), healthy_deployments=[{}])
    window = litellm.ContextWindowExceededError(message="x", model="m", llm_provider="openai")
    with pytest.raises(litellm.ContextWindowExceededError):  # goes to its fallbacks
        router.should_retry_this_error(window, healthy_deployments=[{}, {}],
                                       context_window_fallbacks=[{"gpt": ["big"]}])
    assert router.should_retry_this_error(window, healthy_deployments=[{}, {}]) is True


def test_time_to_sleep_before_retry():
    from llmrelay.exceptions import _httpx as httpx  # the openai SDK's HTTP library

    router = _router(retry_after=0)
    limited = litellm.RateLimitError(
        message="slow", llm_provider="openai", model="m",
        response=httpx.Response(429, headers={"retry-after": "7"},
                                request=httpx.Request("POST", "https://x.invalid")))
    # Another deployment can take the call: no wait.
    assert router._time_to_sleep_before_retry(limited, 2, 2, [{}], [{}, {}]) == 0.0
    # A single deployment: the upstream's retry-after.
    assert router._time_to_sleep_before_retry(limited, 2, 2, [{}], [{}]) == 7.0
    # No hint: exponential backoff, growing with the attempts made.
    plain = litellm.RateLimitError(message="slow", llm_provider="openai", model="m")
    first = router._time_to_sleep_before_retry(plain, 4, 4, [], [{}])
    later = router._time_to_sleep_before_retry(plain, 1, 4, [], [{}])
    assert 0.3 <= first <= 0.7 and later > first


def test_get_deployment_credentials_and_model_info():
    router = _router()
    deployment = router.get_deployment("two")
    assert isinstance(deployment, Deployment)
    assert deployment.litellm_params.model == "openai/gpt-4o" and deployment.model_info.id == "two"
    assert router.get_deployment("nope") is None
    assert router.get_deployment_credentials("two") == {"api_key": "sk-b", "api_base": "http://b.invalid/v1"}
    info = router.get_deployment_model_info(model_id="two", model_name="gpt")
    assert info["max_input_tokens"] == litellm.get_model_info("gpt-4o")["max_input_tokens"]
    assert info["id"] == "two"
    # get_model_info(<deployment id>) resolves to the deployment's model.
    by_id = litellm.get_model_info("one")
    assert by_id["input_cost_per_token"] == litellm.get_model_info("gpt-4o-mini")["input_cost_per_token"]


def test_get_router_model_info_for_wildcards_and_ids():
    router = Router(model_list=[
        {"model_name": "openai/*", "litellm_params": {"model": "openai/*", "rpm": 60}, "model_info": {"id": 7}}])
    info = router.get_router_model_info(deployment=None, received_model_name="openai/gpt-4o", id="7")
    assert info["input_cost_per_token"] == litellm.get_model_info("gpt-4o")["input_cost_per_token"]
    assert info["rpm"] == 60


def test_get_model_group_info():
    router = Router(model_list=[
        {"model_name": "mixed", "litellm_params": {"model": "openai/gpt-4o-mini", "tpm": 100}},
        {"model_name": "mixed", "litellm_params": {"model": "anthropic/claude-sonnet-4-5", "tpm": 50}},
    ])
    group = router.get_model_group_info("mixed")
    assert isinstance(group, ModelGroupInfo)
    assert group.providers == ["openai", "anthropic"]
    assert group.tpm == 150 and group.supports_function_calling is True
    assert "tools" in group.supported_openai_params
    assert router.get_model_group_info("nope") is None


def test_chat_completions_create_is_router_completion():
    router = Router(model_list=[{"model_name": "g", "litellm_params": {"model": "gpt-4o", "mock_response": "via chat"}}])
    response = router.chat.completions.create(model="g", messages=USER)
    assert response.choices[0].message.content == "via chat"


def test_mock_exception_in_deployment_params_and_call():
    router = Router(model_list=[
        {"model_name": "bad", "litellm_params": {"model": "gpt-4o", "mock_response": Exception("down")}},
        {"model_name": "good", "litellm_params": {"model": "gpt-4o", "mock_response": "fine"}},
    ], fallbacks=[{"bad": ["good"]}], num_retries=0)
    assert router.completion(model="bad", messages=USER).choices[0].message.content == "fine"
    limited = Exception("slow")
    limited.status_code = 429
    with pytest.raises(litellm.RateLimitError):
        router.completion(model="good", messages=USER, mock_response=limited)
    with pytest.raises(litellm.ContentPolicyViolationError):
        router.completion(model="good", messages=USER, mock_response="Exception: content_filter_policy")


def test_mock_timeout_needs_no_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    router = Router(model_list=[{"model_name": "g", "litellm_params": {"model": "gpt-4o"}}], num_retries=0)
    started = time.time()
    with pytest.raises(litellm.Timeout):
        router.completion(model="g", messages=USER, mock_timeout=True, timeout=0.2)
    assert time.time() - started >= 0.2


def test_module_default_fallbacks_are_used(monkeypatch):
    monkeypatch.setattr(litellm, "default_fallbacks", ["spare"])
    router = Router(model_list=[
        {"model_name": "main", "litellm_params": {"model": "gpt-4o", "mock_response": "litellm.InternalServerError"}},
        {"model_name": "spare", "litellm_params": {"model": "gpt-4o", "mock_response": "spare answered"}},
    ], num_retries=0)
    assert router.completion(model="main", messages=USER).choices[0].message.content == "spare answered"


def test_deployment_prices_and_base_model_are_used_for_cost():
    router = Router(model_list=[
        {"model_name": "priced", "litellm_params": {"model": "openai/house-model", "mock_response": "hi"},
         "model_info": {"id": "house", "input_cost_per_token": 1.0, "output_cost_per_token": 2.0}},
        {"model_name": "my-gpt", "litellm_params": {"model": "azure/my-gpt-deployment", "api_key": "k",
                                                    "api_base": "http://x.invalid", "mock_response": "hi"},
         "model_info": {"id": "az", "base_model": "azure/gpt-4o"}},
    ])
    priced = router.completion(model="priced", messages=USER)
    assert priced._hidden_params["response_cost"] == 10 * 1.0 + 20 * 2.0  # mock usage: 10 + 20
    assert litellm.get_model_info("house")["input_cost_per_token"] == 1.0
    azure = router.completion(model="my-gpt", messages=USER)
    p, c = litellm.cost_per_token("azure/gpt-4o", 10, 20)
    assert azure._hidden_params["response_cost"] == pytest.approx(p + c)
    assert litellm.get_model_info("az")["input_cost_per_token"] == litellm.get_model_info("azure/gpt-4o")["input_cost_per_token"]


def test_rpm_and_tpm_beside_litellm_params_weight_the_shuffle():
    router = Router(model_list=[
        {"model_name": "g", "litellm_params": {"model": "openai/a"}, "rpm": 5},
        {"model_name": "g", "litellm_params": {"model": "openai/b"}, "rpm": 95},
    ])
    picks = Counter(router.get_available_deployment("g")["litellm_params"]["model"] for _ in range(400))
    assert picks["openai/b"] / 400 > 0.85


def test_router_types_are_importable_from_llmrelay_router():
    from llmrelay.router import AllowedFailsPolicy, LiteLLM_Params, RetryPolicy

    router = Router(model_list=[Deployment(model_name="d", litellm_params=LiteLLM_Params(model="gpt-4o", mock_response="typed"))],
                    retry_policy=RetryPolicy(RateLimitErrorRetries=1),
                    allowed_fails_policy=AllowedFailsPolicy(RateLimitErrorAllowedFails=3))
    assert router.completion(model="d", messages=USER).choices[0].message.content == "typed"


def test_a_failed_fallback_raises_the_requested_groups_error_with_litellms_note() -> None:
    """LiteLLM's Router raises the requested group's error (its class and status) and says
    in its message what the fallbacks did."""
    model_list = [
        {"model_name": name, "litellm_params": {"model": "openai/gpt-4o-mini", "api_key": "x",
                                                 "mock_response": mock}}
        for name, mock in (("a", "litellm.RateLimitError"), ("b", "litellm.InternalServerError"),
                           ("c", "litellm.InternalServerError"))
    ]
    notes = {
        "tried": "\n\nLiteLLM: model group 'a' failed with the error above. Fallback to b also "
                 "failed: litellm.InternalServerError: this is a mock internal server error",
        "other": "\n\nLiteLLM: model group 'a' failed with the error above and no fallback model "
                 "group was found for it, so the request was not retried on another model. "
                 "Fallbacks are configured for: c. Add a fallbacks entry for that model group "
                 "(Router fallbacks or proxy router_settings.fallbacks) to retry on another model.",
        "none": "\n\nLiteLLM: model group 'a' failed with the error above. No fallback was "
                "attempted.",
    }
    for case, fallbacks in (("tried", [{"a": ["b"]}]), ("other", [{"c": ["b"]}]), ("none", None)):
        router = litellm.Router(model_list=model_list, num_retries=0, fallbacks=fallbacks)
        with pytest.raises(litellm.RateLimitError) as info:
            router.completion(model="a", messages=[{"role": "user", "content": "hi"}])
        assert info.value.status_code == 429
        assert str(info.value) == "litellm.RateLimitError: this is a mock rate limit error" + notes[case]

    litellm.expose_router_debug_in_errors = False
    try:
        router = litellm.Router(model_list=model_list, num_retries=0)
        with pytest.raises(litellm.RateLimitError) as info:
            router.completion(model="a", messages=[{"role": "user", "content": "hi"}])
        assert str(info.value) == "litellm.RateLimitError: this is a mock rate limit error"
    finally:
        litellm.expose_router_debug_in_errors = True
