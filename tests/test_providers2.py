"""Providers II through the mock upstream: every provider of ``docs/providers/index.md`` by its
prefix, Azure / Ollama / Cohere / Hugging Face wire details, supported parameters and
``drop_params``, and the endpoints beyond chat (embeddings, rerank, images, moderation)."""

from __future__ import annotations

import json
import pathlib

import pytest
from conftest import USER

import llmrelay as litellm
from llmrelay.exceptions import (
    AuthenticationError,
    BadRequestError,
    ContentPolicyViolationError,
    UnsupportedParamsError,
)

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs" / "providers" / "index.md"

WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


def docs_rows() -> list[dict]:
    """The rows of the providers tables (those with an "example model" column), one dict per row
    keyed by its table's header cells."""
    rows, header = [], None
    for line in DOCS.read_text().splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if header is None:
            header = cells
        elif line.startswith("| `") and "example model" in header:
            rows.append(dict(zip(header, cells)))
    return rows


ROWS = docs_rows()
# Rows that serve chat (an embeddings-only row such as `voyage` is walked by the Rust suite).
CHAT_ROWS = [row for row in ROWS if row["chat + stream"] == "yes"]


def unquote(cell: str) -> str:
    return cell.strip().strip("`")


def api_base_for(mock, row: dict) -> str:
    return mock.url + ("/v1" if "/v1" in row["`api_base` form"] else "")


def test_docs_table_lists_every_implemented_provider():
    documented = {unquote(row["provider"]) for row in ROWS}
    assert len(documented) >= 27
    native = set(litellm._native.implemented_providers())
    assert documented <= native
    # Providers I have their own pages and suites (test_anthropic, test_bedrock, test_gemini,
    # test_vertex, test_scenarios): their credentials are not an `api_key` + `api_base` pair.
    assert native - documented <= {"openai", "text-completion-openai", "anthropic", "bedrock",
                                   "bedrock_converse", "gemini", "vertex_ai", "vertex_ai_beta"}


@pytest.mark.parametrize("row", CHAT_ROWS, ids=lambda row: unquote(row["provider"]))
def test_every_documented_provider_is_reachable_by_prefix(mock, row):
    provider = unquote(row["provider"])
    model = f"{provider}/{unquote(row['example model'])}"
    kwargs = {"api_base": api_base_for(mock, row), "api_key": "sk-test"}
    r = litellm.completion(model=model, messages=USER, **kwargs)
    assert r.choices[0].message.content.startswith("This is a mock")
    assert r._hidden_params["custom_llm_provider"] in (provider, provider + "_chat")
    assert mock.requests(), "the call reached the mock"
    chunks = list(litellm.completion(model=model, messages=USER, stream=True, **kwargs))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == r.choices[0].message.content
    # LiteLLM's supported-parameter list for the provider.
    params = litellm.get_supported_openai_params(model=unquote(row["example model"]),
                                                 custom_llm_provider=provider)
    assert params and "stream" in params


@pytest.mark.parametrize("row", CHAT_ROWS, ids=lambda row: unquote(row["provider"]))
def test_unsupported_params_raise_unless_dropped(mock, row):
    provider = unquote(row["provider"])
    supported = litellm.get_supported_openai_params(model=unquote(row["example model"]),
                                                    custom_llm_provider=provider)
    candidates = ["logprobs", "presence_penalty", "reasoning_effort", "logit_bias", "seed",
                  "prediction", "store", "verbosity"]
    values = {"logprobs": True, "presence_penalty": 0.1, "reasoning_effort": "low",
              "logit_bias": {"1": 1}, "seed": 1, "prediction": {"type": "content", "content": "x"},
              "store": True, "verbosity": "low"}
    unsupported = next(c for c in candidates if c not in supported)
    model = f"{provider}/{unquote(row['example model'])}"
    kwargs = {"api_base": api_base_for(mock, row), "api_key": "sk-test",
              unsupported: values[unsupported]}
    with pytest.raises(UnsupportedParamsError) as info:
        litellm.completion(model=model, messages=USER, **kwargs)
    assert f"does not support parameters: ['{unsupported}']" in str(info.value)
    # Raised before any request, yet it names the provider and model, as LiteLLM's does.
    assert info.value.llm_provider in (provider, provider + "_chat")
    assert info.value.model == model
    assert litellm.completion(model=model, messages=USER, drop_params=True, **kwargs).choices
    litellm.drop_params = True
    assert litellm.completion(model=model, messages=USER, **kwargs).choices
    assert unsupported not in json.dumps(mock.last_request()["body"])


