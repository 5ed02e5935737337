"""Rate limits that hold across proxy instances: three proxy processes on different ports share
one PostgreSQL database (keys, teams) and one Redis (the counters), and one client drives them.
The windows are shortened for the suite (``LITELLM_RATE_LIMIT_WINDOW_SIZE``); the minute-long
versions run in the long tier (``scripts/long-tests``).

Needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379 (the machine's); without them
the tests skip with the reason, except under ``CI=true``, where they fail."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import openai
import pytest

from test_governance import ADMIN_URL, _psql
from test_proxy import MASTER_KEY, Proxy, base_config, free_port, start_proxy

WINDOW = int(os.environ.get("LLMRELAY_TEST_RATE_WINDOW", "20"))
USER = [{"role": "user", "content": "Hello there"}]


def _require(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("CI") == "true":
        raise AssertionError(f"{reason} (required under CI=true)")
    pytest.skip(reason)


def _redis_up(port: int = 6379) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _config(mock: Any, database: str, redis_url: str, extra: str = "") -> str:
    slow = f"""
          - model_name: slow
            litellm_params:
              model: openai/gpt-4o-mini
              api_base: {mock.api_base}
              api_key: sk-test
              extra_headers: {{x-mock-latency-ms: "600"}}"""
    config = base_config(mock)
    config = config.replace("        general_settings:", slow.rstrip() + "\n        general_settings:", 1)
    settings = f"""
          database_url: postgresql://postgres@127.0.0.1:5432/{database}
          rate_limits:
            redis_url: {redis_url}
            redis_timeout_ms: 300
{extra}"""
    return config.replace("          master_key: os.environ/PROXY_MASTER_KEY",
                          "          master_key: os.environ/PROXY_MASTER_KEY" + settings.rstrip("\n"), 1)


class Fleet:
    """N proxies, one database, one Redis; requests spread over them round-robin."""

    def __init__(self, proxies: list[Proxy]) -> None:
        self.proxies = proxies
        self._next = 0
        self._lock = threading.Lock()

    def pick(self) -> Proxy:
        with self._lock:
            proxy = self.proxies[self._next % len(self.proxies)]
            self._next += 1
        return proxy

    def chat(self, key: str, model: str = "gpt-4o", **body: Any) -> tuple[int, dict, dict]:
        proxy = self.pick()
        status, headers, payload = proxy.request(
            "POST", "/v1/chat/completions", {"model": model, "messages": USER, **body}, key=key)
        return status, headers, json.loads(payload)


def _start_fleet(tmp_path: Path, mock: Any, redis_url: str, count: int = 3,
                 extra: str = "", env: dict | None = None) -> tuple[Fleet, str]:
    _require(shutil.which("psql") is not None and _psql("SELECT 1"),
             "PostgreSQL unavailable at 127.0.0.1:5432")
    database = f"limits_py_{uuid.uuid4().hex}"
    assert _psql(f"CREATE DATABASE {database}")
    environment = {"LITELLM_RATE_LIMIT_WINDOW_SIZE": str(WINDOW), **(env or {})}
    proxies = []
    for i in range(count):
        directory = tmp_path / f"instance{i}"
        directory.mkdir()
        # The first one migrates the database; the others start against it.
        proxies.append(start_proxy(directory, _config(mock, database, redis_url, extra),
                                   env=environment))
    return Fleet(proxies), database


@pytest.fixture
def fleet(tmp_path: Path, mock: Any):
    _require(_redis_up(), "Redis unavailable at 127.0.0.1:6379")
    fleet, database = _start_fleet(tmp_path, mock, "redis://127.0.0.1:6379/0")
    try:
        yield fleet
    finally:
        for proxy in fleet.proxies:
            proxy.stop()
        _psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def admin(fleet: Fleet, path: str, body: dict) -> dict:
    status, _, payload = fleet.proxies[0].request("POST", path, body)
    assert status == 200, payload
    return json.loads(payload)


def _burst(fleet: Fleet, key: str, total: int, threads: int = 24, **body: Any) -> list[int]:
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda _: fleet.chat(key, **body)[0], range(total)))


SPREAD = os.environ.get("LLMRELAY_TEST_RATE_SPREAD") == "1"


def test_three_instances_admit_exactly_the_rpm_limit(fleet: Fleet) -> None:
    key = admin(fleet, "/key/generate", {"rpm_limit": 100})["key"]
    started = time.monotonic()
    if SPREAD:
        # The long tier: the 1000 requests spread evenly over (almost) one window.
        gap = WINDOW * 0.95 / 1000

        def paced(i: int) -> int:
            delay = started + i * gap - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            return fleet.chat(key)[0]

        with ThreadPoolExecutor(24) as pool:
            statuses = list(pool.map(paced, range(1000)))
    else:
        statuses = _burst(fleet, key, 1000)
    elapsed = time.monotonic() - started
    assert elapsed < WINDOW, f"the run took {elapsed:.1f}s, longer than the {WINDOW}s window"
    assert statuses.count(200) == 100, {s: statuses.count(s) for s in set(statuses)}
    assert set(statuses) == {200, 429}


def test_a_refusal_is_litellm_429_with_rate_limit_headers(fleet: Fleet) -> None:
    key = admin(fleet, "/key/generate", {"rpm_limit": 2, "tpm_limit": 100000})["key"]
    status, headers, _ = fleet.chat(key)
    assert status == 200
    assert headers["x-ratelimit-limit-requests"] == "2"
    assert headers["x-ratelimit-remaining-requests"] == "1"
    assert headers["x-ratelimit-api_key-remaining-requests"] == "1"
    assert headers["x-ratelimit-limit-tokens"] == "100000"
    assert int(headers["x-ratelimit-remaining-tokens"]) < 100000
    assert fleet.chat(key)[0] == 200
    client = openai.OpenAI(base_url=fleet.pick().url + "/v1", api_key=key, max_retries=0)
    with pytest.raises(openai.RateLimitError) as refused:
        client.chat.completions.create(model="gpt-4o", messages=USER)
    error = refused.value
    assert error.status_code == 429
    assert error.type == "throttling_error"
    message = error.body["message"]
    assert message.startswith("Rate limit exceeded for api_key: ")
    assert "Limit type: requests. Current limit: 2, Remaining: 0." in message
    assert 1 <= int(error.response.headers["retry-after"]) <= WINDOW + 1
    assert error.response.headers["x-ratelimit-remaining-requests"] == "0"


def test_team_key_and_model_limits_apply_together(fleet: Fleet) -> None:
    team = admin(fleet, "/team/new", {"rpm_limit": 10})["team_id"]
    first = admin(fleet, "/key/generate", {"team_id": team})["key"]
    second = admin(fleet, "/key/generate", {"team_id": team})["key"]
    a = _burst(fleet, first, 15)
    b = _burst(fleet, second, 15)
    assert a.count(200) + b.count(200) == 10, (a, b)
    # A key's per-model limit under a looser key limit.
    key = admin(fleet, "/key/generate",
                {"rpm_limit": 50, "metadata": {"model_rpm_limit": {"gpt-4o": 3}}})["key"]
    assert _burst(fleet, key, 10).count(200) == 3
    status, _, body = fleet.chat(key)
    assert status == 429
    assert body["error"]["message"].startswith("Rate limit exceeded for model_per_key: ")


def test_tokens_per_minute_hold_with_streamed_calls(fleet: Fleet) -> None:
    key = admin(fleet, "/key/generate", {"tpm_limit": 400})["key"]
    admitted_tokens = 0
    per_call = 0
    refused = False
    for _ in range(60):
        proxy = fleet.pick()
        client = openai.OpenAI(base_url=proxy.url + "/v1", api_key=key, max_retries=0)
        try:
            stream = client.chat.completions.create(
                model="gpt-4o", messages=USER, stream=True, max_tokens=20,
                stream_options={"include_usage": True})
            usage = [c.usage for c in stream if c.usage is not None]
        except openai.RateLimitError:
            refused = True
            break
        assert usage, "the stream carried no usage"
        per_call = max(per_call, usage[-1].total_tokens)
        admitted_tokens += usage[-1].total_tokens
    assert refused, "the token limit never refused a call"
    assert admitted_tokens <= 400 + per_call, (admitted_tokens, per_call)
    assert admitted_tokens >= 400 - per_call, "settled usage, not the estimate, is counted"


def test_parallel_requests_never_exceed_the_limit(fleet: Fleet) -> None:
    key = admin(fleet, "/key/generate", {"max_parallel_requests": 3})["key"]
    barrier = threading.Barrier(12)

    def one(_: int) -> int:
        barrier.wait()
        return fleet.chat(key, model="slow")[0]

    with ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(one, range(12)))
    assert statuses.count(200) == 3, statuses
    assert statuses.count(429) == 9
    # The slots are free again once the calls ended.
    assert fleet.chat(key)[0] == 200


def test_a_call_with_a_priority_waits_for_room_in_its_keys_limits(fleet: Fleet) -> None:
    """The Router's backpressure for key limits: a call that sends a `priority` waits for a
    parallel slot instead of getting a 429 (within `max_queue_wait`); one without is refused."""
    key = admin(fleet, "/key/generate", {"max_parallel_requests": 2})["key"]
    barrier = threading.Barrier(6)

    def queued(_: int) -> int:
        barrier.wait()
        return fleet.chat(key, model="slow", priority=0)[0]

    started = time.monotonic()
    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(queued, range(6)))
    elapsed = time.monotonic() - started
    assert statuses == [200] * 6, statuses
    # Two at a time, 600 ms each: three rounds.
    assert elapsed >= 1.7, elapsed

    def mixed(n: int) -> int:
        barrier.wait()
        if n < 2:
            return fleet.chat(key, model="slow")[0]
        time.sleep(0.2)
        if n == 2:
            return fleet.chat(key, model="slow")[0]
        if n == 3:
            return fleet.chat(key, model="slow", priority=1, max_queue_wait=0.1)[0]
        return fleet.chat(key, model="slow", priority=1)[0]

    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(mixed, range(6)))
    assert statuses[:2] == [200, 200], statuses
    assert statuses[2] == 429, "no priority: refused at once, as LiteLLM does"
    assert statuses[3] == 429, "a wait longer than its max_queue_wait"
    assert statuses[4:] == [200, 200], statuses


class OwnRedis:
    """A redis-server of the test's own, to kill and restart."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="llmrelay-redis-")
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not _redis_up(self.port):
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@pytest.mark.parametrize("policy", ["fail_open", "fail_closed"])
def test_redis_killed_mid_run(tmp_path: Path, mock: Any, policy: str) -> None:
    _require(shutil.which("redis-server") is not None, "redis-server is not installed")
    redis = OwnRedis()
    redis.start()
    extra = f"            on_redis_failure: {policy}\n"
    fleet, database = _start_fleet(tmp_path, mock, f"redis://127.0.0.1:{redis.port}/0",
                                   count=2, extra=extra)
    try:
        key = admin(fleet, "/key/generate", {"rpm_limit": 40})["key"]
        assert [fleet.chat(key)[0] for _ in range(4)] == [200] * 4
        redis.stop()
        started = time.monotonic()
        statuses = [fleet.chat(key)[0] for _ in range(40)]
        assert time.monotonic() - started < 15, "calls hung while Redis was down"
        if policy == "fail_open":
            # Served, each instance counting against its share of the limit (40 / 2).
            assert 5 not in {s // 100 for s in statuses}, statuses
            assert statuses.count(200) == 40, statuses
        else:
            assert set(statuses) == {503}, statuses
            status, _, body = fleet.chat(key)
            assert body["error"]["message"].startswith("Rate limits cannot be checked")
        redis.start()
        deadline = time.monotonic() + 15
        while True:
            status = fleet.chat(key)[0]
            if policy == "fail_closed" and status == 200:
                break
            if policy == "fail_open":
                if all("llmrelay_rate_limit_redis_up 1" in p.metrics() for p in fleet.proxies):
                    break
            assert time.monotonic() < deadline, "the proxies did not return to Redis"
            time.sleep(0.2)
        if policy == "fail_open":
            # The outage's counts were merged into Redis: the shared limit is nearly spent.
            statuses = _burst(fleet, key, 20)
            assert statuses.count(200) == 0, statuses
            assert all("llmrelay_rate_limit_redis_up 1" in p.metrics() for p in fleet.proxies)
    finally:
        for proxy in fleet.proxies:
            proxy.stop()
        redis.stop()
        shutil.rmtree(redis.dir, ignore_errors=True)
        _psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def _key_spend(fleet: Fleet, key: str) -> float:
    status, _, payload = fleet.proxies[0].request("GET", f"/key/info?key={key}")
    assert status == 200, payload
    return json.loads(payload)["info"]["spend"]


def test_a_budget_holds_across_instances(fleet: Fleet) -> None:
    # What one call costs (the mock's usage at gpt-4o-mini's prices).
    probe = admin(fleet, "/key/generate", {})["key"]
    status, headers, _ = fleet.chat(probe, max_tokens=20)
    assert status == 200
    cost = float(headers["x-litellm-response-cost"])
    assert cost > 0
    budget = 50 * cost
    key = admin(fleet, "/key/generate", {"max_budget": budget})["key"]
    statuses = _burst(fleet, key, 300, threads=48, max_tokens=20)
    admitted = statuses.count(200)
    assert set(statuses) <= {200, 422}, {s: statuses.count(s) for s in set(statuses)}
    assert 0 < admitted <= 60, admitted
    # The spend rows reach the database in batches: wait for all of them (a loaded 2-core
    # machine has taken over 15 s to write 300 calls' rows through three instances).
    deadline = time.monotonic() + 45
    while abs(_key_spend(fleet, key) - admitted * cost) > cost / 2:
        assert time.monotonic() < deadline, (_key_spend(fleet, key), admitted * cost)
        time.sleep(0.2)
    spend = _key_spend(fleet, key)
    assert spend <= budget + cost * 1.01, (spend, budget)
    # No instance admits a call once the budget is reached.
    for proxy in fleet.proxies:
        status, _, body = proxy.request(
            "POST", "/v1/chat/completions",
            {"model": "gpt-4o", "messages": USER, "max_tokens": 20}, key=key)
        assert status == 422, body
        assert json.loads(body)["error"]["type"] == "budget_exceeded"
