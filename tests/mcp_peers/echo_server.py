"""A small MCP server (the official `mcp` package) for the gateway tests.

``python echo_server.py stdio`` serves over stdin/stdout; ``python echo_server.py http PORT``
serves streamable HTTP at ``/mcp``; ``python echo_server.py sse PORT`` serves the legacy
HTTP+SSE transport at ``/sse``. ``MCP_TEST_LABEL`` names the instance in tool results, so a
test can tell which upstream answered.
"""

from __future__ import annotations

import os
import sys

from mcp.server.mcpserver import MCPServer

LABEL = os.environ.get("MCP_TEST_LABEL", "echo")

server = MCPServer(LABEL)


@server.tool(description="Echo the text back, with the server's label.")
def echo(text: str) -> str:
    return f"{LABEL}: {text}"


@server.tool(description="Add two integers.")
def add(a: int, b: int) -> int:
    return a + b


@server.tool(description="A tool the gateway config hides.")
def secret() -> str:
    return "should not be reachable through the gateway"


@server.tool(description="Always fails.")
def fail() -> str:
    raise ValueError("this tool fails on purpose")


@server.prompt(description="A greeting written by this server.")
def greet(name: str) -> str:
    return f"{LABEL} greets {name}"


@server.resource(f"echo://{LABEL}/info", description="What this server is.")
def info() -> str:
    return f"{LABEL} info"


if __name__ == "__main__":
    transport = sys.argv[1] if len(sys.argv) > 1 else "stdio"
    if transport == "stdio":
        server.run("stdio")
    elif transport == "http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    elif transport == "sse":
        server.run("sse", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        raise SystemExit(f"unknown transport {transport!r}")
