"""Gemini API (`gemini/…`) through the mock upstream: the Google scenario suite whole and streamed, plus
API-key auth and batchEmbedContents."""

from __future__ import annotations

import pytest
from _google_suite import *  # noqa: F403  (the shared scenarios are collected here)
from _google_suite import Target
from conftest import USER

import llmrelay as litellm


@pytest.fixture
def target() -> Target:
    return Target("gemini")


def test_missing_and_bad_api_key(mock, monkeypatch):
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    with pytest.raises(litellm.AuthenticationError):
        litellm.completion(model="gemini/gemini-2.5-flash", messages=USER, api_base=mock.url)
    with pytest.raises(litellm.AuthenticationError):
        litellm.completion(model="gemini/gemini-2.5-flash", messages=USER, api_base=mock.url, api_key=" ")


def test_api_key_from_environment(mock, monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", "env-key")
    r = litellm.completion(model="gemini/gemini-2.5-flash", messages=USER, api_base=mock.url)
    assert r._hidden_params["custom_llm_provider"] == "gemini"
    assert mock.last_request()["headers"]["x-goog-api-key"] == "env-key"


@pytest.mark.parametrize("model", ["gemini/text-embedding-004", "gemini/gemini-embedding-001"])
def test_embeddings(mock, model):
    r = litellm.embedding(model=model, input=["hello", "world"], dimensions=8, task_type="RETRIEVAL_QUERY",
                          api_base=mock.url, api_key="gk-test")
    assert len(r.data) == 2 and len(r.data[1]["embedding"]) == 8
    assert r.usage.prompt_tokens > 0
    sent = mock.last_request()
    name = model.split("/", 1)[1]
    assert sent["path"] == f"/v1beta/models/{name}:batchEmbedContents"
    assert sent["body"]["requests"][0] == {"model": f"models/{name}", "content": {"parts": [{"text": "hello"}]},
                                           "outputDimensionality": 8, "taskType": "RETRIEVAL_QUERY"}
