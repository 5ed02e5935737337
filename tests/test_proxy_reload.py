"""Config reload without a restart: SIGHUP makes the proxy read its config file again and apply
its ``model_list``; a file that does not load leaves the running config in place."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

from test_proxy import base_config, start_proxy

ADDED = """  - model_name: reloaded
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: {api_base}
      api_key: sk-test
"""


def _models(proxy: Any) -> set[str]:
    status, _, payload = proxy.request("GET", "/v1/models")
    assert status == 200, payload
    return {m["id"] for m in json.loads(payload)["data"]}


def _wait_for(predicate, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "the reload did not take effect"
        time.sleep(0.05)


def test_sighup_applies_the_new_model_list(tmp_path: Path, mock: Any) -> None:
    config = base_config(mock)
    proxy = start_proxy(tmp_path, config)
    try:
        assert "reloaded" not in _models(proxy)
        path = tmp_path / "config.yaml"
        text = path.read_text()
        assert "\ngeneral_settings:" in text
        path.write_text(text.replace("\ngeneral_settings:",
                                     "\n" + ADDED.format(api_base=mock.api_base)
                                     + "general_settings:", 1))
        proxy.process.send_signal(signal.SIGHUP)
        _wait_for(lambda: "reloaded" in _models(proxy))
        status, _, payload = proxy.request(
            "POST", "/v1/chat/completions",
            {"model": "reloaded", "messages": [{"role": "user", "content": "hi"}]})
        assert status == 200, payload
        assert "gpt-4o" in _models(proxy), "the other deployments stay"
        # A broken file is refused; the running config stays and the proxy keeps serving.
        path.write_text("model_list: [this is: not valid")
        proxy.process.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert proxy.process.poll() is None
        assert "reloaded" in _models(proxy)
        assert "config reload failed" in proxy.log.read_text()
    finally:
        assert proxy.stop() == 0