def test_get_supported_openai_params_signature():
    assert litellm.get_supported_openai_params("sonar", "perplexity") == [
        "frequency_penalty", "max_tokens", "max_completion_tokens", "presence_penalty",
        "response_format", "stream", "temperature", "top_p", "max_retries", "extra_headers"]
    assert "tool_choice" not in litellm.get_supported_openai_params(
        model="Llama", custom_llm_provider="azure_ai")
    assert "num_predict" not in litellm.get_supported_openai_params("llama3", "ollama_chat")
    assert "tools" in litellm.get_supported_openai_params("command-r", "cohere_chat")


# ------------------------------------------------------------------------------------ Azure


def azure(mock, **extra):
    return {"api_base": mock.url, "api_key": "az-key", **extra}


def test_azure_deployment_url_version_and_key(mock, monkeypatch):
    monkeypatch.delenv("AZURE_API_VERSION", raising=False)
    r = litellm.completion(model="azure/prod-gpt4o", messages=USER, **azure(mock))
    assert r.choices[0].message.content
    sent = mock.last_request()
    assert sent["path"] == "/openai/deployments/prod-gpt4o/chat/completions"
    assert sent["query"] == "api-version=2025-02-01-preview"
    assert sent["headers"]["api-key"] == "az-key"
    assert "authorization" not in sent["headers"]
    monkeypatch.setenv("AZURE_API_VERSION", "2024-06-01")
    litellm.completion(model="azure/prod-gpt4o", messages=USER, **azure(mock))
    assert mock.last_request()["query"] == "api-version=2024-06-01"
    litellm.completion(model="azure/prod-gpt4o", messages=USER, api_version="2024-10-21", **azure(mock))
    assert mock.last_request()["query"] == "api-version=2024-10-21"


def test_azure_env_key_and_entra_token(mock, monkeypatch):
    for name in ("AZURE_OPENAI_API_KEY", "AZURE_API_KEY", "AZURE_AD_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_API_BASE", mock.url)
    monkeypatch.setenv("AZURE_API_KEY", "env-key")
    litellm.completion(model="azure/d", messages=USER)
    assert mock.last_request()["headers"]["api-key"] == "env-key"
    monkeypatch.delenv("AZURE_API_KEY")
    litellm.completion(model="azure/d", messages=USER, azure_ad_token="entra")
    assert mock.last_request()["headers"]["authorization"] == "Bearer entra"
    monkeypatch.setenv("AZURE_AD_TOKEN", "env-entra")
    litellm.completion(model="azure/d", messages=USER)
    assert mock.last_request()["headers"]["authorization"] == "Bearer env-entra"
    monkeypatch.delenv("AZURE_AD_TOKEN")
    with pytest.raises(AuthenticationError):
        litellm.completion(model="azure/d", messages=USER)


FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "rust" / "llmrelay-providers" / "tests" / "fixtures"


def test_azure_content_filter_error_and_finish_reason(mock):
    body = json.loads((FIXTURES / "azure" / "error_content_filter.json").read_text())
    mock.script({"status": 400, "json": body})
    with pytest.raises(ContentPolicyViolationError) as info:
        litellm.completion(model="azure/d", messages=USER, **azure(mock))
    assert "AzureException - The response was filtered" in str(info.value)
    assert info.value.status_code == 400
    filtered = json.loads((FIXTURES / "azure" / "chat_content_filter.json").read_text())
    mock.script({"status": 200, "json": filtered})
    r = litellm.completion(model="azure/d", messages=USER, **azure(mock))
    assert r.choices[0].finish_reason == "content_filter"


