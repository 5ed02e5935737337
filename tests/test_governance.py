"""Virtual keys through the proxy with the real ``openai`` SDK, on SQLite (the default: a file
next to the config) and PostgreSQL: a key generated with the master key calls chat whole and
streamed, its spend rows and spend show in ``/spend/logs`` and ``/key/info``, and budgets,
model access, unknown and expired keys are refused with LiteLLM's errors."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import openai
import pytest

from test_proxy import MASTER_KEY, Proxy, base_config, start_proxy

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _psql(sql: str) -> bool:
    if shutil.which("psql") is None:
        return False
    done = subprocess.run(["psql", ADMIN_URL, "-v", "ON_ERROR_STOP=1", "-c", sql],
                          capture_output=True, text=True, timeout=30)
    return done.returncode == 0


@pytest.fixture(params=["sqlite", "postgres"])
def governed(request: pytest.FixtureRequest, tmp_path: Path, mock: Any):
    extra = ""
    database = None
    if request.param == "postgres":
        database = f"proxy_py_{uuid.uuid4().hex}"
        if not _psql(f"CREATE DATABASE {database}"):
            if os.environ.get("CI") == "true":
                raise AssertionError("PostgreSQL on 127.0.0.1:5432 is required under CI=true")
            pytest.skip("PostgreSQL unavailable at 127.0.0.1:5432 (psql could not create a database)")
        extra = f"database_url: postgresql://postgres@127.0.0.1:5432/{database}"
    config = base_config(mock)
    if extra:
        # Under `master_key`, with its indentation.
        config = re.sub(r"^( *)(master_key: .*)$", rf"\1\2\n\1{extra}", config, count=1,
                        flags=re.MULTILINE)
    try:
        proxy = start_proxy(tmp_path, config)
        yield proxy
        assert proxy.stop() == 0
    finally:
        if database is not None:
            _psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    if request.param == "sqlite":
        assert (tmp_path / "llmrelay.db").exists()


def admin(proxy: Proxy, path: str, body: dict) -> dict:
    status, _, payload = proxy.request("POST", path, body)
    assert status == 200, payload
    return json.loads(payload)


def sdk(proxy: Proxy, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=proxy.url + "/v1", api_key=key, max_retries=0)


USER = [{"role": "user", "content": "Hello there"}]


def test_virtual_key_calls_are_booked(governed: Proxy) -> None:
    created = admin(governed, "/key/generate",
                    {"models": ["gpt-4o"], "key_alias": "py-app", "max_budget": 5})
    key, token = created["key"], created["token"]
    with sdk(governed, key) as client:
        raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=USER)
        assert raw.headers["x-litellm-key-spend"] == "0.0"
        assert raw.headers["x-litellm-key-max-budget"] == "5.0"
        assert raw.parse().choices[0].message.content
        chunks = list(client.chat.completions.create(model="gpt-4o", messages=USER, stream=True,
                                                     stream_options={"include_usage": True}))
        assert any(c.choices and c.choices[0].delta.content for c in chunks)
        assert [m.id for m in client.models.list()] == ["gpt-4o"]
        with pytest.raises(openai.PermissionDeniedError) as denied:
            client.chat.completions.create(model="claude", messages=USER)
        assert denied.value.status_code == 403
        assert denied.value.type == "key_model_access_denied"
    # The rows are written in batches off the request path: wait for them.
    deadline = time.monotonic() + 10
    rows: list = []
    while time.monotonic() < deadline:
        status, _, payload = governed.request("GET", f"/spend/logs?api_key={token}")
        assert status == 200, payload
        rows = [r for r in json.loads(payload) if r["status"] == "success"]
        if len(rows) == 2:
            break
        time.sleep(0.1)
    assert len(rows) == 2, rows
    assert {r["key_alias"] if "key_alias" in r else r["metadata"]["user_api_key_alias"]
            for r in rows} == {"py-app"}
    assert all(r["spend"] > 0 and r["total_tokens"] > 0 for r in rows)
    status, _, payload = governed.request("GET", f"/key/info?key={key}")
    assert status == 200
    spend = json.loads(payload)["info"]["spend"]
    assert abs(spend - sum(r["spend"] for r in rows)) < 1e-12


def test_refused_keys_and_budgets(governed: Proxy) -> None:
    with sdk(governed, "sk-unknown-key-0000") as client:
        with pytest.raises(openai.AuthenticationError) as unknown:
            client.chat.completions.create(model="gpt-4o", messages=USER)
        assert unknown.value.status_code == 401
        assert "Invalid proxy server token passed" in unknown.value.message
    expiring = admin(governed, "/key/generate", {"duration": "1s"})
    time.sleep(1.3)
    with sdk(governed, expiring["key"]) as client:
        with pytest.raises(openai.AuthenticationError) as expired:
            client.chat.completions.create(model="gpt-4o", messages=USER)
        assert "Expired Key" in expired.value.message
    spent = admin(governed, "/key/generate", {"max_budget": 0.001, "spend": 0.001})
    with sdk(governed, spent["key"]) as client:
        with pytest.raises(openai.UnprocessableEntityError) as exceeded:
            client.chat.completions.create(model="gpt-4o", messages=USER)
        assert exceeded.value.status_code == 422
        assert exceeded.value.type == "budget_exceeded"
        assert exceeded.value.body["message"].startswith("Budget has been exceeded!")
    # The master key still works, and only it manages keys.
    with sdk(governed, MASTER_KEY) as client:
        assert client.chat.completions.create(model="gpt-4o", messages=USER).choices
    status, _, _ = governed.request("POST", "/key/generate", {}, key=spent["key"])
    assert status in (401, 403)


def test_a_key_may_send_only_its_allowed_cache_controls(governed: Proxy) -> None:
    limited = admin(governed, "/key/generate", {"allowed_cache_controls": ["no-cache"]})
    with sdk(governed, limited["key"]) as client:
        allowed = client.chat.completions.create(
            model="gpt-4o", messages=USER, extra_body={"cache": {"no-cache": True}})
        assert allowed.choices
        with pytest.raises(openai.PermissionDeniedError) as denied:
            client.chat.completions.create(
                model="gpt-4o", messages=USER, extra_body={"cache": {"no-store": True}})
        assert denied.value.status_code == 403
        assert "Not allowed to set no-store as a cache control" in denied.value.message
    # An empty list allows every control, as in LiteLLM.
    open_key = admin(governed, "/key/generate", {})
    with sdk(governed, open_key["key"]) as client:
        assert client.chat.completions.create(
            model="gpt-4o", messages=USER, extra_body={"cache": {"no-store": True}}).choices


def test_spend_rows_survive_a_graceful_stop(tmp_path: Path, mock: Any) -> None:
    """Rows are written in batches; stopping right after the calls still writes every one."""
    proxy = start_proxy(tmp_path, base_config(mock))
    key = admin(proxy, "/key/generate", {"key_alias": "stopper"})
    with sdk(proxy, key["key"]) as client:
        for _ in range(5):
            client.chat.completions.create(model="gpt-4o", messages=USER)
        list(client.chat.completions.create(model="gpt-4o", messages=USER, stream=True))
    assert proxy.stop() == 0
    with sqlite3.connect(tmp_path / "llmrelay.db") as database:
        (rows,) = database.execute(
            'SELECT COUNT(*) FROM "LiteLLM_SpendLogs" WHERE "api_key" = ? AND "status" = ?',
            (key["token"], "success"),
        ).fetchone()
        (spend,) = database.execute(
            'SELECT "spend" FROM "LiteLLM_VerificationToken" WHERE "token" = ?', (key["token"],)
        ).fetchone()
    assert rows == 6
    assert float(spend) > 0
    # Nothing is left to replay.
    wal = tmp_path / "llmrelay-spend-wal"
    assert not any(path.stat().st_size for path in wal.glob("*.wal"))
