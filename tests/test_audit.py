"""The audit log through the proxy (``litellm_settings.store_audit_logs: true``): management
changes and refused calls become ``LiteLLM_AuditLog`` rows, readable at LiteLLM's ``/audit`` and
``/audit/{id}``, with secrets masked, and none is lost when the proxy stops right after."""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import openai
import pytest

from test_governance import _psql
from test_proxy import Proxy, base_config, start_proxy

AUDIT_SETTINGS = """
        litellm_settings:
          store_audit_logs: true
"""


def audited_config(mock: Any) -> str:
    return base_config(mock) + AUDIT_SETTINGS


def admin(proxy: Proxy, method: str, path: str, body: Any = None, **kwargs: Any) -> dict:
    status, _, payload = proxy.request(method, path, body, **kwargs)
    assert status == 200, payload
    return json.loads(payload)


def audit_rows(proxy: Proxy, query: str, expected: int) -> dict:
    """Rows are written by a background task: wait until `expected` match."""
    deadline = time.monotonic() + 10
    while True:
        page = admin(proxy, "GET", f"/audit?{query}")
        if page["total"] >= expected or time.monotonic() > deadline:
            return page
        time.sleep(0.1)


@pytest.fixture(params=["sqlite", "postgres"])
def proxy(request: pytest.FixtureRequest, tmp_path: Path, mock: Any):
    config = audited_config(mock)
    database = None
    if request.param == "postgres":
        database = f"proxy_audit_{uuid.uuid4().hex}"
        if not _psql(f"CREATE DATABASE {database}"):
            if os.environ.get("CI") == "true":
                raise AssertionError("PostgreSQL on 127.0.0.1:5432 is required under CI=true")
            pytest.skip("PostgreSQL unavailable at 127.0.0.1:5432")
        config = config.replace(
            "master_key: os.environ/PROXY_MASTER_KEY",
            "master_key: os.environ/PROXY_MASTER_KEY\n          "
            f"database_url: postgresql://postgres@127.0.0.1:5432/{database}")
    try:
        server = start_proxy(tmp_path, config)
        yield server
        assert server.stop() == 0
    finally:
        if database is not None:
            _psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def test_management_changes_are_audited(proxy: Proxy) -> None:
    key = admin(proxy, "POST", "/key/generate", {"key_alias": "audited", "max_budget": 5})
    token = key["token"]
    admin(proxy, "POST", "/key/update", {"key": key["key"], "max_budget": 7},
          headers={"litellm-changed-by": "alice@example.com"})
    team = admin(proxy, "POST", "/team/new", {"team_alias": "red"})
    admin(proxy, "POST", "/team/update", {"team_id": team["team_id"], "max_budget": 20})
    admin(proxy, "POST", "/key/delete", {"keys": [key["key"]]})

    page = audit_rows(proxy, f"object_id={token}&table_name=LiteLLM_VerificationToken", 3)
    assert page["total"] == 3
    assert page["page"] == 1 and page["page_size"] == 10 and page["total_pages"] == 1
    by_action = {row["action"]: row for row in page["audit_logs"]}
    assert set(by_action) == {"created", "updated", "deleted"}
    created = by_action["created"]
    assert created["before_value"] is None
    assert created["updated_values"]["key_alias"] == "audited"
    assert created["changed_by"] == "default_user_id"
    assert created["changed_by_api_key"] != ""
    updated = by_action["updated"]
    assert updated["changed_by"] == "alice@example.com"
    assert float(updated["before_value"]["max_budget"]) == 5
    assert float(updated["updated_values"]["max_budget"]) == 7
    deleted = by_action["deleted"]
    assert deleted["before_value"]["token"] == token
    assert deleted["updated_values"] is None
    # The raw key never reaches the log.
    assert key["key"] not in json.dumps(page)

    teams = audit_rows(proxy, f"object_id={team['team_id']}", 2)
    assert sorted(row["action"] for row in teams["audit_logs"]) == ["created", "updated"]
    team_update = next(r for r in teams["audit_logs"] if r["action"] == "updated")
    assert team_update["table_name"] == "LiteLLM_TeamTable"
    assert float(team_update["updated_values"]["max_budget"]) == 20

    one = admin(proxy, "GET", f"/audit/{team_update['id']}")
    assert one == team_update
    status, _, payload = proxy.request("GET", "/audit/no-such-id")
    assert status == 404, payload

    filtered = admin(proxy, "GET", "/audit?action=created&page_size=1")
    assert filtered["page_size"] == 1 and len(filtered["audit_logs"]) == 1
    assert filtered["total"] >= 2 and filtered["total_pages"] == filtered["total"]
    status, _, _ = proxy.request("GET", "/audit?page_size=0")
    assert status == 400
    assert admin(proxy, "GET", "/audit?start_date=2999-01-01")["total"] == 0