def test_azure_stream_tools_embeddings_text_and_images(mock):
    chunks = list(litellm.completion(model="azure/d", messages=USER, tools=[WEATHER], stream=True,
                                     **azure(mock)))
    args = "".join(tc.function.arguments or "" for c in chunks if c.choices and c.choices[0].delta.tool_calls
                   for tc in c.choices[0].delta.tool_calls)
    assert json.loads(args)["city"]
    e = litellm.embedding(model="azure/emb", input=["a", "b"], dimensions=4, **azure(mock))
    assert len(e.data) == 2 and len(e.data[0]["embedding"]) == 4
    assert mock.last_request()["path"] == "/openai/deployments/emb/embeddings"
    e = litellm.embedding(model="azure/emb", input="a", encoding_format="base64", **azure(mock))
    assert isinstance(e.data[0]["embedding"], str)
    t = litellm.text_completion(model="azure/instruct", prompt="say hi", **azure(mock))
    assert t.choices[0].text
    img = litellm.image_generation(prompt="a cat", model="azure/dalle", **azure(mock))
    assert img.data[0].url.startswith("https://")
    assert mock.last_request()["path"] == "/openai/deployments/dalle/images/generations"


def test_azure_ai_auth_header(mock):
    litellm.completion(model="azure_ai/Llama-3.3-70B-Instruct", messages=USER,
                       api_base=mock.url + "/v1", api_key="foundry")
    sent = mock.last_request()
    assert sent["path"] == "/v1/chat/completions"
    assert sent["headers"]["authorization"] == "Bearer foundry"


# ------------------------------------------------------------------------------------ Ollama


def test_ollama_chat_tools_images_options_and_stream(mock):
    image = {"role": "user", "content": [{"type": "text", "text": "what is it"},
             {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]}
    r = litellm.completion(model="ollama_chat/llava", messages=[image], max_tokens=30, top_k=4,
                           keep_alive="2m", api_base=mock.url)
    body = mock.last_request()["body"]
    assert body["messages"][0]["images"] == ["iVBORw0KGgo="]
    assert body["options"] == {"num_predict": 30, "top_k": 4}
    assert body["keep_alive"] == "2m"
    assert r.model == "ollama_chat/llava"
    assert r.usage.prompt_tokens > 0
    r = litellm.completion(model="ollama_chat/llama3.2", messages=USER, tools=[WEATHER], api_base=mock.url)
    assert r.choices[0].finish_reason == "tool_calls"
    assert json.loads(r.choices[0].message.tool_calls[0].function.arguments)["city"]
    stream = litellm.completion(model="ollama_chat/llama3.2", messages=USER, stream=True,
                                stream_options={"include_usage": True}, api_base=mock.url)
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices).startswith("This is")
    assert chunks[-1].usage.completion_tokens > 0
    r = litellm.completion(model="ollama_chat/llama3.2", messages=USER, api_base=mock.url,
                           response_format={"type": "json_object"})
    assert json.loads(r.choices[0].message.content) == {"mock": True}
    assert mock.last_request()["body"]["format"] == "json"


