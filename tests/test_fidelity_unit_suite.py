"""Behaviour LiteLLM's own unit tests pin down (issue 11, "LiteLLM's own unit tests" in
docs/compatibility.md), tested here in our words: realtime session cost, tiered prices,
repeated provider prefixes, image sizes, custom-provider registration, cooldown rules,
error helpers, and the catalog as ``litellm.model_cost`` edits it."""

from __future__ import annotations

import ast
import base64
import struct
import zlib

import httpx
import pytest

import llmrelay
from llmrelay.cost_calculator import (
    BaseTokenUsageProcessor,
    RealtimeAPITokenUsageProcessor,
    cost_per_token,
    handle_realtime_stream_cost_calculation,
)
from llmrelay.litellm_core_utils.exception_mapping_utils import (
    ExceptionCheckers,
    extract_and_raise_litellm_exception,
)
from llmrelay.litellm_core_utils.get_llm_provider_logic import (
    get_llm_provider,
    is_registered_custom_provider,
)
from llmrelay.litellm_core_utils.token_counter import get_image_dimensions
from llmrelay.router_utils.cooldown_handlers import (
    _async_get_cooldown_deployments,
    _is_cooldown_required,
    _should_run_cooldown_logic,
)
from llmrelay.types.utils import PromptTokensDetailsWrapper, Usage


def _png(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(header)) + chunk
            + struct.pack(">I", zlib.crc32(chunk)))


def test_realtime_usage_is_summed_over_response_done_events_and_priced():
    events = [
        {"type": "session.created", "session": {"model": "gpt-4o"}},
        {"type": "response.done", "response": {"usage": {"input_tokens": 10, "output_tokens": 4, "total_tokens": 14}}},
        {"type": "response.created", "response": {}},
        {"type": "response.done", "response": {"usage": {"input_tokens": 30, "output_tokens": 6, "total_tokens": 36}}},
    ]
    usage = RealtimeAPITokenUsageProcessor.collect_and_combine_usage_from_realtime_stream_results(events)
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (40, 10, 50)
    cost = handle_realtime_stream_cost_calculation(
        results=events, combined_usage_object=usage, custom_llm_provider="openai",
        litellm_model_name="gpt-3.5-turbo",
    )
    prompt, completion = cost_per_token(model="gpt-4o", prompt_tokens=40, completion_tokens=10)
    assert cost == pytest.approx(prompt + completion)


def test_usage_objects_combine_with_their_details():
    first = Usage(prompt_tokens=5, completion_tokens=1, total_tokens=6,
                  prompt_tokens_details=PromptTokensDetailsWrapper(cached_tokens=2))
    second = Usage(prompt_tokens=7, completion_tokens=3, total_tokens=10,
                   prompt_tokens_details=PromptTokensDetailsWrapper(cached_tokens=1))
    combined = BaseTokenUsageProcessor.combine_usage_objects([first, second])
    assert (combined.prompt_tokens, combined.completion_tokens, combined.total_tokens) == (12, 4, 16)
    assert combined.prompt_tokens_details.cached_tokens == 3


def test_a_model_priced_only_in_tiers_bills_every_token_at_the_tier_of_the_prompt():
    model = "volcengine/doubao-seed-2-0-pro-260215"
    tiers = llmrelay.get_model_info(model)["tiered_pricing"]
    middle = next(t for t in tiers if t["range"][0] <= 40_000 < t["range"][1])
    prompt, completion = cost_per_token(model=model, prompt_tokens=40_000, completion_tokens=500,
                                        custom_llm_provider="volcengine")
    assert prompt == pytest.approx(40_000 * middle["input_cost_per_token"])
    assert completion == pytest.approx(500 * middle["output_cost_per_token"])


def test_a_repeated_provider_prefix_names_the_same_model():
    assert cost_per_token(model="openai/openai/gpt-4o", prompt_tokens=100, completion_tokens=50,
                          custom_llm_provider="openai") == cost_per_token(
        model="gpt-4o", prompt_tokens=100, completion_tokens=50, custom_llm_provider="openai")


def test_image_dimensions_from_a_data_url_and_from_base64():
    png = _png(640, 480)
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    assert get_image_dimensions(data=url) == (640, 480)
    gif = b"GIF89a" + struct.pack("<HH", 3, 7) + b"\x00" * 8
    assert get_image_dimensions(data=base64.b64encode(gif).decode()) == (3, 7)
    assert get_image_dimensions(data=base64.b64encode(b"not an image").decode()) == (None, None)


