"""``litellm.search`` / ``asearch``: every provider through the engine against the mock, the
response types where LiteLLM has them, the price, the errors, and the rule that a key the
server holds is never sent to a host the caller chose."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs

import pytest

import llmrelay as litellm
from llmrelay.exceptions import AuthenticationError, BadRequestError, RateLimitError
from llmrelay.llms.base_llm.search.transformation import SearchResponse, SearchResult

# provider, the mock's base for it, api_key, extra kwargs, method, path, price
PROVIDERS = [
    ("perplexity", "/perplexity", "pk", {}, "POST", "/perplexity/search", 0.005),
    ("tavily", "/tavily", "tk", {}, "POST", "/tavily/search", 0.008),
    ("exa_ai", "/exa_ai", "ek", {}, "POST", "/exa_ai/search", 0.005),
    ("serper", "/serper", "sk", {}, "POST", "/serper/search", 0.001),
    ("brave", "/brave/res/v1/web/search", "bk", {}, "GET", "/brave/res/v1/web/search", None),
    ("google_pse", "/google_pse/customsearch/v1", "gk", {"search_engine_id": "cx-1"}, "GET",
     "/google_pse/customsearch/v1", 0.005),
    ("searxng", "/searxng", None, {}, "GET", "/searxng/search", 0.0),
    ("firecrawl", "/firecrawl/v2", "fk", {}, "POST", "/firecrawl/v2/search", 0.00166),
    ("linkup", "/linkup/v1", "lk", {}, "POST", "/linkup/v1/search", 0.00587),
    ("parallel_ai", "/parallel_ai", "pak", {}, "POST", "/parallel_ai/v1/search", 0.005),
    ("duckduckgo", "/duckduckgo", None, {}, "GET", "/duckduckgo/", 0.0),
    ("dataforseo", "/dataforseo/v3/serp/google/organic/live/advanced", "user:pw", {}, "POST",
     "/dataforseo/v3/serp/google/organic/live/advanced", 0.003),
]


@pytest.mark.parametrize("provider,base,key,extra,method,path,price", PROVIDERS,
                         ids=[p[0] for p in PROVIDERS])
def test_every_provider(mock, provider, base, key, extra, method, path, price):
    response = litellm.search("llm gateways", search_provider=provider, max_results=5,
                              api_base=mock.url + base, api_key=key, **extra)
    assert isinstance(response, SearchResponse)
    assert response.object == "search"
    assert len(response.results) == 2
    first = response.results[0]
    assert isinstance(first, SearchResult)
    assert first.title.startswith("Result for llm gateways")
    assert first.url == "https://example.com/1"
    assert first.snippet
    assert response._hidden_params["response_cost"] == price
    assert response._hidden_params["custom_llm_provider"] == provider
    sent = mock.last_request()
    assert (sent["method"], sent["path"]) == (method, path)


def test_mapped_parameters_reach_the_provider(mock):
    litellm.search(["a", "b"], search_provider="exa_ai", max_results=30,
                   search_domain_filter=["arxiv.org"], country="US", type="neural",
                   api_base=mock.url + "/exa_ai", api_key="ek")
    body = mock.last_request()["body"]
    assert body == {"query": "a b", "numResults": 30, "includeDomains": ["arxiv.org"],
                    "userLocation": "US", "type": "neural", "contents": {"text": True}}
    assert mock.last_request()["headers"]["x-api-key"] == "ek"
    litellm.search("q", search_provider="brave", max_results=50, api_key="bk",
                   api_base=mock.url + "/brave/res/v1/web/search")
    query = parse_qs(mock.last_request()["query"])
    assert query["count"] == ["20"] and query["include_fetch_metadata"] == ["True"]
    assert mock.last_request()["headers"]["x-subscription-token"] == "bk"


def test_dates_and_extra_fields(mock):
    response = litellm.search("q", search_provider="perplexity", api_key="pk",
                              api_base=mock.url + "/perplexity")
    assert response.results[0].date == "2024-07-25"
    assert response.results[1].date is None
    dumped = response.model_dump()
    assert list(dumped) == ["results", "object"]
    assert list(dumped["results"][0]) == ["title", "url", "snippet", "date", "last_updated"]
    parallel = litellm.search("q", search_provider="parallel_ai", api_key="pak",
                              api_base=mock.url + "/parallel_ai")
    assert parallel.search_id == "search_mock"
    assert parallel.results[0].excerpts == ["first", "snippet"]
    assert parallel.results[0].snippet == "first ... snippet"


def test_tiered_price_follows_max_results(mock):
    response = litellm.search("q", search_provider="exa_ai", max_results=40, api_key="ek",
                              api_base=mock.url + "/exa_ai")
    assert response._hidden_params["response_cost"] == 0.025


def test_asearch(mock):
    async def run():
        return await litellm.asearch("async query", search_provider="tavily", api_key="tk",
                                     api_base=mock.url + "/tavily")

    response = asyncio.run(run())
    assert response.results[0].title == "Result for async query"
    assert response._hidden_params["response_cost"] == 0.008


def test_keys_from_the_environment(mock, monkeypatch):
    monkeypatch.setenv("TAVILY_API_KEY", "env-key")
    monkeypatch.setenv("TAVILY_API_BASE", mock.url + "/tavily")
    response = litellm.search("q", search_provider="tavily")
    assert len(response.results) == 2
    assert mock.last_request()["headers"]["authorization"] == "Bearer env-key"
    monkeypatch.setenv("DATAFORSEO_LOGIN", "login")
    monkeypatch.setenv("DATAFORSEO_PASSWORD", "pw")
    monkeypatch.setenv("DATAFORSEO_API_BASE",
                       mock.url + "/dataforseo/v3/serp/google/organic/live/advanced")
    litellm.search("q", search_provider="dataforseo")
    assert mock.last_request()["headers"]["authorization"] == "Basic bG9naW46cHc="


def test_server_key_is_not_sent_to_a_caller_chosen_host(mock, monkeypatch):
    monkeypatch.setenv("TAVILY_API_KEY", "server-secret")
    monkeypatch.delenv("TAVILY_API_BASE", raising=False)
    refused = "Refusing to send the server-configured TAVILY_API_KEY"
    with pytest.raises(BadRequestError, match=refused):
        litellm.search("q", search_provider="tavily", api_base=mock.url + "/tavily")
    assert mock.requests() == []
    # With the caller's own key the caller's host is fine.
    litellm.search("q", search_provider="tavily", api_base=mock.url + "/tavily", api_key="own")
    assert mock.last_request()["headers"]["authorization"] == "Bearer own"
    # An operator's base override is a trusted host.
    monkeypatch.setenv("TAVILY_API_BASE", mock.url)
    litellm.search("q", search_provider="tavily", api_base=mock.url + "/tavily")
    assert mock.last_request()["headers"]["authorization"] == "Bearer server-secret"


def test_module_settings_are_not_applied(mock):
    litellm.api_key = "sk-openai-secret"
    litellm.api_base = "http://127.0.0.1:9"
    litellm.search("q", search_provider="tavily", api_key="tk", api_base=mock.url + "/tavily")
    sent = mock.last_request()
    assert sent["headers"]["authorization"] == "Bearer tk"
    assert "sk-openai-secret" not in str(sent)


def test_errors(mock, monkeypatch):
    for name in ("EXA_API_KEY", "SEARXNG_API_BASE", "GOOGLE_PSE_ENGINE_ID"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(BadRequestError, match="search_provider 'nope' is not a search provider"):
        litellm.search("q", search_provider="nope")
    with pytest.raises(BadRequestError, match="All items in query list must be strings"):
        litellm.search(["a", 1], search_provider="tavily", api_key="k")
    with pytest.raises(AuthenticationError, match="EXA_API_KEY is not set"):
        litellm.search("q", search_provider="exa_ai")
    with pytest.raises(BadRequestError, match="SEARXNG_API_BASE is not set"):
        litellm.search("q", search_provider="searxng")
    with pytest.raises(BadRequestError, match="GOOGLE_PSE_ENGINE_ID"):
        litellm.search("q", search_provider="google_pse", api_key="gk")
    with pytest.raises(RateLimitError) as caught:
        litellm.search("q", search_provider="tavily", api_key="tk", api_base=mock.url + "/tavily",
                       extra_headers={"x-mock-status": "429"})
    assert caught.value.llm_provider == "tavily"
    assert mock.requests()


def test_types_where_litellm_has_them():
    assert litellm.llms.base_llm.search.transformation.SearchResponse is SearchResponse
    result = SearchResult(title="t", url="u", snippet="s", extra="kept")
    assert result.model_dump() == {"title": "t", "url": "u", "snippet": "s", "date": None,
                                   "last_updated": None, "extra": "kept"}
    response = SearchResponse(results=[{"title": "t", "url": "u", "snippet": "s"}])
    assert isinstance(response.results[0], SearchResult)
    assert response.object == "search"


def test_router_search_tools(mock, monkeypatch):
    monkeypatch.setenv("TAVILY_KEY_FOR_ROUTER", "tk")
    router = litellm.Router(model_list=[], num_retries=1, search_tools=[
        {"search_tool_name": "web", "litellm_params": {
            "search_provider": "tavily", "api_key": "os.environ/TAVILY_KEY_FOR_ROUTER",
            "api_base": mock.url + "/tavily"}},
    ])
    assert [t["search_tool_name"] for t in router.search_tools] == ["web"]
    response = router.search(search_tool_name="web", query="llm gateways", max_results=3)
    assert isinstance(response, SearchResponse) and response.results
    assert mock.last_request()["path"] == "/tavily/search"
    # The call cannot move the tool to another provider or host.
    response = asyncio.run(router.asearch(search_tool_name="web", query="q",
                                          search_provider="exa_ai", api_base="http://evil.invalid"))
    assert response.results and mock.last_request()["path"] == "/tavily/search"
    with pytest.raises(ValueError, match="Search tool 'nope' not found"):
        router.search(search_tool_name="nope", query="q")
    # A refused request is not retried on another pick; a failing upstream is.
    mock.clear()
    with pytest.raises(AuthenticationError):
        router.search(search_tool_name="web", query="q", extra_headers={"x-mock-status": "401"})
    assert len(mock.requests()) == 1
    mock.clear()
    with pytest.raises(Exception) as info:
        router.search(search_tool_name="web", query="q", extra_headers={"x-mock-status": "503"})
    assert getattr(info.value, "status_code", None) == 503
    assert len(mock.requests()) == 2  # num_retries=1: two picks
