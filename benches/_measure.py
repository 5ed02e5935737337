"""One measurement pass for one library, run in its own interpreter by ``bench_sdk.py``.

    python _measure.py MODULE BASE_URL CONFIG_JSON

MODULE is ``llmrelay`` or ``litellm`` (the same calls run against either), or ``floor``: round
trips to the same mock without any SDK, on kept-alive connections: a raw socket (one write, read
until Content-Length) and the standard library's ``http.client`` (the reference for what an HTTP
call costs at all on this machine). BASE_URL is the mock's
``http://127.0.0.1:PORT``. CONFIG_JSON sets the iteration counts (see ``bench_sdk.py``).

The result is one JSON object on a stdout line starting with ``BENCH_RESULT ``; anything else a
library prints is ignored by the harness.

Latency rows: warm-up calls first (not timed), then N calls each timed with
``time.perf_counter_ns``. The N samples are cut into ``blocks`` contiguous blocks; ``median_us``
is the median of the block medians (a burst of load from another process spoils one or two blocks,
not the figure), ``p99_us`` is over all N samples.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import json
import statistics
import sys
import time

MESSAGES = [{"role": "user", "content": "hi"}]
TOKEN_MESSAGES = [{"role": "user", "content": "Hello world"}]
STREAM_CHUNKS = 20


def _percentile(sorted_values: list[int], q: float) -> float:
    # nearest-rank percentile
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(q * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


def latency(fn, n: int, warmup: int, blocks: int = 5) -> dict:
    for _ in range(warmup):
        fn()
    samples = [0] * n
    clock = time.perf_counter_ns
    for i in range(n):
        t0 = clock()
        fn()
        samples[i] = clock() - t0
    size = max(1, n // blocks)
    block_medians = [statistics.median(samples[i : i + size]) for i in range(0, n - size + 1, size)]
    ordered = sorted(samples)
    return {
        "n": n,
        "median_us": statistics.median(block_medians) / 1e3,
        "p99_us": _percentile(ordered, 0.99) / 1e3,
        "min_us": ordered[0] / 1e3,
        "block_medians_us": [round(b / 1e3, 2) for b in block_medians],
    }


def settle() -> None:
    # let background work of the previous row (LiteLLM's logging threads) drain before the next
    gc.collect()
    time.sleep(0.3)


# ------------------------------------------------------------------------------------------------
# SDK pass (llmrelay or litellm)
# ------------------------------------------------------------------------------------------------
def measure_sdk(module_name: str, base: str, cfg: dict) -> dict:
    t0 = time.perf_counter()
    mod = importlib.import_module(module_name)
    in_process_import_s = time.perf_counter() - t0
    api_base = base + "/v1"
    out: dict = {
        "module": module_name,
        "file": getattr(mod, "__file__", None),
        "version": _version(mod, module_name),
        "python": sys.version.split()[0],
        "in_process_import_ms": in_process_import_s * 1e3,
    }

    http_kw = {
        "model": "openai/gpt-4o-mini",
        "api_base": api_base,
        "api_key": "k",
        "messages": MESSAGES,
    }
    mock_kw = {"model": "gpt-4o", "messages": MESSAGES, "mock_response": "hello"}
    stream_kw = dict(http_kw, stream=True, extra_headers={"x-mock-chunk-count": str(STREAM_CHUNKS)})

    # --- checks: both libraries must do the same work and get the same answers
    r_http = mod.completion(**http_kw)
    r_mock = mod.completion(**mock_kw)
    chunks = list(mod.completion(**stream_kw))
    streamed_text = "".join(
        (c.choices[0].delta.content or "") for c in chunks if c.choices and c.choices[0].delta
    )
    out["check"] = {
        "http_content": r_http.choices[0].message.content,
        "http_usage": [r_http.usage.prompt_tokens, r_http.usage.completion_tokens],
        "mock_content": r_mock.choices[0].message.content,
        "mock_usage": [r_mock.usage.prompt_tokens, r_mock.usage.completion_tokens],
        "stream_chunks": len(chunks),
        "stream_text": streamed_text,
        "token_count": mod.token_counter(model="gpt-4o", messages=TOKEN_MESSAGES),
        "cost_http": mod.completion_cost(completion_response=r_http),
    }

    # 2. sync completion through HTTP to the mock
    out["http"] = latency(lambda: mod.completion(**http_kw), cfg["http_n"], cfg["http_warmup"])
    settle()

    # 3. mock_response (no network)
    out["mock"] = latency(lambda: mod.completion(**mock_kw), cfg["mock_n"], cfg["mock_warmup"])
    settle()

    # 5. token_counter
    out["token_counter"] = latency(
        lambda: mod.token_counter(model="gpt-4o", messages=TOKEN_MESSAGES),
        cfg["tok_n"],
        cfg["tok_warmup"],
    )
    settle()

    # 7. completion_cost of an HTTP response
    out["cost"] = latency(
        lambda: mod.completion_cost(completion_response=r_http), cfg["cost_n"], cfg["cost_warmup"]
    )
    settle()

    # 6. streaming, 20 content chunks, whole stream consumed
    def one_stream() -> None:
        for _ in mod.completion(**stream_kw):
            pass

    out["stream"] = latency(one_stream, cfg["stream_n"], cfg["stream_warmup"])
    out["stream"]["chunks_per_stream"] = len(chunks)
    settle()

    # 4. asyncio.gather of N acompletion calls (HTTP, then mock_response)
    # One event loop for both: LiteLLM caches its async HTTP clients per loop.
    async def both() -> tuple[dict, dict]:
        g_http = await gather_rounds(mod, http_kw, cfg)
        await asyncio.sleep(0.3)
        g_mock = await gather_rounds(mod, mock_kw, cfg)
        return g_http, g_mock

    out["gather_http"], out["gather_mock"] = asyncio.run(both())
    return out


async def gather_rounds(mod, kw: dict, cfg: dict) -> dict:
    n = cfg["gather_n"]
    # warm-up at full size: connection pool grown to this concurrency, lazy imports, runtimes
    await asyncio.gather(*[mod.acompletion(**kw) for _ in range(cfg["gather_warmup"])])
    rates, errors = [], []
    for _ in range(cfg["gather_rounds"]):
        gc.collect()
        t0 = time.perf_counter_ns()
        results = await asyncio.gather(
            *[mod.acompletion(**kw) for _ in range(n)], return_exceptions=True
        )
        dt = time.perf_counter_ns() - t0
        bad = [r for r in results if isinstance(r, BaseException)]
        if bad:
            errors.append(
                f"{len(bad)}/{n} failed, e.g. {type(bad[0]).__name__}: {str(bad[0])[:200]}"
            )
        rates.append(n / (dt / 1e9))
        await asyncio.sleep(0.2)
    return {
        "n": n,
        "best_calls_per_s": max(rates),
        "rates": [round(r) for r in rates],
        "errors": errors,
    }


def _version(mod, name: str) -> str:
    v = getattr(mod, "__version__", None)
    if v:
        return str(v)
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


# ------------------------------------------------------------------------------------------------
# floor: plain http.client, kept-alive connection, no SDK
# ------------------------------------------------------------------------------------------------
def measure_floor(base: str, cfg: dict) -> dict:
    import http.client
    from urllib.parse import urlsplit

    u = urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port)
    headers = {"Authorization": "Bearer k", "Content-Type": "application/json"}
    body = json.dumps({"model": "gpt-4o-mini", "messages": MESSAGES}).encode()
    sbody = json.dumps({"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True}).encode()
    sheaders = dict(headers, **{"x-mock-chunk-count": str(STREAM_CHUNKS)})

    def post() -> None:
        conn.request("POST", "/v1/chat/completions", body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"mock answered {resp.status}: {data[:200]!r}")

    def post_json() -> None:
        conn.request("POST", "/v1/chat/completions", body=body, headers=headers)
        json.loads(conn.getresponse().read())

    def post_stream() -> None:
        conn.request("POST", "/v1/chat/completions", body=sbody, headers=sheaders)
        resp = conn.getresponse()
        for _line in resp:  # line by line, as an SSE reader would; no JSON parsing
            pass
        resp.read()  # marks the response finished so the connection can be reused

    # the wire alone: one write of the whole request, read until Content-Length is satisfied,
    # no header parsing beyond that (kernel loopback + the mock + two process wake-ups)
    import socket

    raw = socket.create_connection((u.hostname, u.port))
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    request = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer k\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
        % (u.netloc.encode(), len(body))
    ) + body

    def post_raw() -> None:
        raw.sendall(request)
        buf = b""
        while True:
            chunk = raw.recv(65536)
            if not chunk:
                raise RuntimeError("mock closed the connection")
            buf += chunk
            end = buf.find(b"\r\n\r\n")
            if end >= 0:
                head = buf[:end].lower()
                i = head.find(b"content-length:")
                length = int(
                    head[i + 15 : head.find(b"\r\n", i) if head.find(b"\r\n", i) > 0 else None]
                )
                if len(buf) >= end + 4 + length:
                    return

    post()
    post_raw()
    return {
        "module": "floor",
        "python": sys.version.split()[0],
        "raw": latency(post_raw, cfg["floor_n"], cfg["floor_warmup"]),
        "http": latency(post, cfg["floor_n"], cfg["floor_warmup"]),
        "http_json": latency(post_json, cfg["floor_n"], cfg["floor_warmup"]),
        "stream": latency(post_stream, cfg["floor_stream_n"], cfg["floor_warmup"]),
    }


def main() -> None:
    module_name, base, cfg_json = sys.argv[1], sys.argv[2], sys.argv[3]
    cfg = json.loads(cfg_json)
    if module_name == "floor":
        result = measure_floor(base, cfg)
    else:
        result = measure_sdk(module_name, base, cfg)
    sys.stdout.write("BENCH_RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
