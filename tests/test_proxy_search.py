"""The proxy's search routes over ``search_tools:`` (LiteLLM's Search API), with plain HTTP:
the path and body forms, the tool list, auth, errors, the tool's protected settings, and the
spend row with the search's price."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from test_proxy import MASTER_KEY, Proxy, base_config, start_proxy


def search_config(mock: Any) -> str:
    tools = f"""
        search_tools:
          - search_tool_name: web
            litellm_params:
              search_provider: tavily
              api_key: os.environ/SEARCH_KEY
              api_base: {mock.url}/tavily
              search_depth: basic
            search_tool_info:
              description: Tavily web search
          - search_tool_name: papers
            litellm_params:
              search_provider: exa_ai
              api_key: ek
              api_base: {mock.url}/exa_ai
    """
    config = base_config(mock).replace(
        "UPSTREAM_KEY: sk-test", "UPSTREAM_KEY: sk-test\n          SEARCH_KEY: tk-secret")
    return config + tools


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory, mock_server: Any):
    server = start_proxy(tmp_path_factory.mktemp("search"), search_config(mock_server))
    yield server
    assert server.stop() == 0


def post(proxy: Proxy, path: str, body: dict,
         key: str | None = MASTER_KEY) -> tuple[int, dict, Any]:
    status, headers, payload = proxy.request("POST", path, body, key=key)
    return status, headers, json.loads(payload)


def test_search_by_path_and_by_body(proxy: Proxy, mock: Any) -> None:
    for path in ("/v1/search/web", "/search/web"):
        status, headers, body = post(proxy, path, {"query": "llm gateway", "max_results": 3,
                                                   "country": "US"})
        assert status == 200, body
        assert body["object"] == "search"
        assert body["results"][0]["title"] == "Result for llm gateway"
        assert set(body["results"][0]) == {"title", "url", "snippet", "date", "last_updated"}
        assert float(headers["x-litellm-response-cost"]) == 0.008
        sent = mock.last_request()
        assert sent["path"] == "/tavily/search"
        assert sent["headers"]["authorization"] == "Bearer tk-secret"
        assert sent["body"] == {"query": "llm gateway", "max_results": 3, "country": "us",
                                "search_depth": "basic"}
    for path in ("/v1/search", "/search"):
        status, _, body = post(proxy, path, {"search_tool_name": "papers", "query": "q",
                                             "max_results": 30})
        assert status == 200, body
        assert mock.last_request()["path"] == "/exa_ai/search"
        assert mock.last_request()["body"]["numResults"] == 30


def test_the_body_cannot_move_the_tool(proxy: Proxy, mock: Any) -> None:
    status, _, body = post(proxy, "/v1/search/web", {
        "query": "q", "api_base": "http://127.0.0.1:9", "api_key": "caller",
        "search_provider": "exa_ai", "search_depth": "advanced"})
    assert status == 200, body
    sent = mock.last_request()
    assert sent["path"] == "/tavily/search"
    assert sent["headers"]["authorization"] == "Bearer tk-secret"
    assert sent["body"]["search_depth"] == "advanced"


def test_tool_list(proxy: Proxy) -> None:
    for path in ("/v1/search/tools", "/search/tools"):
        status, _, payload = proxy.request("GET", path)
        assert status == 200
        assert json.loads(payload) == {"object": "list", "data": [
            {"search_tool_name": "web", "search_provider": "tavily",
             "description": "Tavily web search"},
            {"search_tool_name": "papers", "search_provider": "exa_ai"}]}
        assert b"tk-secret" not in payload


def test_errors(proxy: Proxy) -> None:
    status, _, body = post(proxy, "/v1/search/web", {"query": "q"}, key=None)
    assert status == 401, body
    status, _, body = post(proxy, "/v1/search/nope", {"query": "q"})
    assert status == 400
    assert "Search tool 'nope' not found" in body["error"]["message"]
    status, _, body = post(proxy, "/v1/search", {"query": "q"})
    assert status == 400 and body["error"]["param"] == "search_tool_name"
    status, _, body = post(proxy, "/v1/search/web", {"query": 7})
    assert status == 400 and body["error"]["param"] == "query"
    status, _, body = post(proxy, "/v1/search/web",
                           {"query": "q", "extra_headers": {"x-mock-status": "429"}})
    assert status == 429, body


def test_spend_row_has_the_price(proxy: Proxy) -> None:
    status, _, created = post(proxy, "/key/generate", {"key_alias": "searcher"})
    assert status == 200, created
    key, token = created["key"], created["token"]
    status, _, body = post(proxy, "/v1/search/web", {"query": "booked"}, key=key)
    assert status == 200, body
    deadline = time.monotonic() + 10
    rows: list = []
    while time.monotonic() < deadline:
        status, _, payload = proxy.request("GET", f"/spend/logs?api_key={token}")
        assert status == 200, payload
        rows = [r for r in json.loads(payload) if r["status"] == "success"]
        if rows:
            break
        time.sleep(0.1)
    assert len(rows) == 1, rows
    assert rows[0]["spend"] == pytest.approx(0.008)
    assert rows[0]["model"] == "tavily/search"
    assert rows[0]["model_group"] == "web"


def test_a_bad_tool_stops_the_start(tmp_path: Path, mock: Any) -> None:
    config = base_config(mock) + """
        search_tools:
          - search_tool_name: broken
            litellm_params:
              search_provider: altavista
    """
    proxy = start_proxy(tmp_path, config, wait=False)
    assert proxy.process.wait(timeout=30) != 0
    log = proxy.log.read_text()
    assert "search_tools[0].litellm_params.search_provider" in log
    assert "altavista" in log
