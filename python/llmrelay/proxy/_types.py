"""Exceptions a proxy hook raises to answer the client with a chosen status, without a web
framework installed.

LiteLLM's docs have hooks raise FastAPI's ``HTTPException(status_code=..., detail=...)``;
its custom-auth docs raise ``litellm.proxy._types.ProxyException``. Both are here with the same
constructor arguments and attributes, so hook code written for LiteLLM needs only its import
changed (``fastapi.HTTPException`` itself also works when FastAPI is installed: the proxy reads
``status_code`` and ``detail`` from any exception).

The proxy answers with the exception's status and an OpenAI-shaped error whose ``message`` is
``detail`` (``detail["error"]`` when ``detail`` is a dict)::

    from llmrelay.proxy import HTTPException

    class Handler(CustomLogger):
        async def async_pre_call_hook(self, user_api_key_dict, cache, data, call_type):
            if "forbidden" in str(data.get("messages")):
                raise HTTPException(status_code=400, detail={"error": "Violated content policy"})
            return data
"""

from __future__ import annotations

import datetime
import enum
import hashlib
from collections.abc import Mapping
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, model_validator

__all__ = ["HTTPException", "LitellmUserRoles", "ProxyException", "UserAPIKeyAuth"]


class HTTPException(Exception):
    """FastAPI's (Starlette's) ``HTTPException``: ``status_code``, ``detail``, ``headers``."""

    def __init__(self, status_code: int, detail: Any = None,
                 headers: Mapping[str, str] | None = None) -> None:
        if not isinstance(status_code, int) or not 400 <= status_code <= 599:
            raise ValueError(f"status_code must be an HTTP error status (400-599), got {status_code!r}")
        if detail is None:
            from http import HTTPStatus

            detail = HTTPStatus(status_code).phrase
        super().__init__(status_code, detail)
        self.status_code = status_code
        self.detail = detail
        self.headers = dict(headers) if headers is not None else None

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, detail={self.detail!r})"


class ProxyException(Exception):
    """LiteLLM's ``ProxyException``: an error in OpenAI's shape; ``code`` is the HTTP status."""

    def __init__(self, message: str, type: str, param: str | None,
                 code: int | str | None = None, headers: dict[str, str] | None = None,
                 openai_code: str | None = None,
                 provider_specific_fields: dict | None = None) -> None:
        self.message = str(message)
        super().__init__(self.message)
        self.type = type
        self.param = param
        self.code = str(code)
        self.openai_code = openai_code or code
        self.headers = {k: str(v) for k, v in (headers or {}).items()}
        self.provider_specific_fields = provider_specific_fields

    @property
    def status_code(self) -> int:
        """The HTTP status the proxy answers with (``code``; 500 when it is not a status)."""
        try:
            status = int(self.code)
        except ValueError:
            return 500
        return status if 400 <= status <= 599 else 500

    @property
    def detail(self) -> str:
        return self.message

    def to_dict(self) -> dict:
        return {"message": self.message, "type": self.type, "param": self.param,
                "code": self.code}


class LitellmUserRoles(str, enum.Enum):
    """LiteLLM's user roles (``user_role`` of keys, users and ``UserAPIKeyAuth``)."""

    PROXY_ADMIN = "proxy_admin"
    PROXY_ADMIN_VIEW_ONLY = "proxy_admin_viewer"
    ORG_ADMIN = "org_admin"
    INTERNAL_USER = "internal_user"
    INTERNAL_USER_VIEW_ONLY = "internal_user_viewer"
    TEAM = "team"
    CUSTOMER = "customer"

    def __str__(self) -> str:
        return str(self.value)


def hash_token(token: str) -> str:
    """LiteLLM's key hash: SHA-256 hex (the ``token`` of a key)."""
    return hashlib.sha256(token.encode()).hexdigest()


class UserAPIKeyAuth(BaseModel):
    """LiteLLM's ``UserAPIKeyAuth``: who is calling, as key checks (or a ``custom_auth``
    function) describe the caller. ``api_key`` starting ``sk-`` sets ``token`` to its hash.

    Returned by a ``general_settings.custom_auth`` function, its fields decide the caller the
    proxy logs and books spend to; with ``custom_auth_run_common_checks: true`` its own limits
    (``models``, ``max_budget``/``spend``, ``rpm_limit``/``tpm_limit``, ``expires``,
    ``blocked``) are enforced as a virtual key's."""

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="allow",
                              protected_namespaces=())

    token: Optional[str] = None
    key_name: Optional[str] = None
    key_alias: Optional[str] = None
    spend: float = 0.0
    max_budget: Optional[float] = None
    expires: Optional[datetime.datetime | str] = None
    models: list = []
    aliases: dict = {}
    config: dict = {}
    user_id: Optional[str] = None
    team_id: Optional[str] = None
    max_parallel_requests: Optional[int] = None
    metadata: dict = {}
    tpm_limit: Optional[int] = None
    rpm_limit: Optional[int] = None
    budget_duration: Optional[str] = None
    budget_reset_at: Optional[datetime.datetime] = None
    allowed_cache_controls: Optional[list] = []
    allowed_routes: Optional[list] = []
    permissions: dict = {}
    model_spend: dict = {}
    model_max_budget: dict = {}
    soft_budget_cooldown: bool = False
    blocked: Optional[bool] = None
    litellm_budget_table: Optional[dict] = None
    org_id: Optional[str] = None
    created_at: Optional[datetime.datetime] = None
    created_by: Optional[str] = None
    updated_at: Optional[datetime.datetime] = None
    updated_by: Optional[str] = None
    object_permission_id: Optional[str] = None
    object_permission: Optional[dict] = None
    # The key's team, user and end user (LiteLLM_VerificationTokenView).
    team_spend: Optional[float] = None
    team_alias: Optional[str] = None
    team_tpm_limit: Optional[int] = None
    team_rpm_limit: Optional[int] = None
    team_max_budget: Optional[float] = None
    team_models: list = []
    team_blocked: bool = False
    soft_budget: Optional[float] = None
    team_model_aliases: Optional[dict] = None
    team_member_spend: Optional[float] = None
    team_member: Optional[dict] = None
    team_metadata: Optional[dict] = None
    end_user_id: Optional[str] = None
    end_user_tpm_limit: Optional[int] = None
    end_user_rpm_limit: Optional[int] = None
    end_user_max_budget: Optional[float] = None
    last_refreshed_at: Optional[float] = None
    # UserAPIKeyAuth's own.
    api_key: Optional[str] = None
    user_role: Optional[LitellmUserRoles] = None
    allowed_model_region: Optional[str] = None
    parent_otel_span: Optional[Any] = None
    rpm_limit_per_model: Optional[dict[str, int]] = None
    tpm_limit_per_model: Optional[dict[str, int]] = None
    user_tpm_limit: Optional[int] = None
    user_rpm_limit: Optional[int] = None
    user_email: Optional[str] = None
    user_spend: Optional[float] = None
    user_max_budget: Optional[float] = None
    request_route: Optional[str] = None

    @model_validator(mode="before")
    @classmethod
    def check_api_key(cls, values: Any) -> Any:
        if isinstance(values, dict):
            api_key = values.get("api_key")
            if isinstance(api_key, str):
                values = dict(values)
                values["token"] = hash_token(api_key) if api_key.startswith("sk-") else api_key
            if isinstance(values.get("end_user_id"), int):
                values = dict(values)
                values["end_user_id"] = str(values["end_user_id"])
        return values
