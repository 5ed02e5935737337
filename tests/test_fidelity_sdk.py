"""LiteLLM SDK surface beyond the call functions: user-defined providers (CustomLLM), SDK-level
fallbacks and retry policies, completion_with_retries, batch_completion, helpers, errors, mocks
(issue 11 §1-§2). Every test runs offline, against mocks or the bundled mock upstream."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import llmrelay as litellm
from llmrelay import CustomLLM

from conftest import USER


@pytest.fixture
def providers(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Register CustomLLM handlers for one test."""

    def register(**handlers: Any) -> None:
        monkeypatch.setattr(
            litellm, "custom_provider_map",
            [{"provider": name, "custom_handler": h} for name, h in handlers.items()],
        )

    return register


class Echo(CustomLLM):
    """A user-defined provider that records the keyword arguments it is called with."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def completion(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        text = kwargs["messages"][-1]["content"]
        return litellm.completion(model="gpt-4o", messages=kwargs["messages"],
                                  mock_response=f"echo: {text}")

    async def acompletion(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        return litellm.completion(model="gpt-4o", messages=kwargs["messages"], mock_response="async echo")

    def streaming(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        yield {"text": "Hello ", "is_finished": False, "finish_reason": "", "index": 0,
               "tool_use": None, "usage": None}
        yield {"text": "world", "is_finished": True, "finish_reason": "stop", "index": 0,
               "tool_use": None, "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}}

    async def astreaming(self, *args: Any, **kwargs: Any) -> Any:
        for chunk in self.streaming(*args, **kwargs):
            yield chunk

    def embedding(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        response = kwargs["model_response"]
        response.model = kwargs["model"]
        response.data = [{"object": "embedding", "index": i, "embedding": [float(i)]}
                         for i, _ in enumerate(kwargs["input"])]
        return response

    def image_generation(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        from llmrelay.types.utils import ImageObject, ImageResponse

        return ImageResponse(created=1, data=[ImageObject(url="https://example.invalid/a.png")])


# ------------------------------------------------------------------------------ CustomLLM


def test_custom_provider_receives_litellm_kwargs_and_answers(providers):
    handler = Echo()
    providers(echo=handler)
    response = litellm.completion(model="echo/any-model", messages=USER, temperature=0.5,
                                  api_key="k", api_base="http://unused")
    assert response.choices[0].message.content == "echo: Hello there"
    call = handler.calls[0]
    assert call["model"] == "any-model"  # the provider prefix is removed
    assert call["optional_params"] == {"temperature": 0.5}
    assert (call["api_key"], call["api_base"]) == ("k", "http://unused")
    assert call["litellm_params"]["custom_llm_provider"] == "echo"
    # get_llm_provider knows the provider too.
    assert litellm.get_llm_provider("echo/any-model")[:2] == ("any-model", "echo")


def test_custom_provider_streams_generic_chunks_sync_and_async(providers):
    providers(echo=Echo())
    chunks = list(litellm.completion(model="echo/m", messages=USER, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == "Hello world"
    assert [c.choices[0].finish_reason for c in chunks][-1] == "stop"
    assert chunks[0].choices[0].delta.role == "assistant"

    async def collect() -> list:
        stream = await litellm.acompletion(model="echo/m", messages=USER, stream=True)
        return [c async for c in stream]

    async_chunks = asyncio.run(collect())
    assert "".join(c.choices[0].delta.content or "" for c in async_chunks) == "Hello world"
    assert litellm.stream_chunk_builder(async_chunks).choices[0].message.content == "Hello world"


def test_custom_provider_async_embedding_and_images(providers):
    handler = Echo()
    providers(echo=handler)
    assert asyncio.run(litellm.acompletion(model="echo/m", messages=USER)).choices[0].message.content == "async echo"
    embedded = litellm.embedding(model="echo/emb", input=["a", "b"])
    assert embedded.data[1] == {"object": "embedding", "index": 1, "embedding": [1.0]}
    assert embedded.model == "emb"
    image = litellm.image_generation(model="echo/img", prompt="a cat", size="256x256")
    assert image.data[0].url == "https://example.invalid/a.png"
    assert handler.calls[-1]["optional_params"] == {"size": "256x256"}


def test_custom_provider_unimplemented_call_says_so(providers):
    providers(bare=CustomLLM())
    from llmrelay.llms.custom_llm import CustomLLMError

    with pytest.raises(CustomLLMError) as info:
        litellm.completion(model="bare/m", messages=USER)
    assert info.value.status_code == 501 and "completion" in info.value.message


def test_custom_provider_model_info_and_supported_params(providers):
    class WithParams(Echo):
        def get_supported_openai_params(self, model: str) -> list[str]:
            return ["temperature", "stop"]

    providers(**{"my-llm": WithParams()})
    assert litellm.get_supported_openai_params(model="my-llm/x") == ["temperature", "stop"]
    info = litellm.get_model_info("my-llm/unregistered")
    assert info["litellm_provider"] == "my-llm" and info["input_cost_per_token"] == 0
    from llmrelay.utils import custom_llm_setup

    custom_llm_setup()
    assert "my-llm" in litellm.provider_list


def test_model_response_iterator_yields_once_sync_and_async():
    from llmrelay.utils import ModelResponseIterator

    chunk = {"text": "hi"}
    assert list(ModelResponseIterator(model_response=chunk)) == [chunk]

    async def collect() -> list:
        return [c async for c in ModelResponseIterator(model_response=chunk)]

    assert asyncio.run(collect()) == [chunk]


# ------------------------------------------------------------------------------ fallbacks, retries


def test_completion_fallbacks_outside_a_router(mock):
    # The first model fails (unknown provider); the fallback dict brings its own parameters.
    response = litellm.completion(
        model="nosuchprovider/model", messages=USER,
        fallbacks=["also-not-a-model", {"model": "openai/gpt-4o-mini", **mock.params()}],
    )
    assert response.choices[0].message.content
    assert mock.last_request()["body"]["model"] == "gpt-4o-mini"
    # Every candidate failing raises the last error.
    with pytest.raises(litellm.BadRequestError):
        litellm.completion(model="nosuchprovider/a", messages=USER, fallbacks=["nosuchprovider/b"])


def test_acompletion_fallbacks(mock):
    async def run() -> Any:
        return await litellm.acompletion(
            model="gpt-4o", messages=USER, mock_response="litellm.RateLimitError",
            fallbacks=[{"model": "gpt-4o", "mock_response": "from the fallback"}],
        )

    assert asyncio.run(run()).choices[0].message.content == "from the fallback"


def test_retry_policy_retries_through_completion_with_retries(monkeypatch):
    from llmrelay.types.router import RetryPolicy

    seen: list[dict] = []

    def fake_retries(**kwargs: Any) -> str:
        seen.append(kwargs)
        return "retried"

    monkeypatch.setattr(litellm, "completion_with_retries", fake_retries)
    policy = RetryPolicy(ContentPolicyViolationErrorRetries=2, AuthenticationErrorRetries=0)
    result = litellm.completion(model="gpt-4o", messages=USER, retry_policy=policy,
                                mock_response="Exception: content_filter_policy")
    assert result == "retried" and seen[0]["num_retries"] == 2
    # A class the policy gives no retries is raised at once.
    with pytest.raises(litellm.RateLimitError):
        litellm.completion(model="gpt-4o", messages=USER, retry_policy=policy,
                           mock_response="litellm.RateLimitError")
    assert len(seen) == 1


def test_completion_with_retries_stops_after_num_retries_attempts():
    attempts: list[dict] = []

    def flaky(**kwargs: Any) -> str:
        attempts.append(kwargs)
        if len(attempts) < 3:
            raise RuntimeError("transient")
        return "ok"

    assert litellm.completion_with_retries(model="m", messages=USER, num_retries=3,
                                           original_function=flaky) == "ok"
    assert [a["num_retries"] for a in attempts] == [0, 0, 0]
    assert all(a["max_retries"] == 0 for a in attempts)
    attempts.clear()
    with pytest.raises(RuntimeError):
        litellm.completion_with_retries(model="m", messages=USER, num_retries=2, original_function=flaky)
    assert len(attempts) == 2

    async def aflaky(**kwargs: Any) -> str:
        return "async ok"

    assert asyncio.run(litellm.acompletion_with_retries(model="m", messages=USER,
                                                        original_function=aflaky)) == "async ok"


def test_batch_completion_and_batch_completion_models():
    results = litellm.batch_completion(
        model="gpt-4o", messages=[USER, [{"role": "user", "content": "second"}]], mock_response="hi")
    assert [r.choices[0].message.content for r in results] == ["hi", "hi"]
    failed = litellm.batch_completion(model="nosuchprovider/x", messages=[USER])
    assert isinstance(failed[0], litellm.BadRequestError)  # returned in place, not raised
    first = litellm.batch_completion_models(models=["nosuchprovider/x", "gpt-4o"], messages=USER,
                                            mock_response="fastest")
    assert first.choices[0].message.content == "fastest"
    every = litellm.batch_completion_models_all_responses(models=["gpt-4o", "gpt-4o-mini"],
                                                          messages=USER, mock_response="x")
    assert [r.model for r in every] == ["gpt-4o", "gpt-4o-mini"]


# ------------------------------------------------------------------------------ helpers


def test_get_modified_max_tokens_follows_litellm(monkeypatch):
    monkeypatch.setattr(litellm, "token_counter", lambda **kwargs: 4000)
    # Unknown model: the caller's value.
    assert litellm.get_modified_max_tokens("nope", "nope", USER, 1024, 0, 0) == 1024
    # A shared input/output window (writer.palmyra-vision-7b: 4096 both): what the prompt leaves.
    shared = "writer.palmyra-vision-7b"
    assert litellm.get_modified_max_tokens(shared, shared, USER, 256, 0, 0) == 96
    assert litellm.get_modified_max_tokens(shared, shared, USER, 10, 0, 0) == 10
    monkeypatch.setattr(litellm, "token_counter", lambda **kwargs: 10**6)
    assert litellm.get_modified_max_tokens(shared, shared, USER, None, 0, 0) is None
    # Separate windows: capped at the model's max output.
    assert litellm.get_modified_max_tokens("gpt-3.5-turbo", "gpt-3.5-turbo", USER, 5000, 0, 0) == 4096


def test_trim_messages_keeps_system_and_newest():
    system = {"role": "system", "content": "be brief"}
    old = {"role": "user", "content": "word " * 300}
    new = {"role": "user", "content": "latest question"}
    trimmed = litellm.trim_messages([system, old, new], model="gpt-4o", max_tokens=40)
    assert trimmed == [system, new]
    untouched = [system, new]
    assert litellm.trim_messages(untouched, model="gpt-4o", max_tokens=1000) == untouched
    alone = litellm.trim_messages([{"role": "user", "content": "x " * 500}], model="gpt-4o", max_tokens=30)
    assert litellm.token_counter(model="gpt-4o", messages=alone) <= 30
    _, left = litellm.trim_messages(untouched, model="gpt-4o", max_tokens=1000, return_response_tokens=True)
    assert left == 1000 - litellm.token_counter(model="gpt-4o", messages=untouched)


def test_validate_environment_valid_models_and_check_valid_key(monkeypatch, mock):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    assert litellm.validate_environment("anthropic/claude-sonnet-4-5") == {
        "keys_in_environment": False, "missing_keys": ["ANTHROPIC_API_KEY"]}
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-x")
    assert litellm.validate_environment("anthropic/claude-sonnet-4-5")["keys_in_environment"]
    assert "claude-sonnet-4-5" in litellm.get_valid_models(custom_llm_provider="anthropic")
    monkeypatch.setenv("OPENAI_API_BASE", mock.api_base)
    assert litellm.check_valid_key(model="gpt-4o-mini", api_key="sk-test") is True
    assert litellm.check_valid_key(model="nosuchprovider/x", api_key="sk-test") is False


def test_register_prompt_template_records_it():
    templates = litellm.register_prompt_template(
        model="my-org/my-model", roles={"user": {"pre_message": "[U] "}}, final_prompt_value="[A]")
    assert templates["my-org/my-model"]["roles"]["user"]["pre_message"] == "[U] "
    assert litellm.custom_prompt_dict["my-org/my-model"]["final_prompt_value"] == "[A]"


def test_custom_tokenizers_need_the_tokenizers_package():
    try:
        import tokenizers  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install tokenizers"):
            litellm.create_tokenizer("{}")
    else:  # pragma: no cover - only where tokenizers is installed
        with pytest.raises(Exception):
            litellm.create_tokenizer("not json")


def test_get_model_cost_map_is_a_fresh_copy():
    first = litellm.get_model_cost_map(url="")
    first["gpt-4o"]["input_cost_per_token"] = 1.0
    assert litellm.get_model_cost_map(url="")["gpt-4o"]["input_cost_per_token"] != 1.0
    assert "fallback_generalizations" not in first


# ------------------------------------------------------------------------------ errors and mocks


def test_mock_exception_with_status_code_raises_that_class():
    for status, cls in ((400, litellm.BadRequestError), (401, litellm.AuthenticationError),
                        (404, litellm.NotFoundError), (408, litellm.Timeout),
                        (429, litellm.RateLimitError), (500, litellm.InternalServerError),
                        (503, litellm.ServiceUnavailableError)):
        mock = Exception()
        mock.status_code = status
        mock.text = "upstream said no"
        with pytest.raises(cls) as info:
            litellm.completion(model="anthropic/claude-x", messages=USER, mock_response=mock)
        assert info.value.llm_provider == "anthropic"
    with pytest.raises(litellm.InternalServerError):
        litellm.completion(model="gpt-4o", messages=USER, mock_response=ValueError("no status"))


def test_mock_exception_reaches_failure_callbacks_with_zero_cost():
    seen: list[dict] = []
    litellm.failure_callback = [lambda kwargs, *rest: seen.append(kwargs)]
    with pytest.raises(litellm.InternalServerError):
        litellm.completion(model="gpt-4o", messages=USER, mock_response=Exception("boom"))
    from llmrelay import _logging

    _logging.flush()
    assert seen and seen[0]["response_cost"] == 0.0


def test_embedding_mock_error_and_mock_timeout_without_key(monkeypatch):
    with pytest.raises(Exception) as info:
        litellm.embedding(model="azure/text-embedding-ada-002", input="hi", mock_response="error")
    assert str(info.value) == "Mock error"
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    started = time.time()
    with pytest.raises(litellm.Timeout):
        litellm.completion(model="gpt-3.5-turbo", messages=USER, mock_timeout=True, timeout=0.3)
    assert time.time() - started >= 0.3


def test_errors_carry_debug_info_and_litellm_texts(monkeypatch):
    with pytest.raises(litellm.ContentPolicyViolationError) as info:
        litellm.completion(model="azure/gpt-4o", messages=USER, mock_response="Exception: content_filter_policy")
    assert "Model: " in info.value.litellm_debug_info
    with pytest.raises(litellm.BadRequestError) as bad_role:
        litellm.completion(model="bedrock/anthropic.claude-3-sonnet-20240229-v1:0",
                           messages=[{"role": "very-bad-role", "content": "hello"}])
    assert str(bad_role.value) == (
        "litellm.BadRequestError: Invalid Message passed in {'role': 'very-bad-role', 'content': 'hello'}")
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    with pytest.raises(litellm.AuthenticationError) as missing:
        litellm.completion(model="anthropic/claude-3-sonnet-20240229", messages=USER)
    assert "Missing Anthropic API Key - A call is being made to anthropic" in missing.value.message


def test_token_counter_invalid_detail_is_a_value_error():
    messages = [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.com/i.jpg", "detail": "bogus"}}]}]
    with pytest.raises(ValueError, match="Invalid detail value: bogus"):
        litellm.token_counter(model="gpt-3.5-turbo", messages=messages)
    with pytest.raises(litellm.BadRequestError):  # still catchable as LiteLLM's 400
        litellm.token_counter(model="gpt-3.5-turbo", messages=messages)


def test_exception_type_maps_provider_errors_by_status():
    from llmrelay.litellm_core_utils.exception_mapping_utils import exception_type

    class Upstream(Exception):
        status_code = 429
        body = {"error": {"message": "slow down"}}

    mapped = exception_type(model="gpt-4o", original_exception=Upstream(), custom_llm_provider="openai")
    assert isinstance(mapped, litellm.RateLimitError) and "slow down" in str(mapped)
    assert isinstance(exception_type("m", RuntimeError("socket closed")), litellm.APIConnectionError)
    already = litellm.NotFoundError(message="x", model="m", llm_provider="openai")
    assert exception_type("m", already) is already


def test_token_counter_uses_a_custom_tokenizer():
    class Encoded:
        def __init__(self, text: str) -> None:
            self.ids = text.split()

    class WordTokenizer:
        def encode(self, text: str) -> Encoded:
            return Encoded(text)

    custom = {"type": "huggingface_tokenizer", "tokenizer": WordTokenizer()}
    assert litellm.token_counter(custom_tokenizer=custom, text="one two three") == 3
    assert litellm.token_counter(custom_tokenizer=custom, messages=[
        {"role": "user", "content": "a b"}, {"role": "user", "content": [{"type": "text", "text": "c"}]}]) == 3


def test_mocked_stream_usage_counts_the_streamed_text():
    seen: list[dict] = []

    class Log(litellm.CustomLogger):
        def log_success_event(self, kwargs, response_obj, start_time, end_time):
            seen.append(kwargs["standard_logging_object"])

    litellm.callbacks = [Log()]
    text = "hello world how are you"
    for _ in litellm.completion(model="gpt-4o", messages=USER, mock_response=text, stream=True):
        pass
    from llmrelay import _logging

    _logging.flush()
    expected = litellm.token_counter(model="gpt-4o", text=text)
    assert seen[0]["completion_tokens"] == expected and seen[0]["total_tokens"] == 10 + expected
    whole = litellm.completion(model="gpt-4o", messages=USER, mock_response=text)
    assert whole.usage.completion_tokens == 20  # a whole mock keeps LiteLLM's fixed 20