def test_denied_access_is_audited(proxy: Proxy) -> None:
    key = admin(proxy, "POST", "/key/generate", {"models": ["embed"]})
    with openai.OpenAI(base_url=proxy.url + "/v1", api_key=key["key"], max_retries=0) as client:
        with pytest.raises(openai.PermissionDeniedError):
            client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    with openai.OpenAI(base_url=proxy.url + "/v1", api_key="sk-unknown-key-000",
                       max_retries=0) as stranger:
        with pytest.raises(openai.AuthenticationError):
            stranger.models.list()
    # A virtual key on an admin route.
    status, _, _ = proxy.request("POST", "/team/new", {"team_alias": "x"}, key=key["key"])
    assert status in (401, 403)

    page = audit_rows(proxy, "action=access_denied", 3)
    rows = page["audit_logs"]
    assert page["total"] == 3, rows
    model_denial = next(r for r in rows if r["updated_values"]["route"] == "/v1/chat/completions")
    assert model_denial["object_id"] == key["token"]
    assert model_denial["updated_values"]["model"] == "gpt-4o"
    assert model_denial["updated_values"]["status_code"] == 403
    assert model_denial["updated_values"]["reason"]
    route_denial = next(r for r in rows if r["updated_values"]["route"] == "/team/new")
    assert route_denial["object_id"] == key["token"]
    unknown = next(r for r in rows if r["updated_values"]["route"] == "/v1/models")
    assert unknown["updated_values"]["status_code"] == 401
    assert "sk-unknown-key-000" not in json.dumps(page)

    # Only admins read the audit log.
    status, _, _ = proxy.request("GET", "/audit", key=key["key"])
    assert status == 401


def test_audit_rows_survive_a_graceful_stop(tmp_path: Path, mock: Any) -> None:
    proxy = start_proxy(tmp_path, audited_config(mock))
    for index in range(20):
        admin(proxy, "POST", "/team/new", {"team_alias": f"team-{index}"})
    assert proxy.stop() == 0
    with sqlite3.connect(tmp_path / "llmrelay.db") as database:
        (rows,) = database.execute(
            'SELECT COUNT(*) FROM "LiteLLM_AuditLog" WHERE "action" = ?', ("created",)
        ).fetchone()
    assert rows == 20


def test_off_by_default(tmp_path: Path, mock: Any) -> None:
    proxy = start_proxy(tmp_path, base_config(mock))
    admin(proxy, "POST", "/team/new", {"team_alias": "quiet"})
    time.sleep(0.3)
    assert admin(proxy, "GET", "/audit")["total"] == 0
    assert proxy.stop() == 0


def test_bad_retention_period_stops_the_start(tmp_path: Path, mock: Any) -> None:
    config = base_config(mock).replace(
        "master_key: os.environ/PROXY_MASTER_KEY",
        "master_key: os.environ/PROXY_MASTER_KEY\n          "
        "maximum_audit_logs_retention_period: soon")
    proxy = start_proxy(tmp_path, config, wait=False)
    assert proxy.process.wait(timeout=20) != 0
    assert "maximum_audit_logs_retention_period" in proxy.log.read_text()

