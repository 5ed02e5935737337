"""LiteLLM's types, cost, provider and model-info facts at their module paths (issue 11 §1-§2):
``types.router``, ``router_utils``, ``cost_calculator``, ``litellm_core_utils``."""

from __future__ import annotations

import logging
import os

import pytest
from pydantic import ValidationError

import llmrelay as litellm
from llmrelay.types.router import (
    SPECIAL_MODEL_INFO_PARAMS,
    AllowedFailsPolicy,
    Deployment,
    GenericLiteLLMParams,
    LiteLLM_Params,
    ModelGroupInfo,
    ModelInfo,
    RetryPolicy,
)


# ------------------------------------------------------------------------------ types.router


def test_deployment_mirrors_litellm_params_pricing_onto_model_info():
    deployment = Deployment(model_name="m", litellm_params=LiteLLM_Params(
        model="gpt-4o", input_cost_per_token=3e-6, tiered_pricing=[{"range": [0, 10]}]))
    assert deployment.model_info.input_cost_per_token == 3e-6
    assert deployment.model_info.tiered_pricing == [{"range": [0, 10]}]
    assert deployment.model_info.id  # generated
    assert deployment["model_name"] == "m" and deployment.get("nope") is None
    # model_info's own value wins; unset prices stay out of dumps.
    own = Deployment(model_name="m", litellm_params={"model": "x", "input_cost_per_token": 1.0},
                     model_info={"id": "7", "input_cost_per_token": 2.0})
    assert own.model_info.input_cost_per_token == 2.0
    assert [f for f in SPECIAL_MODEL_INFO_PARAMS if f in ModelInfo(id="x").model_dump(exclude_none=True)] == []


def test_model_info_coerces_prices_and_rejects_bad_ones():
    assert ModelInfo(id="x", output_cost_per_token="0.000002").output_cost_per_token == 2e-06
    assert ModelInfo(id=5).id == "5"
    with pytest.raises(ValueError, match="validation error for ModelInfo"):
        ModelInfo(id="x", input_cost_per_token="free")


@pytest.mark.parametrize(("value", "expected"), [
    (True, True), ("true", True), (" False ", False), ("yes", True), (None, None),
    ("os.environ/DROP_PARAMS", "os.environ/DROP_PARAMS")])
def test_drop_params_flag_strings(value, expected):
    assert GenericLiteLLMParams(drop_params=value).drop_params == expected


def test_drop_params_non_flag_is_dropped_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="LiteLLM"):
        assert GenericLiteLLMParams(drop_params=2).drop_params is None
    assert "drop_params=2 is not a flag value" in caplog.text


def test_aws_session_tags_and_affinity_header_validation():
    tags = [{"Key": "team", "Value": "a"}]
    assert LiteLLM_Params(model="bedrock/x", aws_session_tags=tags).model_dump(exclude_none=True)["aws_session_tags"] == tags
    for bad in ("team=a", {"team": "a"}, [{"key": "team", "value": "a"}], [{"Key": "team"}]):
        with pytest.raises(ValidationError, match="aws_session_tags"):
            LiteLLM_Params(model="bedrock/x", aws_session_tags=bad)
    assert LiteLLM_Params(model="x", provider_affinity_header="X-Conversation-Id").provider_affinity_header == "X-Conversation-Id"
    for bad in ("Authorization", "cookie", "X-API-Key", "", "X Conversation", "X-A\r\nB: c"):
        with pytest.raises(ValueError, match="provider_affinity_header"):
            LiteLLM_Params(model="x", provider_affinity_header=bad)


def test_policies_and_model_group_info_defaults():
    assert RetryPolicy(RateLimitErrorRetries=2).model_dump(exclude_none=True) == {"RateLimitErrorRetries": 2}
    assert AllowedFailsPolicy(TimeoutErrorAllowedFails=1).TimeoutErrorAllowedFails == 1
    info = litellm.get_model_info("gpt-4o")
    group = ModelGroupInfo(model_group="g", providers=["openai"], **{**info, "supports_web_search": None, "mode": None})
    assert group.supports_web_search is False and group.mode == "chat"
    assert group.max_input_tokens == info["max_input_tokens"]


# ------------------------------------------------------------------------------ router_utils


def test_get_num_retries_from_retry_policy():
    from llmrelay.router_utils.get_retry_from_policy import get_num_retries_from_retry_policy

    policy = RetryPolicy(ContentPolicyViolationErrorRetries=4, BadRequestErrorRetries=1)
    policy_error = litellm.ContentPolicyViolationError(message="x", model="m", llm_provider="openai")
    assert get_num_retries_from_retry_policy(policy_error, policy) == 4  # the subclass's field wins
    assert get_num_retries_from_retry_policy(
        litellm.BadRequestError(message="x", model="m", llm_provider="openai"), policy) == 1
    assert get_num_retries_from_retry_policy(policy_error, None) is None
    assert get_num_retries_from_retry_policy(
        litellm.RateLimitError(message="x", llm_provider="openai", model="m"), RetryPolicy()) is None
    per_group = {"g": RetryPolicy(RateLimitErrorRetries=9)}
    assert get_num_retries_from_retry_policy(
        litellm.RateLimitError(message="x", llm_provider="openai", model="m"), policy,
        model_group="g", model_group_retry_policy=per_group) == 9


