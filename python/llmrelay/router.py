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

__all__ = ["Router"]

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


class Router:
    """LiteLLM's ``Router``: ``Router(model_list=[...], routing_strategy=..., num_retries=...,
    fallbacks=[...], redis_host=..., ...)``. Calls take ``model`` = a model group name."""

    def __init__(self, model_list: list | None = None, **kwargs: Any) -> None:
        default_fallbacks = kwargs.get("default_fallbacks")
        if default_fallbacks is not None and not isinstance(default_fallbacks, list):
            raise TypeError("default_fallbacks must be a list of model group names")
        if kwargs.get("num_retries") is None and _settings().num_retries is not None:
            kwargs["num_retries"] = _settings().num_retries
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
        config["model_list"] = _plain(list(model_list or []))
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
        self.model_group_alias = config.get("model_group_alias", {})

    def __repr__(self) -> str:
        count = len(self.model_list)
        return f"<llmrelay.Router strategy={self.routing_strategy!r} deployments={count}>"

    # -- deployments --------------------------------------------------------------------------
    @property
    def model_list(self) -> list[dict]:
        return self._native.get_model_list(None)

    def get_model_list(self, model_name: str | None = None) -> list[dict]:
        return self._native.get_model_list(model_name)

    def get_model_names(self) -> list[str]:
        return self._native.get_model_names()

    def get_model_ids(self, model_name: str | None = None) -> list[str]:
        return self._native.get_model_ids(model_name)

    def get_model_info(self, id: str) -> dict | None:
        return self._native.get_model_info(id)

    def get_deployment(self, model_id: str) -> dict | None:
        return self._native.get_model_info(model_id)

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

    def health_check(self, model: str | None = None) -> dict:
        """Probe each deployment (one-token chat, one-input embedding): the proxy's ``/health``
        shape, ``{"healthy_endpoints", "unhealthy_endpoints", "healthy_count", ...}``."""
        return self._native.health_check(model)

    async def ahealth_check(self, model: str | None = None) -> dict:
        call = (self._native, "health_check", {"model": model}, False)
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

        def run(params: dict, log: bool) -> Any:
            return native.call(kind, params, log)

        return _call.call(call_type, params, run, wrap)

    async def _async(self, call_type: str, kind: str, params: dict, wrap: Any) -> Any:
        native = self._native

        def submit(params: dict, log: bool) -> Any:
            return _async.submit("submit_router", (native, kind, params, log))

        return await _call.acall(call_type, params, submit, wrap)

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
