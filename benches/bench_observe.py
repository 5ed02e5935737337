"""CPU cost of the logging integrations in the proxy: CPU time of the proxy process per
proxied request at 32 connections, bare (the default request log only) against
``callbacks: ["otel", "prometheus", "langfuse"]`` sending to the mock's OTLP and Langfuse
receivers, in alternating runs.

    python3 benches/bench_observe.py [--profile release] [--duration 10] [--rounds 3] [--out FILE]

Needs ``wrk`` and binaries of ``llmrelay-proxy`` and ``llmrelay-mock`` built with the profile
(``cargo build --profile PROFILE -p llmrelay-proxy -p llmrelay-mock``). The issue's target:
with the three integrations on, CPU per request ≤ 1.2× the bare proxy's.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
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

INTEGRATIONS = '  callbacks: ["otel", "prometheus", "langfuse"]\n'


def run_proxy(proxy_bin: Path, config: Path, env: dict, script: Path, seconds: int) -> dict:
    port = free_port()
    proxy = start([str(proxy_bin), "--config", str(config), "--port", str(port), "--host",
                   "127.0.0.1"], env)
    try:
        wait_ready(f"http://127.0.0.1:{port}/health/liveliness", proxy)
        url = f"http://127.0.0.1:{port}/v1/chat/completions"
        wrk(url, script, 32, 2)  # warm-up
        return measured_wrk(proxy, url, script, 32, seconds)
    finally:
        stop(proxy)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="release")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk not found: apt-get install -y wrk", file=sys.stderr)
        return 2
    binaries = target_dir() / args.profile
    proxy_bin, mock_bin = binaries / "llmrelay-proxy", binaries / "llmrelay-mock"
    for binary in (proxy_bin, mock_bin):
        if not binary.exists():
            print(f"{binary} missing: build it with --profile {args.profile}", file=sys.stderr)
            return 2
    work = Path(tempfile.mkdtemp(prefix="bench-observe-"))
    mock = start([str(mock_bin), "--port", "0", "--no-record", "--threads", "1"], capture=True)
    rows: dict[str, list[dict]] = {"bare": [], "otel + prometheus + langfuse": []}
    try:
        mock_url = re.search(r"(http://\S+)", mock.stdout.readline()).group(1)
        wait_ready(mock_url + "/__mock/health", mock)
        bare = config_file(work, mock_url)
        observed = work / "observed.yaml"
        observed.write_text(bare.read_text() + "litellm_settings:\n" + INTEGRATIONS)
        script = lua_script(work, "whole", BODY)
        env = {"LITELLM_MASTER_KEY": MASTER_KEY, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
        observed_env = {
            **env,
            "OTEL_EXPORTER_OTLP_ENDPOINT": mock_url,
            "LANGFUSE_PUBLIC_KEY": "pk-lf-bench",
            "LANGFUSE_SECRET_KEY": "sk-lf-bench",
            "LANGFUSE_HOST": mock_url,
        }
        load_before = load_average()
        for _ in range(args.rounds):
            rows["bare"].append(run_proxy(proxy_bin, bare, env, script, args.duration))
            rows["otel + prometheus + langfuse"].append(
                run_proxy(proxy_bin, observed, observed_env, script, args.duration)
            )
        load_after = load_average()
    finally:
        stop(mock)
        shutil.rmtree(work, ignore_errors=True)
    medians = {
        name: statistics.median(r["cpu_us_per_request"] for r in runs)
        for name, runs in rows.items()
    }
    ratio = medians["otel + prometheus + langfuse"] / medians["bare"]
    lines = [
        f"# Logging integrations: proxy CPU per request "
        f"({datetime.datetime.now().isoformat(timespec='minutes')})",
        "",
        f"Machine: {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}; "
        f"profile `{args.profile}`; wrk at 32 connections, {args.duration} s per run, "
        f"{args.rounds} alternating rounds; mock upstream and receivers in one process "
        f"(0 latency, 1 thread, no recording). Load average {load_before} → {load_after} "
        "(other work shared the machine).",
        "",
        "| proxy | CPU µs / request (median) | runs (µs / request) | req/s (median) |",
        "|---|---|---|---|",
    ]
    for name, runs in rows.items():
        cpu = ", ".join(f"{r['cpu_us_per_request']:.0f}" for r in runs)
        rps = statistics.median(r["rps"] for r in runs)
        lines.append(f"| {name} | {medians[name]:.0f} | {cpu} | {rps:.0f} |")
    lines += [
        "",
        f"Ratio: **{ratio:.2f}×** the bare proxy's CPU per request (target ≤ 1.2×). "
        "The bare proxy already writes its request log line per request.",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    out = Path(args.out) if args.out else ROOT / "benches" / "results" / \
        f"observe-{datetime.date.today().isoformat()}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    return 0 if all(r["non_2xx"] == 0 for runs in rows.values() for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