def test_retry_and_fallback_headers():
    from llmrelay.router_utils.add_retry_fallback_headers import (
        add_fallback_headers_to_response,
        add_retry_headers_to_response,
        get_fallback_errors_from_headers,
        safe_header_value,
    )

    response = litellm.completion(model="gpt-4o", messages=[{"role": "user", "content": "x"}], mock_response="y")
    add_retry_headers_to_response(response, attempted_retries=2, max_retries=3)
    add_fallback_headers_to_response(response, attempted_fallbacks=1,
                                     fallback_errors=[{"message": "m", "type": "T", "param": None, "code": "429"}])
    headers = response._hidden_params["additional_headers"]
    assert headers["x-litellm-attempted-retries"] == 2 and headers["x-litellm-max-retries"] == 3
    assert get_fallback_errors_from_headers(headers)[0]["code"] == "429"
    assert get_fallback_errors_from_headers({"x-litellm-fallback-errors": "{broken"}) == []
    as_dict = add_fallback_headers_to_response({"id": "x"}, attempted_fallbacks=1)
    assert as_dict["_hidden_params"]["additional_headers"]["x-litellm-attempted-fallbacks"] == 1
    assert add_fallback_headers_to_response(None, attempted_fallbacks=1) is None
    assert safe_header_value("azure/gpt-4o") == "azure/gpt-4o"
    assert safe_header_value("azure/模型").encode("latin-1")


# ------------------------------------------------------------------------------ cost_calculator


def test_response_cost_calculator_reads_upstream_reported_cost_and_hidden_params():
    from llmrelay.cost_calculator import response_cost_calculator

    class Proxied:
        _hidden_params = {"additional_headers": {"llm_provider-x-litellm-response-cost": "0.25"}}

    assert response_cost_calculator(response_object=Proxied(), model="", custom_llm_provider=None,
                                    call_type="", optional_params={}, cache_hit=None, base_model=None) == 0.25
    response = litellm.completion(model="gpt-4o", messages=[{"role": "user", "content": "x"}], mock_response="y")
    assert response_cost_calculator(response) == pytest.approx(response._hidden_params["response_cost"])
    assert response_cost_calculator(response, cache_hit=True) == 0.0
    # An Azure deployment name prices as its base model.
    assert response_cost_calculator(response, model="azure/my-deployment", base_model="azure/gpt-4o") == \
        pytest.approx(sum(litellm.cost_per_token("azure/gpt-4o", 10, 20)))


def test_completion_cost_fine_tunes_custom_rates_and_transcriptions():
    from llmrelay.types.utils import PromptTokensDetailsWrapper, TranscriptionResponse, Usage

    usage = Usage(prompt_tokens=21, completion_tokens=17, total_tokens=38)
    ft = litellm.ModelResponse(model="ft:gpt-3.5-turbo:my-org:suffix:id", usage=usage)
    base = litellm.model_cost["ft:gpt-3.5-turbo"]
    assert litellm.completion_cost(completion_response=ft) == pytest.approx(
        21 * base["input_cost_per_token"] + 17 * base["output_cost_per_token"])
    assert litellm.completion_cost(completion_response=ft, custom_cost_per_token={
        "input_cost_per_token": 1000, "output_cost_per_token": 20}) == 21 * 1000 + 17 * 20
    whisper = TranscriptionResponse(text="hello")
    whisper.duration = 10.0
    assert litellm.completion_cost(completion_response=whisper, model="whisper-1") == pytest.approx(10 * 0.0001)
    # An Azure deployment name: priced as the model the response names.
    whisper._hidden_params = {"model": "whisper-1", "custom_llm_provider": "azure"}
    assert litellm.completion_cost(completion_response=whisper, model="azure/my-whisper") == pytest.approx(10 * 0.0001)
    tokens = TranscriptionResponse(text="hi")
    tokens.usage = Usage(prompt_tokens=14, completion_tokens=45, total_tokens=59,
                         prompt_tokens_details=PromptTokensDetailsWrapper(text_tokens=0, audio_tokens=14))
    assert litellm.completion_cost(completion_response=tokens, model="gpt-4o-transcribe",
                                   call_type="atranscription") == pytest.approx(14 * 2.5e-06 + 45 * 1e-05)