def test_a_registered_custom_provider_is_recognised_and_its_prefix_stripped(monkeypatch):
    monkeypatch.setattr(llmrelay, "custom_provider_map",
                        [{"provider": "onprem-llm", "custom_handler": llmrelay.CustomLLM()}])
    assert is_registered_custom_provider("onprem-llm") is True
    assert is_registered_custom_provider("elsewhere") is False
    assert is_registered_custom_provider(None) is False
    assert get_llm_provider(model="onprem-llm/m1") == ("m1", "onprem-llm", None, None)
    assert isinstance(llmrelay._custom_providers, list)


def test_cooldown_rules_follow_the_status_and_a_zero_cooldown_turns_them_off():
    router = llmrelay.Router(model_list=[{"model_name": "g", "litellm_params": {"model": "gpt-4o"},
                                          "model_info": {"id": "dep-1"}}])
    error = llmrelay.RateLimitError("slow down", "openai", "gpt-4o")
    assert _should_run_cooldown_logic(router, "dep-1", 429, error) is True
    assert _should_run_cooldown_logic(router, "dep-1", 429, error, time_to_cooldown=0.0) is False
    assert _should_run_cooldown_logic(router, "unknown-id", 429, error) is False
    assert _should_run_cooldown_logic(router, None, 429, error) is False
    for status, expected in ((400, False), (401, True), (404, True), (408, True), (422, False), (500, True), (503, True)):
        assert _is_cooldown_required(router, "dep-1", status) is expected
    assert _is_cooldown_required(router, "dep-1", 500, "litellm.APIConnectionError: refused") is False


async def test_the_cooldown_list_and_the_healthy_deployments_of_a_fresh_router():
    router = llmrelay.Router(model_list=[{"model_name": "g", "litellm_params": {"model": "gpt-4o"}}])
    assert await _async_get_cooldown_deployments(router) == []
    healthy, every = await router._async_get_healthy_deployments(model="g")
    assert len(healthy) == len(every) == 1


def test_rate_limit_text_is_recognised():
    assert ExceptionCheckers.is_error_str_rate_limit("HTTP 429 Too Many Requests")
    assert ExceptionCheckers.is_error_str_rate_limit("Rate-limit reached")
    assert not ExceptionCheckers.is_error_str_rate_limit("4290 tokens")
    assert not ExceptionCheckers.is_error_str_rate_limit(None)


def test_a_fireworks_400_that_reports_a_rate_limit_is_a_rate_limit_error():
    from llmrelay.llms.fireworks_ai.common_utils import FireworksAIException

    with pytest.raises(llmrelay.RateLimitError):
        llmrelay.completion(model="fireworks_ai/some-model", messages=[{"role": "user", "content": "hi"}],
                            mock_response=FireworksAIException(status_code=400, message="rate limit exceeded"))
    with pytest.raises(llmrelay.BadRequestError):
        llmrelay.completion(model="fireworks_ai/some-model", messages=[{"role": "user", "content": "hi"}],
                            mock_response=FireworksAIException(status_code=400, message="bad value"))


def test_an_error_named_in_a_gateway_message_is_raised_as_that_class():
    with pytest.raises(llmrelay.ContextWindowExceededError):
        extract_and_raise_litellm_exception(
            response=None, error_str="Error code: 400 - litellm.ContextWindowExceededError: too long",
            model="m", custom_llm_provider="litellm_proxy")
    assert extract_and_raise_litellm_exception(
        response=None, error_str="plain failure", model="m", custom_llm_provider="openai") is None


def test_an_error_built_from_a_response_without_request_gets_one():
    error = llmrelay.BadRequestError(message="bad", model="m", llm_provider="openai",
                                     response=httpx.Response(status_code=400, text="Bad"))
    assert error.response.request is not None
    assert error.response.status_code == 400


def test_deleting_a_catalog_entry_makes_lookups_fall_back_as_litellm(monkeypatch):
    profile = "us.anthropic.claude-3-5-sonnet-20241022-v2:0"
    catalog = dict(llmrelay.model_cost)
    catalog.pop(profile, None)
    monkeypatch.setattr(llmrelay, "model_cost", catalog)
    info = llmrelay.get_model_info(profile, custom_llm_provider="bedrock")
    assert info["key"] == "anthropic.claude-3-5-sonnet-20241022-v2:0"


