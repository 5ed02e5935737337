"""The scheduled FOCUS spend export through the proxy, configured as LiteLLM's:
``litellm_settings.callbacks: ["focus"]`` and the ``FOCUS_*`` variables. Each window's spend
rows land as one FOCUS file; a bad setting stops the start with a message naming it."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import openai

from test_proxy import MASTER_KEY, start_proxy


def config(mock: Any) -> str:
    return f"""
        model_list:
          - model_name: gpt-4o
            litellm_params:
              model: openai/gpt-4o-mini
              api_base: {mock.api_base}
              api_key: sk-test
        litellm_settings:
          callbacks: ["focus"]
        general_settings:
          master_key: {MASTER_KEY}
    """


def test_each_window_is_written_as_a_focus_file(tmp_path: Path, mock_server: Any) -> None:
    exports = tmp_path / "exports"
    proxy = start_proxy(tmp_path, config(mock_server), env={
        "FOCUS_PROVIDER": "file", "FOCUS_FILE_DIR": str(exports), "FOCUS_FORMAT": "json",
        "FOCUS_FREQUENCY": "interval", "FOCUS_INTERVAL_SECONDS": "1",
    })
    try:
        with openai.OpenAI(base_url=proxy.url + "/v1", api_key=MASTER_KEY,
                           max_retries=0) as client:
            for _ in range(2):
                client.chat.completions.create(
                    model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
        token = hashlib.sha256(MASTER_KEY.encode()).hexdigest()
        deadline = time.monotonic() + 30
        requests = 0
        while time.monotonic() < deadline and requests < 2:
            requests = 0
            for path in exports.glob("focus_exports/date=*/focus_*.json"):
                export = json.loads(path.read_text())
                assert export["focus_version"] == "1.0"
                for record in export["records"]:
                    if record["BillingAccountId"] == token:
                        assert record["ServiceName"] == "gpt-4o"
                        assert record["ChargeCategory"] == "Usage"
                        requests += record["ConsumedQuantity"]
            time.sleep(0.3)
        assert requests == 2, proxy.log.read_text()[-2000:]
    finally:
        assert proxy.stop() == 0


def test_a_bad_setting_stops_the_start(tmp_path: Path, mock_server: Any) -> None:
    proxy = start_proxy(tmp_path, config(mock_server), wait=False,
                        env={"FOCUS_PROVIDER": "file", "FOCUS_FILE_DIR": str(tmp_path),
                             "FOCUS_FORMAT": "parquet"})
    assert proxy.process.wait(timeout=30) == 1
    assert "FOCUS_FORMAT=parquet is not built" in proxy.log.read_text()
