"""The proxy and mock commands as a new user meets them (issue 11 §3.1, 2, 10, 11, 12):
callbacks next to a relative ``--config``, LiteLLM's exit codes, ``HTTPException`` from hooks,
and the mock's help and errors."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import llmrelay
import pytest

PYTHON_DIR = str(Path(llmrelay.__file__).resolve().parent.parent)
MASTER_KEY = "sk-proxy-cli-test-0123456789"


def _environment() -> dict:
    environment = {**os.environ, "PYTHONPATH": PYTHON_DIR}
    for name in ("LITELLM_MASTER_KEY", "LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY",
                 "DEBUG", "DETAILED_DEBUG", "LITELLM_LOG"):
        environment.pop(name, None)
    return environment


def _command(module: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], check=False, cwd=cwd, env=_environment(),
                          capture_output=True, text=True, timeout=60)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(port: int, path: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(), method="POST",
        headers={"content-type": "application/json", "authorization": f"Bearer {MASTER_KEY}"})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


HOOKS = '''
from llmrelay.integrations.custom_logger import CustomLogger
from llmrelay.proxy import HTTPException, ProxyException


class Handler(CustomLogger):
    async def async_pre_call_hook(self, user_api_key_dict, cache, data, call_type):
        text = str(data.get("messages"))
        if "forbidden" in text:
            raise HTTPException(status_code=400, detail={"error": "blocked by the hook"})
        if "quota" in text:
            raise ProxyException(message="over quota", type="quota", param=None, code=429)
        if "crash" in text:
            raise RuntimeError("the hook crashed")
        return data


handler = Handler()
'''


def _serve_relative(directory: Path, mock: Any) -> tuple[subprocess.Popen, int, Path]:
    (directory / "custom_callbacks.py").write_text(HOOKS)
    (directory / "config.yaml").write_text(textwrap.dedent(f"""
        model_list:
          - model_name: gpt-4o
            litellm_params:
              model: openai/gpt-4o-mini
              api_base: {mock.api_base}
              api_key: sk-test
        litellm_settings:
          callbacks: custom_callbacks.handler
        general_settings:
          master_key: {MASTER_KEY}
    """))
    # Run as the installed `llmrelay` console script runs: from a script in another directory,
    # so the working directory is not on sys.path (`python -m` would put it there).
    scripts = directory.parent / f"{directory.name}-bin"
    scripts.mkdir()
    (scripts / "llmrelay").write_text("import sys\nfrom llmrelay.proxy import main\nsys.exit(main())\n")
    port = _free_port()
    log = directory / "proxy.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, str(scripts / "llmrelay"), "--config", "config.yaml", "--port",
             str(port), "--host", "127.0.0.1"],
            cwd=directory, env=_environment(), stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"proxy exited: {log.read_text()}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health/liveliness", timeout=1)
            return process, port, log
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError(f"proxy did not start: {log.read_text()}")


def test_callbacks_next_to_a_relative_config_and_http_exceptions(tmp_path: Path,
                                                                  mock: Any) -> None:
    process, port, _log = _serve_relative(tmp_path, mock)
    try:
        def chat(text: str) -> tuple[int, dict]:
            return _post(port, "/v1/chat/completions",
                         {"model": "gpt-4o", "messages": [{"role": "user", "content": text}]})

        status, body = chat("hello")
        assert status == 200, body
        status, body = chat("something forbidden")
        assert status == 400
        assert body["error"]["message"] == "blocked by the hook"
        assert body["error"]["type"] == "invalid_request_error"
        assert body["error"]["code"] == "400"
        status, body = chat("over my quota")
        assert status == 429
        assert body["error"]["message"] == "over quota"
        status, body = chat("crash please")
        assert status == 500
        assert "the hook crashed" in body["error"]["message"]
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_http_exception_needs_no_web_framework() -> None:
    code = ("import sys; from llmrelay.proxy import HTTPException, ProxyException; "
            "from llmrelay.proxy._types import HTTPException as Same; "
            "e = HTTPException(status_code=403, detail='no'); "
            "assert (e.status_code, e.detail, e.headers) == (403, 'no', None); "
            "assert HTTPException(404).detail == 'Not Found'; "
            "assert ProxyException('m', 't', None, code='401').status_code == 401; "
            "assert Same is HTTPException; "
            "assert not any(m.split('.')[0] in ('fastapi', 'starlette') for m in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], check=False, env=_environment(),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    from llmrelay.proxy import HTTPException

    with pytest.raises(ValueError):
        HTTPException(status_code=200)


def test_exit_codes_and_validation_match_litellm(tmp_path: Path) -> None:
    missing = _command("llmrelay.proxy", "--config", "nonexistent.yaml", cwd=tmp_path)
    assert missing.returncode == 1
    assert "nonexistent.yaml" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert _command("llmrelay.proxy", "--bogus", cwd=tmp_path).returncode == 2
    (tmp_path / "config.yaml").write_text(
        "model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o, api_key: k}\n"
        "router_settings:\n  routing_strategy: bogus\n"
        f"general_settings:\n  master_key: {MASTER_KEY}\n")
    bad = _command("llmrelay.proxy", "--config", "config.yaml", "--validate_config", cwd=tmp_path)
    assert bad.returncode == 1
    assert bad.stderr.startswith("llmrelay: config validation failed: "), bad.stderr
    assert "routing_strategy" in bad.stderr
    (tmp_path / "config.yaml").write_text(
        "model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o, api_key: k}\n"
        "litellm_settings:\n  num_retires: 3\n"
        f"general_settings:\n  master_key: {MASTER_KEY}\n")
    good = _command("llmrelay.proxy", "--config", "config.yaml", "--validate_config",
                    cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    assert good.stdout.strip() == "llmrelay: config OK (1 models)"
    # Warnings name the key and suggest the right one.
    assert "did you mean 'num_retries'?" in good.stderr
    helped = _command("llmrelay.proxy", "--help", cwd=tmp_path)
    assert helped.returncode == 0
    for flag in ("--ssl_certfile_path", "--ssl_keyfile_path", "--health", "--test",
                 "--validate_config", "--detailed_debug"):
        assert flag in helped.stdout


def test_mock_cli_help_and_busy_port(tmp_path: Path) -> None:
    from llmrelay.mock import DIALECTS

    helped = _command("llmrelay.mock", "--help", cwd=tmp_path)
    assert helped.returncode == 0
    for name, _ in DIALECTS:
        assert name in helped.stdout
    from llmrelay.mock import _parser

    flags = {option for action in _parser()._actions for option in action.option_strings}
    assert {"--host", "--port", "--latency-ms", "--ttft-ms", "--chunk-count",
            "--chunk-interval-ms", "--content", "--prompt-tokens", "--completion-tokens",
            "--embedding-dim", "--no-record", "--threads"} <= flags
    for action in _parser()._actions:
        assert action.help, action.option_strings
        assert action.option_strings[0] in helped.stdout
    collapsed = " ".join(helped.stdout.split())
    assert "delay before the first chunk of a stream, in ms (default 0)" in collapsed
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _command("llmrelay.mock", "--port", str(port), cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("llmrelay-mock: error: "), result.stderr
    assert str(port) in lines[0]