# ------------------------------------------------------------------------------ providers, model info


def test_get_llm_provider_endpoints_keys_and_catch_all(monkeypatch):
    from llmrelay.litellm_core_utils.get_llm_provider_logic import get_llm_provider

    monkeypatch.delenv("GROQ_API_KEY", raising=False)
    assert get_llm_provider("groq/llama3") == ("llama3", "groq", None, "https://api.groq.com/openai/v1")
    monkeypatch.setenv("GROQ_API_KEY", "gsk")
    monkeypatch.setenv("DEEPSEEK_API_BASE", "http://deepseek.local")
    assert get_llm_provider("groq/llama3")[2] == "gsk"
    assert get_llm_provider("deepseek/deep-chat")[3] == "http://deepseek.local"
    assert get_llm_provider("hosted_vllm/m")[2] == "fake-api-key"
    assert get_llm_provider("llamafile/m") == ("m", "llamafile", "fake-api-key", "http://127.0.0.1:8080/v1")
    assert get_llm_provider("*") == ("*", "openai", None, None)
    assert get_llm_provider("openai/gpt-4o") == ("gpt-4o", "openai", None, None)
    assert get_llm_provider("mistral/m", api_base="http://mine")[3] == "http://mine"
    monkeypatch.setenv("LITELLM_PROXY_API_BASE", "http://proxy.local")
    monkeypatch.setenv("LITELLM_PROXY_API_KEY", "sk-proxy")
    assert get_llm_provider("litellm_proxy/claude") == ("claude", "litellm_proxy", "sk-proxy", "http://proxy.local")
    monkeypatch.setenv("USE_LITELLM_PROXY", "True")
    assert get_llm_provider("gpt-4o") == ("gpt-4o", "litellm_proxy", "sk-proxy", "http://proxy.local")
    monkeypatch.delenv("USE_LITELLM_PROXY")
    with pytest.raises(litellm.BadRequestError, match="LLM Provider NOT provided"):
        get_llm_provider("not-a-provider/x")


def test_get_model_info_resolves_aliases_fine_tunes_and_hugging_face():
    assert litellm.get_model_info("gpt-35-turbo")["key"] == "azure/gpt-35-turbo"
    assert litellm.get_model_info("ft:gpt-3.5-turbo:my-org:custom_suffix:id")["input_cost_per_token"] == 3e-06
    assert litellm.get_model_info("openai/ft:gpt-3.5-turbo:org:s:id", custom_llm_provider="openai")["key"] == "ft:gpt-3.5-turbo"
    hf = litellm.get_model_info("huggingface/meta-llama/Meta-Llama-3-8B-Instruct")
    assert (hf["litellm_provider"], hf["mode"], hf["input_cost_per_token"]) == ("huggingface", "chat", 0)
    with pytest.raises(Exception, match="isn't mapped yet"):
        litellm.get_model_info("not-a-model-anywhere")


def test_get_supported_openai_params_base_model_and_provider_refinements():
    from llmrelay.litellm_core_utils.get_supported_openai_params import get_supported_openai_params

    real = "eu.anthropic.claude-haiku-4-5-20251001-v1:0"
    label = get_supported_openai_params(model="claude-haiku-4-5", custom_llm_provider="bedrock")
    assert "tools" not in label  # a label names no Bedrock model
    combined = get_supported_openai_params(model=real, custom_llm_provider="bedrock", base_model="claude-haiku-4-5")
    assert set(combined) == set(get_supported_openai_params(model=real, custom_llm_provider="bedrock")) | set(label)
    assert get_supported_openai_params(model=real, custom_llm_provider="bedrock", base_model=real) == \
        get_supported_openai_params(model=real, custom_llm_provider="bedrock")
    assert "web_search_options" in get_supported_openai_params(model="amazon.nova-pro-v1:0", custom_llm_provider="bedrock_converse")
    assert "reasoning_effort" not in get_supported_openai_params(model="gemini-exp-9999", custom_llm_provider="gemini")
    assert "reasoning_effort" in get_supported_openai_params(model="my-deployment", custom_llm_provider="azure", base_model="azure/gpt-5.2")
    assert get_supported_openai_params(model="E5-Mistral-7B-Instruct", custom_llm_provider="sambanova", request_type="embeddings") == []
    assert get_supported_openai_params(model="x", custom_llm_provider="not-served") is None


def test_litellm_logging_and_caching_module_paths():
    from llmrelay.integrations.custom_logger import CustomLogger
    from llmrelay.litellm_core_utils.litellm_logging import CustomLogger as ReExported

    assert ReExported is CustomLogger
    from llmrelay._logging import verbose_logger, verbose_router_logger

    assert verbose_logger.name == "LiteLLM" and verbose_router_logger.name == "LiteLLM Router"
