"""The Files and Batches APIs through the proxy with the real ``openai`` SDK's ``files`` and
``batches`` clients, on SQLite and PostgreSQL: uploads, per-key ownership, every bad input in
OpenAI's error shape, a 10,000-line batch that survives the proxy being killed in the middle
(each ``custom_id`` exactly once in the output, one spend row per line), files in an
S3-compatible bucket (moto's server), and LiteLLM's SDK functions (``create_file``,
``create_batch``, ``retrieve_batch``, ``file_content``, ...). The input lines and the shapes
checked follow OpenAI's API reference: platform.openai.com/docs/api-reference/files/object,
…/batch/object, …/batch/request-input and …/batch/request-output."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import openai
import pytest

import llmrelay as litellm
from test_proxy import MASTER_KEY, Proxy, start_proxy

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _psql(sql: str) -> bool:
    if shutil.which("psql") is None:
        return False
    done = subprocess.run(["psql", ADMIN_URL, "-v", "ON_ERROR_STOP=1", "-c", sql],
                          capture_output=True, text=True, timeout=30)
    return done.returncode == 0


def config(mock: Any, settings: str = "") -> str:
    lines = "".join(f"\n          {line}" for line in settings.splitlines() if line.strip())
    return f"""
        model_list:
          - model_name: gpt-4o
            litellm_params:
              model: openai/gpt-4o-mini
              api_base: {mock.api_base}
              api_key: sk-test
          - model_name: embed
            litellm_params:
              model: openai/text-embedding-3-small
              api_base: {mock.api_base}
              api_key: sk-test
        router_settings:
          num_retries: 0
        general_settings:
          master_key: {MASTER_KEY}
          max_file_size_mb: 5
          batch_concurrency: 32{lines}
    """


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest):
    """``database_url: …`` for the config ("" for the SQLite file next to it)."""
    if request.param == "sqlite":
        yield ""
        return
    name = f"proxy_files_py_{uuid.uuid4().hex}"
    if not _psql(f"CREATE DATABASE {name}"):
        if os.environ.get("CI") == "true":
            raise AssertionError("PostgreSQL on 127.0.0.1:5432 is required under CI=true")
        pytest.skip("PostgreSQL unavailable at 127.0.0.1:5432 (psql could not create a database)")
    try:
        yield f"database_url: postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        _psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def new_key(proxy: Proxy, body: dict) -> dict:
    status, _, payload = proxy.request("POST", "/key/generate", body)
    assert status == 200, payload
    return json.loads(payload)


def sdk(proxy: Proxy, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=proxy.url + "/v1", api_key=key, max_retries=0)


def chat_line(custom_id: str, headers: dict | None = None) -> str:
    body: dict = {"model": "gpt-4o", "messages": [{"role": "user", "content": f"Hi {custom_id}"}]}
    if headers:
        body["extra_headers"] = headers
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions",
                       "body": body})


def wait_batch(client: openai.OpenAI, batch_id: str, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        batch = client.batches.retrieve(batch_id)
        if batch.status in ("completed", "failed", "cancelled", "expired"):
            return batch
        assert time.monotonic() < deadline, batch
        time.sleep(0.1)


def assert_openai_error(error: openai.APIStatusError, status: int, needle: str) -> None:
    assert error.status_code == status, error
    body = error.response.json()
    assert set(body["error"]) >= {"message", "type", "param", "code"}, body
    assert needle in body["error"]["message"], body


def test_files_and_a_batch_with_the_openai_sdk(tmp_path: Path, mock: Any, database: str) -> None:
    proxy = start_proxy(tmp_path, config(mock, database))
    try:
        alice = new_key(proxy, {"models": ["gpt-4o", "embed"]})
        bob = new_key(proxy, {})
        embed_only = new_key(proxy, {"models": ["embed"]})
        with sdk(proxy, alice["key"]) as client, sdk(proxy, bob["key"]) as other:
            uploaded = client.files.create(file=("notes.txt", b"hello files"), purpose="user_data")
            assert uploaded.id.startswith("file-")
            assert (uploaded.object, uploaded.bytes, uploaded.filename, uploaded.purpose,
                    uploaded.status) == ("file", 11, "notes.txt", "user_data", "processed")
            assert client.files.retrieve(uploaded.id) == uploaded
            assert client.files.content(uploaded.id).content == b"hello files"
            assert [f.id for f in client.files.list()] == [uploaded.id]
            assert [f.id for f in client.files.list(purpose="batch")] == []
            # Another key: not listed, and refused by id.
            assert list(other.files.list()) == []
            with pytest.raises(openai.PermissionDeniedError) as refused:
                other.files.retrieve(uploaded.id)
            assert_openai_error(refused.value, 403, "does not have access")
            with pytest.raises(openai.PermissionDeniedError):
                other.files.delete(uploaded.id)
            with pytest.raises(openai.NotFoundError) as missing:
                client.files.retrieve("file-0000")
            assert_openai_error(missing.value, 404, "No such File object: file-0000")
            with pytest.raises(openai.BadRequestError) as wrong:
                client.files.create(file=("a.txt", b"x"), purpose="nonsense")  # type: ignore[arg-type]
            assert_openai_error(wrong.value, 400, "'nonsense' is not one of")
            with pytest.raises(openai.APIStatusError) as big:
                client.files.create(file=("big.bin", b"x" * (6 * 1024 * 1024)), purpose="user_data")
            assert_openai_error(big.value, 413, "File too large")
            with pytest.raises(openai.BadRequestError) as malformed:
                client.files.create(file=("bad.jsonl", b'{"custom_id": "a"}\n{oops\n'),
                                    purpose="batch")
            assert_openai_error(malformed.value, 400, "line 1")

            lines = [chat_line(f"req-{i}") for i in range(20)]
            lines.append(chat_line("req-refused", {"x-mock-status": "400"}))
            batch_file = client.files.create(file=("in.jsonl", "\n".join(lines).encode()),
                                             purpose="batch")
            with pytest.raises(openai.BadRequestError) as not_batch:
                client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions",
                                      completion_window="24h")
            assert_openai_error(not_batch.value, 400, "purpose 'batch'")
            with pytest.raises(openai.PermissionDeniedError):
                other.batches.create(input_file_id=batch_file.id,
                                     endpoint="/v1/chat/completions", completion_window="24h")
            with sdk(proxy, embed_only["key"]) as limited:
                own = limited.files.create(file=("x.jsonl", chat_line("x").encode()),
                                           purpose="batch")
                with pytest.raises(openai.PermissionDeniedError) as forbidden:
                    limited.batches.create(input_file_id=own.id, endpoint="/v1/chat/completions",
                                           completion_window="24h")
                assert_openai_error(forbidden.value, 403, "line 1")
            batch = client.batches.create(input_file_id=batch_file.id,
                                          endpoint="/v1/chat/completions",
                                          completion_window="24h", metadata={"job": "py"})
            assert batch.object == "batch" and batch.status == "validating"
            assert batch.request_counts is not None and batch.request_counts.total == 21
            done = wait_batch(client, batch.id)
            assert done.status == "completed", done
            assert done.request_counts is not None
            assert (done.request_counts.completed, done.request_counts.failed) == (20, 1)
            assert done.output_file_id and done.error_file_id
            output = [json.loads(line) for line in
                      client.files.content(done.output_file_id).text.splitlines()]
            assert [o["custom_id"] for o in output] == [f"req-{i}" for i in range(20)]
            assert all(o["response"]["status_code"] == 200 and o["error"] is None for o in output)
            assert output[0]["response"]["body"]["object"] == "chat.completion"
            errors = [json.loads(line) for line in
                      client.files.content(done.error_file_id).text.splitlines()]
            assert [(e["custom_id"], e["response"]["status_code"]) for e in errors] == [
                ("req-refused", 400)]
            assert [b.id for b in client.batches.list()] == [batch.id]
            assert list(other.batches.list()) == []
            with pytest.raises(openai.PermissionDeniedError):
                other.batches.retrieve(batch.id)
            with pytest.raises(openai.NotFoundError):
                client.batches.retrieve("batch_0000")
            deleted = client.files.delete(uploaded.id)
            assert deleted.deleted is True and deleted.id == uploaded.id
        # The admin sees every key's files.
        with sdk(proxy, MASTER_KEY) as admin:
            assert {f.purpose for f in admin.files.list()} >= {"batch", "batch_output"}
    finally:
        assert proxy.stop() == 0


def _count(tmp_path: Path, database: str, sql: str) -> int:
    """A count from the proxy's database: the SQLite file next to the config, or PostgreSQL
    (``database`` is the config's ``database_url: …`` line). ``sql`` uses ``'…'`` literals."""
    if not database:
        with sqlite3.connect(tmp_path / "llmrelay.db") as connection:
            return connection.execute(sql).fetchone()[0]
    url = database.split(": ", 1)[1]
    done = subprocess.run(["psql", url, "-t", "-A", "-c", sql], capture_output=True, text=True,
                          timeout=30, check=True)
    return int(done.stdout.strip())


def test_a_10000_line_batch_survives_a_restart(tmp_path: Path, mock: Any, database: str) -> None:
    proxy = start_proxy(tmp_path, config(mock, database))
    created = new_key(proxy, {"models": ["gpt-4o"]})
    key, token = created["key"], created["token"]
    total = 10_000
    lines = "\n".join(chat_line(f"line-{i}", {"x-mock-latency-ms": "2"}) for i in range(total))
    with sdk(proxy, key) as client:
        input_file = client.files.create(file=("big.jsonl", lines.encode()), purpose="batch")
        batch = client.batches.create(input_file_id=input_file.id,
                                      endpoint="/v1/chat/completions", completion_window="24h")
        deadline = time.monotonic() + 120
        while True:
            current = client.batches.retrieve(batch.id)
            assert current.request_counts is not None
            if current.request_counts.completed >= 1500:
                break
            assert current.status == "in_progress" or current.status == "validating", current
            assert time.monotonic() < deadline, current
            time.sleep(0.05)
    # Killed in the middle: no shutdown, lines in flight.
    proxy.process.kill()
    proxy.process.wait(timeout=15)
    assert current.request_counts.completed < total, "the batch ended before the kill"
    restarted = start_proxy(tmp_path, config(mock, database))
    try:
        with sdk(restarted, key) as client:
            done = wait_batch(client, batch.id, timeout=300)
            assert done.status == "completed", done
            assert done.request_counts is not None
            assert (done.request_counts.total, done.request_counts.completed,
                    done.request_counts.failed) == (total, total, 0)
            assert done.error_file_id is None
            assert done.output_file_id is not None
            output = client.files.content(done.output_file_id).text.splitlines()
        ids = [json.loads(line)["custom_id"] for line in output]
        assert len(ids) == total
        assert sorted(ids) == sorted(f"line-{i}" for i in range(total))
        assert ids == [f"line-{i}" for i in range(total)], "the output keeps the input's order"
        # One spend row per line, even for the lines sent again after the kill.
        spend_rows = f"""SELECT COUNT(*) FROM "LiteLLM_SpendLogs" WHERE "api_key" = '{token}'"""
        deadline = time.monotonic() + 30
        while _count(tmp_path, database, spend_rows) < total and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)
        assert _count(tmp_path, database, spend_rows) == total
        retried = _count(tmp_path, database, 'SELECT COUNT(*) FROM "llmrelay_batch_lines" '
                         f"""WHERE "batch_id" = '{batch.id}' AND "attempts" > 1""")
        # The lines in flight at the kill were sent again, and say so.
        assert 0 < retried < total
    finally:
        assert restarted.stop() == 0


