"""``general_settings.custom_auth`` through the proxy: a ``module.function`` next to the config
decides who calls, as LiteLLM's custom auth hook does — a returned ``UserAPIKeyAuth`` is the
caller (its team and user on the spend rows; its own limits enforced only with
``custom_auth_run_common_checks``), a returned string is a key checked as usual, and what the
function raises is answered as LiteLLM answers it. Mode ``auto`` falls back to the proxy's own
key checks. The function sees the request: headers, URL, client and body."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import openai
import pytest

from test_proxy import MASTER_KEY, Proxy, start_proxy

AUTH = f'''
import json
import os

from llmrelay.proxy import HTTPException
from llmrelay.proxy._types import ProxyException, UserAPIKeyAuth

SEEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seen.jsonl")


async def user_api_key_auth(request, api_key):
    if api_key == "sk-team-a":
        body = await request.json() if request.method == "POST" else {{}}
        with open(SEEN, "a") as seen:
            seen.write(json.dumps({{
                "asked_for": body.get("model"), "path": request.url.path,
                "method": request.method, "agent": request.headers.get("User-Agent", ""),
                "client": request.client.host if request.client else None}}) + "\\n")
        return UserAPIKeyAuth(api_key=api_key, team_id="team-a", user_id="alice",
                              models=["gpt-4o"])
    if api_key == "sk-custom-admin":
        return UserAPIKeyAuth(api_key=api_key, user_role="proxy_admin", user_id="root")
    if api_key == "sk-over-budget":
        return {{"api_key": api_key, "max_budget": 1.0, "spend": 2.5}}
    if api_key == "sk-expired":
        return UserAPIKeyAuth(api_key=api_key, expires="2020-01-01T00:00:00Z")
    if request.headers.get("x-swap-key") == "yes":
        return "{MASTER_KEY}"
    if api_key == "sk-forbidden":
        raise HTTPException(status_code=403, detail="custom auth: not on this route")
    if api_key == "sk-proxy-exception":
        raise ProxyException(message="custom says no", type="key_model_access_denied",
                             param="api_key", code=403)
    raise Exception("unknown key")
'''


def config(mock: Any, extra: str = "") -> str:
    return f"""
        model_list:
          - model_name: gpt-4o
            litellm_params:
              model: openai/gpt-4o-mini
              api_base: {mock.api_base}
              api_key: sk-test
          - model_name: other
            litellm_params:
              model: openai/gpt-4o-mini
              api_base: {mock.api_base}
              api_key: sk-test
        general_settings:
          master_key: {MASTER_KEY}
          custom_auth: my_auth.user_api_key_auth
{extra}
    """


@pytest.fixture(scope="module")
def strict_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("custom_auth_on")
    (directory / "my_auth.py").write_text(AUTH)
    return directory


@pytest.fixture(scope="module")
def strict(strict_dir: Path, mock_server: Any):
    """Mode ``on`` (the default): the function alone decides."""
    server = start_proxy(strict_dir, config(mock_server))
    yield server
    assert server.stop() == 0


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory, mock_server: Any):
    """Mode ``auto`` with the common checks."""
    directory = tmp_path_factory.mktemp("custom_auth_auto")
    (directory / "my_auth.py").write_text(AUTH)
    extra = """
          custom_auth_settings: {mode: auto}
          custom_auth_run_common_checks: true
