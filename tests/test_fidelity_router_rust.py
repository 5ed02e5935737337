"""Router behaviour LiteLLM has that belongs in the Rust router's call path (issue 11 §2), for the
typed call pipeline to implement. These tests fail until it does; each docstring says exactly
what the router must do. (Not xfail-marked on purpose: the lead runs them as the target.)"""

from __future__ import annotations

from typing import Any

import pytest

import llmrelay as litellm
from llmrelay import Router
from llmrelay.integrations.custom_logger import CustomLogger

from conftest import USER


class PreCall(CustomLogger):
    """Records what each attempt's pre-call hook sees."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    def log_pre_api_call(self, model: Any, messages: Any, kwargs: dict) -> None:
        self.calls.append((model, kwargs))


def _groups(**extra: Any) -> Router:
    return Router(model_list=[
        {"model_name": "primary", "litellm_params": {"model": "openai/gpt-4o-mini", "api_key": "k",
                                                     "mock_response": "from primary"},
         "model_info": {"id": "primary-id"}},
        {"model_name": "spare", "litellm_params": {"model": "openai/gpt-4o", "api_key": "k",
                                                   "mock_response": "from spare"}},
    ], num_retries=0, **extra)


def test_mock_testing_fallbacks():
    """`mock_testing_fallbacks=True`: the first model group raises LiteLLM's mock
    `InternalServerError` ("This is a mock exception for model=primary, to trigger a
    fallback.") without calling it; the router then serves the call from `fallbacks`, whose
    deployments run normally (the flag is not passed on)."""
    router = _groups(fallbacks=[{"primary": ["spare"]}])
    response = router.completion(model="primary", messages=USER, mock_testing_fallbacks=True)
    assert response.choices[0].message.content == "from spare"
    with pytest.raises(litellm.InternalServerError, match="to trigger a fallback"):
        _groups().completion(model="primary", messages=USER, mock_testing_fallbacks=True)


def test_mock_testing_context_fallbacks():
    """`mock_testing_context_fallbacks=True`: a `ContextWindowExceededError` on the first group,
    served by `context_window_fallbacks`."""
    router = _groups(context_window_fallbacks=[{"primary": ["spare"]}])
    response = router.completion(model="primary", messages=USER, mock_testing_context_fallbacks=True)
    assert response.choices[0].message.content == "from spare"


def test_mock_testing_content_policy_fallbacks():
    """`mock_testing_content_policy_fallbacks=True`: a `ContentPolicyViolationError` on the first
    group, served by `content_policy_fallbacks`."""
    router = _groups(content_policy_fallbacks=[{"primary": ["spare"]}])
    response = router.completion(model="primary", messages=USER,
                                 mock_testing_content_policy_fallbacks=True)
    assert response.choices[0].message.content == "from spare"


def test_deployment_id_as_model():
    """`model=<model_info.id>` calls exactly that deployment (LiteLLM resolves ids before group
    names), and `fallbacks` may name ids too."""
    router = _groups()
    response = router.completion(model="primary-id", messages=USER)
    assert response.choices[0].message.content == "from primary"
    assert response._hidden_params["model_id"] == "primary-id"


def test_previous_models_reach_pre_call_hooks_on_retries():
    """Each retry's pre-call kwargs carry `litellm_params.metadata.previous_models`: one entry
    per failed attempt (`{"exception_type", "exception_string", …}`), so the last attempt of a
    call with `num_retries=2` sees 2 (LiteLLM's test_router_retries counts them)."""
    hook = PreCall()
    litellm.callbacks = [hook]
    router = Router(model_list=[
        {"model_name": "flaky", "litellm_params": {"model": "openai/gpt-4o", "api_key": "k"}},
        {"model_name": "flaky", "litellm_params": {"model": "openai/gpt-4o-mini", "api_key": "k"}},
    ], num_retries=2)
    with pytest.raises(litellm.InternalServerError):
        router.completion(model="flaky", messages=USER, mock_response=Exception("Invalid Request"))
    seen = [len(kwargs["litellm_params"]["metadata"].get("previous_models", [])) for _, kwargs in hook.calls]
    assert seen == [0, 1, 2]


def test_router_pre_call_reports_the_deployment_model():
    """A Router call's callbacks see `kwargs["model"]` as the deployment's model without the
    provider prefix (`gpt-4o-mini`, not the group name), already in `log_pre_api_call`, with
    `metadata.model_group` the group."""
    hook = PreCall()
    litellm.callbacks = [hook]
    _groups().completion(model="primary", messages=USER)
    model, kwargs = hook.calls[0]
    assert model == "gpt-4o-mini" and kwargs["model"] == "gpt-4o-mini"
    assert kwargs["litellm_params"]["metadata"]["model_group"] == "primary"


def test_async_router_attempts_reach_pre_call_hooks_on_the_loop():
    """`acompletion` through the Router: every attempt's pre-call callback runs on the caller's
    event loop thread (not the engine's), before the call returns, with the failures so far."""
    import asyncio
    import threading

    threads: list[str] = []

    class Recorder(PreCall):
        def log_pre_api_call(self, model: Any, messages: Any, kwargs: dict) -> None:
            threads.append(threading.current_thread().name)
            super().log_pre_api_call(model, messages, kwargs)

    hook = Recorder()
    litellm.callbacks = [hook]
    router = Router(model_list=[
        {"model_name": "flaky", "litellm_params": {"model": "openai/gpt-4o", "api_key": "k"}},
    ], num_retries=1)

    async def main() -> None:
        with pytest.raises(litellm.InternalServerError):
            await router.acompletion(model="flaky", messages=USER,
                                     mock_response=Exception("Invalid Request"))

    asyncio.run(main())
    assert threads == [threading.current_thread().name] * 2
    previous = [kwargs["litellm_params"]["metadata"]["previous_models"] for _, kwargs in hook.calls]
    assert [len(p) for p in previous] == [0, 1]
    assert previous[1][0]["exception_type"] == "InternalServerError"
    assert previous[1][0]["exception_string"].startswith("litellm.InternalServerError: ")
    assert [model for model, _ in hook.calls] == ["gpt-4o", "gpt-4o"]