def test_files_in_an_s3_compatible_bucket(tmp_path: Path, mock: Any) -> None:
    if shutil.which("moto_server") is None:
        if os.environ.get("CI") == "true":
            raise AssertionError("CI=true but moto_server (pip install 'moto[server]') is missing")
        pytest.skip("moto_server is not installed (pip install 'moto[server]')")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        deadline = time.time() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.3).close()
                break
            except OSError:
                assert time.time() < deadline, "moto_server did not start"
                time.sleep(0.05)
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/relay-files", method="PUT"))
        storage = f"""files_storage:
  type: s3
  s3_bucket_name: relay-files
  s3_endpoint_url: {endpoint}
  s3_region_name: us-east-1
  s3_path: uploads
  s3_aws_access_key_id: testing
  s3_aws_secret_access_key: testing"""
        proxy = start_proxy(tmp_path, config(mock, storage))
        try:
            with sdk(proxy, MASTER_KEY) as client:
                uploaded = client.files.create(file=("in.jsonl", chat_line("s3-1").encode()),
                                               purpose="batch")
                listing = urllib.request.urlopen(
                    f"{endpoint}/relay-files?list-type=2&prefix=uploads/").read().decode()
                assert f"<Key>uploads/{uploaded.id}</Key>" in listing, listing
                batch = client.batches.create(input_file_id=uploaded.id,
                                              endpoint="/v1/chat/completions",
                                              completion_window="24h")
                done = wait_batch(client, batch.id)
                assert done.status == "completed" and done.output_file_id
                output = client.files.content(done.output_file_id).text
                assert json.loads(output)["custom_id"] == "s3-1"
                listing = urllib.request.urlopen(
                    f"{endpoint}/relay-files?list-type=2&prefix=uploads/").read().decode()
                assert f"<Key>uploads/{done.output_file_id}</Key>" in listing, listing
                client.files.delete(uploaded.id)
                listing = urllib.request.urlopen(
                    f"{endpoint}/relay-files?list-type=2&prefix=uploads/").read().decode()
                assert f"<Key>uploads/{uploaded.id}</Key>" not in listing
        finally:
            assert proxy.stop() == 0
    finally:
        server.kill()
        server.wait()
    assert not (tmp_path / "llmrelay_files").exists()