"""
    server = start_proxy(directory, config(mock_server, extra))
    yield server
    assert server.stop() == 0


def chat(proxy: Proxy, key: str, model: str = "gpt-4o",
         headers: dict | None = None) -> tuple[int, dict]:
    status, _, payload = proxy.request(
        "POST", "/v1/chat/completions", {"model": model, "messages": [
            {"role": "user", "content": "hi"}]}, headers=headers, key=key)
    return status, json.loads(payload)


def spend_rows(proxy: Proxy, key: str, admin: str) -> list[dict]:
    token = hashlib.sha256(key.encode()).hexdigest()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status, _, payload = proxy.request("GET", f"/spend/logs?api_key={token}", key=admin)
        assert status == 200, payload
        rows = json.loads(payload)
        if rows:
            return rows
        time.sleep(0.2)
    raise AssertionError("no spend row")


def test_the_returned_caller_is_who_calls_and_is_booked(strict: Proxy) -> None:
    with openai.OpenAI(base_url=strict.url + "/v1", api_key="sk-team-a", max_retries=0) as sdk:
        answer = sdk.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content
    rows = spend_rows(strict, "sk-team-a", admin="sk-custom-admin")
    assert rows[0]["team_id"] == "team-a"
    assert rows[0]["user"] == "alice"
    metadata = rows[0]["metadata"]
    metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
    assert metadata["user_api_key_team_id"] == "team-a"
    assert metadata["user_api_key_user_id"] == "alice"


def test_without_common_checks_the_callers_own_limits_are_not_enforced(strict: Proxy) -> None:
    # LiteLLM's default: the function's answer is trusted as it is.
    assert chat(strict, "sk-team-a", model="other")[0] == 200
    assert chat(strict, "sk-over-budget")[0] == 200
    assert chat(strict, "sk-expired")[0] == 200


def test_what_the_function_raises_is_answered_as_litellm_does(strict: Proxy) -> None:
    status, body = chat(strict, "sk-nobody")
    assert status == 401
    assert body["error"]["message"] == "Authentication Error, unknown key"
    assert body["error"]["type"] == "auth_error"

    status, body = chat(strict, "sk-forbidden")
    assert status == 403
    assert body["error"]["message"] == "custom auth: not on this route"

    status, body = chat(strict, "sk-proxy-exception")
    assert status == 403
    assert body["error"]["message"] == "custom says no"
    assert body["error"]["type"] == "key_model_access_denied"

    # The master key is just another key to the function in mode on.
    status, body = chat(strict, MASTER_KEY)
    assert status == 401
    with openai.OpenAI(base_url=strict.url + "/v1", api_key="sk-nobody", max_retries=0) as sdk:
        with pytest.raises(openai.AuthenticationError):
            sdk.models.list()


def test_a_returned_key_is_checked_by_the_proxy(strict: Proxy) -> None:
    assert chat(strict, "sk-nobody", headers={"x-swap-key": "yes"})[0] == 200


def test_the_function_sees_the_request(strict: Proxy, strict_dir: Path) -> None:
    status, _ = chat(strict, "sk-team-a", headers={"user-agent": "probe/1.0"})
    assert status == 200
    seen = [json.loads(line) for line in (strict_dir / "seen.jsonl").read_text().splitlines()]
    assert {"asked_for": "gpt-4o", "path": "/v1/chat/completions", "method": "POST",
            "agent": "probe/1.0", "client": "127.0.0.1"} in seen


def test_the_management_api_takes_the_callers_role(strict: Proxy) -> None:
    status, _, payload = strict.request("POST", "/key/generate", {"models": ["gpt-4o"]},
                                        key="sk-custom-admin")
    assert status == 200, payload
    status, _, payload = strict.request("POST", "/key/generate", {}, key="sk-nobody")
    assert status == 401, payload
    assert json.loads(payload)["error"]["message"] == "Authentication Error, unknown key"


def test_common_checks_enforce_the_callers_models_budget_and_expiry(checked: Proxy) -> None:
    assert chat(checked, "sk-team-a")[0] == 200
    status, body = chat(checked, "sk-team-a", model="other")
    assert status in (401, 403), body
    assert "other" in body["error"]["message"]

    # As a virtual key over its budget is refused (docs/governance.md).
    status, body = chat(checked, "sk-over-budget")
    assert status == 422, body
    assert body["error"]["type"] == "budget_exceeded"
    assert "Current cost: 2.5, Max budget: 1" in body["error"]["message"]

    status, body = chat(checked, "sk-expired")
    assert status == 401, body
    assert "Expired Key" in body["error"]["message"]


def test_mode_auto_falls_back_to_the_proxys_own_checks(checked: Proxy) -> None:
    assert chat(checked, MASTER_KEY)[0] == 200
    status, body = chat(checked, "sk-nobody")
    assert status == 401
    assert body["error"]["message"] != "Authentication Error, unknown key"
    assert body["error"]["type"] == "auth_error"
    # An HTTPException is a refusal like any other: auto falls back too.
    assert chat(checked, "sk-forbidden")[0] == 401

