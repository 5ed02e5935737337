"""What rate limits cost the proxy: CPU time per request and added latency with a virtual key
under key + team + per-model limits, counted in this process and in Redis, against the same
proxy with the master key (no limits); LiteLLM 1.104 with deployment rpm/tpm limits shared
through Redis beside it.

    python3 benches/bench_limits.py [--duration 8] [--profile release] [--litellm PATH]
                                    [--redis redis://127.0.0.1:6379/0] [--out FILE]

Needs ``wrk``, the proxy and mock binaries of ``--profile`` and a Redis (the machine's). The
limits are far above what the run reaches, so every call is admitted and reserved: the figure is
the reservation's cost, not a refusal's.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_proxy import (  # noqa: E402
    BODY, MASTER_KEY, ROOT, free_port, load_average, measured_wrk, start, stop, target_dir,
    wait_ready, wrk,
)

LIMIT = 1_000_000_000


def lua(directory: Path, name: str, key: str, body: dict) -> Path:
    path = directory / f"{name}.lua"
    path.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(json.dumps(body))}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {key}"\n'
    )
    return path


def post(base: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST")
    request.add_header("content-type", "application/json")
    request.add_header("authorization", f"Bearer {MASTER_KEY}")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def config(directory: Path, mock_url: str, redis: str | None, litellm_limits: bool = False,
           redis_host: tuple[str, int] | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.yaml"
    lines = [
        "model_list:",
        "  - model_name: gpt-4o-mini",
        "    litellm_params:",
        "      model: openai/gpt-4o-mini",
        f"      api_base: {mock_url}/v1",
        "      api_key: sk-mock",
    ]
    if litellm_limits:
        lines += [f"      rpm: {LIMIT}", f"      tpm: {LIMIT}"]
    lines += ["general_settings:", "  master_key: os.environ/LITELLM_MASTER_KEY"]
    if redis:
        lines += ["  rate_limits:", f"    redis_url: {redis}"]
    if redis_host:
        lines += ["router_settings:", "  routing_strategy: usage-based-routing-v2",
                  f"  redis_host: {redis_host[0]}", f"  redis_port: {redis_host[1]}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def run_case(name: str, command: list[str], env: dict, port: int, setup, seconds: int) -> dict:
    process = start(command, env)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base + "/health/liveliness", process, 300)
        script = setup(base)
        url = base + "/v1/chat/completions"
        wrk(url, script, 32, 2)  # warm-up
        load_before = load_average()
        whole = measured_wrk(process, url, script, 32, seconds)
        single = measured_wrk(process, url, script, 1, seconds, threads=1)
        return {"name": name, "whole": whole, "single": single,
                "load": f"{load_before} → {load_average()}"}
    finally:
        stop(process)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--profile", default="release")
    parser.add_argument("--litellm", default="/opt/litellm-venv/bin/litellm")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk not found: apt-get install -y wrk", file=sys.stderr)
        return 2
    binaries = target_dir() / args.profile
    proxy_bin, mock_bin = binaries / "llmrelay-proxy", binaries / "llmrelay-mock"
    work = Path(tempfile.mkdtemp(prefix="bench-limits-"))
    mock = start([str(mock_bin), "--port", "0", "--no-record", "--threads", "1"], capture=True)
    results = []
    try:
        mock_url = re.search(r"(http://\S+)", mock.stdout.readline()).group(1)
        wait_ready(mock_url + "/__mock/health", mock)
        direct = wrk(mock_url + "/v1/chat/completions", lua(work, "direct", "x", BODY), 1,
                     args.duration, threads=1)
        env = {"LITELLM_MASTER_KEY": MASTER_KEY, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}

        def master(base: str) -> Path:
            return lua(work, "master", MASTER_KEY, BODY)

        def limited(base: str) -> Path:
            team = post(base, "/team/new", {"rpm_limit": LIMIT, "tpm_limit": LIMIT})["team_id"]
            key = post(base, "/key/generate", {
                "team_id": team, "rpm_limit": LIMIT, "tpm_limit": LIMIT,
                "metadata": {"model_rpm_limit": {"gpt-4o-mini": LIMIT}},
            })["key"]
            return lua(work, f"limited-{free_port()}", key, BODY)

        cases = [
            ("master key (no limits)", None, master),
            ("key + team + model limits, in-process", None, limited),
            ("key + team + model limits, Redis", args.redis, limited),
        ]
        for index, (name, redis, setup) in enumerate(cases):
            port = free_port()
            path = config(work / f"case{index}", mock_url, redis)
            results.append(run_case(name, [str(proxy_bin), "--config", str(path), "--port",
                                           str(port), "--host", "127.0.0.1"], env, port, setup,
                                    args.duration))
        if Path(args.litellm).exists():
            host = re.match(r"redis://([^:/]+):(\d+)", args.redis)
            redis_host = (host.group(1), int(host.group(2))) if host else None
            for name, limits in (("LiteLLM 1.104, no limits", False),
                                 ("LiteLLM 1.104, deployment rpm/tpm in Redis", True)):
                port = free_port()
                path = config(work / f"litellm-{limits}", mock_url, None, limits,
                              redis_host if limits else None)
                results.append(run_case(name, [args.litellm, "--config", str(path), "--port",
                                               str(port), "--host", "127.0.0.1",
                                               "--num_workers", "1"], env, port, master,
                                        args.duration))
    finally:
        stop(mock)
        shutil.rmtree(work, ignore_errors=True)
    report = render(results, direct, args.duration)
    print(report)
    out = Path(args.out) if args.out else ROOT / "benches" / "results" / \
        f"limits-{datetime.date.today().isoformat()}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    return 0


def render(results: list[dict], direct: dict, seconds: int) -> str:
    base = results[0]
    lines = [
        f"# Rate-limit cost ({datetime.datetime.now().isoformat(timespec='minutes')})",
        "",
        f"Machine: {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}. wrk on "
        f"the same machine, {seconds} s per run; mock upstream with 0 latency. Proxy CPU only "
        "(Redis's own CPU is not in the figure).",
        "",
        "| case | CPU µs/request @32 | × master key | req/s @32 | p50 @1 | added p50 over master "
        "| p99 @1 | errors | load |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        cpu = result["whole"]["cpu_us_per_request"]
        ratio = cpu / base["whole"]["cpu_us_per_request"]
        added = result["single"]["p50_us"] - base["single"]["p50_us"]
        errors = result["whole"]["non_2xx"] + result["single"]["non_2xx"]
        lines.append(
            f"| {result['name']} | {cpu:.0f} | {ratio:.2f} | {result['whole']['rps']:.0f} "
            f"| {result['single']['p50_us']:.0f} µs | {added:.0f} µs "
            f"| {result['single']['p99_us']:.0f} µs | {errors} | {result['load']} |"
        )
    lines += ["", f"Mock alone: p50 {direct['p50_us']:.0f} µs at 1 connection.", "", "Raw:", "",
              "```json", json.dumps(results, indent=1), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