def test_ollama_image_links_are_downloaded_and_inlined(mock):
    import base64
    import http.server
    import threading

    png = b"\x89PNG\r\n\x1a\nllmrelay-ollama-image"

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            self.send_response(200)
            self.send_header("content-type", "image/png")
            self.send_header("content-length", str(len(png)))
            self.end_headers()
            self.wfile.write(png)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/cat.png"
        image = {"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}
        litellm.completion(model="ollama_chat/llava", messages=[image], api_base=mock.url)
        assert mock.last_request()["body"]["messages"][0]["images"] == [base64.b64encode(png).decode()]
    finally:
        server.shutdown()
        server.server_close()


def test_ollama_generate_text_completion_and_embeddings(mock):
    r = litellm.completion(model="ollama/llama3.2",
                           messages=[{"role": "system", "content": "be brief"}, *USER],
                           api_base=mock.url)
    assert mock.last_request()["body"]["prompt"] == "### System:\nbe brief\n\n### User:\nHello there\n\n"
    assert r.model == "ollama/llama3.2"
    t = litellm.text_completion(model="ollama/llama3.2", prompt="Once", api_base=mock.url)
    assert t.choices[0].text
    assert mock.last_request()["path"] == "/api/generate"
    chunks = list(litellm.text_completion(model="ollama/llama3.2", prompt="Once", api_base=mock.url,
                                          stream=True))
    assert "".join(c.choices[0].text for c in chunks)
    e = litellm.embedding(model="ollama/all-minilm", input=["a", "b"], api_base=mock.url)
    assert len(e.data) == 2
    assert mock.last_request()["path"] == "/api/embed"


def test_ollama_errors(mock):
    with pytest.raises(litellm.NotFoundError) as info:
        litellm.completion(model="ollama_chat/nope", messages=USER, api_base=mock.url,
                           extra_headers={"x-mock-status": "404"})
    assert "not found, try pulling it first" in str(info.value)
    stream = litellm.completion(model="ollama_chat/llama3.2", messages=USER, stream=True,
                                api_base=mock.url, extra_headers={"x-mock-error-after": "2"})
    with pytest.raises(litellm.InternalServerError):
        list(stream)


# ------------------------------------------------------------------------------------ Cohere


def cohere(mock, **extra):
    return {"api_base": mock.url, "api_key": "co-key", **extra}


@pytest.mark.parametrize("stream", [False, True])
def test_cohere_chat_and_tools(mock, stream):
    r = litellm.completion(model="cohere_chat/command-r-plus", messages=USER, stop=["zzz"],
                           top_p=0.5, stream=stream, **cohere(mock))
    if stream:
        r = litellm.stream_chunk_builder(list(r), messages=USER)
    assert r.choices[0].message.content.startswith("This is a mock")
    sent = mock.last_request()
    assert sent["path"] == "/v2/chat"
    assert sent["headers"]["authorization"] == "Bearer co-key"
    assert sent["body"]["p"] == 0.5 and sent["body"]["stop_sequences"] == ["zzz"]
    r = litellm.completion(model="cohere/command-r-plus", messages=USER, tools=[WEATHER],
                           stream=stream, **cohere(mock))
    if stream:
        r = litellm.stream_chunk_builder(list(r), messages=USER)
    assert r.choices[0].finish_reason == "tool_calls"
    assert json.loads(r.choices[0].message.tool_calls[0].function.arguments)["city"]


def test_cohere_embed_and_rerank(mock):
    e = litellm.embedding(model="cohere/embed-english-v3.0", input=["a", "b"], dimensions=8, **cohere(mock))
    assert len(e.data) == 2
    body = mock.last_request()["body"]
    assert body["input_type"] == "search_document" and body["output_dimension"] == 8
    litellm.embedding(model="cohere/embed-english-v3.0", input="a", encoding_format="int8",
                      input_type="search_query", **cohere(mock))
    body = mock.last_request()["body"]
    assert body["embedding_types"] == ["int8"] and body["input_type"] == "search_query"
    r = litellm.rerank(model="cohere/rerank-v3.5", query="capital of France",
                       documents=["Berlin is German", "Paris is the capital of France"], top_n=1,
                       **cohere(mock))
    assert isinstance(r, litellm.RerankResponse)
    assert r.results[0]["index"] == 1
    assert r.results[0]["document"]["text"] == "Paris is the capital of France"
    assert r.meta["billed_units"]["search_units"] == 1
    assert r._hidden_params["custom_llm_provider"] == "cohere"
    assert r._hidden_params["response_cost"] == 0.002


async def test_arerank(mock):
    r = await litellm.arerank(model="cohere/rerank-v3.5", query="q", documents=["a"],
                              return_documents=False, **cohere(mock))
    assert "document" not in r.results[0]


def test_cohere_errors(mock):
    with pytest.raises(litellm.RateLimitError) as info:
        litellm.completion(model="cohere_chat/command-r", messages=USER,
                           extra_headers={"x-mock-status": "429"}, **cohere(mock))
    assert "CohereException - You are using a Trial key" in str(info.value)
    with pytest.raises(AuthenticationError):
        litellm.completion(model="cohere_chat/command-r", messages=USER, api_base=mock.url, api_key="")


# ------------------------------------------------------------------------------------ Hugging Face


def test_huggingface_endpoint_and_feature_extraction(mock):
    r = litellm.completion(model="huggingface/tgi", messages=USER, api_base=mock.url, api_key="hf_x")
    assert r.choices[0].message.content
    sent = mock.last_request()
    assert sent["path"] == "/v1/chat/completions"
    assert sent["body"]["model"] == "tgi"
    url = mock.url + "/hf-inference/models/BAAI/bge-small-en-v1.5/pipeline/feature-extraction"
    e = litellm.embedding(model="huggingface/BAAI/bge-small-en-v1.5", input=["a", "b"], api_base=url,
                          api_key="hf_x")
    assert len(e.data) == 2
    assert mock.last_request()["body"] == {"inputs": ["a", "b"]}


# ------------------------------------------------------------------------------------ images, moderation


def test_image_generation_openai(mock):
    r = litellm.image_generation(prompt="a cat", model="dall-e-3", n=2, api_base=mock.api_base, api_key="k")
    assert isinstance(r, litellm.ImageResponse)
    assert len(r.data) == 2 and r.data[0].revised_prompt == "a cat"
    r = litellm.image_generation(prompt="a cat", api_base=mock.api_base, api_key="k",
                                 response_format="b64_json")
    assert r.data[0].b64_json
    assert mock.last_request()["body"]["model"] == "dall-e-2"


async def test_aimage_generation_and_amoderation(mock):
    r = await litellm.aimage_generation(prompt="a dog", model="openai/gpt-image-1", api_base=mock.api_base,
                                        api_key="k")
    assert r.data
    m = await litellm.amoderation(input="I will hurt you", api_base=mock.api_base, api_key="k")
    assert m.results[0].flagged is True
    assert m.results[0].categories["violence"] is True


def test_moderation(mock):
    m = litellm.moderation(input=["hello", "attack!"], model="omni-moderation-latest",
                           api_base=mock.api_base, api_key="k")
    assert [result.flagged for result in m.results] == [False, True]
    assert m.model == "omni-moderation-latest"
    assert m.model_dump()["results"][1]["flagged"] is True


def test_endpoint_not_served(mock):
    with pytest.raises(BadRequestError) as info:
        litellm.rerank(model="ollama/x", query="q", documents=["a"], api_base=mock.url)
    assert "does not support rerank" in str(info.value)
    with pytest.raises(BadRequestError):
        litellm.image_generation(prompt="", model="dall-e-3", api_base=mock.api_base, api_key="k")


# ------------------------------------------------------------------------------------ NLP Cloud

def test_nlp_cloud_generation_by_bare_map_name(mock):
    r = litellm.completion(model="chatdolphin", messages=USER, api_key="nk-test",
                           api_base=mock.url + "/v1/gpu/", max_tokens=5)
    assert r._hidden_params["custom_llm_provider"] == "nlp_cloud"
    assert r.choices[0].message.content == "This is a mock response"
    assert r.usage.completion_tokens == 5
    sent = mock.last_request()
    assert sent["path"] == "/v1/gpu/chatdolphin/generation"
    assert sent["headers"]["authorization"] == "Token nk-test"
    assert sent["body"]["max_length"] == 5 and "messages" not in sent["body"]
    with pytest.raises(BadRequestError, match="does not stream"):
        litellm.completion(model="nlp_cloud/chatdolphin", messages=USER, api_key="nk-test",
                           api_base=mock.url + "/v1/gpu/", stream=True)


# ------------------------------------------------------------------------------ IBM watsonx.ai

def test_watsonx_exchanges_the_api_key_at_iam_and_places_the_call(mock, monkeypatch):
    monkeypatch.setenv("WATSONX_IAM_URL", mock.url + "/identity/token")
    monkeypatch.setenv("WATSONX_PROJECT_ID", "proj-env")
    kwargs = {"api_base": mock.url, "api_key": "ibm-cloud-key"}
    r = litellm.completion(model="watsonx/ibm/granite-3-8b-instruct", messages=USER, **kwargs)
    assert r.choices[0].message.content.startswith("This is a mock")
    assert r._hidden_params["custom_llm_provider"] == "watsonx"
    sent = mock.last_request()
    assert sent["path"] == "/ml/v1/text/chat" and sent["query"] == "version=2024-03-13"
    # The mock's IAM issues `wxiam.<hex of the key>`: the key itself never reaches the chat API.
    assert sent["headers"]["authorization"] == "Bearer wxiam." + b"ibm-cloud-key".hex()
    assert sent["body"]["model_id"] == "ibm/granite-3-8b-instruct"
    assert sent["body"]["project_id"] == "proj-env"

    chunks = list(litellm.completion(model="watsonx/ibm/granite-3-8b-instruct", messages=USER,
                                     stream=True, stream_options={"include_usage": True},
                                     **kwargs))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == \
        r.choices[0].message.content
    assert chunks[-1].usage.total_tokens > 0
    assert mock.last_request()["path"] == "/ml/v1/text/chat_stream"

    e = litellm.embedding(model="watsonx/ibm/slate-30m-english-rtrvr", input=["a", "b"], **kwargs)
    assert len(e.data) == 2 and e.usage.prompt_tokens == 2
    assert "reasoning_effort" in litellm.get_supported_openai_params(
        model="ibm/granite-3-8b-instruct", custom_llm_provider="watsonx")


def test_watsonx_refusals(mock, monkeypatch):
    for name in ("WATSONX_PROJECT_ID", "WX_PROJECT_ID", "PROJECT_ID", "WATSONX_SPACE_ID",
                 "WATSONX_DEPLOYMENT_SPACE_ID", "WX_SPACE_ID", "SPACE_ID"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(AuthenticationError, match="project_id and space_id not set"):
        litellm.completion(model="watsonx/ibm/granite-3-8b-instruct", messages=USER,
                           api_base=mock.url, token="t")
    with pytest.raises(UnsupportedParamsError, match="logit_bias"):
        litellm.completion(model="watsonx/ibm/granite-3-8b-instruct", messages=USER,
                           api_base=mock.url, token="t", project_id="p", logit_bias={"1": 1})
    monkeypatch.setenv("WATSONX_IAM_URL", mock.url + "/identity/token")
    for name in ("WATSONX_APIKEY", "WATSONX_API_KEY", "WX_API_KEY", "WATSONX_TOKEN",
                 "WATSONX_ZENAPIKEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(AuthenticationError, match="API key not set"):
        litellm.completion(model="watsonx/ibm/granite-3-8b-instruct", messages=USER,
                           api_base=mock.url, project_id="p")


# ----------------------------------------------------------------------------- Snowflake Cortex

def test_snowflake_chat_claude_and_embeddings(mock):
    kwargs = {"api_base": mock.url, "api_key": "jwt-token"}
    r = litellm.completion(model="snowflake/mistral-large2", messages=USER, max_tokens=8, **kwargs)
    assert r.choices[0].message.content.startswith("This is a mock")
    sent = mock.last_request()
    assert sent["path"] == "/api/v2/cortex/v1/chat/completions"
    assert sent["headers"]["x-snowflake-authorization-token-type"] == "KEYPAIR_JWT"
    assert sent["body"]["max_completion_tokens"] == 8 and "max_tokens" not in sent["body"]

    chunks = list(litellm.completion(model="snowflake/claude-3-5-sonnet", messages=USER,
                                     stream=True, api_base=mock.url, api_key="pat/pat-token"))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices).startswith(
        "This is a mock")
    sent = mock.last_request()
    assert sent["path"] == "/api/v2/cortex/v1/messages"
    assert sent["headers"]["authorization"] == "Bearer pat-token"
    assert sent["headers"]["x-snowflake-authorization-token-type"] == "PROGRAMMATIC_ACCESS_TOKEN"

    e = litellm.embedding(model="snowflake/snowflake-arctic-embed-m-v2.0", input="hello", **kwargs)
    assert len(e.data) == 1 and len(e.data[0]["embedding"]) == 768
    with pytest.raises(BadRequestError, match="account_id"):
        litellm.completion(model="snowflake/mistral-large2", messages=USER, api_key="jwt",
                           account_id="bad/host")


# ------------------------------------------------------------------------------------- GigaChat

def test_gigachat_oauth_functions_and_structured_output(mock, monkeypatch):
    # The mock serves GigaChat under /gigachat (its /api/v1 paths are Lemonade's too).
    monkeypatch.setenv("GIGACHAT_AUTH_URL", mock.url + "/gigachat/api/v2/oauth")
    monkeypatch.delenv("GIGACHAT_ACCESS_TOKEN", raising=False)
    kwargs = {"api_base": mock.url + "/gigachat/api/v1", "api_key": "Y2xpZW50OnNlY3JldA=="}
    r = litellm.completion(model="gigachat/GigaChat-2", messages=USER, temperature=0, **kwargs)
    assert r.choices[0].message.content.startswith("This is a mock")
    sent = mock.last_request()
    assert sent["path"] == "/gigachat/api/v1/chat/completions"
    assert sent["headers"]["authorization"] == "Bearer giga." + b"Y2xpZW50OnNlY3JldA==".hex()
    assert sent["body"]["top_p"] == 0 and "temperature" not in sent["body"]

    r = litellm.completion(model="gigachat/GigaChat-2", messages=USER, tools=[WEATHER],
                           tool_choice="required", **kwargs)
    call = r.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments)
    assert r.choices[0].finish_reason == "tool_calls"
    assert mock.last_request()["body"]["functions"][0]["name"] == "get_weather"

    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    r = litellm.completion(model="gigachat/GigaChat-2", messages=USER, **kwargs,
                           response_format={"type": "json_schema",
                                            "json_schema": {"name": "place", "schema": schema}})
    assert r.choices[0].finish_reason == "stop"
    assert "city" in json.loads(r.choices[0].message.content)
    assert mock.last_request()["body"]["function_call"] == {"name": "place"}

    chunks = list(litellm.completion(model="gigachat/GigaChat-2", messages=USER, stream=True,
                                     **kwargs))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices).startswith(
        "This is a mock")
    e = litellm.embedding(model="gigachat/Embeddings", input=["a", "b c"], **kwargs)
    assert len(e.data) == 2 and e.usage.prompt_tokens == 3
    with pytest.raises(BadRequestError, match="uploaded files"):
        litellm.completion(model="gigachat/GigaChat-2", **kwargs, messages=[{"role": "user",
                           "content": [{"type": "image_url", "image_url": {"url": "https://x/a.png"}}]}])


