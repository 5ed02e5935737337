"""``SearchResponse`` and ``SearchResult``, where LiteLLM has them
(``litellm.llms.base_llm.search.transformation``).

The engine translates every provider's answer to this shape (Perplexity's search format):
``{"object": "search", "results": [{"title", "url", "snippet", "date", "last_updated"}]}``;
extra fields a provider returns (Parallel's ``search_id``, a result's ``excerpts``) are kept.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ...._base import _Base
from ....types.utils import _invalid

__all__ = ["SearchResponse", "SearchResult"]


class SearchResult(_Base):
    """One result: ``title``, ``url``, ``snippet`` and, when the provider gives them, ``date``
    and ``last_updated``; extra keys allowed."""

    _order: ClassVar[tuple[str, ...]] = ("title", "url", "snippet", "date", "last_updated")
    _always: ClassVar[dict[str, Any]] = {"date": None, "last_updated": None}

    def __init__(self, title: str, url: str, snippet: str, date: str | None = None,
                 last_updated: str | None = None, **kwargs: Any):
        for name, value in (("title", title), ("url", url), ("snippet", snippet)):
            if not isinstance(value, str):
                _invalid("SearchResult", name, "string_type", "Input should be a valid string",
                         value)
        d = self.__dict__
        d["title"] = title
        d["url"] = url
        d["snippet"] = snippet
        d["date"] = date
        d["last_updated"] = last_updated
        if kwargs:
            d.update(kwargs)


class SearchResponse(_Base):
    """The answer of ``search()``: ``results`` (``SearchResult``) and ``object="search"``;
    ``_hidden_params["response_cost"]`` is the call's price from the price map."""

    _order: ClassVar[tuple[str, ...]] = ("results", "object")
    _always: ClassVar[dict[str, Any]] = {"object": "search"}

    def __init__(self, results: list, object: str = "search", **kwargs: Any):
        if not isinstance(results, list):
            _invalid("SearchResponse", "results", "list_type", "Input should be a valid list",
                     results)
        d = self.__dict__
        d["results"] = [r if isinstance(r, SearchResult) else SearchResult(**r) for r in results]
        d["object"] = object
        if kwargs:
            d.update(kwargs)

    @classmethod
    def _from_wire(cls, d: dict) -> SearchResponse:
        results = d.pop("results", [])
        return cls(results=results, **d)
