"""CustomLogger defaults and CustomGuardrail selection (behaviour observed with LiteLLM 1.104)."""

from __future__ import annotations

import inspect

import pytest
from llmrelay.integrations.custom_guardrail import CustomGuardrail
from llmrelay.integrations.custom_logger import CustomLogger
from llmrelay.types.guardrails import GuardrailEventHooks as H
from llmrelay.types.guardrails import Mode


def test_constructor_attributes():
    logger = CustomLogger(foo=1)
    assert vars(logger) == {"message_logging": True, "turn_off_message_logging": False}
    assert vars(CustomLogger(turn_off_message_logging=True, message_logging=False)) == {
        "message_logging": False,
        "turn_off_message_logging": True,
    }
    assert CustomLogger.get_callback_env_vars("x") == []


SYNC_METHODS = [
    "log_pre_api_call",
    "log_post_api_call",
    "log_stream_event",
    "log_success_event",
    "log_failure_event",
    "logging_hook",
    "pre_call_check",
    "get_chat_completion_prompt",
]
ASYNC_METHODS = [
    "async_log_stream_event",
    "async_log_pre_api_call",
    "async_log_success_event",
    "async_log_failure_event",
    "async_pre_request_hook",
    "async_pre_routing_hook",
    "async_filter_deployments",
    "async_pre_call_check",
    "async_pre_call_deployment_hook",
    "async_post_call_success_deployment_hook",
    "async_post_call_failure_deployment_hook",
    "async_post_call_streaming_deployment_hook",
    "async_get_chat_completion_prompt",
    "async_logging_hook",
    "async_pre_call_hook",
    "async_moderation_hook",
    "async_post_call_success_hook",
    "async_post_call_failure_hook",
    "async_post_call_streaming_hook",
    "async_post_call_response_headers_hook",
    "async_filter_listed_models",
    "async_post_mcp_tool_call_hook",
    "async_log_audit_log_event",
    "log_success_fallback_event",
    "log_failure_fallback_event",
    "log_model_group_rate_limit_error",
    "async_should_run_agentic_loop",
    "async_should_run_chat_completion_agentic_loop",
]


@pytest.mark.parametrize("name", SYNC_METHODS)
def test_sync_methods_exist(name):
    fn = getattr(CustomLogger, name)
    assert callable(fn) and not inspect.iscoroutinefunction(fn)


@pytest.mark.parametrize("name", ASYNC_METHODS)
def test_async_methods_exist(name):
    assert inspect.iscoroutinefunction(getattr(CustomLogger, name))


def test_signatures_match_litellm():
    def params(name):
        return list(inspect.signature(getattr(CustomLogger, name)).parameters)[1:]

    assert params("log_success_event") == ["kwargs", "response_obj", "start_time", "end_time"]
    assert params("log_pre_api_call") == ["model", "messages", "kwargs"]
    assert params("async_pre_call_hook") == ["user_api_key_dict", "cache", "data", "call_type"]
    assert params("async_post_call_success_hook") == ["data", "user_api_key_dict", "response"]
    assert params("async_post_call_failure_hook") == [
        "request_data",
        "original_exception",
        "user_api_key_dict",
        "traceback_str",
    ]
    assert params("async_moderation_hook") == ["data", "user_api_key_dict", "call_type"]
    assert params("async_post_call_streaming_iterator_hook") == [
        "user_api_key_dict",
        "response",
        "request_data",
    ]
    assert params("logging_hook") == ["kwargs", "result", "call_type"]


