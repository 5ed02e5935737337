"""``llmrelay.Router``: LiteLLM's Router over the Rust routing engine.

Load balancing, retries, fallbacks, cooldowns, rpm/tpm limits, backpressure and Redis-shared
state all run in Rust (``llmrelay-router``). This class turns LiteLLM's constructor and
method signatures into calls on the native router and wraps results exactly as
``completion()`` does (same response, stream and exception classes, same callbacks).
"""

from __future__ import annotations

from typing import Any

from . import _async, _call, _native
from ._native import NativeError
from .main import (
    _raise_native,
    _response_format_value,
    _settings,
    _timeout_value,
    _wrap_chat,
    _wrap_embedding,
    _wrap_text,
)

__all__ = ["AllowedFailsPolicy", "Deployment", "LiteLLM_Params", "ModelInfo", "RetryPolicy", "Router"]

# LiteLLM's `from litellm.router import Deployment, RetryPolicy, …` (pydantic; loaded on use).
_TYPE_NAMES = ("AllowedFailsPolicy", "Deployment", "LiteLLM_Params", "ModelGroupInfo",
               "ModelInfo", "RetryPolicy", "RouterErrors")


def __getattr__(name: str) -> Any:
    if name in _TYPE_NAMES:
        from .types import router as types_router

        return getattr(types_router, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

def _plain(value: Any) -> Any:
    """Pydantic models (``RetryPolicy``, ``Deployment`` …) → dicts without unset fields."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(exclude_none=True)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _prepare(params: dict) -> dict:
    """Make Python-only values JSON-like. Module-level ``api_key``/``api_base`` are not applied:
    each deployment brings its own."""
    from . import main as _main

    s = _settings()
    if s.cache is not _main._cache_installed:
        _main._sync_cache(s)
    mock = params.get("mock_response")
    if mock is not None and not isinstance(mock, (str, dict)):
        from ._router_compat import mock_exception_string

        params["mock_response"] = mock_exception_string(mock)
    if params.get("mock_timeout") and params.get("mock_response") is None:
        params["mock_response"] = "This is a mock request"
    timeout = params.get("timeout")
    if timeout is not None and not isinstance(timeout, (int, float)):
        params["timeout"] = _timeout_value(timeout)
    rf = params.get("response_format")
    if rf is not None and not isinstance(rf, dict):
        params["response_format"] = _response_format_value(rf)
    if "drop_params" not in params and _settings().drop_params:
        params["drop_params"] = True
    return params


def _with_model_group(params: dict, model: str) -> dict:
    """Callbacks see ``metadata.model_group`` as LiteLLM's router sets it."""
    metadata = params.get("metadata")
    metadata = dict(metadata) if isinstance(metadata, dict) else {}
    metadata.setdefault("model_group", model)
    params["metadata"] = metadata
    return params


def _deployment_mocks(deployment: Any) -> Any:
    """A deployment whose ``litellm_params.mock_response`` is an exception gets the engine's
    mock string of the same class."""
    if isinstance(deployment, dict):
        params = deployment.get("litellm_params")
        mock = params.get("mock_response") if isinstance(params, dict) else None
        if mock is not None and not isinstance(mock, (str, dict)):
            from ._router_compat import mock_exception_string

            deployment = dict(deployment, litellm_params=dict(params, mock_response=mock_exception_string(mock)))
    return deployment


def _search_retryable(error: Exception) -> bool:
    """A search error worth another pick: not a request the provider refused as bad or
    unauthorised (400, 401, 403, 404, 422)."""
    status = getattr(error, "status_code", None)
    return status not in (400, 401, 403, 404, 422)


class Router:
    """LiteLLM's ``Router``: ``Router(model_list=[...], routing_strategy=..., num_retries=...,
    fallbacks=[...], redis_host=..., ...)``. Calls take ``model`` = a model group name."""

    def __init__(self, model_list: list | None = None, **kwargs: Any) -> None:
        from . import _router_compat

        _router_compat.check_arguments(kwargs)
        model_list = [_deployment_mocks(_plain(d)) for d in (model_list or [])]
        default_fallbacks = kwargs.get("default_fallbacks")
        if default_fallbacks is not None and not isinstance(default_fallbacks, list):
            raise TypeError("default_fallbacks must be a list of model group names")
        if kwargs.get("default_fallbacks") is None and _settings().default_fallbacks:
            kwargs["default_fallbacks"] = list(_settings().default_fallbacks)
            default_fallbacks = kwargs["default_fallbacks"]
        if kwargs.get("num_retries") is None and _settings().num_retries is not None:
            kwargs["num_retries"] = _settings().num_retries
        # Search tools are answered here, not by the Rust Router (LiteLLM's `search_tools`).
        self.search_tools: list = list(kwargs.pop("search_tools", None) or [])
        config: dict[str, Any] = {}
        for name, value in kwargs.items():
            if value is None:
                continue
            if callable(value) and not isinstance(value, type):
                # Python objects (plugins, alerting hooks) have no place in the Rust config.
                continue
            if name in ("timeout", "stream_timeout") and not isinstance(value, (int, float)):
                value = _timeout_value(value)
                if isinstance(value, dict):
                    value = value.get("read") or value.get("timeout")
                if value is None:
                    continue
            config[name] = _plain(value)
        config["model_list"] = list(model_list)
        self._settings = dict(config)
        try:
            self._native = _native.Router(config)
        except NativeError as error:
            raise _raise_native(error) from None
        self.routing_strategy = config.get("routing_strategy", "simple-shuffle")
        self.num_retries = config.get("num_retries", 2)
        self.fallbacks = config.get("fallbacks", [])
        self.context_window_fallbacks = config.get("context_window_fallbacks", [])
        self.content_policy_fallbacks = config.get("content_policy_fallbacks", [])
        self.enable_tag_filtering = config.get("enable_tag_filtering", False)
        self.tag_filtering_match_any = config.get("tag_filtering_match_any", True)
        self.tag_routing_prefix = config.get("tag_routing_prefix", "")
        self.model_group_alias = config.get("model_group_alias", {})
        self.retry_after = config.get("retry_after", 0)
        self.disable_cooldowns = bool(config.get("disable_cooldowns", False))
        self.cooldown_time = config.get("cooldown_time")
        self.chat = _router_compat.Chat(self)
        _router_compat.register_deployment_pricing(self.model_list)

    # -- search tools (LiteLLM's `Router(search_tools=...)`) --------------------------------
    def _search_attempts(self, search_tool_name: str | None, kwargs: dict) -> tuple[list, dict]:
        import os
        import random

        name = search_tool_name or kwargs.pop("model", None)
        if not name:
            raise ValueError("search_tool_name or model parameter is required for search")
        tools = [t for t in self.search_tools if t.get("search_tool_name") == name]
        if not tools:
            raise ValueError(f"Search tool '{name}' not found in router.search_tools")
        attempts = []
        for _ in range(1 + max(0, int(kwargs.pop("num_retries", self.num_retries) or 0))):
            params = dict(random.choice(tools).get("litellm_params") or {})
            provider = params.pop("search_provider", None)
            if not provider:
                raise ValueError(
                    f"search_provider not found in litellm_params for search tool '{name}'")
            for key in ("api_key", "api_base"):
                value = params.get(key)
                if isinstance(value, str) and value.startswith("os.environ/"):
                    params[key] = os.environ.get(value[len("os.environ/"):])
            attempts.append((provider, params))
        # The call's own values win, except where the tool says where and as whom to search.
        call = {k: v for k, v in kwargs.items()
                if v is not None and k not in ("search_provider", "api_key", "api_base")}
        return attempts, call

    def search(self, search_tool_name: str | None = None, **kwargs: Any) -> Any:
        """LiteLLM's ``Router.search``: the named search tool (a random one of those sharing
        the name), retried ``num_retries`` times on another pick."""
        from .search import search as _search

        attempts, call = self._search_attempts(search_tool_name, dict(kwargs))
        error: Exception | None = None
        for provider, params in attempts:
            try:
                return _search(search_provider=provider, **{**params, **call})
            except Exception as exc:  # retried on the next pick; a refused request is not
                error = exc
                if not _search_retryable(exc):
                    break
        raise error  # type: ignore[misc]

    async def asearch(self, search_tool_name: str | None = None, **kwargs: Any) -> Any:
        """Async ``search``."""
        from .search import asearch as _asearch

        attempts, call = self._search_attempts(search_tool_name, dict(kwargs))
        error: Exception | None = None
        for provider, params in attempts:
            try:
                return await _asearch(search_provider=provider, **{**params, **call})
            except Exception as exc:
                error = exc
                if not _search_retryable(exc):
                    break
        raise error  # type: ignore[misc]

    def __repr__(self) -> str:
        count = len(self.model_list)
        return f"<llmrelay.Router strategy={self.routing_strategy!r} deployments={count}>"

    # -- deployments --------------------------------------------------------------------------
    @property
    def model_list(self) -> list[dict]:
        return self._native.get_model_list(None)

    def map_team_model(self, team_model_name: str, team_id: str) -> str | None:
        """The ``model_name`` of the team's deployment whose ``model_info.team_public_model_name``
        is ``team_model_name`` (LiteLLM's team models), else ``None``."""
        for deployment in self.model_list:
            info = deployment.get("model_info") or {}
            if (info.get("team_id") == team_id
                    and info.get("team_public_model_name") == team_model_name):
                return deployment["model_name"]
        return None

    def get_model_list(self, model_name: str | None = None) -> list[dict]:
        return self._native.get_model_list(model_name)

    def get_model_names(self) -> list[str]:
        return self._native.get_model_names()

    def get_model_ids(self, model_name: str | None = None) -> list[str]:
        return self._native.get_model_ids(model_name)

    def get_model_info(self, id: str) -> dict | None:
        return self._native.get_model_info(id)

    def get_deployment(self, model_id: str) -> Any:
        """The deployment with this id as LiteLLM's ``Deployment``, else ``None``."""
        found = self._native.get_model_info(model_id)
        if found is None:
            return None
        from .types.router import Deployment

        return Deployment(**found)

    def get_deployment_credentials(self, model_id: str) -> dict | None:
        """The credentials (``api_key``, ``api_base``, …) of the deployment with this id."""
        from ._router_compat import deployment_credentials

        found = self._native.get_model_info(model_id)
        return None if found is None else deployment_credentials(found)

    def get_deployment_model_info(self, model_id: str, model_name: str) -> dict | None:
        """``get_model_info`` of the deployment with this id (``model_name`` for wildcard
        deployments), with the deployment's own ``model_info`` laid over it."""
        from ._router_compat import deployment_model_info

        found = self._native.get_model_info(model_id)
        return None if found is None else deployment_model_info(found, model_name)

    def get_router_model_info(self, deployment: Any, received_model_name: str,
                              id: str | None = None) -> dict:
        """Model info of a deployment (given, or found by ``id``) as the router uses it for
        limits and cost: the catalog's entry with the deployment's prices and rpm/tpm."""
        from ._router_compat import deployment_model_info

        if deployment is None and id is not None:
            deployment = self._native.get_model_info(str(id))
        return deployment_model_info(_plain(deployment) if deployment is not None else None,
                                     received_model_name)

    def get_model_group_info(self, model_group: str) -> Any:
        """LiteLLM's ``ModelGroupInfo`` for a model group, ``None`` for an unknown group."""
        from ._router_compat import model_group_info

        return model_group_info(self, model_group)

    def should_retry_this_error(self, error: Exception, healthy_deployments: list | None = None,
                                all_deployments: list | None = None,
                                context_window_fallbacks: list | None = None,
                                content_policy_fallbacks: list | None = None,
                                regular_fallbacks: list | None = None) -> bool:
        """LiteLLM's retry decision: ``True`` to retry, else the error is raised."""
        from ._router_compat import should_retry_this_error

        return should_retry_this_error(error, healthy_deployments, all_deployments,
                                       context_window_fallbacks, content_policy_fallbacks,
                                       regular_fallbacks)

    def _time_to_sleep_before_retry(self, e: Exception, remaining_retries: int, num_retries: int,
                                    healthy_deployments: list | None = None,
                                    all_deployments: list | None = None) -> float:
        """Seconds the router waits before retrying ``e`` (0 when another deployment can
        serve the call)."""
        from ._router_compat import time_to_sleep_before_retry

        return time_to_sleep_before_retry(e, remaining_retries, num_retries, healthy_deployments,
                                          all_deployments, float(self.retry_after or 0))

    def reset(self) -> None:
        """LiteLLM's ``Router.reset()`` (clears its client caches); nothing to clear here."""

    def set_model_list(self, model_list: list) -> None:
        try:
            self._native.set_model_list(_plain(list(model_list)))
        except NativeError as error:
            raise _raise_native(error) from None

    def add_deployment(self, deployment: Any) -> dict | None:
        """Add one deployment (a dict or LiteLLM ``Deployment``); ``None`` if its id exists."""
        try:
            return self._native.add_deployment(_plain(deployment))
        except NativeError as error:
            raise _raise_native(error) from None

    def delete_deployment(self, id: str) -> dict | None:
        return self._native.delete_deployment(id)

    def get_available_deployment(self, model: str, messages: list | None = None,
                                 input: Any = None, specific_deployment: bool = False,
                                 request_kwargs: dict | None = None) -> dict:
        """The deployment a call would use now, as a ``model_list`` entry."""
        if specific_deployment:
            for deployment in self.model_list:
                if deployment["litellm_params"].get("model") == model:
                    return deployment
        params: dict[str, Any] = dict(request_kwargs or {})
        if messages is not None:
            params["messages"] = messages
        if input is not None:
            params["input"] = input
        try:
            return self._native.get_available_deployment(model, params)
        except NativeError as error:
            raise _raise_native(error) from None

    async def async_get_available_deployment(self, model: str, messages: list | None = None,
                                             input: Any = None, specific_deployment: bool = False,
                                             request_kwargs: dict | None = None) -> dict:
        return self.get_available_deployment(
            model, messages, input, specific_deployment, request_kwargs
        )

    # -- state ------------------------------------------------------------------------------
    def deployment_stats(self) -> list[dict]:
        """Usage, limits, in-flight requests, cooldown, latency and health per deployment."""
        return self._native.deployment_stats()

    def get_cooldown_deployments(self) -> list[str]:
        return self._native.cooldown_list()

    def get_model_access_groups(self, model_name: str | None = None,
                                model_access_group: str | None = None) -> dict[str, list[str]]:
        """Access group → the model group names whose deployments list it in
        ``model_info.access_groups`` (only ``model_access_group`` when given)."""
        groups: dict[str, list[str]] = {}
        for deployment in self.get_model_list(model_name):
            for group in (deployment.get("model_info") or {}).get("access_groups") or []:
                if model_access_group is not None and group != model_access_group:
                    continue
                names = groups.setdefault(group, [])
                if deployment["model_name"] not in names:
                    names.append(deployment["model_name"])
        return groups

    def _is_model_access_group_for_wildcard_route(self, model_access_group: str) -> bool:
        """Whether an access group holds a wildcard route (``gemini/*``)."""
        models = self.get_model_access_groups(model_access_group=model_access_group).get(model_access_group, [])
        return any("*" in name for name in models)

    def _update_kwargs_before_fallbacks(self, model: str, kwargs: dict,
                                        metadata_variable_name: str | None = "metadata") -> None:
        """Give a call its trace id and its model group before retries and fallbacks."""
        import uuid

        kwargs.setdefault("litellm_trace_id", str(uuid.uuid4()))
        alias = model if model in (self.model_group_alias or {}) else None
        kwargs.setdefault(metadata_variable_name or "metadata", {}).update(
            {"model_group": model, "model_group_alias": alias})

    def _get_async_openai_model_client(self, deployment: Any, kwargs: dict,
                                       parent_otel_span: Any = None) -> Any:
        """The OpenAI SDK client kept for a deployment: always ``None``, the engine calls
        providers itself and keeps no SDK clients."""
        return None

    def _get_healthy_deployments(self, model: str, parent_otel_span: Any = None) -> tuple[list, list]:
        """``(deployments of group `model` not cooling down, all deployments of the group)``."""
        deployments = self.get_model_list(model)
        cooling = set(self.get_cooldown_deployments())
        healthy = [d for d in deployments if (d.get("model_info") or {}).get("id") not in cooling]
        return healthy, deployments

    async def _async_get_healthy_deployments(self, model: str, parent_otel_span: Any = None,
                                             **kwargs: Any) -> tuple[list, list]:
        return self._get_healthy_deployments(model, parent_otel_span)

    def health_check(self, model: str | None = None) -> dict:
        """Probe each deployment (one-token chat, one-input embedding): the proxy's ``/health``
        shape, ``{"healthy_endpoints", "unhealthy_endpoints", "healthy_count", ...}``."""
        return self._native.health_check(model)

    async def ahealth_check(self, model: str | None = None) -> dict:
        call = (self._native, "health_check", {"model": model}, False, None)
        return await _async.submit("submit_router", call)

    def get_settings(self) -> dict:
        return {k: v for k, v in self._settings.items() if k != "model_list"}

    def close(self) -> None:
        """Stop background work (Redis sync, health checks)."""
        self._native.shutdown()

    def __del__(self) -> None:
        native = getattr(self, "_native", None)
        if native is not None:
            native.shutdown()

    # -- calls ------------------------------------------------------------------------------
    def _sync(self, call_type: str, kind: str, params: dict, wrap: Any) -> Any:
        native = self._native

        def run(params: dict, log: Any) -> Any:
            if log is None:
                return native.call(kind, params, False)
            return native.call(kind, params, True, log.attempt if log.per_attempt else None)

        return _call.call(call_type, params, run, wrap, attempts=True)

    async def _async(self, call_type: str, kind: str, params: dict, wrap: Any) -> Any:
        native = self._native

        def submit(params: dict, log: Any) -> Any:
            attempt = log.attempt if log is not None and log.per_attempt else None
            return _async.submit("submit_router", (native, kind, params, log is not None, attempt))

        return await _call.acall(call_type, params, submit, wrap, attempts=True)

    @staticmethod
    def _chat_params(model: str, messages: list | None, kwargs: dict) -> dict:
        kwargs["model"] = model
        if messages is not None:
            kwargs["messages"] = messages
        return _with_model_group(_prepare(kwargs), model)

    @staticmethod
    def _text_params(model: str, prompt: Any, kwargs: dict) -> dict:
        kwargs["model"] = model
        if prompt is not None:
            kwargs["prompt"] = prompt
        return _with_model_group(_prepare(kwargs), model)

    @staticmethod
    def _embedding_params(model: str, input: Any, kwargs: dict) -> dict:
        kwargs["model"] = model
        kwargs["input"] = input
        return _with_model_group(_prepare(kwargs), model)

    def completion(self, model: str, messages: list | None = None, **kwargs: Any) -> Any:
        """Chat completion on the model group ``model`` (``stream=True`` for a stream)."""
        params = self._chat_params(model, messages, kwargs)
        return self._sync("completion", "completion", params, _wrap_chat)

    async def acompletion(self, model: str, messages: list | None = None, **kwargs: Any) -> Any:
        params = self._chat_params(model, messages, kwargs)
        return await self._async("acompletion", "completion", params, _wrap_chat)

    def text_completion(self, model: str, prompt: Any = None, **kwargs: Any) -> Any:
        params = self._text_params(model, prompt, kwargs)
        return self._sync("text_completion", "text_completion", params, _wrap_text)

    async def atext_completion(self, model: str, prompt: Any = None, **kwargs: Any) -> Any:
        params = self._text_params(model, prompt, kwargs)
        return await self._async("atext_completion", "text_completion", params, _wrap_text)

    def embedding(self, model: str, input: Any = None, **kwargs: Any) -> Any:
        params = self._embedding_params(model, input, kwargs)
        return self._sync("embedding", "embedding", params, _wrap_embedding)

    async def aembedding(self, model: str, input: Any = None, **kwargs: Any) -> Any:
        params = self._embedding_params(model, input, kwargs)
        return await self._async("aembedding", "embedding", params,
                                 _wrap_embedding)
