"""Vertex AI (`vertex_ai/…`) through the mock upstream: the Google scenario suite whole and streamed with
OAuth tokens from a (test-only) service account, Claude on Vertex, text embeddings via predict."""

from __future__ import annotations

import json

import pytest
from _google_suite import *  # noqa: F403  (the shared scenarios are collected here)
from _google_suite import Target, service_account
from conftest import USER

import llmrelay as litellm


@pytest.fixture
def target() -> Target:
    return Target("vertex_ai")


def vertex(mock, **extra):
    return Target("vertex_ai").params(mock, **extra)


def token_requests(mock) -> list[dict]:
    return [r for r in mock.requests() if r["path"] == "/token"]


def test_token_exchanged_once_and_reused(mock):
    # A fresh account (its own cache entry): client_email differs from the suite's.
    account = service_account(mock)
    account["client_email"] = "reuse@llmrelay-test-project.iam.gserviceaccount.com"
    for stream in (False, True, False):
        r = litellm.completion(model="vertex_ai/gemini-2.5-flash", messages=USER, stream=stream,
                               **vertex(mock, vertex_credentials=account))
        if stream:
            list(r)
    assert len(token_requests(mock)) == 1
    grant = token_requests(mock)[0]
    assert grant["headers"]["content-type"] == "application/x-www-form-urlencoded"


def test_credentials_as_json_string_and_file(mock, tmp_path):
    account = service_account(mock)
    account["client_email"] = "file@llmrelay-test-project.iam.gserviceaccount.com"
    path = tmp_path / "key.json"
    path.write_text(json.dumps(account))
    for credentials in (json.dumps(account), str(path)):
        r = litellm.completion(model="vertex_ai/gemini-2.5-flash", messages=USER,
                               **vertex(mock, vertex_credentials=credentials))
        assert r.choices[0].message.content


def test_bad_signature_is_an_authentication_error(mock):
    account = service_account(mock)
    account["client_email"] = "forged@llmrelay-test-project.iam.gserviceaccount.com"
    # Another RSA key than the one the mock knows.
    account["private_key"] = json.loads(json.dumps(account["private_key"])).replace("MII", "MII", 1)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    account["private_key"] = other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()).decode()
    with pytest.raises(litellm.AuthenticationError) as info:
        litellm.completion(model="vertex_ai/gemini-2.5-flash", messages=USER,
                           **vertex(mock, vertex_credentials=account))
    assert "Invalid JWT Signature" in str(info.value)


def test_missing_credentials(mock, monkeypatch):
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    with pytest.raises(litellm.AuthenticationError):
        litellm.completion(model="vertex_ai/gemini-2.5-flash", messages=USER, api_base=mock.url,
                           vertex_project="p")


def test_vertex_ai_beta_prefix(mock):
    r = litellm.completion(model="vertex_ai_beta/gemini-2.5-flash", messages=USER, **vertex(mock))
    assert r._hidden_params["custom_llm_provider"] == "vertex_ai_beta"


CLAUDE = "vertex_ai/claude-sonnet-4-5@20250929"
CLAUDE_PATH = ("/v1/projects/llmrelay-test-project/locations/us-central1/publishers/anthropic/models/"
               "claude-sonnet-4-5@20250929")


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_claude_on_vertex(mock, stream):
    r = litellm.completion(model=CLAUDE, messages=[{"role": "system", "content": "be brief"}, *USER],
                           stream=stream, **vertex(mock))
    if stream:
        chunks = list(r)
        r = litellm.stream_chunk_builder(chunks, messages=USER)
    assert r.choices[0].message.content
    sent = mock.last_request()
    assert sent["path"] == CLAUDE_PATH + (":streamRawPredict" if stream else ":rawPredict")
    assert sent["body"]["anthropic_version"] == "vertex-2023-10-16"
    assert "model" not in sent["body"]
    assert sent["headers"]["authorization"].startswith("Bearer ya29.mock-")
    assert "anthropic-version" not in sent["headers"]
    if not stream:
        assert r._hidden_params["response_cost"] > 0


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_claude_on_vertex_tools(mock, stream):
    from _google_suite import TOOLS
    r = litellm.completion(model=CLAUDE, messages=USER, tools=TOOLS[:2], tool_choice="required",
                           stream=stream, **vertex(mock))
    if stream:
        r = litellm.stream_chunk_builder(list(r), messages=USER)
    assert r.choices[0].finish_reason == "tool_calls"
    assert {c.function.name for c in r.choices[0].message.tool_calls} <= {"get_weather", "get_time"}


def test_claude_on_vertex_errors(mock):
    with pytest.raises(litellm.RateLimitError):
        litellm.completion(model=CLAUDE, messages=USER, extra_headers={"x-mock-status": "429"}, **vertex(mock))


def test_text_embeddings_predict(mock):
    r = litellm.embedding(model="vertex_ai/text-embedding-005", input=["hello", "world"], dimensions=16,
                          **vertex(mock))
    assert len(r.data) == 2 and len(r.data[0]["embedding"]) == 16
    assert r.usage.prompt_tokens == 4
    sent = mock.last_request()
    assert sent["path"].endswith("/publishers/google/models/text-embedding-005:predict")
    assert sent["body"] == {"instances": [{"content": "hello"}, {"content": "world"}],
                            "parameters": {"outputDimensionality": 16}}
