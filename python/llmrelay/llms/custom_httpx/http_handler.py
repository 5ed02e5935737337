"""``HTTPHandler`` / ``AsyncHTTPHandler``: the httpx clients LiteLLM hands to custom providers
(``litellm.llms.custom_httpx.http_handler``).

Built-in providers do not use them (the engine has its own pooled client); they exist so a
``CustomLLM`` can make its own HTTP calls the way LiteLLM's docs show. A response with an error
status raises ``HTTPStatusError`` after the body is read, as LiteLLM's handlers do. The
HTTP library is the installed ``openai`` SDK's (``httpx``, or ``httpx2`` for openai 3.x).
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Union

from ...exceptions import _httpx as httpx  # the HTTP library of the installed openai SDK

__all__ = ["AsyncHTTPHandler", "HTTPHandler", "get_async_httpx_client"]

_DEFAULT_TIMEOUT = httpx.Timeout(timeout=600.0, connect=5.0)


def _timeout(value: Any) -> Any:
    if value is None:
        return _DEFAULT_TIMEOUT
    if isinstance(value, (int, float)):
        return httpx.Timeout(timeout=float(value), connect=5.0)
    return value


def _limits(concurrent_limit: int) -> httpx.Limits:
    return httpx.Limits(max_connections=concurrent_limit,
                        max_keepalive_connections=concurrent_limit)


class HTTPHandler:
    """A sync httpx client with LiteLLM's method signatures."""

    def __init__(self, timeout: Optional[Union[float, httpx.Timeout]] = None,
                 concurrent_limit: int = 1000, client: Optional[httpx.Client] = None,
                 ssl_verify: Optional[Union[bool, str]] = None) -> None:
        self.timeout = _timeout(timeout)
        self.client = client or httpx.Client(
            timeout=self.timeout, limits=_limits(concurrent_limit),
            verify=True if ssl_verify is None else ssl_verify,
        )

    def get(self, url: str, params: Optional[dict] = None, headers: Optional[dict] = None,
            follow_redirects: Optional[bool] = None) -> httpx.Response:
        kwargs: dict[str, Any] = {"params": params, "headers": headers}
        if follow_redirects is not None:
            kwargs["follow_redirects"] = follow_redirects
        return self._checked(self.client.get(url, **kwargs))

    def post(self, url: str, data: Optional[Union[dict, str, bytes]] = None,
             json: Optional[Union[dict, list]] = None, params: Optional[dict] = None,
             headers: Optional[dict] = None, stream: bool = False,
             timeout: Optional[Union[float, httpx.Timeout]] = None,
             files: Optional[Mapping] = None, content: Any = None,
             logging_obj: Any = None) -> httpx.Response:
        body = content if content is not None else (data if isinstance(data, (str, bytes)) else None)
        form = data if isinstance(data, dict) else None
        request = self.client.build_request(
            "POST", url, content=body, data=form, json=json, params=params, headers=headers,
            files=files, timeout=_timeout(timeout) if timeout is not None else self.timeout,
        )
        return self._checked(self.client.send(request, stream=stream))

    def put(self, url: str, data: Any = None, json: Any = None, params: Optional[dict] = None,
            headers: Optional[dict] = None, timeout: Any = None) -> httpx.Response:
        return self._checked(self.client.put(url, data=data, json=json, params=params,
                                             headers=headers, timeout=timeout or self.timeout))

    def patch(self, url: str, data: Any = None, json: Any = None, params: Optional[dict] = None,
              headers: Optional[dict] = None, timeout: Any = None) -> httpx.Response:
        return self._checked(self.client.patch(url, data=data, json=json, params=params,
                                               headers=headers, timeout=timeout or self.timeout))

    def delete(self, url: str, params: Optional[dict] = None, headers: Optional[dict] = None,
               timeout: Any = None) -> httpx.Response:
        return self._checked(self.client.delete(url, params=params, headers=headers,
                                                timeout=timeout or self.timeout))

    @staticmethod
    def _checked(response: httpx.Response) -> httpx.Response:
        if response.is_error:
            response.read()
            response.raise_for_status()
        return response

    def close(self) -> None:
        self.client.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown
            pass


class AsyncHTTPHandler:
    """An async httpx client with LiteLLM's method signatures."""

    def __init__(self, timeout: Optional[Union[float, httpx.Timeout]] = None,
                 event_hooks: Optional[Mapping] = None, concurrent_limit: int = 1000,
                 client_alias: Optional[str] = None, ssl_verify: Optional[Union[bool, str]] = None,
                 client: Optional[httpx.AsyncClient] = None) -> None:
        self.timeout = _timeout(timeout)
        self.client = client or httpx.AsyncClient(
            timeout=self.timeout, limits=_limits(concurrent_limit),
            event_hooks=dict(event_hooks) if event_hooks else None,
            verify=True if ssl_verify is None else ssl_verify,
        )

    async def get(self, url: str, params: Optional[dict] = None, headers: Optional[dict] = None,
                  follow_redirects: Optional[bool] = None) -> httpx.Response:
        kwargs: dict[str, Any] = {"params": params, "headers": headers}
        if follow_redirects is not None:
            kwargs["follow_redirects"] = follow_redirects
        return await self._checked(await self.client.get(url, **kwargs))

    async def post(self, url: str, data: Optional[Union[dict, str, bytes]] = None,
                   json: Optional[Union[dict, list]] = None, params: Optional[dict] = None,
                   headers: Optional[dict] = None, timeout: Any = None, stream: bool = False,
                   logging_obj: Any = None, files: Optional[Mapping] = None,
                   content: Any = None) -> httpx.Response:
        body = content if content is not None else (data if isinstance(data, (str, bytes)) else None)
        form = data if isinstance(data, dict) else None
        request = self.client.build_request(
            "POST", url, content=body, data=form, json=json, params=params, headers=headers,
            files=files, timeout=_timeout(timeout) if timeout is not None else self.timeout,
        )
        return await self._checked(await self.client.send(request, stream=stream))

    async def put(self, url: str, data: Any = None, json: Any = None,
                  params: Optional[dict] = None, headers: Optional[dict] = None,
                  timeout: Any = None) -> httpx.Response:
        return await self._checked(await self.client.put(
            url, data=data, json=json, params=params, headers=headers,
            timeout=timeout or self.timeout))

    async def patch(self, url: str, data: Any = None, json: Any = None,
                    params: Optional[dict] = None, headers: Optional[dict] = None,
                    timeout: Any = None) -> httpx.Response:
        return await self._checked(await self.client.patch(
            url, data=data, json=json, params=params, headers=headers,
            timeout=timeout or self.timeout))

    async def delete(self, url: str, params: Optional[dict] = None,
                     headers: Optional[dict] = None, timeout: Any = None) -> httpx.Response:
        return await self._checked(await self.client.delete(
            url, params=params, headers=headers, timeout=timeout or self.timeout))

    @staticmethod
    async def _checked(response: httpx.Response) -> httpx.Response:
        if response.is_error:
            await response.aread()
            response.raise_for_status()
        return response

    async def close(self) -> None:
        await self.client.aclose()


def get_async_httpx_client(llm_provider: Any = None, params: Optional[dict] = None) -> AsyncHTTPHandler:
    """A new ``AsyncHTTPHandler`` (``params`` are its constructor arguments)."""
    return AsyncHTTPHandler(**(params or {}))
