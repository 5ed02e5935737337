"""The proxy's MCP gateway end to end, against real MCP peers (the official ``mcp`` package):
an upstream server over stdio, one over streamable HTTP and one over the legacy SSE
transport; the ``mcp`` client talking to the proxy's ``/mcp``; the plain-JSON ``/mcp-rest``
routes; key permissions (``object_permission.mcp_servers``) and ``call_mcp_tool`` spend rows.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from test_proxy import MASTER_KEY, Proxy, base_config, free_port, start_proxy

PEER = Path(__file__).resolve().parent / "mcp_peers" / "echo_server.py"


def _wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"MCP peer exited: {log.read_text()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"MCP peer did not listen: {log.read_text()}")


def _start_peer(tmp_path: Path, transport: str, label: str,
                port: int | None = None) -> tuple[subprocess.Popen, int]:
    port = port or free_port()
    log = tmp_path / f"peer-{label}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, str(PEER), transport, str(port)],
            stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "MCP_TEST_LABEL": label},
        )
    _wait_for_port(port, process, log)
    return process, port


@pytest.fixture
def gateway(tmp_path: Path, mock: Any):
    web, web_port = _start_peer(tmp_path, "http", "web")
    legacy, legacy_port = _start_peer(tmp_path, "sse", "legacy")
    extra = f"""
        mcp_servers:
          local:
            transport: stdio
            command: {json.dumps(sys.executable)}
            args: [{json.dumps(str(PEER))}, stdio]
            env:
              MCP_TEST_LABEL: local
            disallowed_tools: [secret]
            description: tools on this machine
          web:
            url: http://127.0.0.1:{web_port}/mcp
            transport: http
            allowed_tools: [echo, add, fail]
          legacy:
            url: http://127.0.0.1:{legacy_port}/sse
            transport: sse
            allowed_tools: [echo]
    """
    proxy = start_proxy(tmp_path, base_config(mock) + "\n" + _dedent_to(extra, base_config(mock)))
    proxy.peers = {"web": (web, web_port), "legacy": (legacy, legacy_port)}  # type: ignore[attr-defined]
    try:
        yield proxy
        assert proxy.stop() == 0
    finally:
        for process, _ in proxy.peers.values():  # type: ignore[attr-defined]
            process.terminate()
            process.wait(timeout=10)


def _dedent_to(block: str, config: str) -> str:
    """``block`` indented like the top-level keys of ``config`` (both are dedented later)."""
    indent = next(len(line) - len(line.lstrip()) for line in config.splitlines() if line.strip())
    lines = [line for line in block.splitlines() if line.strip()]
    own = min(len(line) - len(line.lstrip()) for line in lines)
    return "\n".join(" " * indent + line[own:] for line in lines)


def _client(proxy: Proxy, path: str = "/mcp", key: str = MASTER_KEY,
            headers: dict | None = None) -> Client:
    http = httpx2.AsyncClient(headers={"authorization": f"Bearer {key}", **(headers or {})},
                              timeout=30)
    return Client(streamable_http_client(proxy.url + path, http_client=http))


def _text(result: Any) -> str:
    return "".join(block.text for block in result.content if getattr(block, "text", None))


ALL_TOOLS = {"local-echo", "local-add", "local-fail", "web-echo", "web-add", "web-fail",
             "legacy-echo"}


async def test_mcp_client_lists_prefixed_tools_and_calls_each_transport(gateway: Proxy) -> None:
    async with _client(gateway) as client:
        tools = await client.list_tools()
        names = {tool.name for tool in tools.tools}
        assert names == ALL_TOOLS
        add = next(tool for tool in tools.tools if tool.name == "web-add")
        assert set(add.input_schema["properties"]) == {"a", "b"}
        assert _text(await client.call_tool("web-echo", {"text": "hi"})) == "web: hi"
        assert _text(await client.call_tool("local-echo", {"text": "yo"})) == "local: yo"
        assert _text(await client.call_tool("legacy-echo", {"text": "old"})) == "legacy: old"
        assert _text(await client.call_tool("local-add", {"a": 2, "b": 3})) == "5"
        failed = await client.call_tool("web-fail", {})
        assert failed.is_error
        assert "fail" in _text(failed)  # the upstream's own error text
        # Hidden by disallowed_tools / allowed_tools, and unknown names, are refused.
        for name in ("local-secret", "web-secret", "nowhere-echo"):
            with pytest.raises(Exception) as refused:
                await client.call_tool(name, {})
            assert name.split("-")[0] in str(refused.value) or "not" in str(refused.value)


async def test_one_server_path_and_header_narrow_the_tools(gateway: Proxy) -> None:
    async with _client(gateway, "/web/mcp") as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert names == {"web-echo", "web-add", "web-fail"}
        with pytest.raises(Exception):
            await client.call_tool("local-echo", {"text": "x"})
    async with _client(gateway, headers={"x-mcp-servers": "local,legacy"}) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert names == {"local-echo", "local-add", "local-fail", "legacy-echo"}
    status, _, payload = gateway.request("POST", "/nowhere/mcp", {})
    assert status == 404, payload
    assert json.loads(payload)["error"]["message"] == 'MCP server "nowhere" is not configured'


def test_rest_routes_list_and_call(gateway: Proxy) -> None:
    status, _, payload = gateway.request("GET", "/mcp-rest/tools/list")
    assert status == 200, payload
    listed = json.loads(payload)
    assert listed["error"] is None
    assert listed["message"] == "Successfully retrieved tools"
    pairs = {(t["mcp_info"]["server_name"], t["name"]) for t in listed["tools"]}
    assert {f"{server}-{name}" for server, name in pairs} == ALL_TOOLS
    local = next(t for t in listed["tools"] if t["mcp_info"]["server_name"] == "local")
    assert local["mcp_info"]["description"] == "tools on this machine"
    assert local["inputSchema"]["type"] == "object"

    status, _, payload = gateway.request("GET", "/mcp-rest/tools/list?server_id=web")
    assert status == 200
    assert {t["mcp_info"]["server_name"] for t in json.loads(payload)["tools"]} == {"web"}
    status, _, payload = gateway.request("GET", "/mcp-rest/tools/list?server_id=nope")
    assert json.loads(payload)["error"] == "server_not_found"

    status, _, payload = gateway.request(
        "POST", "/mcp-rest/tools/call", {"name": "local-echo", "arguments": {"text": "rest"}})
    assert status == 200, payload
    result = json.loads(payload)
    assert result["content"][0]["text"] == "local: rest"
    status, _, payload = gateway.request(
        "POST", "/mcp-rest/tools/call",
        {"name": "add", "server_name": "web", "arguments": {"a": 40, "b": 2}})
    assert status == 200, payload
    assert json.loads(payload)["content"][0]["text"] == "42"

    status, _, payload = gateway.request(
        "POST", "/mcp-rest/tools/call", {"name": "local-nothing", "arguments": {}})
    # The upstream server's own answer for a tool it does not have, passed through.
    assert status == 200, payload
    assert json.loads(payload)["isError"] is True
    assert "Unknown tool" in json.loads(payload)["content"][0]["text"]
    status, _, payload = gateway.request(
        "POST", "/mcp-rest/tools/call", {"name": "local-secret", "arguments": {}})
    assert status == 403, payload
    error = json.loads(payload)["error"]
    assert set(error) >= {"message", "type", "param", "code"}
    status, _, payload = gateway.request("POST", "/mcp-rest/tools/call", {"arguments": {}})
    assert status == 400, payload

    for method, path in (("GET", "/mcp-rest/tools/list"), ("POST", "/mcp")):
        status, _, payload = gateway.request(method, path, {}, key=None)
        assert status == 401, payload
        assert "error" in json.loads(payload)


def _generate_key(proxy: Proxy, body: dict) -> dict:
    status, _, payload = proxy.request("POST", "/key/generate", body)
    assert status == 200, payload
    return json.loads(payload)


async def test_key_permissions_restrict_servers_and_calls_are_booked(gateway: Proxy) -> None:
    created = _generate_key(gateway, {"key_alias": "mcp-web-only",
                                      "object_permission": {"mcp_servers": ["web"]}})
    key, token = created["key"], created["token"]
    async with _client(gateway, key=key) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert names == {"web-echo", "web-add", "web-fail"}
        assert _text(await client.call_tool("web-echo", {"text": "ok"})) == "web: ok"
        with pytest.raises(Exception) as refused:
            await client.call_tool("local-echo", {"text": "no"})
        assert "not allowed" in str(refused.value)
    # The header cannot widen what the key may use.
    async with _client(gateway, key=key, headers={"x-mcp-servers": "local,web"}) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert names == {"web-echo", "web-add", "web-fail"}
    status, _, payload = gateway.request("GET", "/mcp-rest/tools/list", key=key)
    assert {t["mcp_info"]["server_name"] for t in json.loads(payload)["tools"]} == {"web"}
    status, _, payload = gateway.request("GET", "/mcp-rest/tools/list?server_id=local", key=key)
    assert json.loads(payload) == {"tools": [], "error": "server_not_found",
                                   "message": "Server with id local not found"}
    status, _, payload = gateway.request(
        "POST", "/mcp-rest/tools/call", {"name": "local-echo", "arguments": {"text": "x"}},
        key=key)
    assert status == 403, payload
    assert "not allowed to use MCP server" in json.loads(payload)["error"]["message"]
    status, _, payload = gateway.request(
        "POST", "/mcp-rest/tools/call", {"name": "web-add", "arguments": {"a": 1, "b": 1}},
        key=key)
    assert status == 200, payload

    # A key without object_permission sees every server.
    open_key = _generate_key(gateway, {"key_alias": "mcp-any"})["key"]
    async with _client(gateway, key=open_key) as client:
        assert {tool.name for tool in (await client.list_tools()).tools} == ALL_TOOLS

    # Each call the key made is a `call_mcp_tool` spend row.
    deadline = time.monotonic() + 10
    rows: list = []
    while time.monotonic() < deadline:
        status, _, payload = gateway.request("GET", f"/spend/logs?api_key={token}")
        assert status == 200, payload
        rows = [r for r in json.loads(payload) if r["call_type"] == "call_mcp_tool"]
        if len(rows) >= 2:
            break
        time.sleep(0.1)
    assert sorted(r["mcp_namespaced_tool_name"] for r in rows) == ["web-add", "web-echo"], rows
    assert all(r["status"] == "success" for r in rows)


def test_a_restarted_upstream_is_reconnected(gateway: Proxy, tmp_path: Path) -> None:
    call = {"name": "web-echo", "arguments": {"text": "one"}}
    status, _, payload = gateway.request("POST", "/mcp-rest/tools/call", call)
    assert status == 200, payload
    web, port = gateway.peers["web"]  # type: ignore[attr-defined]
    web.terminate()
    web.wait(timeout=10)
    # Down: an OpenAI-shaped upstream error, not a hang.
    status, _, payload = gateway.request("POST", "/mcp-rest/tools/call", call)
    assert status in (502, 504), payload
    error = json.loads(payload)["error"]
    assert 'MCP server "web"' in error["message"]
    assert error["code"] == str(status)
    # Up again on the same port: the next call opens a new connection.
    gateway.peers["web"] = _start_peer(tmp_path, "http", "web", port)  # type: ignore[attr-defined]
    status, _, payload = gateway.request("POST", "/mcp-rest/tools/call",
                                         {"name": "web-echo", "arguments": {"text": "two"}})
    assert status == 200, payload
    assert json.loads(payload)["content"][0]["text"] == "web: two"


def test_invalid_mcp_servers_stop_the_start_naming_the_field(tmp_path: Path, mock: Any) -> None:
    extra = """
        mcp_servers:
          github:
            url: https://example.invalid/mcp
            transport: carrier-pigeon
    """
    proxy = start_proxy(tmp_path, base_config(mock) + "\n" + _dedent_to(extra, base_config(mock)),
                        wait=False)
    assert proxy.process.wait(timeout=20) != 0
    assert "mcp_servers.github.transport" in proxy.log.read_text()


async def test_prompts_and_resources_are_forwarded(gateway: Proxy) -> None:
    async with _client(gateway, headers={"x-mcp-servers": "local,web"}) as client:
        prompts = {prompt.name for prompt in (await client.list_prompts()).prompts}
        assert prompts == {"local-greet", "web-greet"}
        prompt = await client.get_prompt("local-greet", {"name": "Ada"})
        assert prompt.messages[0].content.text == "local greets Ada"
        uris = {str(resource.uri) for resource in (await client.list_resources()).resources}
        assert uris == {"echo://local/info", "echo://web/info"}
        read = await client.read_resource("echo://web/info")
        assert read.contents[0].text == "web info"
        with pytest.raises(Exception):
            await client.read_resource("echo://legacy/info")  # not among the selected servers


async def test_a_team_permission_limits_its_keys(gateway: Proxy) -> None:
    status, _, payload = gateway.request(
        "POST", "/team/new",
        {"team_alias": "mcp-team", "object_permission": {"mcp_servers": ["local", "legacy"]}})
    assert status == 200, payload
    team_id = json.loads(payload)["team_id"]
    # A key of the team without its own list: the team's servers.
    inherits = _generate_key(gateway, {"team_id": team_id})["key"]
    async with _client(gateway, key=inherits) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert names == {"local-echo", "local-add", "local-fail", "legacy-echo"}
    # A key with its own list: only the servers in both lists.
    both = _generate_key(gateway, {"team_id": team_id,
                                   "object_permission": {"mcp_servers": ["local", "web"]}})["key"]
    async with _client(gateway, key=both) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert names == {"local-echo", "local-add", "local-fail"}
    status, _, payload = gateway.request(
        "POST", "/mcp-rest/tools/call", {"name": "web-echo", "arguments": {"text": "x"}},
        key=both)
    assert status == 403, payload
