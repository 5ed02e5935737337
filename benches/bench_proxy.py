"""Load benchmark of the proxy: llmrelay's against LiteLLM 1.104's, both in front of the same
zero-latency mock upstream, driven by ``wrk``.

    python3 benches/bench_proxy.py [--build] [--duration 10] [--skip-litellm] [--out FILE]

Needs ``wrk`` (``apt-get install -y wrk``), release binaries of ``llmrelay-proxy`` and
``llmrelay-mock`` (``--build`` runs ``cargo build --release -p llmrelay-proxy -p llmrelay-mock``;
``CARGO_TARGET_DIR`` is honoured) and, for the comparison, LiteLLM in
``/opt/litellm-venv`` (``--litellm PATH`` to change it).

Rows (see ``benches/README.md``): requests/s at 32 connections (whole chat completions), the same
streamed (8 content chunks per answer), latency at 1 connection (p50 / p99, and what the proxy
adds over calling the mock directly), peak RSS under load (the whole process tree), and the time
from process start to the first successful ``/health/liveliness``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MASTER_KEY = "sk-bench-" + "0123456789abcdef" * 2
BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def target_dir() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen, timeout: float = 120.0) -> float:
    """Seconds from now until ``url`` answers 200 (polled every 2 ms)."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return time.perf_counter() - start
        except OSError:
            time.sleep(0.002)
    raise RuntimeError(f"{url} not ready after {timeout} s")


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and its descendants (LiteLLM runs workers as children)."""
    total = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
            pids.extend(int(child) for child in children)
        except (OSError, AttributeError):
            continue
    return total / 1024


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its descendants (every thread counted)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
            pids.extend(int(child) for child in children)
        except (OSError, IndexError, ValueError):
            continue
    return total / ticks


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self._halt = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.peak = max(self.peak, tree_rss_mb(self.pid))
            time.sleep(0.05)

    def stop(self) -> float:
        self._halt.set()
        self.join()
        return self.peak


def lua_script(directory: Path, name: str, body: dict) -> Path:
    path = directory / f"{name}.lua"
    path.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(json.dumps(body))}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {MASTER_KEY}"\n'
    )
    return path


def _duration_us(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 1, "ms": 1e3, "s": 1e6}[unit]


def wrk(url: str, script: Path, connections: int, seconds: int, threads: int = 2) -> dict:
    threads = min(threads, connections)
    output = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script),
         url],
        capture_output=True, text=True, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    percentiles = {
        p: _duration_us(v) for p, v in re.findall(r"^\s+(50|99)%\s+(\S+)", output, re.MULTILINE)
    }
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    return {
        "rps": rps,
        "p50_us": percentiles.get("50"),
        "p99_us": percentiles.get("99"),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
    }


def start(command: list[str], env: dict | None = None, capture: bool = False) -> subprocess.Popen:
    """Start a server in its own process group; only the mock's first line is read, so other
    output goes to /dev/null (an unread pipe would stall a chatty server)."""
    output = subprocess.PIPE if capture else subprocess.DEVNULL
    return subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})}, start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def config_file(directory: Path, mock_url: str) -> Path:
    path = directory / "config.yaml"
    path.write_text(
        "model_list:\n"
        "  - model_name: gpt-4o-mini\n"
        "    litellm_params:\n"
        "      model: openai/gpt-4o-mini\n"
        f"      api_base: {mock_url}/v1\n"
        "      api_key: sk-mock\n"
        "general_settings:\n"
        "  master_key: os.environ/LITELLM_MASTER_KEY\n"
    )
    return path


def measured_wrk(process: subprocess.Popen, url: str, script: Path, connections: int,
                 seconds: int, threads: int = 2) -> dict:
    """A wrk run and the CPU time the server's process tree spent per request during it."""
    cpu_before = tree_cpu_seconds(process.pid)
    result = wrk(url, script, connections, seconds, threads)
    cpu = tree_cpu_seconds(process.pid) - cpu_before
    requests = result["rps"] * seconds
    result["cpu_us_per_request"] = cpu * 1e6 / requests if requests else None
    return result