# ------------------------------------------------------------------------------ Amazon SageMaker

def test_sagemaker_tgi_endpoint_signed_whole_and_streamed(mock):
    # The mock's key pair (llmrelay_mock::DEFAULT_AWS_*): it checks the signature.
    kwargs = {"api_base": mock.url, "aws_access_key_id": "AKIDLLMRELAYMOCK",
              "aws_secret_access_key": "llmrelay-mock-secret-key", "aws_region_name": "us-east-1"}
    r = litellm.completion(model="sagemaker/meta-textgeneration-llama-2-7b-f", messages=USER,
                           n=2, **kwargs)
    assert r.choices[0].message.content.startswith("This is a mock")
    assert r._hidden_params["custom_llm_provider"] == "sagemaker"
    assert r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0
    sent = mock.last_request()
    assert sent["path"] == "/endpoints/meta-textgeneration-llama-2-7b-f/invocations"
    assert sent["headers"]["authorization"].startswith("AWS4-HMAC-SHA256 ")
    assert sent["body"]["parameters"] == {"best_of": 2, "do_sample": True}
    chunks = list(litellm.completion(model="sagemaker/meta-textgeneration-llama-2-7b-f",
                                     messages=USER, stream=True, **kwargs))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == \
        r.choices[0].message.content
    with pytest.raises(UnsupportedParamsError):
        litellm.completion(model="sagemaker/ep", messages=USER, seed=1, **kwargs)


def test_jina_ai_embeddings_by_prefix(mock, monkeypatch):
    monkeypatch.setenv("JINA_AI_API_KEY", "jina-key")
    assert litellm.get_llm_provider("jina_ai/jina-embeddings-v3") == (
        "jina-embeddings-v3", "jina_ai", "jina-key", "https://api.jina.ai/v1")
    e = litellm.embedding(model="jina_ai/jina-embeddings-v3", input=["a"], dimensions=8,
                          api_base=mock.url + "/v1")
    assert len(e.data) == 1
    sent = mock.last_request()
    assert sent["path"] == "/v1/embeddings" and sent["headers"]["authorization"] == "Bearer jina-key"
    assert sent["body"]["dimensions"] == 8
