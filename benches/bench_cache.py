"""Response-cache hits through the proxy: llmrelay's against LiteLLM 1.104's, both with
``litellm_settings.cache`` (in memory, then Redis) in front of the same mock upstream.

    python3 benches/bench_cache.py [--profile release] [--duration 8] [--litellm PATH]
                                   [--redis-host 127.0.0.1] [--out FILE]

For each proxy and cache, the same server answers ``GET /health/liveliness`` (a 200 with no
work behind it) and a chat request whose answer is in the cache (one call primes it). The
figure the issue sets is the latency a hit adds over the health route, at one connection
(p50), and the proxy's CPU time per request at 32 connections. llmrelay runs without its
database (``LLMRELAY_DISABLE_DATABASE=true``) because LiteLLM's database cannot run here, so
neither writes a spend row. Needs ``wrk``, the binaries of ``llmrelay-proxy`` and
``llmrelay-mock`` built with the profile, a Redis, and LiteLLM in its own venv.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import shutil
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_proxy import (  # noqa: E402
    BODY,
    MASTER_KEY,
    ROOT,
    config_file,
    free_port,
    load_average,
    lua_script,
    measured_wrk,
    start,
    stop,
    target_dir,
    wait_ready,
    wrk,
)


def get_script(directory: Path) -> Path:
    path = directory / "health.lua"
    path.write_text(f'wrk.method = "GET"\nwrk.headers["Authorization"] = "Bearer {MASTER_KEY}"\n')
    return path


def config(directory: Path, mock_url: str, cache_params: str) -> Path:
    """bench_proxy's config with ``litellm_settings.cache`` and these ``cache_params``."""
    base = config_file(directory, mock_url).read_text()
    path = directory / f"config-{uuid.uuid4().hex[:8]}.yaml"
    path.write_text(base + "litellm_settings:\n  cache: true\n  cache_params:\n" + cache_params)
    return path


def prime(base: str) -> bool:
    """One call stores the answer; true once a second call is a hit."""
    body = json.dumps(BODY).encode()
    headers = {"Authorization": f"Bearer {MASTER_KEY}", "Content-Type": "application/json"}
    for _ in range(100):
        request = urllib.request.Request(base + "/v1/chat/completions", body, headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            hit = response.headers.get("x-litellm-cache-key") is not None
            cost = response.headers.get("x-litellm-response-cost")
        if hit or cost in ("0", "0.0"):
            return True
        time.sleep(0.05)
    return False


def run(name: str, command: list[str], env: dict, scripts: dict, seconds: int,
        ready_timeout: float) -> dict:
    port = free_port()
    process = start(command + ["--port", str(port), "--host", "127.0.0.1"], env)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base + "/health/liveliness", process, ready_timeout)
        hit_ok = prime(base)
        health_url, chat_url = base + "/health/liveliness", base + "/v1/chat/completions"
        wrk(health_url, scripts["health"], 32, 2)
        wrk(chat_url, scripts["chat"], 32, 2)
        load = load_average()
        result = {
            "name": name,
            "hit_confirmed": hit_ok,
            "health_1": measured_wrk(process, health_url, scripts["health"], 1, seconds, 1),
            "hit_1": measured_wrk(process, chat_url, scripts["chat"], 1, seconds, 1),
            "health_32": measured_wrk(process, health_url, scripts["health"], 32, seconds),
            "hit_32": measured_wrk(process, chat_url, scripts["chat"], 32, seconds),
        }
        result["load"] = f"{load} → {load_average()}"
        return result
    finally:
        stop(process)


def render(results: list[dict], seconds: int, mock_cmd: str) -> str:
    lines = [
        f"# Response-cache hits through the proxy ({datetime.datetime.now().isoformat(timespec='minutes')})",
        "",
        f"Machine: {platform.machine()}, {Path('/proc/cpuinfo').read_text().count('processor')}"
        f" CPUs; wrk {seconds} s per row; mock `{mock_cmd}`. llmrelay without its database;"
        " LiteLLM 1.104 with 1 worker. Added p50 = hit p50 − health-route p50 at 1 connection.",
        "",
        "| proxy, cache | health p50 @1 | hit p50 @1 | **added p50** | hit p99 @1 | health CPU µs/req @32 | hit CPU µs/req @32 | hit req/s @32 | non-2xx | load |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        h1, c1, h32, c32 = r["health_1"], r["hit_1"], r["health_32"], r["hit_32"]
        added = c1["p50_us"] - h1["p50_us"]
        note = "" if r["hit_confirmed"] else " (hit not confirmed)"
        lines.append(
            f"| {r['name']}{note} | {h1['p50_us']:.0f} µs | {c1['p50_us']:.0f} µs | **{added:.0f} µs** | "
            f"{c1['p99_us']:.0f} µs | {h32['cpu_us_per_request']:.0f} | {c32['cpu_us_per_request']:.0f} | "
            f"{c32['rps']:,.0f} | {c1['non_2xx'] + c32['non_2xx']} | {r['load']} |"
        )
    lines.append("")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="release")
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--litellm", default="/opt/litellm-venv/bin/litellm")
    parser.add_argument("--redis-host", default="127.0.0.1")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk not found: apt-get install -y wrk", file=sys.stderr)
        return 2
    release = target_dir() / args.profile
    proxy_bin, mock_bin = release / "llmrelay-proxy", release / "llmrelay-mock"
    for binary in (proxy_bin, mock_bin):
        if not binary.exists():
            print(f"{binary} missing: cargo build --profile {args.profile} -p llmrelay-proxy "
                  "-p llmrelay-mock", file=sys.stderr)
            return 2
    work = Path(tempfile.mkdtemp(prefix="bench-cache-"))
    mock_cmd = [str(mock_bin), "--port", "0", "--no-record", "--threads", "1"]
    mock = start(mock_cmd, capture=True)
    results = []
    try:
        import re

        mock_url = re.search(r"(http://\S+)", mock.stdout.readline()).group(1)
        wait_ready(mock_url + "/__mock/health", mock)
        scripts = {"health": get_script(work), "chat": lua_script(work, "chat", BODY)}
        env = {"LITELLM_MASTER_KEY": MASTER_KEY, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
        caches = {
            "memory": "    type: local\n",
            "Redis": (f"    type: redis\n    host: {args.redis_host}\n    port: 6379\n"
                      f"    namespace: bench-{uuid.uuid4().hex[:8]}\n"),
        }
        for cache, params in caches.items():
            cfg = config(work, mock_url, params)
            results.append(run(f"llmrelay, {cache}", [str(proxy_bin), "--config", str(cfg)],
                               {**env, "LLMRELAY_DISABLE_DATABASE": "true"}, scripts,
                               args.duration, 60))
            if Path(args.litellm).exists():
                results.append(run(f"LiteLLM 1.104, {cache}",
                                   [args.litellm, "--config", str(cfg), "--num_workers", "1"],
                                   env, scripts, args.duration, 300))
    finally:
        stop(mock)
        shutil.rmtree(work, ignore_errors=True)
    report = render(results, args.duration, " ".join(Path(c).name if i == 0 else c
                                                       for i, c in enumerate(mock_cmd)))
    print(report)
    out = Path(args.out) if args.out else ROOT / "benches" / "results" / \
        f"cache-proxy-{datetime.date.today().isoformat()}.md"
    out.write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