def test_litellm_sdk_functions(tmp_path: Path, mock: Any) -> None:
    proxy = start_proxy(tmp_path, config(mock))
    credentials = {"api_base": proxy.url + "/v1", "api_key": MASTER_KEY}
    try:
        source = tmp_path / "requests.jsonl"
        source.write_text("\n".join(chat_line(f"sdk-{i}") for i in range(3)))
        with source.open("rb") as handle:
            created = litellm.create_file(file=handle, purpose="batch",
                                          custom_llm_provider="openai", **credentials)
        assert created.purpose == "batch" and created.filename == "requests.jsonl"
        assert litellm.file_retrieve(created.id, **credentials).id == created.id
        assert created.id in [f.id for f in litellm.file_list(purpose="batch", **credentials)]
        batch = litellm.create_batch(completion_window="24h", endpoint="/v1/chat/completions",
                                     input_file_id=created.id, custom_llm_provider="openai",
                                     metadata={"via": "sdk"}, **credentials)
        deadline = time.monotonic() + 60
        while (current := litellm.retrieve_batch(batch.id, **credentials)).status != "completed":
            assert time.monotonic() < deadline, current
            time.sleep(0.1)
        assert current.output_file_id is not None
        content = litellm.file_content(file_id=current.output_file_id, **credentials)
        assert [json.loads(line)["custom_id"] for line in content.text.splitlines()] == [
            "sdk-0", "sdk-1", "sdk-2"]
        assert batch.id in [b.id for b in litellm.list_batches(limit=10, **credentials)]
        with pytest.raises(litellm.BadRequestError) as done_already:
            litellm.cancel_batch(batch.id, **credentials)
        assert done_already.value.status_code == 409
        with pytest.raises(litellm.NotFoundError):
            litellm.file_retrieve("file-missing", **credentials)
        with pytest.raises(litellm.BadRequestError):
            litellm.create_file(file=("x", b"x"), purpose="batch",
                                custom_llm_provider="vertex_ai", **credentials)

        async def run_async() -> None:
            slow = "\n".join(chat_line(f"slow-{i}", {"x-mock-latency-ms": "200"})
                             for i in range(200))
            uploaded = await litellm.acreate_file(file=("slow.jsonl", slow.encode()),
                                                  purpose="batch", **credentials)
            started = await litellm.acreate_batch(completion_window="24h",
                                                  endpoint="/v1/chat/completions",
                                                  input_file_id=uploaded.id, **credentials)
            assert (await litellm.aretrieve_batch(started.id, **credentials)).id == started.id
            cancelling = await litellm.acancel_batch(started.id, **credentials)
            assert cancelling.status in ("cancelling", "cancelled")
            deadline = time.monotonic() + 60
            while (state := await litellm.aretrieve_batch(started.id, **credentials)).status \
                    != "cancelled":
                assert time.monotonic() < deadline, state
                await asyncio.sleep(0.1)
            assert state.request_counts is not None and state.request_counts.completed < 200
            page = await litellm.alist_batches(**credentials)
            assert started.id in [b.id for b in page.data]
            listed = await litellm.afile_list(**credentials)
            assert uploaded.id in [f.id for f in listed.data]
            assert (await litellm.afile_retrieve(uploaded.id, **credentials)).bytes == len(slow)
            body = await litellm.afile_content(uploaded.id, **credentials)
            assert body.content == slow.encode()
            removed = await litellm.afile_delete(uploaded.id, **credentials)
            assert removed.deleted is True

        asyncio.run(run_async())
        assert litellm.file_delete(created.id, **credentials).deleted is True
    finally:
        assert proxy.stop() == 0
