"""``image_generation``, ``rerank`` and ``moderation`` (and their async forms), LiteLLM's signatures.

The engine does the work (``_native.call``); this module shapes arguments the way
LiteLLM's functions take them and wraps results in LiteLLM's response classes.
"""

from __future__ import annotations

from typing import Any

from . import _call as _calls
from .main import _prepare
from .types.utils import ImageResponse, OpenAIModerationResponse, RerankResponse

__all__ = [
    "aimage_generation",
    "amoderation",
    "arerank",
    "image_generation",
    "moderation",
    "rerank",
]


def _image_response(body: dict) -> ImageResponse:
    return ImageResponse(**body)


_WRAPPERS: dict[str, Any] = {
    "image_generation": _image_response,
    "rerank": RerankResponse._from_wire,
    "moderation": OpenAIModerationResponse._from_wire,
}


def _wrapper(name: str) -> Any:
    def wrap(result: Any, _params: dict, _started: float) -> Any:
        body, hidden = result
        response = _WRAPPERS[name](body)
        response._hidden_params = hidden
        response._response_ms = hidden["_response_ms"]
        return response

    return wrap


def _call(name: str, params: dict) -> Any:
    params = _prepare({k: v for k, v in params.items() if v is not None})
    return _calls.call(name, params, _calls.native_call(name), _wrapper(name))


async def _acall(name: str, params: dict) -> Any:
    params = _prepare({k: v for k, v in params.items() if v is not None})
    return await _calls.acall("a" + name, params, _calls.submit_call(name), _wrapper(name))


def _image_params(prompt: str, model: str | None, kwargs: dict) -> dict:
    kwargs["prompt"] = prompt
    kwargs["model"] = model
    return kwargs


def image_generation(prompt: str, model: str | None = None, **kwargs: Any) -> Any:
    """Generate images (OpenAI ``/images/generations``, Azure deployments). Without a model,
    ``dall-e-2`` on OpenAI, as LiteLLM. ``aimg_generation=True`` returns a coroutine."""
    if kwargs.pop("aimg_generation", False):
        return aimage_generation(prompt, model, **kwargs)
    params = _image_params(prompt, model, kwargs)
    handler = _custom_handler(params)
    if handler is not None:
        from . import _custom_llm

        return _custom_llm.image_generation(handler, params)
    return _call("image_generation", params)


async def aimage_generation(prompt: str, model: str | None = None, **kwargs: Any) -> Any:
    params = _image_params(prompt, model, kwargs)
    handler = _custom_handler(params)
    if handler is not None:
        from . import _custom_llm

        return await _custom_llm.aimage_generation(handler, params)
    return await _acall("image_generation", params)


def _custom_handler(params: dict) -> Any:
    from .main import _custom_handler as handler

    return handler(params) if params.get("model") else None


def _rerank_params(model: str, query: str, documents: list, custom_llm_provider: str | None,
                   top_n: int | None, rank_fields: list | None, return_documents: bool | None,
                   max_chunks_per_doc: int | None, max_tokens_per_doc: int | None,
                   kwargs: dict) -> dict:
    kwargs.update(
        model=model, query=query, documents=documents, custom_llm_provider=custom_llm_provider,
        top_n=top_n, rank_fields=rank_fields, return_documents=return_documents,
        max_chunks_per_doc=max_chunks_per_doc, max_tokens_per_doc=max_tokens_per_doc,
    )
    return kwargs


def rerank(model: str, query: str, documents: list, custom_llm_provider: str | None = None,
           top_n: int | None = None, rank_fields: list | None = None,
           return_documents: bool | None = True, max_chunks_per_doc: int | None = None,
           max_tokens_per_doc: int | None = None, **kwargs: Any) -> Any:
    """Rerank ``documents`` by relevance to ``query`` (Cohere ``/v2/rerank``); returns LiteLLM's
    ``RerankResponse``."""
    return _call("rerank", _rerank_params(model, query, documents, custom_llm_provider, top_n,
                                          rank_fields, return_documents, max_chunks_per_doc,
                                          max_tokens_per_doc, kwargs))


async def arerank(model: str, query: str, documents: list, custom_llm_provider: str | None = None,
                  top_n: int | None = None, rank_fields: list | None = None,
                  return_documents: bool | None = True, max_chunks_per_doc: int | None = None,
                  max_tokens_per_doc: int | None = None, **kwargs: Any) -> Any:
    return await _acall("rerank", _rerank_params(model, query, documents, custom_llm_provider,
                                                 top_n, rank_fields, return_documents,
                                                 max_chunks_per_doc, max_tokens_per_doc, kwargs))


def _moderation_params(input: Any, model: str | None, api_key: str | None, kwargs: dict) -> dict:
    kwargs["input"] = input
    kwargs["model"] = model
    kwargs["api_key"] = api_key
    return kwargs


def moderation(input: Any, model: str | None = None, api_key: str | None = None, **kwargs: Any) -> Any:
    """OpenAI moderation (``/moderations``); without a model, the API's default model."""
    return _call("moderation", _moderation_params(input, model, api_key, kwargs))


async def amoderation(
    input: Any, model: str | None = None, api_key: str | None = None, **kwargs: Any
) -> Any:
    return await _acall("moderation", _moderation_params(input, model, api_key, kwargs))
