"""llmrelay.Router against the mock upstream: routing, retries, fallbacks, cooldowns, streams,
async, callbacks, backpressure, health checks and Redis-shared state."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time

import pytest

import llmrelay
from llmrelay import Router

USER = [{"role": "user", "content": "Hello there"}]


def dep(mock, group: str, id: str, headers: dict | None = None, **params) -> dict:
    """A deployment of ``group`` on the mock; ``headers`` are x-mock-* faults it always sends."""
    litellm_params = {"model": "openai/gpt-4o-mini", "api_base": mock.api_base, "api_key": "sk-test"}
    if headers:
        litellm_params["extra_headers"] = headers
    litellm_params.update(params)
    return {"model_name": group, "litellm_params": litellm_params, "model_info": {"id": id}}


def served_by(response) -> str:
    return response._hidden_params["model_id"]


def test_completion_is_a_model_response_with_router_hidden_params(mock):
    router = Router(model_list=[dep(mock, "gpt-4o", "a"), dep(mock, "gpt-4o", "b")])
    response = router.completion(model="gpt-4o", messages=USER)
    assert isinstance(response, llmrelay.ModelResponse)
    assert response.choices[0].message.content.startswith("This is a mock")
    assert served_by(response) in {"a", "b"}
    headers = response._hidden_params["additional_headers"]
    assert headers["x-litellm-model-group"] == "gpt-4o"
    assert headers["x-litellm-attempted-fallbacks"] == "0"
    # The deployment's params reached the upstream (model without prefix, key as header).
    request = mock.last_request()
    assert request["body"]["model"] == "gpt-4o-mini"
    assert request["headers"]["authorization"] == "Bearer sk-test"


def test_simple_shuffle_spreads_by_weight(mock):
    router = Router(model_list=[dep(mock, "g", "light", weight=1), dep(mock, "g", "heavy", weight=9)])
    counts = {"light": 0, "heavy": 0}
    for _ in range(200):
        counts[served_by(router.completion(model="g", messages=USER, mock_response="x"))] += 1
    # Expected 20 / 180; a chi-square bound at p=0.001 with 1 dof (10.83).
    chi2 = (counts["light"] - 20) ** 2 / 20 + (counts["heavy"] - 180) ** 2 / 180
    assert chi2 < 10.83, counts


def test_latency_based_routing_prefers_the_faster_deployment(mock):
    router = Router(model_list=[dep(mock, "g", "slow", {"x-mock-latency-ms": "150"}), dep(mock, "g", "fast")],
                    routing_strategy="latency-based-routing")
    served = [served_by(router.completion(model="g", messages=USER)) for _ in range(10)]
    # Unmeasured deployments are tried first; once both are measured the fast one wins.
    assert set(served[:2]) == {"slow", "fast"}
    assert served[2:] == ["fast"] * 8
    stats = {s["model_id"]: s for s in router.deployment_stats()}
    assert stats["slow"]["average_latency"] > stats["fast"]["average_latency"]


def test_least_busy_avoids_the_deployment_holding_a_stream(mock):
    router = Router(model_list=[dep(mock, "g", "a"), dep(mock, "g", "b")], routing_strategy="least-busy")
    stream = router.completion(model="g", messages=USER, stream=True)
    busy = stream._hidden_params["model_id"]
    # The open stream counts as in flight until it ends.
    for _ in range(5):
        assert served_by(router.completion(model="g", messages=USER)) != busy
    for _ in stream:
        pass
    assert all(s["in_flight"] == 0 for s in router.deployment_stats())


def test_retry_goes_to_another_deployment(mock):
    router = Router(
        model_list=[dep(mock, "g", "bad", {"x-mock-status": "500"}, order=1), dep(mock, "g", "good", order=2)],
        num_retries=2,
    )
    response = router.completion(model="g", messages=USER)
    assert served_by(response) == "good"
    assert response._hidden_params["additional_headers"]["x-litellm-attempted-retries"] == "1"
    assert len(mock.requests()) == 2


def test_retry_honours_retry_after_on_a_single_deployment(mock):
    router = Router(
        model_list=[dep(mock, "g", "only", {"x-mock-status": "429", "x-mock-retry-after": "1",
                                            "x-mock-fail-times": "1", "x-mock-fail-key": "ra-single"})],
        num_retries=1,
    )
    started = time.monotonic()
    response = router.completion(model="g", messages=USER)
    assert time.monotonic() - started >= 0.9
    assert served_by(response) == "only"
    assert len(mock.requests()) == 2


def test_rate_limit_cools_down_and_all_cooling_down_fails_clearly(mock):
    router = Router(
        model_list=[dep(mock, "g", "a", {"x-mock-status": "429"}), dep(mock, "g", "b", {"x-mock-status": "429"})],
        num_retries=1, cooldown_time=30, max_cooldown_wait=0.2,
    )
    with pytest.raises(llmrelay.RateLimitError):
        router.completion(model="g", messages=USER)
    assert sorted(router.get_cooldown_deployments()) == ["a", "b"]
    calls = len(mock.requests())
    started = time.monotonic()
    with pytest.raises(llmrelay.RateLimitError) as info:
        router.completion(model="g", messages=USER)
    assert time.monotonic() - started < 2
    assert "No deployments available for selected model" in str(info.value)
    assert "cooldown" in str(info.value)
    # No upstream call was made for the second request.
    assert len(mock.requests()) == calls


def test_fallbacks_router_level_per_request_and_context_window(mock):
    router = Router(
        model_list=[
            dep(mock, "gpt-4o", "broken", {"x-mock-status": "503"}),
            dep(mock, "claude-sonnet", "claude"),
            dep(mock, "other", "other"),
            dep(mock, "small", "small", {"x-mock-status": "400",
                                         "x-mock-error-message": "This model's maximum context length is 8192 tokens"}),
            dep(mock, "large", "large"),
        ],
        num_retries=0,
        fallbacks=[{"gpt-4o": ["claude-sonnet"]}],
        context_window_fallbacks=[{"small": ["large"]}],
    )
    response = router.completion(model="gpt-4o", messages=USER)
    assert served_by(response) == "claude"
    assert response._hidden_params["additional_headers"]["x-litellm-attempted-fallbacks"] == "1"
    response = router.completion(model="gpt-4o", messages=USER, fallbacks=[{"gpt-4o": ["other"]}])
    assert served_by(response) == "other"
    response = router.completion(model="small", messages=USER)
    assert served_by(response) == "large"
    with pytest.raises(llmrelay.ServiceUnavailableError):
        router.completion(model="gpt-4o", messages=USER, fallbacks=[{"gpt-4o": []}])


def test_timeout_falls_back(mock):
    router = Router(
        model_list=[dep(mock, "slow", "slow", {"x-mock-latency-ms": "2000"}, timeout=0.2), dep(mock, "fast", "fast")],
        num_retries=0, fallbacks=[{"slow": ["fast"]}],
    )
    started = time.monotonic()
    assert served_by(router.completion(model="slow", messages=USER)) == "fast"
    assert time.monotonic() - started < 1.5


def test_stream_falls_back_before_its_first_chunk(mock):
    router = Router(
        model_list=[dep(mock, "a", "broken", {"x-mock-error-after": "0"}), dep(mock, "b", "fine")],
        num_retries=0, fallbacks=[{"a": ["b"]}],
    )
    stream = router.completion(model="a", messages=USER, stream=True)
    assert isinstance(stream, llmrelay.CustomStreamWrapper)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
    assert text.startswith("This is a mock")
    assert stream._hidden_params["model_id"] == "fine"


def test_mid_stream_failure_reaches_the_caller(mock):
    router = Router(
        model_list=[dep(mock, "a", "cut", {"x-mock-error-after": "3"}), dep(mock, "b", "fine")],
        num_retries=2, fallbacks=[{"a": ["b"]}],
    )
    stream = router.completion(model="a", messages=USER, stream=True)
    with pytest.raises(llmrelay.InternalServerError):
        for _ in stream:
            pass
    # The first chunks had reached the caller: no retry, no fallback.
    assert len(mock.requests()) == 1


def test_async_calls_and_async_streams(mock):
    router = Router(model_list=[dep(mock, "g", "a"),
                                dep(mock, "e", "emb", model="openai/text-embedding-3-small"),
                                dep(mock, "t", "txt", model="openai/gpt-3.5-turbo-instruct")])

    async def main():
        whole = await router.acompletion(model="g", messages=USER)
        stream = await router.acompletion(model="g", messages=USER, stream=True)
        chunks = [chunk async for chunk in stream]
        embedding = await router.aembedding(model="e", input=["hello"])
        text = await router.atext_completion(model="t", prompt="Say hi")
        many = await asyncio.gather(*(router.acompletion(model="g", messages=USER) for _ in range(10)))
        return whole, chunks, embedding, text, many

    whole, chunks, embedding, text, many = asyncio.run(main())
    assert served_by(whole) == "a"
    assert len(chunks) > 2
    assert isinstance(embedding, llmrelay.EmbeddingResponse)
    assert embedding._hidden_params["model_id"] == "emb"
    assert isinstance(text, llmrelay.TextCompletionResponse)
    assert all(served_by(r) == "a" for r in many)
    # Sync embedding and text completion too.
    assert router.embedding(model="e", input="hi")._hidden_params["model_id"] == "emb"
    assert router.text_completion(model="t", prompt="hi")._hidden_params["model_id"] == "txt"


def test_callbacks_fire_for_router_calls(mock):
    seen: list = []

    def on_success(kwargs, response, start, end):
        seen.append(("ok", kwargs["litellm_params"]["metadata"].get("model_group"),
                     kwargs["standard_logging_object"]["model_id"]))

    def on_failure(kwargs, response, start, end):
        seen.append(("fail", kwargs["litellm_params"]["metadata"].get("model_group"), None))

    llmrelay.success_callback = [on_success]
    llmrelay.failure_callback = [on_failure]
    router = Router(model_list=[dep(mock, "g", "a"), dep(mock, "bad", "b", {"x-mock-status": "401"})], num_retries=0)
    router.completion(model="g", messages=USER)
    with pytest.raises(llmrelay.AuthenticationError):
        router.completion(model="bad", messages=USER)
    stream = router.completion(model="g", messages=USER, stream=True)
    for _ in stream:
        pass
    deadline = time.monotonic() + 5
    while len(seen) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ("ok", "g", "a") in seen
    assert ("fail", "bad", None) in seen
    assert seen.count(("ok", "g", "a")) == 2


def test_tag_routing_chooses_the_tagged_deployment(mock):
    model_list = [
        dep(mock, "g", "free", tags=["free"]),
        dep(mock, "g", "paid", tags=["paid", "eu"]),
        dep(mock, "g", "fallback", tags=["default"]),
    ]
    router = Router(model_list=model_list, enable_tag_filtering=True)
    assert router.enable_tag_filtering is True and router.tag_filtering_match_any is True
    for _ in range(5):
        assert served_by(router.completion(model="g", messages=USER, metadata={"tags": ["paid"]})) == "paid"
        assert served_by(router.completion(model="g", messages=USER, metadata={"tags": ["free"]})) == "free"
        # Untagged requests and tags no deployment knows go to the "default" deployment.
        assert served_by(router.completion(model="g", messages=USER)) == "fallback"
        assert served_by(router.completion(model="g", messages=USER, metadata={"tags": ["gpu"]})) == "fallback"
    chosen = router.get_available_deployment("g", request_kwargs={"metadata": {"tags": ["free"]}})
    assert chosen["model_info"]["id"] == "free"
    # Every tag must match with tag_filtering_match_any=False.
    strict = Router(model_list=model_list, enable_tag_filtering=True, tag_filtering_match_any=False)
    assert served_by(strict.completion(model="g", messages=USER, metadata={"tags": ["paid", "eu"]})) == "paid"
    with pytest.raises(ValueError, match=r"Not allowed to access model due to tags configuration\. "
                       r"Passed model=g and tags=\['paid', 'free'\]") as refused:
        strict.completion(model="g", messages=USER, metadata={"tags": ["paid", "free"]})
    assert isinstance(refused.value, llmrelay.AuthenticationError)
    # With filtering off, tags choose nothing.
    plain = Router(model_list=model_list)
    seen = {served_by(plain.completion(model="g", messages=USER, metadata={"tags": ["paid"]})) for _ in range(40)}
    assert seen == {"free", "paid", "fallback"}


async def test_tag_routing_async_and_without_a_default(mock):
    router = Router(model_list=[dep(mock, "g", "a", tags=["teamA"]), dep(mock, "g", "b", tags=["teamB"])],
                    enable_tag_filtering=True)
    response = await router.acompletion(model="g", messages=USER, metadata={"tags": ["teamB"]})
    assert served_by(response) == "b"
    with pytest.raises(llmrelay.AuthenticationError, match="tags configuration") as refused:
        await router.acompletion(model="g", messages=USER, metadata={"tags": ["paid"]})
    assert refused.value.status_code == 401


def test_rpm_limit_backpressure_expires_with_retry_after(mock):
    _not_at_minute_end()
    router = Router(model_list=[dep(mock, "g", "a", rpm=1)], max_queue_wait=0.3)
    router.completion(model="g", messages=USER)
    started = time.monotonic()
    with pytest.raises(llmrelay.RateLimitError) as info:
        router.completion(model="g", messages=USER)
    assert time.monotonic() - started >= 0.3
    assert "rpm/tpm limit" in str(info.value)
    assert int(info.value.response.headers["retry-after"]) >= 1
    assert len(mock.requests()) == 1


def test_unknown_model_and_bad_config_errors(mock):
    router = Router(model_list=[dep(mock, "g", "a")])
    with pytest.raises(llmrelay.BadRequestError) as info:
        router.completion(model="nope", messages=USER)
    assert "There are no healthy deployments for this model" in str(info.value)
    with pytest.raises(llmrelay.BadRequestError) as info:
        Router(model_list=[{"model_name": "a", "litellm_params": {"model": "openai/a"}},
                           {"model_name": "b", "litellm_params": 3}])
    assert "model_list[1].litellm_params" in str(info.value)
    with pytest.raises(llmrelay.BadRequestError) as info:
        Router(model_list=[], routing_strategy="fastest-ever")
    assert "routing_strategy" in str(info.value)
    with pytest.raises(TypeError):
        Router(model_list=[], default_fallbacks="gpt-4o")


def test_model_list_management_and_ids(mock):
    router = Router(model_list=[{"model_name": "g", "litellm_params": {"model": "openai/gpt-4o", "rpm": 600}}],
                    model_group_alias={"alias": "g"})
    # LiteLLM 1.104's Router.generate_model_id for the same entry.
    ids = router.get_model_ids()
    assert len(ids) == 1 and len(ids[0]) == 64
    assert router.get_model_info(ids[0])["model_info"]["id"] == ids[0]
    assert [d["model_name"] for d in router.get_model_list()] == ["g", "alias"]
    added = router.add_deployment(dep(mock, "h", "h1"))
    assert added["model_info"]["id"] == "h1"
    assert router.add_deployment(dep(mock, "h", "h1")) is None
    assert served_by(router.completion(model="h", messages=USER)) == "h1"
    assert router.get_available_deployment("h")["model_info"]["id"] == "h1"
    assert router.delete_deployment("h1")["model_name"] == "h"
    router.set_model_list([dep(mock, "z", "z1")])
    assert router.get_model_names() == ["z"]


def test_litellm_compatible_ids():
    router = Router(model_list=[{"model_name": "g", "litellm_params": {"model": "openai/gpt-4o",
                                                                         "mock_response": "hi"}}])
    # Observed with LiteLLM 1.104: Router.generate_model_id("g", {...same params...}).
    assert router.get_model_ids() == ["a7c945c1d2b9c000806413a43e12eeb5d6dc14e42aca36cafcaf1771d03186ae"]


def test_health_check_reports_endpoints(mock):
    router = Router(model_list=[dep(mock, "g", "up"), dep(mock, "g", "down", {"x-mock-status": "401"}),
                                dep(mock, "e", "emb", model="openai/text-embedding-3-small")])
    report = router.health_check()
    assert report["healthy_count"] == 2 and report["unhealthy_count"] == 1
    assert report["unhealthy_endpoints"][0]["model_id"] == "down"
    assert "api_key" not in report["healthy_endpoints"][0]
    assert asyncio.run(router.ahealth_check("e"))["healthy_count"] == 1
    stats = {s["model_id"]: s for s in router.deployment_stats()}
    assert stats["down"]["health"]["healthy"] is False
    assert stats["up"]["health"]["latency_ms"] > 0


# ----------------------------------------------------------------------------------------------
# Redis
# ----------------------------------------------------------------------------------------------


def _not_at_minute_end() -> None:
    """rpm windows are calendar minutes: don't start a budget test in the last seconds of one."""
    left = 60 - time.time() % 60
    if left < 6:
        time.sleep(left + 0.1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisProcess:
    """A private redis-server (never the machine's shared one), so a test may kill it."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server():
    if shutil.which("redis-server") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is required under CI (apt-get install redis-server)")
        pytest.skip("redis-server is not installed: Redis-shared router state is not tested")
    server = RedisProcess()
    server.start()
    yield server
    server.stop()


def test_two_routers_share_one_rpm_budget(mock, redis_server):
    _not_at_minute_end()
    model_list = [dep(mock, "g", "shared-rpm", rpm=4)]
    settings = {"redis_host": "127.0.0.1", "redis_port": redis_server.port, "max_queue_wait": 0}
    first = Router(model_list=model_list, **settings)
    second = Router(model_list=model_list, **settings)
    served = 0
    limited = 0
    for index in range(10):
        router = first if index % 2 == 0 else second
        try:
            router.completion(model="g", messages=USER)
            served += 1
        except llmrelay.RateLimitError:
            limited += 1
    assert (served, limited) == (4, 6)
    assert len(mock.requests()) == 4
    # Each instance saw the other's usage.
    assert first.deployment_stats()[0]["usage"]["rpm"] == 4
    assert second.deployment_stats()[0]["usage"]["rpm"] == 4


def test_two_routers_share_one_tpm_budget_in_redis(mock, redis_server):
    # Deployment tpm is reserved in Redis before each call (input + max_tokens) and settled to
    # the real total after: two instances together admit at most the limit plus one call.
    model_list = [dep(mock, "g", "shared-tpm", tpm=120)]
    settings = {"redis_host": "127.0.0.1", "redis_port": redis_server.port, "max_queue_wait": 0}
    first = Router(model_list=model_list, **settings)
    second = Router(model_list=model_list, **settings)
    admitted, limited, largest = 0, 0, 0
    for index in range(20):
        router = first if index % 2 == 0 else second
        try:
            response = router.completion(model="g", messages=USER, max_tokens=5)
        except llmrelay.RateLimitError as error:
            limited += 1
            assert "rpm/tpm limit" in str(error)
            continue
        admitted += response.usage.total_tokens
        largest = max(largest, response.usage.total_tokens)
        time.sleep(0.05)  # the settle is written to Redis in the background
    assert limited > 0
    assert 0 < admitted <= 120 + largest, (admitted, largest)
    assert len(mock.requests()) == 20 - limited


def test_cooldowns_are_shared_through_redis(mock, redis_server):
    model_list = [dep(mock, "g", "shared-cool-a", {"x-mock-status": "429"}), dep(mock, "g", "shared-cool-b")]
    settings = {"redis_host": "127.0.0.1", "redis_port": redis_server.port, "cooldown_time": 30,
                "redis_sync_interval_ms": 20, "routing_strategy": "simple-shuffle"}
    first = Router(model_list=model_list, **settings, num_retries=3)
    second = Router(model_list=model_list, **settings)
    for _ in range(20):
        first.completion(model="g", messages=USER)
        if "shared-cool-a" in first.get_cooldown_deployments():
            break
    assert "shared-cool-a" in first.get_cooldown_deployments()
    deadline = time.monotonic() + 3
    while "shared-cool-a" not in second.get_cooldown_deployments() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "shared-cool-a" in second.get_cooldown_deployments()


def test_redis_killed_mid_test_keeps_serving_and_reconnects(mock, redis_server):
    _not_at_minute_end()
    router = Router(model_list=[dep(mock, "g", "survivor", rpm=1000)],
                    redis_host="127.0.0.1", redis_port=redis_server.port, redis_sync_interval_ms=20)
    router.completion(model="g", messages=USER)
    assert router._native.shared_state_up() is True
    redis_server.stop()
    for _ in range(5):
        assert served_by(router.completion(model="g", messages=USER)) == "survivor"
    deadline = time.monotonic() + 5
    while router._native.shared_state_up() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert router._native.shared_state_up() is False
    # Redis returns on the same port: the router shares state again.
    redis_server.start()
    deadline = time.monotonic() + 10
    while not router._native.shared_state_up() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert router._native.shared_state_up() is True
    assert served_by(router.completion(model="g", messages=USER)) == "survivor"


def test_map_team_model_finds_the_teams_deployment() -> None:
    # LiteLLM's team models: the team calls a deployment by its team_public_model_name.
    router = Router(model_list=[
        {"model_name": "model_name_t1_abc", "litellm_params": {"model": "gpt-3.5-turbo"},
         "model_info": {"team_id": "test-team", "team_public_model_name": "test-model"}},
    ])
    assert router.map_team_model(team_model_name="test-model", team_id="test-team") == \
        "model_name_t1_abc"
    assert router.map_team_model(team_model_name="test-model", team_id="other") is None
