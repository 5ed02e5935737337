#!/usr/bin/env python3
"""SDK benchmark: llmrelay against LiteLLM, same calls, same mock upstream, one command.

    python3 benches/bench_sdk.py [--passes N] [--quick] [--litellm-python PATH] [--out FILE]

Starts the mock upstream (``target/release/llmrelay-mock --threads 1 --no-record`` if built,
else the ``llmrelay-mock`` console script) as a separate process on a free loopback port, runs
``_measure.py`` under this interpreter for ``llmrelay`` and under LiteLLM's venv for ``litellm``
(passes alternate between the two so a burst of load from elsewhere hits both), measures
``import`` in fresh processes, and prints a markdown table that also goes to
``benches/results/sdk-<date>.md``. See ``benches/README.md`` for what each row means.

No network except loopback. The mock is stopped at the end, also on error.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import http.client
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MEASURE = HERE / "_measure.py"
DEFAULT_LITELLM_PYTHON = "/opt/litellm-venv/bin/python"

# Iteration counts. LiteLLM gets fewer: its calls are 10-100x slower, and the whole bench must
# stay within a few minutes on 2 cores.
CONFIG = {
    "llmrelay": {
        "http_n": 3000,
        "http_warmup": 300,
        "mock_n": 10000,
        "mock_warmup": 1000,
        "tok_n": 20000,
        "tok_warmup": 2000,
        "cost_n": 10000,
        "cost_warmup": 1000,
        "stream_n": 1000,
        "stream_warmup": 100,
        "gather_n": 1000,
        "gather_warmup": 1000,
        "gather_rounds": 3,
    },
    "litellm": {
        "http_n": 300,
        "http_warmup": 30,
        "mock_n": 500,
        "mock_warmup": 50,
        "tok_n": 2000,
        "tok_warmup": 200,
        "cost_n": 1000,
        "cost_warmup": 100,
        "stream_n": 100,
        "stream_warmup": 10,
        "gather_n": 1000,
        "gather_warmup": 1000,
        "gather_rounds": 3,
    },
    "floor": {"floor_n": 3000, "floor_warmup": 300, "floor_stream_n": 1000},
}
IMPORT_RUNS = 7

TARGETS = {
    # row key: (comparison, value, unit)
    "import": ("<=", 150.0, "ms"),
    "http_median": ("<=", 150.0, "µs"),
    "mock_median": ("<=", 30.0, "µs"),
    "gather_http": (">=", 10000.0, "calls/s"),
    "tok_median": ("<=", 10.0, "µs"),
}


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------------
# the mock upstream, as a separate process
# ------------------------------------------------------------------------------------------------
class Mock:
    def __init__(self) -> None:
        binary = REPO / "target" / "release" / "llmrelay-mock"
        if binary.is_file() and os.access(binary, os.X_OK):
            self.cmd = [str(binary), "--port", "0", "--threads", "1", "--no-record"]
        else:
            script = shutil.which("llmrelay-mock")
            if script is None:
                raise SystemExit(
                    "no mock: build it (cargo build --release -p llmrelay-mock) "
                    "or install the package (pip install .)"
                )
            # the console script serves on the engine's shared runtime (no --threads)
            self.cmd = [script, "--port", "0", "--no-record"]
        self.proc: subprocess.Popen | None = None
        self.base = ""

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=tempfile.gettempdir(),
        )
        line: list[str] = []
        reader = threading.Thread(
            target=lambda: line.append(self.proc.stdout.readline()), daemon=True
        )
        reader.start()
        reader.join(15)
        if not line or "http://" not in line[0]:
            raise RuntimeError(f"mock did not start: {self.cmd} printed {line!r}")
        self.base = line[0].strip().split()[-1].rstrip("/")
        host, port = self.base.removeprefix("http://").split(":")
        deadline = time.monotonic() + 10
        while True:
            try:
                c = http.client.HTTPConnection(host, int(port), timeout=2)
                c.request("GET", "/__mock/health")
                if c.getresponse().status == 200:
                    c.close()
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("mock health check failed")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


# ------------------------------------------------------------------------------------------------
# running the children
# ------------------------------------------------------------------------------------------------
def child_env() -> dict:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # the installed packages, never a source tree
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # LiteLLM: no fetch of the price map
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_measure(python: str, module: str, base: str, cfg: dict, cwd: str, timeout: float) -> dict:
    cmd = [python, str(MEASURE), module, base, json.dumps(cfg)]
    for attempt in (1, 2):
        try:
            p = subprocess.run(
                cmd,
                check=False,
                capture_output=True,
                text=True,
                cwd=cwd,
                env=child_env(),
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {timeout:.0f} s"}
        for line in p.stdout.splitlines():
            if line.startswith("BENCH_RESULT "):
                return json.loads(line[len("BENCH_RESULT ") :])
        err = (p.stderr or p.stdout).strip().splitlines()[-5:]
        log(f"{module}: attempt {attempt} failed (rc={p.returncode}): {' | '.join(err)}")
        if attempt == 1 and ("ImportError" in p.stderr or "ModuleNotFoundError" in p.stderr):
            log("import failed (package being reinstalled?); retrying in 30 s")
            time.sleep(30)
            continue
        return {"error": " | ".join(err) or f"exit code {p.returncode}"}
    return {"error": "failed twice"}


def import_times(pythons: dict[str, str], cwd: str, runs: int) -> dict[str, dict]:
    """Wall time of ``import MODULE`` in a fresh interpreter; one untimed run first (page cache),
    then ``runs`` runs, the libraries interleaved."""
    out: dict[str, list[float]] = {m: [] for m in pythons}
    errors: dict[str, str] = {}
    for i in range(runs + 1):
        for module, python in pythons.items():
            if module in errors:
                continue
            code = (
                f"import time; t=time.perf_counter(); import {module}; print(time.perf_counter()-t)"
            )
            p = subprocess.run(
                [python, "-c", code],
                check=False,
                capture_output=True,
                text=True,
                cwd=cwd,
                env=child_env(),
                timeout=60,
            )
            try:
                value = float(p.stdout.strip().splitlines()[-1])
            except (ValueError, IndexError):
                errors[module] = (p.stderr.strip().splitlines() or ["?"])[-1]
                continue
            if i > 0:
                out[module].append(value * 1e3)
    result = {}
    for module, values in out.items():
        if module in errors:
            result[module] = {"error": errors[module]}
        else:
            result[module] = {
                "median_ms": statistics.median(values),
                "runs_ms": [round(v, 1) for v in values],
            }
    return result


# ------------------------------------------------------------------------------------------------
# merging passes and writing the table
# ------------------------------------------------------------------------------------------------
LATENCY_KEYS = ("http", "mock", "token_counter", "cost", "stream")
GATHER_KEYS = ("gather_http", "gather_mock")


def best_of(passes: list[dict]) -> dict:
    """Per row, the best pass: lowest median for latencies, highest rate for throughputs."""
    ok = [p for p in passes if "error" not in p]
    if not ok:
        return {"error": passes[0].get("error", "no pass") if passes else "not run"}
    best = dict(ok[0])
    for key in LATENCY_KEYS:
        best[key] = min((p[key] for p in ok), key=lambda r: r["median_us"])
    for key in GATHER_KEYS:
        best[key] = max((p[key] for p in ok), key=lambda r: r["best_calls_per_s"])
    return best


def fmt_us(v: float | None) -> str:
    if v is None:
        return "—"
    if v >= 1000:
        return f"{v:,.0f} µs"
    if v >= 100:
        return f"{v:.0f} µs"
    return f"{v:.1f} µs"


def fmt_ms(v: float | None) -> str:
    return "—" if v is None else (f"{v:.0f} ms" if v >= 100 else f"{v:.2f} ms")


def fmt_rate(v: float | None, unit: str) -> str:
    return "—" if v is None else f"{v:,.0f} {unit}"


def target_cell(key: str, value: float | None) -> str:
    if key not in TARGETS:
        return ""
    op, limit, unit = TARGETS[key]
    text = f"{'≤' if op == '<=' else '≥'} {limit:,.0f} {unit}"
    if value is None:
        return text
    met = value <= limit if op == "<=" else value >= limit
    return f"{text}: {'met' if met else '**missed**'}"


def ratio_cell(ours: float | None, theirs: float | None, lower_is_better: bool) -> str:
    if ours is None or theirs is None or ours == 0 or theirs == 0:
        return "—"
    r = theirs / ours if lower_is_better else ours / theirs
    return f"{r:,.1f}×"


def g(d: dict, *path):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d


def build_rows(
    ours: dict, theirs: dict, imports: dict, import_runs: int
) -> list[tuple[str, str, str, str, str]]:
    rows = []

    def lat(label, key, field, tkey=None, unit="us"):
        a, b = g(ours, key, field), g(theirs, key, field)
        if unit == "ms":
            a = None if a is None else a / 1e3
            b = None if b is None else b / 1e3
            f = fmt_ms
        else:
            f = fmt_us
        rows.append(
            (label, f(a), f(b), ratio_cell(a, b, True), target_cell(tkey, a) if tkey else "")
        )

    a, b = g(imports, "llmrelay", "median_ms"), g(imports, "litellm", "median_ms")
    rows.append(
        (
            f"`import` in a fresh process, median of {import_runs}",
            fmt_ms(a),
            fmt_ms(b),
            ratio_cell(a, b, True),
            target_cell("import", a),
        )
    )
    n_ours, n_theirs = g(ours, "http", "n"), g(theirs, "http", "n")
    lat(
        f"`completion` via HTTP to the mock, median ({n_ours} / {n_theirs} calls)",
        "http",
        "median_us",
        "http_median",
    )
    lat("`completion` via HTTP to the mock, p99", "http", "p99_us")
    n_ours, n_theirs = g(ours, "mock", "n"), g(theirs, "mock", "n")
    lat(
        f"`completion(mock_response=…)`, median ({n_ours} / {n_theirs} calls)",
        "mock",
        "median_us",
        "mock_median",
    )
    lat("`completion(mock_response=…)`, p99", "mock", "p99_us")
    for key, label, tkey in (
        (
            "gather_http",
            "`asyncio.gather` of 1,000 `acompletion` via HTTP, best of {rounds}",
            "gather_http",
        ),
        (
            "gather_mock",
            "`asyncio.gather` of 1,000 `acompletion(mock_response=…)`, best of {rounds}",
            None,
        ),
    ):
        a, b = g(ours, key, "best_calls_per_s"), g(theirs, key, "best_calls_per_s")
        rounds = len(g(ours, key, "rates") or g(theirs, key, "rates") or [0, 0, 0])
        rows.append(
            (
                label.format(rounds=rounds),
                fmt_rate(a, "calls/s"),
                fmt_rate(b, "calls/s"),
                ratio_cell(a, b, False),
                target_cell(tkey, a) if tkey else "",
            )
        )
    tok = g(ours, "check", "token_count")
    lat(
        f'`token_counter("gpt-4o", "Hello world")` (= {tok} tokens), median',
        "token_counter",
        "median_us",
        "tok_median",
    )
    chunks = g(ours, "stream", "chunks_per_stream") or g(theirs, "stream", "chunks_per_stream")
    lat(
        f"stream via HTTP, {chunks} chunks consumed, median per stream",
        "stream",
        "median_us",
        unit="ms",
    )
    rates = []
    for r in (ours, theirs):
        med, n = g(r, "stream", "median_us"), g(r, "stream", "chunks_per_stream")
        rates.append(None if not med or not n else n / (med / 1e6))
    rows.append(
        (
            "stream via HTTP, chunks/s (chunks ÷ median stream time)",
            fmt_rate(rates[0], "chunks/s"),
            fmt_rate(rates[1], "chunks/s"),
            ratio_cell(rates[0], rates[1], False),
            "",
        )
    )
    lat("`completion_cost(completion_response=r)`, median", "cost", "median_us")
    return rows


def checks(ours: dict, theirs: dict) -> list[str]:
    a, b = ours.get("check") or {}, theirs.get("check") or {}
    if not a or not b:
        return []
    lines = []
    for key, what in (
        ("http_content", "HTTP answer text"),
        ("http_usage", "HTTP usage [prompt, completion]"),
        ("mock_content", "mock_response text"),
        ("mock_usage", "mock_response usage [prompt, completion]"),
        ("stream_chunks", "chunks per stream (role + 20 content + finish)"),
        ("stream_text", "streamed text"),
        ("token_count", 'token_counter(gpt-4o, "Hello world")'),
        ("cost_http", "completion_cost of the HTTP answer (USD)"),
    ):
        va, vb = a.get(key), b.get(key)
        same = (
            (abs(va - vb) <= 1e-12 * max(1.0, abs(va)))
            if isinstance(va, float) and isinstance(vb, float)
            else va == vb
        )
        lines.append(
            f"- {what}: llmrelay `{va!r}`, LiteLLM `{vb!r}` — {'same' if same else '**DIFFERENT**'}"
        )
    for r, name in ((ours, "llmrelay"), (theirs, "LiteLLM")):
        for key in GATHER_KEYS:
            for e in g(r, key, "errors") or []:
                lines.append(f"- {name} {key}: {e}")
    return lines


def machine_facts() -> dict:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        nproc = subprocess.run(
            ["nproc"], check=False, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        nproc = str(os.cpu_count())
    try:
        affinity = ",".join(str(c) for c in sorted(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        affinity = "?"
    return {"nproc": nproc, "cpu": cpu, "kernel": platform.release(), "affinity": affinity}


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def render(
    rows,
    facts: dict,
    notes: list[str],
    floor: dict,
    ours: dict,
    theirs: dict,
    litellm_label: str,
    check_lines: list[str],
    passes: list[dict],
    imports: dict,
) -> str:
    out = []
    out.append(f"# SDK benchmark: llmrelay vs LiteLLM — {facts['date']}")
    out.append("")
    out.append(
        "Same calls under both libraries, against the project's mock upstream (`llmrelay-mock`), "
        "which runs as a separate process on the same machine. Ratio: how many times faster "
        "llmrelay is (LiteLLM ÷ llmrelay for times, llmrelay ÷ LiteLLM for rates)."
    )
    out.append("")
    out.append(
        f"| measurement | llmrelay {facts['llmrelay_version']} | {litellm_label} | ratio | target |"
    )
    out.append("|---|---:|---:|---:|---|")
    for r in rows:
        out.append("| " + " | ".join(r) + " |")
    out.append("")
    out.append(
        "Reference rows: the floor, round trips to the same mock from plain Python on one kept-alive "
        f"connection, no SDK (Python {facts['python']}):"
    )
    out.append("")
    out.append("| reference | median | p99 |")
    out.append("|---|---:|---:|")
    if "error" in floor:
        out.append(f"| http.client | error: {floor['error']} | |")
    else:
        out.append(
            f"| raw socket: the whole request in one write, read until Content-Length (no parsing) | {fmt_us(g(floor, 'raw', 'median_us'))} | {fmt_us(g(floor, 'raw', 'p99_us'))} |"
        )
        out.append(
            f"| `http.client` POST `/v1/chat/completions`, body read (bytes only) | {fmt_us(g(floor, 'http', 'median_us'))} | {fmt_us(g(floor, 'http', 'p99_us'))} |"
        )
        out.append(
            f"| `http.client`, same + `json.loads` of the body | {fmt_us(g(floor, 'http_json', 'median_us'))} | {fmt_us(g(floor, 'http_json', 'p99_us'))} |"
        )
        out.append(
            f"| `http.client` streamed POST, 20 chunks, read line by line (no JSON) | {fmt_us(g(floor, 'stream', 'median_us'))} | {fmt_us(g(floor, 'stream', 'p99_us'))} |"
        )
    out.append("")
    out.append("## Machine and run")
    out.append("")
    out.append(f"- date: {facts['date']}; wall time of the bench: {facts['wall_s']:.0f} s")
    out.append(
        f"- CPU: {facts['cpu']}; nproc: {facts['nproc']}; CPUs the bench (mock included) may run on: "
        f"{facts['affinity']}; kernel {facts['kernel']}"
    )
    out.append(
        f"- Python: {facts['python']} (llmrelay); {facts.get('litellm_python_version', '—')} (LiteLLM venv)"
    )
    out.append(f"- llmrelay {facts['llmrelay_version']} from `{g(ours, 'file') or '?'}`")
    out.append(f"- LiteLLM {facts.get('litellm_version', '—')} from `{g(theirs, 'file') or '—'}`")
    out.append(f"- mock: `{' '.join(facts['mock_cmd'])}` (separate process, same machine)")
    out.append(
        f"- load average (1/5/15 min) at start: {facts['load_start']}; at end: {facts['load_end']}"
    )
    out.append(
        f"- passes: {facts['passes']} (llmrelay and LiteLLM alternate); each row shows the best pass; "
        "a median is the median of 5 block medians within a pass, p99 is over all samples of that pass"
    )
    out.append("")
    if check_lines:
        out.append("## Same work, same answers")
        out.append("")
        out.extend(check_lines)
        out.append("")
    if notes:
        out.append("## Notes")
        out.append("")
        out.extend(f"- {n}" for n in notes)
        out.append("")
    out.append("## Every pass")
    out.append("")
    out.append(
        "| pass | library | HTTP median µs | mock median µs | token_counter µs | cost µs | stream ms | gather HTTP calls/s (rounds) | gather mock calls/s (rounds) |"
    )
    out.append("|---|---|---:|---:|---:|---:|---:|---|---|")
    for p in passes:
        for name, r in (("llmrelay", p.get("llmrelay")), ("LiteLLM", p.get("litellm"))):
            if r is None:
                continue
            if "error" in r:
                out.append(f"| {p['pass']} | {name} | error: {r['error'][:120]} | | | | | | |")
                continue
            out.append(
                f"| {p['pass']} | {name} | {g(r, 'http', 'median_us'):.1f} | {g(r, 'mock', 'median_us'):.1f} | "
                f"{g(r, 'token_counter', 'median_us'):.2f} | {g(r, 'cost', 'median_us'):.1f} | "
                f"{g(r, 'stream', 'median_us') / 1e3:.2f} | {g(r, 'gather_http', 'rates')} | {g(r, 'gather_mock', 'rates')} |"
            )
    out.append("")
    out.append(
        "Floor per pass (median µs, raw socket / http.client): "
        + "; ".join(
            f"pass {p['pass']}: {g(p, 'floor', 'raw', 'median_us') or 0:.1f} / {g(p, 'floor', 'http', 'median_us') or 0:.1f}"
            for p in passes
        )
    )
    out.append("")
    out.append(
        "Import runs (ms): "
        + "; ".join(f"{m}: {v.get('runs_ms', v.get('error'))}" for m, v in imports.items())
    )
    out.append("")
    return "\n".join(out)


def scale(cfg: dict, factor: float) -> dict:
    out = {}
    for k, v in cfg.items():
        if k in ("gather_n", "gather_rounds", "gather_warmup"):
            out[k] = v
        else:
            out[k] = max(5, int(v * factor))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--passes", type=int, default=2, help="measurement passes per library (default 2)"
    )
    ap.add_argument(
        "--quick", action="store_true", help="a smoke run: 1 pass, 10%% of the iterations"
    )
    ap.add_argument("--litellm-python", default=DEFAULT_LITELLM_PYTHON)
    ap.add_argument(
        "--out", default=None, help="markdown file (default benches/results/sdk-<date>.md)"
    )
    args = ap.parse_args()

    # SIGTERM ends the run through the `finally` that stops the mock
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    date = _dt.datetime.now().strftime("%Y-%m-%d")
    configs = {k: dict(v) for k, v in CONFIG.items()}
    passes_n = args.passes
    import_runs = IMPORT_RUNS
    if args.quick:
        configs = {k: scale(v, 0.1) for k, v in configs.items()}
        for k in ("llmrelay", "litellm"):
            configs[k]["gather_rounds"] = 1
        passes_n, import_runs = 1, 3

    pythons = {"llmrelay": sys.executable}
    notes: list[str] = []
    litellm_label = "LiteLLM"
    if Path(args.litellm_python).is_file():
        pythons["litellm"] = args.litellm_python
    else:
        notes.append(f"LiteLLM column skipped: no interpreter at `{args.litellm_python}`.")

    facts = machine_facts()
    facts.update(date=date, python=sys.version.split()[0], load_start=loadavg(), passes=passes_n)
    facts["llmrelay_version"] = (
        subprocess.run(
            [sys.executable, "-c", "import llmrelay; print(llmrelay.__version__)"],
            check=False,
            capture_output=True,
            text=True,
            cwd=tempfile.gettempdir(),
            env=child_env(),
        ).stdout.strip()
        or "?"
    )
    if "litellm" in pythons:
        v = subprocess.run(
            [
                pythons["litellm"],
                "-c",
                "import sys, importlib.metadata as m; print(m.version('litellm'), sys.version.split()[0])",
            ],
            check=False,
            capture_output=True,
            text=True,
            cwd=tempfile.gettempdir(),
            env=child_env(),
        ).stdout.split()
        if len(v) == 2:
            facts["litellm_version"], facts["litellm_python_version"] = v
            litellm_label = f"LiteLLM {v[0]}"

    mock = Mock()
    facts["mock_cmd"] = [
        os.path.relpath(mock.cmd[0], REPO) if mock.cmd[0].startswith(str(REPO)) else mock.cmd[0]
    ] + mock.cmd[1:]
    if "--threads" not in mock.cmd:
        notes.append(
            "The mock is the `llmrelay-mock` console script (no release binary built): it serves "
            "on the engine runtime's threads, so HTTP rows may differ a little."
        )
    passes: list[dict] = []
    floor: dict = {"error": "not run"}
    imports: dict = {}
    with tempfile.TemporaryDirectory(prefix="llmrelay-bench-") as cwd:
        try:
            mock.start()
            log(f"mock at {mock.base} ({' '.join(mock.cmd)})")
            log(f"import times ({import_runs} runs each, fresh processes)")
            imports = import_times(pythons, cwd, import_runs)
            for i in range(passes_n):
                entry: dict = {"pass": i + 1}
                order = list(pythons) if i % 2 == 0 else list(reversed(list(pythons)))
                for module in order:
                    t0 = time.monotonic()
                    log(f"pass {i + 1}/{passes_n}: {module}")
                    entry[module] = run_measure(
                        pythons[module], module, mock.base, configs[module], cwd, 200
                    )
                    log(
                        f"pass {i + 1}/{passes_n}: {module} done in {time.monotonic() - t0:.1f} s"
                        + (f" — ERROR {entry[module]['error']}" if "error" in entry[module] else "")
                    )
                log(f"pass {i + 1}/{passes_n}: floor (http.client, kept-alive)")
                entry["floor"] = run_measure(
                    sys.executable, "floor", mock.base, configs["floor"], cwd, 120
                )
                passes.append(entry)
        finally:
            mock.stop()

    floors = [p["floor"] for p in passes if "error" not in p.get("floor", {"error": 1})]
    if floors:
        floor = {
            k: min((f[k] for f in floors), key=lambda r: r["median_us"])
            for k in ("raw", "http", "http_json", "stream")
        }
    elif passes:
        floor = passes[0].get("floor", floor)
    ours = best_of([p["llmrelay"] for p in passes if "llmrelay" in p])
    theirs = (
        best_of([p["litellm"] for p in passes if "litellm" in p]) if "litellm" in pythons else {}
    )
    for name, r in (("llmrelay", ours), ("LiteLLM", theirs)):
        if r and "error" in r:
            notes.append(f"{name} failed: {r['error']}")
    facts["load_end"] = loadavg()
    facts["wall_s"] = time.monotonic() - started

    rows = build_rows(ours, theirs, imports, import_runs)
    md = render(
        rows,
        facts,
        notes,
        floor,
        ours,
        theirs,
        litellm_label,
        checks(ours, theirs),
        passes,
        imports,
    )
    out_path = Path(args.out) if args.out else HERE / "results" / f"sdk-{date}.md"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(md)
    print(md)
    log(f"written to {out_path} ({facts['wall_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
