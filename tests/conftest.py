"""Shared fixtures: one in-process mock upstream (the project's own, in Rust) per session."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

import llmrelay
from llmrelay.mock import MockServer


class Mock:
    """Handle on the mock upstream: its URL and its control API (``/__mock/*``)."""

    def __init__(self, server: MockServer) -> None:
        self.server = server
        self.url = server.base_url
        self.api_base = server.base_url + "/v1"

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("content-type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
        return json.loads(text) if text else None

    def requests(self) -> list[dict]:
        return self._call("GET", "/__mock/requests")

    def last_request(self) -> dict:
        return self.requests()[-1]

    def clear(self) -> None:
        self._call("DELETE", "/__mock/requests")
        self._call("DELETE", "/__mock/script")

    def script(self, *responses: dict) -> None:
        self._call("POST", "/__mock/script", list(responses))

    def params(self, **extra: Any) -> dict:
        """Keyword arguments that route a call to this mock."""
        return {"api_base": self.api_base, "api_key": "sk-test", **extra}


@pytest.fixture(scope="session")
def mock_server() -> Any:
    server = MockServer()
    yield Mock(server)
    server.stop()


@pytest.fixture
def mock(mock_server: Mock) -> Mock:
    mock_server.clear()
    return mock_server


@pytest.fixture(autouse=True)
def _reset_settings() -> Any:
    """Module-level settings are global: restore them after every test."""
    saved = {
        name: getattr(llmrelay, name)
        for name in ("callbacks", "success_callback", "failure_callback", "api_key", "num_retries",
                     "drop_params", "api_base", "cache")
    }
    for name in ("callbacks", "success_callback", "failure_callback"):
        setattr(llmrelay, name, [])
    yield
    for name, value in saved.items():
        setattr(llmrelay, name, value)


USER = [{"role": "user", "content": "Hello there"}]