async def test_default_return_values():
    c = CustomLogger()
    assert c.log_success_event({}, None, None, None) is None
    assert c.logging_hook({"k": 1}, "R", "completion") == ({"k": 1}, "R")
    assert await c.async_logging_hook({"k": 1}, "R", "completion") == ({"k": 1}, "R")
    assert await c.async_pre_request_hook("m", [], {"a": 1}) is None
    assert await c.async_pre_routing_hook("m", {"a": 1}, [], None, False) is None
    assert await c.async_filter_deployments("m", [{"x": 1}], [], {}) == [{"x": 1}]
    assert await c.async_pre_call_deployment_hook({"a": 1}, None) is None
    assert (
        await c.async_pre_call_check({"d": 1}, None) is None and c.pre_call_check({"d": 1}) is None
    )
    assert await c.async_post_call_success_deployment_hook({}, "RESP", None) is None
    assert await c.async_pre_call_hook(None, None, {"a": 1}, "completion") is None
    assert await c.async_filter_listed_models(None, ["a", "b"]) == ["a", "b"]
    assert await c.async_post_call_response_headers_hook({}, None, None) is None
    assert await c.async_post_call_failure_hook({}, Exception(), None) is None
    assert await c.async_post_call_success_hook({}, None, "RESP") is None
    assert await c.async_moderation_hook({}, None, "completion") is None
    assert await c.async_should_run_agentic_loop(None, "m", [], None, False, "openai", {}) == (
        False,
        {},
    )
    assert c.get_chat_completion_prompt("m", [{"role": "user"}], {"t": 1}, None, None, {}) == (
        "m",
        [{"role": "user"}],
        {"t": 1},
    )
    assert await c.async_get_chat_completion_prompt(
        "m", [{"role": "user"}], {"t": 1}, None, None, {}, None
    ) == (
        "m",
        [{"role": "user"}],
        {"t": 1},
    )
    with pytest.raises(NotImplementedError):
        await c.async_dataset_hook({}, None)

    async def gen():
        yield 1
        yield 2

    assert [x async for x in c.async_post_call_streaming_iterator_hook(None, gen(), {})] == [1, 2]


async def test_subclass_overrides_are_used():
    class Recorder(CustomLogger):
        def __init__(self):
            super().__init__()
            self.events = []

        def log_success_event(self, kwargs, response_obj, start_time, end_time):
            self.events.append(("sync", kwargs["model"]))

        async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
            self.events.append(("async", kwargs["model"]))

    r = Recorder()
    r.log_success_event({"model": "m"}, None, None, None)
    await r.async_log_success_event({"model": "m"}, None, None, None)
    assert r.events == [("sync", "m"), ("async", "m")]
    assert isinstance(r, CustomLogger)


# --------------------------------------------------------------------------- guardrails


def test_guardrail_constructor():
    g = CustomGuardrail(guardrail_name="g1", event_hook="pre_call")
    assert isinstance(g, CustomLogger)
    assert vars(g) == {
        "guardrail_name": "g1",
        "supported_event_hooks": None,
        "event_hook": "pre_call",
        "default_on": False,
        "mask_request_content": False,
        "mask_response_content": False,
        "violation_message_template": None,
        "end_session_after_n_fails": None,
        "on_violation": None,
        "realtime_violation_message": None,
        "on_sensitive_data": None,
        "sensitive_data_route_to_model": None,
        "sticky_session_routing": True,
        "run_in_parallel": False,
        "scan_raw_request": False,
        "only_scan_new_messages": False,
        "timeout": None,
        "message_logging": True,
        "turn_off_message_logging": False,
    }
    with pytest.raises(
        ValueError,
        match="Event hook GuardrailEventHooks.pre_call is not in the supported event hooks",
    ):
        CustomGuardrail(
            guardrail_name="g", event_hook="pre_call", supported_event_hooks=[H.post_call]
        )


# (guardrail kwargs, request data, event, expected) - as LiteLLM 1.104 answered
CASES = [
    ({"event_hook": "pre_call"}, {}, H.pre_call, False),
    ({"event_hook": "pre_call"}, {"metadata": {"guardrails": ["g1"]}}, H.pre_call, True),
    ({"event_hook": "pre_call"}, {"metadata": {"guardrails": ["g2"]}}, H.pre_call, False),
    ({"event_hook": "pre_call"}, {"litellm_metadata": {"guardrails": ["g1"]}}, H.pre_call, True),
    ({"event_hook": "pre_call"}, {"guardrails": ["g1"]}, H.pre_call, True),
    (
        {"event_hook": "pre_call"},
        {"metadata": {"guardrails": [{"g1": {"extra_body": {}}}]}},
        H.pre_call,
        True,
    ),
    ({"event_hook": "pre_call"}, {"metadata": {"guardrails": ["g1"]}}, H.post_call, False),
    ({"event_hook": "pre_call", "default_on": True}, {}, H.pre_call, True),
    ({"event_hook": "pre_call", "default_on": True}, {}, H.post_call, False),
    (
        {"event_hook": "pre_call", "default_on": True},
        {"metadata": {"guardrails": ["g2"]}},
        H.pre_call,
        True,
    ),
    ({"event_hook": ["pre_call", "post_call"], "default_on": True}, {}, H.post_call, True),
    ({"event_hook": ["pre_call", "post_call"], "default_on": True}, {}, H.during_call, False),
    ({"default_on": True}, {}, H.pre_call, True),
    ({"default_on": True}, {}, H.logging_only, True),
    ({"event_hook": "during_call"}, {"metadata": {"guardrails": ["g1"]}}, H.during_call, True),
    ({"event_hook": "during_call"}, {"metadata": {"guardrails": ["g1"]}}, H.pre_call, False),
    (
        {"event_hook": H.post_call},
        {"guardrails": ["g1"]},
        "post_call",
        True,
    ),  # plain strings accepted too
]