def measure(name: str, process: subprocess.Popen, base: str, scripts: dict, seconds: int,
            ready_s: float) -> dict:
    url = base + "/v1/chat/completions"
    wrk(url, scripts["whole"], 32, 2)  # warm-up
    sampler = RssSampler(process.pid)
    sampler.start()
    load_before = load_average()
    whole = measured_wrk(process, url, scripts["whole"], 32, seconds)
    rss = sampler.stop()
    streamed = measured_wrk(process, url, scripts["stream"], 32, seconds)
    single = measured_wrk(process, url, scripts["whole"], 1, seconds, threads=1)
    return {"name": name, "ready_ms": ready_s * 1000, "whole": whole, "stream": streamed,
            "single": single, "rss_mb": rss, "load": f"{load_before} → {load_average()}"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", action="store_true")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--skip-litellm", action="store_true")
    parser.add_argument("--litellm", default="/opt/litellm-venv/bin/litellm")
    parser.add_argument("--only-llmrelay", action="store_true",
                        help="measure llmrelay only (iterating on its speed)")
    parser.add_argument("--out", default=None)
    parser.add_argument("--disable-database", action="store_true",
                        help="run llmrelay without its database (no keys, no spend rows)")
    parser.add_argument("--profile", default="release",
                        help="cargo profile whose binaries to run (release; profiling while iterating)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk not found: apt-get install -y wrk", file=sys.stderr)
        return 2
    if args.build:
        subprocess.run(["cargo", "build", "--release", "-p", "llmrelay-proxy", "-p",
                        "llmrelay-mock"], cwd=ROOT, check=True)
    release = target_dir() / args.profile
    proxy_bin, mock_bin = release / "llmrelay-proxy", release / "llmrelay-mock"
    for binary in (proxy_bin, mock_bin):
        if not binary.exists():
            print(f"{binary} missing: run with --build", file=sys.stderr)
            return 2
    work = Path(tempfile.mkdtemp(prefix="bench-proxy-"))
    processes: list[subprocess.Popen] = []
    results = []
    try:
        mock = start([str(mock_bin), "--port", "0", "--no-record", "--threads", "1"], capture=True)
        processes.append(mock)
        mock_url = re.search(r"(http://\S+)", mock.stdout.readline()).group(1)
        wait_ready(mock_url + "/__mock/health", mock)
        config = config_file(work, mock_url)
        scripts = {
            "whole": lua_script(work, "whole", BODY),
            "stream": lua_script(work, "stream", {**BODY, "stream": True}),
        }
        direct = {
            "whole": wrk(mock_url + "/v1/chat/completions", scripts["whole"], 32, args.duration),
            "single": wrk(mock_url + "/v1/chat/completions", scripts["whole"], 1, args.duration,
                          threads=1),
        }
        env = {"LITELLM_MASTER_KEY": MASTER_KEY, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
        # With a master key and a config file the proxy keeps keys and spend in SQLite next to
        # the config (a spend row per call); --disable-database measures the bare gateway.
        proxy_env = {**env, "LLMRELAY_DISABLE_DATABASE": "true"} if args.disable_database else env
        port = free_port()
        proxy = start([str(proxy_bin), "--config", str(config), "--port", str(port), "--host",
                       "127.0.0.1"], proxy_env)
        processes.append(proxy)
        ready = wait_ready(f"http://127.0.0.1:{port}/health/liveliness", proxy)
        results.append(measure("llmrelay-proxy", proxy, f"http://127.0.0.1:{port}", scripts,
                               args.duration, ready))
        stop(proxy)
        if not (args.skip_litellm or args.only_llmrelay) and Path(args.litellm).exists():
            for workers in (1, 2):
                port = free_port()
                litellm = start([args.litellm, "--config", str(config), "--port", str(port),
                                 "--host", "127.0.0.1", "--num_workers", str(workers)], env)
                processes.append(litellm)
                ready = wait_ready(f"http://127.0.0.1:{port}/health/liveliness", litellm, 300)
                results.append(measure(f"LiteLLM 1.104 ({workers} worker{'s' * (workers > 1)})",
                                       litellm, f"http://127.0.0.1:{port}", scripts,
                                       args.duration, ready))
                stop(litellm)
    finally:
        for process in processes:
            stop(process)
        shutil.rmtree(work, ignore_errors=True)
    report = render(results, direct, args.duration)
    print(report)
    out = Path(args.out) if args.out else ROOT / "benches" / "results" / \
        f"proxy-{datetime.date.today().isoformat()}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    return 0


def render(results: list[dict], direct: dict, seconds: int) -> str:
    ours = results[0]
    lines = [
        f"# Proxy load benchmark ({datetime.datetime.now().isoformat(timespec='minutes')})",
        "",
        f"Machine: {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}. wrk on the same machine, {seconds} s per run; "
        "mock upstream with 0 latency, 1 thread, no recording.",
        "",
        f"Mock alone: {direct['whole']['rps']:.0f} req/s at 32 connections; "
        f"p50 {direct['single']['p50_us']:.0f} µs, p99 {direct['single']['p99_us']:.0f} µs at 1.",
        "",
        "| proxy | CPU µs/request @32 | streamed CPU µs/request @32 | req/s @32 "
        "| streamed req/s @32 | p50 @1 | p99 @1 | added p50 | added p99 | peak RSS | ready "
        "| errors | load (1/5/15 min) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        single = result["single"]
        errors = sum(result[k]["non_2xx"] for k in ("whole", "stream", "single"))
        cpu = result["whole"].get("cpu_us_per_request")
        cpu_stream = result["stream"].get("cpu_us_per_request")
        lines.append(
            f"| {result['name']} | {cpu:.0f} | {cpu_stream:.0f} "
            f"| {result['whole']['rps']:.0f} | {result['stream']['rps']:.0f} "
            f"| {single['p50_us']:.0f} µs | {single['p99_us']:.0f} µs "
            f"| {single['p50_us'] - direct['single']['p50_us']:.0f} µs "
            f"| {single['p99_us'] - direct['single']['p99_us']:.0f} µs "
            f"| {result['rss_mb']:.1f} MB | {result['ready_ms']:.0f} ms | {errors} "
            f"| {result['load']} |"
        )
    if len(results) > 1:
        best = max(results[1:], key=lambda r: r["whole"]["rps"])
        lines += ["", f"llmrelay / best LiteLLM throughput: "
                      f"{ours['whole']['rps'] / best['whole']['rps']:.1f}× (whole), "
                      f"{ours['stream']['rps'] / max(best['stream']['rps'], 1e-9):.1f}× (streamed)."]
    lines += ["", "Raw:", "", "```json", json.dumps({"direct": direct, "results": results},
                                                    indent=1), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
