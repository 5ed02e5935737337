"""Token counting (equal to tiktoken and to LiteLLM's token_counter on a recorded corpus) and
exact cost accounting, both computed in Rust."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import llmrelay as litellm
from llmrelay import _native

CORPUS = json.loads(
    (Path(__file__).parents[1] / "rust/llmrelay-core/tests/fixtures/tokens/corpus.json").read_text()
)


@pytest.mark.parametrize("case", CORPUS["text_cases"], ids=lambda c: c["name"])
def test_encodings_equal_tiktoken(case):
    for encoding in ("cl100k_base", "o200k_base"):
        ids = _native.encode(encoding, case["text"])
        assert ids == case[encoding], encoding
        assert _native.decode(encoding, ids) == case["text"]
    assert litellm.encode(model="gpt-4", text=case["text"]) == case["cl100k_base"]


@pytest.mark.parametrize("case", CORPUS["text_cases"], ids=lambda c: c["name"])
def test_text_counts_equal_litellm(case):
    for model, expected in case["litellm_text_count"].items():
        assert litellm.token_counter(model=model, text=case["text"]) == expected, model


def _message_cases():
    for case in CORPUS["message_cases"]:
        for model, expected in case["expected"].items():
            yield pytest.param(case, model, expected, id=f"{case['name']}-{model}")


@pytest.mark.parametrize(("case", "model", "expected"), list(_message_cases()))
def test_message_counts_equal_litellm(case, model, expected):
    options = dict(case.get("options") or {})
    for key in ("tools", "tool_choice"):
        if key in case:
            options[key] = case[key]
    if isinstance(expected, dict) and "error" in expected:
        with pytest.raises(Exception):  # noqa: B017 - LiteLLM raises too; our wording differs
            litellm.token_counter(model=model, messages=case["messages"], **options)
        return
    assert litellm.token_counter(model=model, messages=case["messages"], **options) == expected


def test_token_counter_basics():
    assert litellm.token_counter(model="gpt-4o", messages=[{"role": "user", "content": "Hello world"}]) == 9
    assert litellm.token_counter(model="gpt-4o", text="Hello world") == 2
    assert litellm.decode(model="gpt-4o", tokens=litellm.encode(model="gpt-4o", text="héllo")) == "héllo"


def test_image_url_needs_fetch_or_default():
    messages = [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "high"}}
    ]}]
    with pytest.raises(litellm.BadRequestError):
        litellm.token_counter(model="gpt-4o", messages=messages)
    assert litellm.token_counter(model="gpt-4o", messages=messages, use_default_image_token_count=True) > 250


# -- cost --------------------------------------------------------------------------------------


def test_cost_per_token_matches_litellm():
    assert litellm.cost_per_token(model="gpt-4o", prompt_tokens=1000, completion_tokens=1000) == (
        pytest.approx(0.0025, rel=1e-12),
        pytest.approx(0.01, rel=1e-12),
    )


def test_cached_tokens_priced_at_cache_rate():
    # gpt-4o: input 2.5e-06, cache read 1.25e-06, output 1e-05.
    usage = litellm.Usage(
        prompt_tokens=1000, completion_tokens=100, total_tokens=1100,
        prompt_tokens_details={"cached_tokens": 600},
    )
    r = litellm.ModelResponse(model="gpt-4o", usage=usage)
    expected = 400 * 2.5e-06 + 600 * 1.25e-06 + 100 * 1e-05  # = 0.00275
    assert litellm.completion_cost(completion_response=r) == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(0.00275)


def test_reasoning_tokens_priced_at_reasoning_rate():
    litellm.register_model({
        "test-reasoner": {
            "litellm_provider": "openai", "mode": "chat",
            "input_cost_per_token": 1e-06, "output_cost_per_token": 4e-06,
            "output_cost_per_reasoning_token": 8e-06, "cache_read_input_token_cost": 1e-07,
            "cache_creation_input_token_cost": 1.25e-06,
        }
    })
    prompt, completion = litellm.cost_per_token(
        model="test-reasoner",
        usage_object=litellm.Usage(
            prompt_tokens=2000, completion_tokens=500, total_tokens=2500,
            prompt_tokens_details={"cached_tokens": 1000, "cache_creation_tokens": 200},
            completion_tokens_details={"reasoning_tokens": 300},
        ),
    )
    # Hand computed: 800×1e-6 + 1000×1e-7 + 200×1.25e-6 = 0.00115; 200×4e-6 + 300×8e-6 = 0.0032
    assert prompt == pytest.approx(0.00115, rel=1e-12)
    assert completion == pytest.approx(0.0032, rel=1e-12)
    assert "test-reasoner" in litellm.model_cost


def test_cost_from_text():
    # LiteLLM observed: gpt-4o with prompt="hello", completion="world" → 1.25e-05.
    assert litellm.completion_cost(model="gpt-4o", prompt="hello", completion="world") == pytest.approx(1.25e-05)


def test_custom_pricing_and_unknown_model():
    cost = litellm.completion_cost(
        model="my-private-model", prompt="hello", completion="world",
        custom_cost_per_token={"input_cost_per_token": 1.0, "output_cost_per_token": 2.0},
    )
    assert cost == pytest.approx(3.0)
    with pytest.raises(litellm.NotFoundError):
        litellm.cost_per_token(model="my-private-model", prompt_tokens=1, completion_tokens=1)


def test_model_info_and_map():
    info = litellm.get_model_info("gpt-4o")
    assert info["key"] == "gpt-4o"
    assert info["litellm_provider"] == "openai"
    assert info["max_input_tokens"] == 128000
    assert info["input_cost_per_token"] == 2.5e-06
    assert info["supports_vision"] is True
    assert info["supports_reasoning"] is None
    assert "temperature" in info["supported_openai_params"]
    assert len(info) >= 148
    assert litellm.model_cost["gpt-4o"]["input_cost_per_token"] == 2.5e-06
    assert "fallback_generalizations" not in litellm.model_cost
    with pytest.raises(litellm.ModelNotMappedError):
        litellm.get_model_info("no-such-model-anywhere")
    assert litellm.supports_function_calling("gpt-4o")
    assert not litellm.supports_reasoning("gpt-4o")


def test_get_llm_provider():
    assert litellm.get_llm_provider("gpt-4o")[:2] == ("gpt-4o", "openai")
    assert litellm.get_llm_provider("openai/my-model", api_base="http://x")[:2] == ("my-model", "openai")
    assert litellm.get_llm_provider("claude-sonnet-4-5")[1] == "anthropic"
    with pytest.raises(litellm.BadRequestError):
        litellm.get_llm_provider("unknown-model-name")


def test_cost_map_override_file(tmp_path):
    import subprocess
    import sys

    override = tmp_path / "prices.json"
    override.write_text(json.dumps({
        "gpt-4o": {"litellm_provider": "openai", "mode": "chat",
                   "input_cost_per_token": 1.0, "output_cost_per_token": 1.0}
    }))
    code = (
        "import llmrelay as l;"
        "r=l.completion(model='gpt-4o', messages=[{'role':'user','content':'x'}], mock_response='y');"
        "print(r._hidden_params['response_cost'], len(l.model_cost))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env={**__import__("os").environ, "LLMRELAY_MODEL_COST_MAP": str(override)},
        capture_output=True, text=True, check=True,
    ).stdout.split()
    assert out == ["30.0", "1"]