@pytest.mark.parametrize(("kwargs", "data", "event", "expected"), CASES)
def test_should_run_guardrail(kwargs, data, event, expected):
    assert (
        CustomGuardrail(guardrail_name="g1", **kwargs).should_run_guardrail(data, event) is expected
    )


def test_tag_mode():
    g = CustomGuardrail(
        guardrail_name="g1",
        default_on=True,
        event_hook=Mode(tags={"sensitive": "pre_call"}, default="post_call"),
    )
    assert g.should_run_guardrail({}, H.post_call) is True
    assert g.should_run_guardrail({}, H.pre_call) is False
    assert g.should_run_guardrail({"metadata": {"tags": ["sensitive"]}}, H.pre_call) is True
    assert g.should_run_guardrail({"metadata": {"tags": ["sensitive"]}}, H.post_call) is False


async def test_guardrail_helpers():
    g = CustomGuardrail(guardrail_name="g1", event_hook="pre_call")
    assert g.get_guardrail_from_metadata({"metadata": {"guardrails": ["g1"]}}) == ["g1"]
    assert g.get_guardrail_from_metadata({"guardrails": ["x"]}) == ["x"]
    assert g.get_guardrail_from_metadata({}) == []
    assert g.get_guardrail_dynamic_request_body_params(
        {"metadata": {"guardrails": [{"g1": {"extra_body": {"k": 1}}}]}}
    ) == {"k": 1}
    assert await g.apply_guardrail({"texts": ["a"]}, {}, "request") == {"texts": ["a"]}
    assert g.uses_apply_guardrail_interface() is False

    class Mine(CustomGuardrail):
        async def apply_guardrail(self, inputs, request_data, input_type, logging_obj=None):
            return inputs

    assert Mine(guardrail_name="m").uses_apply_guardrail_interface() is True

    data: dict = {"metadata": {}}
    g.add_standard_logging_guardrail_information_to_request_data(
        guardrail_json_response={"ok": 1},
        request_data=data,
        guardrail_status="success",
        start_time=1.0,
        end_time=2.0,
        duration=1.0,
    )
    assert data == {
        "metadata": {
            "standard_logging_guardrail_information": [
                {
                    "guardrail_name": "g1",
                    "guardrail_provider": None,
                    "guardrail_mode": "pre_call",
                    "guardrail_response": {"ok": 1},
                    "guardrail_status": "success",
                    "start_time": 1.0,
                    "end_time": 2.0,
                    "duration": 1.0,
                    "masked_entity_count": None,
                }
            ]
        }
    }
    assert g.mask_content_in_string("hello world", "[MASK]", 0, 5) == "[MASK] world"
    assert g.render_violation_message("default msg") == "default msg"

    from llmrelay.exceptions import ModifyResponseException

    with pytest.raises(ModifyResponseException) as info:
        g.raise_passthrough_exception("viol", {"model": "m"})
    assert str(info.value) == "viol" and info.value.guardrail_name == "g1"


def test_event_hook_enum():
    assert [h.value for h in H] == [
        "pre_call",
        "post_call",
        "during_call",
        "logging_only",
        "pre_mcp_call",
        "during_mcp_call",
        "post_mcp_call",
        "realtime_input_transcription",
    ]
    assert H.pre_call == "pre_call" and issubclass(H, str)
