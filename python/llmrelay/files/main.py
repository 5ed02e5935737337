"""LiteLLM's Files API functions (``litellm/files/main.py``): ``create_file``, ``file_retrieve``,
``file_list``, ``file_delete``, ``file_content`` and their ``a``-prefixed async forms, with
LiteLLM's parameters, against an OpenAI-compatible endpoint (OpenAI itself or the llmrelay
proxy's ``/v1/files``). Results are the ``openai`` SDK's objects, as LiteLLM returns them."""

from __future__ import annotations

from typing import Any

from openai.types import FileDeleted, FileObject

from ._client import acall, call, extras

__all__ = [
    "acreate_file",
    "afile_content",
    "afile_delete",
    "afile_list",
    "afile_retrieve",
    "create_file",
    "file_content",
    "file_delete",
    "file_list",
    "file_retrieve",
]


def _create_options(purpose: str, expires_after: Any, extra_headers: dict | None,
                    extra_body: dict | None) -> dict:
    options: dict[str, Any] = {"purpose": purpose, **extras(extra_headers, extra_body)}
    if expires_after is not None:
        options["expires_after"] = expires_after
    return options


def create_file(file: Any, purpose: str, expires_after: Any = None,
                custom_llm_provider: str | None = None, extra_headers: dict | None = None,
                extra_body: dict | None = None, **kwargs: Any) -> FileObject:
    """Upload a file (``POST /v1/files``)."""
    kwargs["custom_llm_provider"] = custom_llm_provider
    options = _create_options(purpose, expires_after, extra_headers, extra_body)
    return call("create_file", kwargs, lambda sdk: sdk.files.create(file=file, **options))


async def acreate_file(file: Any, purpose: str, expires_after: Any = None,
                       custom_llm_provider: str = "openai", extra_headers: dict | None = None,
                       extra_body: dict | None = None, **kwargs: Any) -> FileObject:
    """Async :func:`create_file`."""
    kwargs["custom_llm_provider"] = custom_llm_provider
    options = _create_options(purpose, expires_after, extra_headers, extra_body)
    return await acall("acreate_file", kwargs,
                       lambda sdk: sdk.files.create(file=file, **options))


def file_retrieve(file_id: str, custom_llm_provider: str = "openai",
                  extra_headers: dict | None = None, extra_body: dict | None = None,
                  **kwargs: Any) -> FileObject:
    """A file's object (``GET /v1/files/{file_id}``)."""
    kwargs["custom_llm_provider"] = custom_llm_provider
    options = extras(extra_headers, extra_body)
    return call("file_retrieve", kwargs, lambda sdk: sdk.files.retrieve(file_id, **options))


async def afile_retrieve(file_id: str, custom_llm_provider: str = "openai",
                         extra_headers: dict | None = None, extra_body: dict | None = None,
                         **kwargs: Any) -> FileObject:
    """Async :func:`file_retrieve`."""
    kwargs["custom_llm_provider"] = custom_llm_provider
    options = extras(extra_headers, extra_body)
    return await acall("afile_retrieve", kwargs,
                       lambda sdk: sdk.files.retrieve(file_id, **options))


def _list_options(purpose: str | None, extra_headers: dict | None, extra_body: dict | None,
                  kwargs: dict) -> dict:
    options = extras(extra_headers, extra_body)
    if purpose is not None:
        options["purpose"] = purpose
    for name in ("after", "limit", "order"):
        if kwargs.get(name) is not None:
            options[name] = kwargs.pop(name)
    return options


def file_list(custom_llm_provider: str = "openai", purpose: str | None = None,
              extra_headers: dict | None = None, extra_body: dict | None = None,
              **kwargs: Any) -> Any:
    """The caller's files (``GET /v1/files``): the SDK's page of file objects."""
    options = _list_options(purpose, extra_headers, extra_body, kwargs)
    kwargs["custom_llm_provider"] = custom_llm_provider
    return call("file_list", kwargs, lambda sdk: sdk.files.list(**options))


async def afile_list(custom_llm_provider: str = "openai", purpose: str | None = None,
                     extra_headers: dict | None = None, extra_body: dict | None = None,
                     **kwargs: Any) -> Any:
    """Async :func:`file_list` (the page is read before the client closes)."""
    options = _list_options(purpose, extra_headers, extra_body, kwargs)
    kwargs["custom_llm_provider"] = custom_llm_provider

    async def run(sdk: Any) -> Any:
        return await sdk.files.list(**options)

    return await acall("afile_list", kwargs, run)


def file_delete(file_id: str, model: str | None = None, custom_llm_provider: str = "openai",
                extra_headers: dict | None = None, extra_body: dict | None = None,
                **kwargs: Any) -> FileDeleted:
    """Delete a file (``DELETE /v1/files/{file_id}``)."""
    kwargs["custom_llm_provider"] = custom_llm_provider
    options = extras(extra_headers, extra_body)
    return call("file_delete", kwargs, lambda sdk: sdk.files.delete(file_id, **options))


async def afile_delete(file_id: str, model: str | None = None,
                       custom_llm_provider: str = "openai", extra_headers: dict | None = None,
                       extra_body: dict | None = None, **kwargs: Any) -> FileDeleted:
    """Async :func:`file_delete`."""
    kwargs["custom_llm_provider"] = custom_llm_provider
    options = extras(extra_headers, extra_body)
    return await acall("afile_delete", kwargs,
                       lambda sdk: sdk.files.delete(file_id, **options))


def file_content(file_id: str, model: str | None = None, custom_llm_provider: str = "openai",
                 extra_headers: dict | None = None, extra_body: dict | None = None,
                 **kwargs: Any) -> Any:
    """A file's bytes (``GET /v1/files/{file_id}/content``): the SDK's binary response
    (``.content``, ``.text``, ``.write_to_file``), read whole."""
    kwargs["custom_llm_provider"] = custom_llm_provider
    options = extras(extra_headers, extra_body)

    def run(sdk: Any) -> Any:
        response = sdk.files.content(file_id, **options)
        response.read()
        return response

    return call("file_content", kwargs, run)


async def afile_content(file_id: str, model: str | None = None,
                        custom_llm_provider: str = "openai", extra_headers: dict | None = None,
                        extra_body: dict | None = None, **kwargs: Any) -> Any:
    """Async :func:`file_content`."""
    kwargs["custom_llm_provider"] = custom_llm_provider
    options = extras(extra_headers, extra_body)

    async def run(sdk: Any) -> Any:
        response = await sdk.files.content(file_id, **options)
        await response.aread()
        return response

    return await acall("afile_content", kwargs, run)
