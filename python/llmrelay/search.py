"""``search`` and ``asearch``: LiteLLM's Search API (``litellm.search``), with its signature.

The engine does the work (``_native.call("search", ...)``: the provider's request mapping, the
HTTP call with the GIL released, the answer's translation and price); this module shapes the
arguments and wraps the answer in ``SearchResponse``.
"""

from __future__ import annotations

from typing import Any

from . import _call as _calls
from .llms.base_llm.search.transformation import SearchResponse
from .main import _timeout_value

__all__ = ["asearch", "search"]


def _params(query: Any, search_provider: str, max_results: int | None,
            search_domain_filter: list[str] | None, max_tokens_per_page: int | None,
            country: str | None, api_key: str | None, api_base: str | None, timeout: Any,
            extra_headers: dict | None, kwargs: dict) -> dict:
    kwargs.pop("litellm_logging_obj", None)
    kwargs.update(
        query=query, search_provider=search_provider, max_results=max_results,
        search_domain_filter=search_domain_filter, max_tokens_per_page=max_tokens_per_page,
        country=country, api_key=api_key, api_base=api_base, timeout=timeout,
        extra_headers=extra_headers,
    )
    params = {k: v for k, v in kwargs.items() if v is not None}
    # Module-level settings (`litellm.api_key`, `api_base`, `headers`) are not applied: they
    # belong to the LLM providers, and LiteLLM's search does not read them either.
    timeout = params.get("timeout")
    if timeout is not None and not isinstance(timeout, (int, float)):
        params["timeout"] = _timeout_value(timeout)
    return params


def _wrap(result: Any, _params: dict, _started: float) -> SearchResponse:
    body, hidden = result
    response = SearchResponse._from_wire(body)
    response._hidden_params = hidden
    response._response_ms = hidden["_response_ms"]
    return response


def search(query: str | list[str], search_provider: str, max_results: int | None = None,
           search_domain_filter: list[str] | None = None, max_tokens_per_page: int | None = None,
           country: str | None = None, api_key: str | None = None, api_base: str | None = None,
           timeout: Any = None, extra_headers: dict | None = None, **kwargs: Any) -> Any:
    """Search the web with ``search_provider`` (``"tavily"``, ``"exa_ai"``, ``"perplexity"``, …);
    the unified parameters are mapped to the provider's, others are sent as they are. Returns
    ``SearchResponse``; ``asearch=True`` returns a coroutine, as LiteLLM's."""
    if kwargs.pop("asearch", False) is True:
        return asearch(query, search_provider, max_results, search_domain_filter,
                       max_tokens_per_page, country, api_key, api_base, timeout, extra_headers,
                       **kwargs)
    params = _params(query, search_provider, max_results, search_domain_filter,
                     max_tokens_per_page, country, api_key, api_base, timeout, extra_headers,
                     kwargs)
    return _calls.call("search", params, _calls.native_call("search"), _wrap)


async def asearch(query: str | list[str], search_provider: str, max_results: int | None = None,
                  search_domain_filter: list[str] | None = None,
                  max_tokens_per_page: int | None = None, country: str | None = None,
                  api_key: str | None = None, api_base: str | None = None, timeout: Any = None,
                  extra_headers: dict | None = None, **kwargs: Any) -> SearchResponse:
    """The async form of :func:`search`."""
    params = _params(query, search_provider, max_results, search_domain_filter,
                     max_tokens_per_page, country, api_key, api_base, timeout, extra_headers,
                     kwargs)
    return await _calls.acall("asearch", params, _calls.submit_call("search"), _wrap)
