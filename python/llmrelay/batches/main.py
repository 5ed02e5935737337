"""LiteLLM's Batches API functions (``litellm/batches/main.py``): ``create_batch``,
``retrieve_batch``, ``list_batches``, ``cancel_batch`` and their ``a``-prefixed async forms,
with LiteLLM's parameters, against an OpenAI-compatible endpoint (OpenAI itself or the llmrelay
proxy's ``/v1/batches``, where the local batch runner executes them for any model). Results are
the ``openai`` SDK's ``Batch`` objects."""

from __future__ import annotations

from typing import Any

from openai.types import Batch

from ..files._client import acall, call, extras

__all__ = [
    "acancel_batch",
    "acreate_batch",
    "alist_batches",
    "aretrieve_batch",
    "cancel_batch",
    "create_batch",
    "list_batches",
    "retrieve_batch",
]


def _create_options(completion_window: str, endpoint: str, input_file_id: str,
                    metadata: dict | None, extra_headers: dict | None,
                    extra_body: dict | None) -> dict:
    options: dict[str, Any] = {
        "completion_window": completion_window,
        "endpoint": endpoint,
        "input_file_id": input_file_id,
        **extras(extra_headers, extra_body),
    }
    if metadata is not None:
        options["metadata"] = metadata
    return options


def create_batch(completion_window: str, endpoint: str, input_file_id: str,
                 custom_llm_provider: str = "openai", metadata: dict | None = None,
                 extra_headers: dict | None = None, extra_body: dict | None = None,
                 **kwargs: Any) -> Batch:
    """Create a batch over an uploaded JSONL file (``POST /v1/batches``)."""
    kwargs["custom_llm_provider"] = custom_llm_provider
    options = _create_options(completion_window, endpoint, input_file_id, metadata,
                              extra_headers, extra_body)
    return call("create_batch", kwargs, lambda sdk: sdk.batches.create(**options))


async def acreate_batch(completion_window: str, endpoint: str, input_file_id: str,
                        custom_llm_provider: str = "openai", metadata: dict | None = None,
                        extra_headers: dict | None = None, extra_body: dict | None = None,
                        **kwargs: Any) -> Batch:
    """Async :func:`create_batch`."""
    kwargs["custom_llm_provider"] = custom_llm_provider
    options = _create_options(completion_window, endpoint, input_file_id, metadata,
                              extra_headers, extra_body)
    return await acall("acreate_batch", kwargs, lambda sdk: sdk.batches.create(**options))


def retrieve_batch(batch_id: str, custom_llm_provider: str = "openai",
                   metadata: dict | None = None, extra_headers: dict | None = None,
                   extra_body: dict | None = None, **kwargs: Any) -> Batch:
    """A batch's object (``GET /v1/batches/{batch_id}``)."""
    kwargs["custom_llm_provider"] = custom_llm_provider
    options = extras(extra_headers, extra_body)
    return call("retrieve_batch", kwargs, lambda sdk: sdk.batches.retrieve(batch_id, **options))


async def aretrieve_batch(batch_id: str, custom_llm_provider: str = "openai",
                          metadata: dict | None = None, extra_headers: dict | None = None,
                          extra_body: dict | None = None, **kwargs: Any) -> Batch:
    """Async :func:`retrieve_batch`."""
    kwargs["custom_llm_provider"] = custom_llm_provider
    options = extras(extra_headers, extra_body)
    return await acall("aretrieve_batch", kwargs,
                       lambda sdk: sdk.batches.retrieve(batch_id, **options))


def _list_options(after: str | None, limit: int | None, extra_headers: dict | None,
                  extra_body: dict | None) -> dict:
    options = extras(extra_headers, extra_body)
    if after is not None:
        options["after"] = after
    if limit is not None:
        options["limit"] = limit
    return options


def list_batches(custom_llm_provider: str = "openai", after: str | None = None,
                 limit: int | None = None, extra_headers: dict | None = None,
                 extra_body: dict | None = None, **kwargs: Any) -> Any:
    """The caller's batches, newest first (``GET /v1/batches``): the SDK's page."""
    kwargs["custom_llm_provider"] = custom_llm_provider
    options = _list_options(after, limit, extra_headers, extra_body)
    return call("list_batches", kwargs, lambda sdk: sdk.batches.list(**options))


async def alist_batches(custom_llm_provider: str = "openai", after: str | None = None,
                        limit: int | None = None, extra_headers: dict | None = None,
                        extra_body: dict | None = None, **kwargs: Any) -> Any:
    """Async :func:`list_batches`."""
    kwargs["custom_llm_provider"] = custom_llm_provider
    options = _list_options(after, limit, extra_headers, extra_body)

    async def run(sdk: Any) -> Any:
        return await sdk.batches.list(**options)

    return await acall("alist_batches", kwargs, run)


def cancel_batch(batch_id: str, custom_llm_provider: str = "openai",
                 metadata: dict | None = None, extra_headers: dict | None = None,
                 extra_body: dict | None = None, **kwargs: Any) -> Batch:
    """Cancel a batch (``POST /v1/batches/{batch_id}/cancel``): ``cancelling``, then
    ``cancelled`` once the lines in flight are done."""
    kwargs["custom_llm_provider"] = custom_llm_provider
    options = extras(extra_headers, extra_body)
    return call("cancel_batch", kwargs, lambda sdk: sdk.batches.cancel(batch_id, **options))


async def acancel_batch(batch_id: str, custom_llm_provider: str = "openai",
                        metadata: dict | None = None, extra_headers: dict | None = None,
                        extra_body: dict | None = None, **kwargs: Any) -> Batch:
    """Async :func:`cancel_batch`."""
    kwargs["custom_llm_provider"] = custom_llm_provider
    options = extras(extra_headers, extra_body)
    return await acall("acancel_batch", kwargs,
                       lambda sdk: sdk.batches.cancel(batch_id, **options))