def test_function_to_dict_reads_hints_and_a_numpy_docstring():
    def lookup(city: str, days: int, unit: str = "c"):
        """Forecast for a city.

        Parameters
        ----------
        city : str
            Name of the city
        days : int
            How many days ahead
        unit : {'c', 'f'}
            Temperature unit
        """

    schema = llmrelay.utils.function_to_dict(lookup)
    assert schema["name"] == "lookup"
    assert schema["description"] == "Forecast for a city."
    properties = schema["parameters"]["properties"]
    assert properties["city"] == {"type": "string", "description": "Name of the city"}
    assert properties["days"]["type"] == "integer"
    # A {...} choice is a set: its order is not kept, as in LiteLLM.
    assert properties["unit"]["type"] == "string"
    assert sorted(ast.literal_eval(properties["unit"]["enum"])) == ["c", "f"]
    assert schema["parameters"]["required"] == ["city", "days"]


def test_token_counter_and_get_token_count_take_message_objects():
    from llmrelay.types.utils import Message

    as_dict = [{"role": "user", "content": "hello there"}]
    as_object = [Message(role="user", content="hello there")]
    assert llmrelay.utils.get_token_count(as_dict, "gpt-4o") == llmrelay.token_counter(model="gpt-4o", messages=as_object)


def test_trimming_keeps_the_tool_results_that_end_the_conversation():
    history = [
        {"role": "user", "content": "weather in two cities, please " * 20},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "w", "arguments": "{}"}},
            {"id": "b", "type": "function", "function": {"name": "w", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "a", "content": "sunny"},
        {"role": "tool", "tool_call_id": "b", "content": "rain"},
    ]
    trimmed, _left = llmrelay.trim_messages(history, model="gpt-4o", max_tokens=5, return_response_tokens=True)
    assert [m["role"] for m in trimmed][-2:] == ["tool", "tool"]
    assert [m["content"] for m in trimmed][-2:] == ["sunny", "rain"]


def test_validate_environment_asks_an_ollama_model_for_its_address(monkeypatch):
    monkeypatch.delenv("OLLAMA_API_BASE", raising=False)
    assert llmrelay.validate_environment("ollama/mistral") == {
        "keys_in_environment": False, "missing_keys": ["OLLAMA_API_BASE"]}
    assert llmrelay.validate_environment("ollama_chat/mistral", api_base="http://h:11434")["keys_in_environment"]
    monkeypatch.setenv("OLLAMA_API_BASE", "http://h:11434")
    assert llmrelay.validate_environment("ollama/mistral")["missing_keys"] == []


def test_model_cost_entries_carry_the_legacy_max_tokens():
    entry = llmrelay.model_cost["gpt-4o"]
    assert entry["max_tokens"] == entry["max_output_tokens"]


def test_direct_fallback_targets_are_told_from_model_group_mappings():
    from llmrelay.router_utils.fallback_event_handlers import _check_non_standard_fallback_format

    assert _check_non_standard_fallback_format(["backup-a", "backup-b"]) is True
    assert _check_non_standard_fallback_format([{"model": "backup-a", "temperature": 0}]) is True
    assert _check_non_standard_fallback_format([{"primary": ["backup-a"]}]) is False
    assert _check_non_standard_fallback_format([{"model": ["backup-a"]}]) is False
    assert _check_non_standard_fallback_format([]) is False
    assert _check_non_standard_fallback_format(None) is False


def test_router_access_groups_and_wildcard_routes():
    router = llmrelay.Router(model_list=[
        {"model_name": "gemini/*", "litellm_params": {"model": "gemini/*"},
         "model_info": {"id": "w", "access_groups": ["broad"]}},
        {"model_name": "fast", "litellm_params": {"model": "gpt-4o-mini"},
         "model_info": {"id": "f", "access_groups": ["narrow", "broad"]}},
    ])
    assert router.get_model_access_groups() == {"broad": ["gemini/*", "fast"], "narrow": ["fast"]}
    assert router._is_model_access_group_for_wildcard_route("broad") is True
    assert router._is_model_access_group_for_wildcard_route("narrow") is False
    assert router._is_model_access_group_for_wildcard_route("none") is False


def test_router_gives_a_call_its_trace_id_and_model_group_before_fallbacks():
    router = llmrelay.Router(model_list=[{"model_name": "g", "litellm_params": {"model": "gpt-4o"}}])
    kwargs: dict = {"litellm_trace_id": None}
    kwargs.pop("litellm_trace_id")
    router._update_kwargs_before_fallbacks(model="g", kwargs=kwargs)
    assert kwargs["litellm_trace_id"]
    assert kwargs["metadata"] == {"model_group": "g", "model_group_alias": None}
    kept = {"litellm_trace_id": "mine"}
    router._update_kwargs_before_fallbacks(model="g", kwargs=kept)
    assert kept["litellm_trace_id"] == "mine"
    assert router._get_async_openai_model_client(deployment={}, kwargs={}) is None
