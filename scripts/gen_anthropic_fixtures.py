"""Record LiteLLM's Anthropic translation into rust/llmrelay-providers/tests/fixtures/anthropic/.

LiteLLM is run for real against a local fake upstream that records what it is sent and answers
with canned Messages API bodies, so each fixture holds LiteLLM's own output:

- ``req_<case>.json``: an OpenAI-shaped request, and the ``/v1/messages`` request LiteLLM sent
  for it (path, the Anthropic headers, body), or the error it raised before sending.
- ``resp_<case>.json``: an Anthropic ``Message`` and the ``ModelResponse`` LiteLLM made of it.
- ``resp_stream_<case>.json``: Anthropic stream events and the chunks LiteLLM yielded for them
  (``stream_options.include_usage`` on), plus the error it raised, if any. When the recorded
  ``stream_*.sse`` fixtures (written by the mock server's author) are present, they are replayed
  too, as ``resp_stream_sse_<name>.json``.

Wire shapes follow https://docs.anthropic.com/en/api/messages and
https://docs.anthropic.com/en/docs/build-with-claude/streaming.

    /opt/litellm-venv/bin/python scripts/gen_anthropic_fixtures.py

Files this script did not write (no ``_generator`` key) are never overwritten.
"""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
for _name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_BASE", "ANTHROPIC_BASE_URL"):
    os.environ.pop(_name, None)

# Imported after the environment is set: LiteLLM reads it at import time.
import litellm

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "rust/llmrelay-providers/tests/fixtures/anthropic"
GENERATOR = f"scripts/gen_anthropic_fixtures.py, LiteLLM {version('litellm')}"
KEPT_HEADERS = (
    "anthropic-version",
    "anthropic-beta",
    "x-api-key",
    "authorization",
    "anthropic-dangerous-direct-browser-access",
    "content-type",
)

# --------------------------------------------------------------------------------------------
# Fake upstream
# --------------------------------------------------------------------------------------------

CAPTURED: list[dict[str, Any]] = []
REPLY: list[tuple[int, str, bytes]] = []

PLAIN_MESSAGE = {
    "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5-20250929",
    "content": [{"type": "text", "text": "Hello!"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 12, "output_tokens": 6},
}


class Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        CAPTURED.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(body)})
        status, content_type, payload = REPLY[0] if REPLY else (200, "application/json", json.dumps(PLAIN_MESSAGE).encode())
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


SERVER = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
threading.Thread(target=SERVER.serve_forever, daemon=True).start()
BASE = f"http://127.0.0.1:{SERVER.server_address[1]}"


def write(name: str, data: dict[str, Any]) -> None:
    path = OUT / name
    if path.exists():
        try:
            existing = json.loads(path.read_text())
        except ValueError:
            existing = {}
        if "_generator" not in existing:
            print(f"skip {name}: not written by this script")
            return
    path.write_text(json.dumps({"_generator": GENERATOR, **data}, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {name}")


def call(request: dict[str, Any], extra_headers: dict[str, str] | None, api_key: str, **kwargs: Any) -> Any:
    params = dict(request)
    params["model"] = "anthropic/" + params["model"]
    if extra_headers:
        params["extra_headers"] = extra_headers
    return litellm.completion(api_base=BASE, api_key=api_key, **params, **kwargs)


def error_of(exc: Exception) -> dict[str, Any]:
    return {"class": type(exc).__name__, "status_code": getattr(exc, "status_code", None), "message": getattr(exc, "message", str(exc))}


# --------------------------------------------------------------------------------------------
# Request translation
# --------------------------------------------------------------------------------------------

U = [{"role": "user", "content": "What is the weather in Paris?"}]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}
SCHEMA = {
    "type": "json_schema",
    "json_schema": {
        "name": "person",
        "schema": {
            "type": "object",
            "properties": {"name": {"type": "string", "minLength": 1}, "age": {"type": "integer", "minimum": 0}},
            "required": ["name"],
        },
    },
}
EPHEMERAL = {"type": "ephemeral"}
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

TOOL_HISTORY = [
    {"role": "user", "content": "Weather in Paris, and the time?"},
    {
        "role": "assistant",
        "content": "Let me check. ",
        "tool_calls": [
            {"id": "toolu_01A09q90qw90lq917835lq9", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}},
            {"id": "call.2", "type": "function", "function": {"name": "get_time", "arguments": ""}},
        ],
    },
    {"role": "tool", "tool_call_id": "toolu_01A09q90qw90lq917835lq9", "content": "18C, sunny"},
    {"role": "tool", "tool_call_id": "call.2", "content": [{"type": "text", "text": "14:05"}]},
    {"role": "user", "content": "Thanks!"},
]

THINKING_HISTORY = [
    {"role": "user", "content": "What is the weather in Paris?"},
    {
        "role": "assistant",
        "content": None,
        "thinking_blocks": [
            {"type": "thinking", "thinking": "I should call the weather tool.", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"},
            {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2YfWXGmKDxH4mPnZ5sQ7vB5URj2pLmN0kz2ZoEzbqn2n"},
            {"type": "thinking", "thinking": "unsigned block from another model"},
        ],
        "tool_calls": [{"id": "toolu_01", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}],
    },
    {"role": "tool", "tool_call_id": "toolu_01", "content": "18C"},
]

REQUEST_CASES: dict[str, dict[str, Any]] = {
    "system_prompts": {"request": {"model": "claude-sonnet-4-5", "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "system", "content": [{"type": "text", "text": "Long shared context.", "cache_control": EPHEMERAL}, {"type": "text", "text": ""}]},
        {"role": "developer", "content": "Answer in French."},
        {"role": "user", "content": "Hi"},
    ]}},
    "consecutive_same_role": {"request": {"model": "claude-sonnet-4-5", "messages": [
        {"role": "user", "content": "a"},
        {"role": "user", "content": [{"type": "text", "text": "b"}]},
        {"role": "assistant", "content": "c"},
        {"role": "assistant", "content": "d  "},
    ]}},
    "tools_auto": {"request": {"model": "claude-sonnet-4-5", "messages": U, "tools": [WEATHER, TIME], "tool_choice": "auto"}},
    "tool_choice_required": {"request": {"model": "claude-sonnet-4-5", "messages": U, "tools": [WEATHER], "tool_choice": "required"}},
    "tool_choice_none": {"request": {"model": "claude-sonnet-4-5", "messages": U, "tools": [WEATHER], "tool_choice": "none", "parallel_tool_calls": False}},
    "tool_choice_named": {"request": {"model": "claude-sonnet-4-5", "messages": U, "tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}},
    "parallel_tool_calls_false": {"request": {"model": "claude-sonnet-4-5", "messages": U, "tools": [WEATHER, TIME], "parallel_tool_calls": False}},
    "parallel_tool_calls_false_required": {"request": {"model": "claude-sonnet-4-5", "messages": U, "tools": [WEATHER], "tool_choice": "required", "parallel_tool_calls": False}},
    "tool_results_round_trip": {"request": {"model": "claude-sonnet-4-5", "messages": TOOL_HISTORY, "tools": [WEATHER, TIME]}},
    "tool_history_without_tools": {"request": {"model": "claude-sonnet-4-5", "messages": TOOL_HISTORY}},
    "image_base64": {"request": {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is in these images?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}", "detail": "low"}},
        {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{PNG}", "format": "image/png"}},
    ]}]}},
    "image_url": {"request": {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": "https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg"},
        {"type": "text", "text": "Describe it."},
    ]}]}},
    "json_object": {"request": {"model": "claude-sonnet-4-5", "messages": U, "response_format": {"type": "json_object"}}},
    "json_schema_native": {"request": {"model": "claude-sonnet-4-5", "messages": U, "response_format": SCHEMA}},
    "json_schema_tool": {"request": {"model": "claude-3-7-sonnet-20250219", "messages": U, "response_format": SCHEMA}},
    "json_schema_tool_with_tools": {"request": {"model": "claude-3-7-sonnet-20250219", "messages": U, "response_format": SCHEMA, "tools": [WEATHER], "tool_choice": "auto"}},
    "reasoning_effort_minimal": {"request": {"model": "claude-sonnet-4-5", "messages": U, "reasoning_effort": "minimal"}},
    "reasoning_effort_low": {"request": {"model": "claude-sonnet-4-5", "messages": U, "reasoning_effort": "low"}},
    "reasoning_effort_medium": {"request": {"model": "claude-sonnet-4-5", "messages": U, "reasoning_effort": "medium"}},
    "reasoning_effort_high": {"request": {"model": "claude-sonnet-4-5", "messages": U, "reasoning_effort": "high"}},
    "reasoning_effort_xhigh": {"request": {"model": "claude-sonnet-4-5", "messages": U, "reasoning_effort": "xhigh"}},
    "reasoning_effort_max": {"request": {"model": "claude-sonnet-4-5", "messages": U, "reasoning_effort": "max"}},
    "reasoning_effort_none": {"request": {"model": "claude-sonnet-4-5", "messages": U, "reasoning_effort": "none"}},
    "reasoning_effort_with_max_tokens": {"request": {"model": "claude-sonnet-4-5", "messages": U, "reasoning_effort": "high", "max_tokens": 1000}},
    "reasoning_effort_adaptive": {"request": {"model": "claude-sonnet-4-6", "messages": U, "reasoning_effort": "minimal"}},
    "reasoning_effort_xhigh_unsupported": {"request": {"model": "claude-sonnet-4-6", "messages": U, "reasoning_effort": "xhigh"}},
    "reasoning_effort_invalid": {"request": {"model": "claude-sonnet-4-5", "messages": U, "reasoning_effort": "bogus"}},
    "thinking_explicit": {"request": {"model": "claude-sonnet-4-5", "messages": U, "thinking": {"type": "enabled", "budget_tokens": 2000}}},
    "thinking_explicit_over_effort": {"request": {"model": "claude-sonnet-4-5", "messages": U, "reasoning_effort": "low", "thinking": {"type": "enabled", "budget_tokens": 3000}}},
    "thinking_adaptive_capped": {"request": {"model": "claude-sonnet-4-5", "messages": U, "thinking": {"type": "adaptive"}, "max_tokens": 1500}},
    "thinking_adaptive_dropped": {"request": {"model": "claude-sonnet-4-5", "messages": U, "thinking": {"type": "adaptive"}, "max_tokens": 1000}},
    "thinking_legacy_on_adaptive_model": {"request": {"model": "claude-opus-4-7", "messages": U, "thinking": {"type": "enabled", "budget_tokens": 5000}}},
    "thinking_disabled_always_on": {"request": {"model": "claude-fable-5", "messages": U, "thinking": {"type": "disabled"}}},
    "thinking_blocks_round_trip": {"request": {"model": "claude-sonnet-4-5", "messages": THINKING_HISTORY, "tools": [WEATHER], "reasoning_effort": "low"}},
    "cache_control": {"request": {"model": "claude-sonnet-4-5", "messages": [
        {"role": "system", "content": "sys2", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
        {"role": "user", "content": "u1", "cache_control": EPHEMERAL},
        {"role": "assistant", "content": "a1", "cache_control": EPHEMERAL},
        {"role": "user", "content": [{"type": "text", "text": "u2", "cache_control": EPHEMERAL}, {"type": "image_url", "image_url": "https://example.com/y.png", "cache_control": EPHEMERAL}]},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}, "cache_control": EPHEMERAL}]},
        {"role": "tool", "tool_call_id": "t1", "content": "r", "cache_control": EPHEMERAL},
    ], "tools": [dict(WEATHER, cache_control=EPHEMERAL), {"type": "function", "function": {"name": "f2", "parameters": {"type": "object"}, "cache_control": EPHEMERAL}}]}},
    "stop_string": {"request": {"model": "claude-sonnet-4-5", "messages": U, "stop": "END"}},
    "stop_list": {"request": {"model": "claude-sonnet-4-5", "messages": U, "stop": ["a", "\n", " "]}},
    "max_tokens_default_catalog": {"request": {"model": "claude-opus-4-6", "messages": U}},
    "max_tokens_default_unmapped": {"request": {"model": "claude-3-7-sonnet-20250219", "messages": U}},
    "max_tokens_default_family_rule": {"request": {"model": "claude-future-9", "messages": U}},
    "max_completion_tokens": {"request": {"model": "claude-sonnet-4-5", "messages": U, "max_completion_tokens": 77, "temperature": 0.3, "top_p": 0.9}},
    "user_metadata": {"request": {"model": "claude-sonnet-4-5", "messages": U, "user": "user-123"}},
    "user_email_dropped": {"request": {"model": "claude-sonnet-4-5", "messages": U, "user": "someone@example.com"}},
    "mid_conversation_system": {"request": {"model": "claude-sonnet-4-5", "messages": [
        {"role": "user", "content": "x"}, {"role": "system", "content": "later reminder"}, {"role": "assistant", "content": "y"}, {"role": "user", "content": "z"},
    ]}},
    "mid_conversation_system_flagged": {"request": {"model": "claude-sonnet-5", "messages": [
        {"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}, {"role": "system", "content": "after assistant"}, {"role": "user", "content": "z"}, {"role": "system", "content": [{"type": "text", "text": "at the end", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]},
    ]}},
    "empty_content": {"request": {"model": "claude-sonnet-4-5", "messages": [
        {"role": "user", "content": ""}, {"role": "assistant", "content": "  "}, {"role": "user", "content": [{"type": "text", "text": ""}]},
    ]}},
    "tool_name_sanitized": {"request": {"model": "claude-sonnet-4-5", "messages": [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "actions/get.logs", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "r"},
    ], "tools": [
        {"type": "function", "function": {"name": "actions/get.logs", "parameters": {"type": "object", "properties": {}}}},
        {"type": "function", "function": {"name": "actions_get_logs", "parameters": {}}},
    ], "tool_choice": {"type": "function", "function": {"name": "actions/get.logs"}}}},
    "hosted_tools": {"request": {"model": "claude-sonnet-4-5", "messages": U, "tools": [
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
        {"name": "raw_tool", "input_schema": {"type": "object"}, "description": "already Anthropic-shaped"},
    ], "web_search_options": {"search_context_size": "high", "user_location": {"type": "approximate", "approximate": {"city": "Paris", "country": "FR"}}}}},
    "mcp_tool": {"request": {"model": "claude-sonnet-4-5", "messages": U, "tools": [
        {"type": "mcp", "server_label": "deepwiki", "server_url": "https://mcp.deepwiki.com/mcp", "allowed_tools": ["ask"], "headers": {"Authorization": "Bearer tok"}},
    ]}},
    "files": {"request": {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": [
        {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0xLjQK"}},
        {"type": "file", "file": {"file_id": "file_011CNha8iCJcU1wXNR6q4V8w", "format": "application/pdf"}},
        {"type": "text", "text": "Summarize."},
    ]}]}},
    "extra_params_passthrough": {"request": {"model": "claude-sonnet-4-5", "messages": U, "top_k": 5, "custom_field": {"a": 1}, "context_management": [{"type": "compaction", "compact_threshold": 150000}]}},
    "caller_beta_header": {"request": {"model": "claude-sonnet-4-5", "messages": U}, "extra_headers": {"anthropic-beta": "context-1m-2025-08-07,not-a-real-beta"}},
    "oauth_token": {"request": {"model": "claude-sonnet-4-5", "messages": U}, "api_key": "sk-ant-oat01-test-token"},
    "stream": {"request": {"model": "claude-sonnet-4-5", "messages": U, "stream": True}},
    "unsupported_params": {"request": {"model": "claude-sonnet-4-5", "messages": U, "seed": 7, "n": 2, "presence_penalty": 0.5}},
    "n_one_is_fine": {"request": {"model": "claude-sonnet-4-5", "messages": U, "n": 1}},
    "sampling_removed": {"request": {"model": "claude-opus-4-7", "messages": U, "temperature": 0.5}},
    "forced_tool_use_unsupported": {"request": {"model": "claude-fable-5-1", "messages": U, "tools": [WEATHER], "tool_choice": "required"}},
    "only_system": {"request": {"model": "claude-sonnet-4-5", "messages": [{"role": "system", "content": "s"}]}},
    "drop_params_unsupported": {"request": {"model": "claude-sonnet-4-5", "messages": U, "seed": 7, "n": 2, "logit_bias": {"1": 2}}, "drop_params": True},
    "drop_params_sampling": {"request": {"model": "claude-opus-4-7", "messages": U, "temperature": 0.5, "top_p": 0.9, "top_k": 3}, "drop_params": True},
    "drop_params_forced_tool_use": {"request": {"model": "claude-fable-5-1", "messages": U, "tools": [WEATHER], "tool_choice": "required", "parallel_tool_calls": False}, "drop_params": True},
    "drop_params_speed": {"request": {"model": "claude-sonnet-4-5", "messages": U, "speed": "fast"}, "drop_params": True},
    "assistant_content_parts": {"request": {"model": "claude-sonnet-4-5", "messages": [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "inline thought", "signature": "sig-inline"},
            {"type": "text", "text": "part one", "cache_control": EPHEMERAL},
            {"type": "text", "text": "part two "},
        ], "thinking_blocks": [{"type": "thinking", "thinking": "ignored: inline thinking wins", "signature": "s"}]},
    ]}},
    "tool_result_media": {"request": {"model": "claude-sonnet-4-5", "messages": [
        {"role": "user", "content": "Fetch the chart and the report."},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "fetch", "arguments": "{\"what\": \"all\"}"}}]},
        {"role": "tool", "tool_call_id": "t1", "content": [
            {"type": "text", "text": "chart:", "cache_control": EPHEMERAL},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
            {"type": "image_url", "image_url": {"url": "data:application/pdf;base64,JVBERi0xLjQK"}},
        ]},
    ], "tools": [{"type": "function", "function": {"name": "fetch", "parameters": {"type": "object", "properties": {"what": {"type": "string"}}}}}]}},
    "server_tool_interleaved": {"request": {"model": "claude-sonnet-4-5", "messages": [
        {"role": "user", "content": "Search the news."},
        {"role": "assistant", "content": "Here is what I found.",
         "thinking_blocks": [{"type": "thinking", "thinking": "search first", "signature": "sig1"}, {"type": "thinking", "thinking": "then answer", "signature": "sig2"}],
         "tool_calls": [{"id": "srvtoolu_01", "type": "function", "function": {"name": "web_search", "arguments": "{\"query\": \"news\"}"}}],
         "provider_specific_fields": {"web_search_results": [{"type": "web_search_tool_result", "tool_use_id": "srvtoolu_01", "content": [{"type": "web_search_result", "url": "https://example.com", "title": "Example", "encrypted_content": "abc"}]}]}},
        {"role": "user", "content": "More?"},
    ], "reasoning_effort": "low", "web_search_options": {}}},
    "system_before_tool_result": {"request": {"model": "claude-sonnet-4-5", "messages": [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
        {"role": "system", "content": "reminder between call and result"},
        {"role": "tool", "tool_call_id": "t1", "content": "r"},
    ], "tools": [WEATHER]}},
    "mid_conversation_system_flagged_after_user": {"request": {"model": "claude-opus-4-8", "messages": [
        {"role": "system", "content": "leading"},
        {"role": "user", "content": "x"}, {"role": "developer", "content": "after user"}, {"role": "assistant", "content": "y"},
    ]}},
    "tool_schema_cleanup": {"request": {"model": "claude-sonnet-4-5", "messages": U, "tools": [
        {"type": "function", "function": {"name": "s", "strict": True, "parameters": {"type": "object", "title": "S", "properties": {"a": {"$ref": "#/definitions/A"}}, "definitions": {"A": {"type": "string"}}, "additionalProperties": False}}},
        {"type": "function", "function": {"name": "arr", "parameters": {"type": "array", "items": {"type": "string"}}}},
    ]}},
    "tool_options": {"request": {"model": "claude-sonnet-4-5", "messages": U, "tools": [
        {"type": "function", "defer_loading": True, "function": {"name": "later", "parameters": {"type": "object"}, "eager_input_streaming": True}},
        {"type": "function", "function": {"name": "with_examples", "parameters": {"type": "object"}, "input_examples": [{"a": 1}], "allowed_callers": ["code_execution_20250825"]}},
    ]}},
    "computer_tool": {"request": {"model": "claude-sonnet-4-5", "messages": U, "tools": [
        {"type": "computer_20250124", "function": {"name": "computer", "parameters": {"display_width_px": 1024, "display_height_px": 768, "display_number": 1}}},
    ]}},
    "output_config_effort_opus_4_5": {"request": {"model": "claude-opus-4-5", "messages": U, "output_config": {"effort": "low"}}},
    "container_skills": {"request": {"model": "claude-sonnet-4-5", "messages": U, "container": {"skills": [{"type": "anthropic", "skill_id": "pptx", "version": "latest"}]}}},
    "container_upload_adds_code_execution": {"request": {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": [
        {"type": "file", "file": {"file_id": "file_abc"}}, {"type": "text", "text": "Analyze this CSV."},
    ]}], "tools": [WEATHER]}},
    "message_cache_control_on_parts_ignored": {"request": {"model": "claude-sonnet-4-5", "messages": [
        {"role": "user", "content": [{"type": "text", "text": "only the part decides"}], "cache_control": EPHEMERAL},
    ]}},
    "stop_whitespace_dropped": {"request": {"model": "claude-sonnet-4-5", "messages": U, "stop": ["\n", "END"]}, "drop_params": True},
}


def record_requests() -> None:
    for name, case in REQUEST_CASES.items():
        request = case["request"]
        api_key = case.get("api_key", "sk-test")
        CAPTURED.clear()
        REPLY.clear()
        if request.get("stream"):
            REPLY.append((200, "text/event-stream", sse(TEXT_EVENTS)))
        out: dict[str, Any] = {"docs": "https://docs.anthropic.com/en/api/messages", "request": request}
        if case.get("extra_headers"):
            out["extra_headers"] = case["extra_headers"]
        if api_key != "sk-test":
            out["api_key"] = api_key
        if case.get("drop_params"):
            out["drop_params"] = True
        try:
            response = call(request, case.get("extra_headers"), api_key, **({"drop_params": True} if case.get("drop_params") else {}))
            if request.get("stream"):
                for _ in response:
                    pass
        except Exception as exc:  # noqa: BLE001 - the error is the recording
            out["expected_error"] = error_of(exc)
        if CAPTURED and "expected_error" not in out:
            sent = CAPTURED[-1]
            headers = {k.lower(): v for k, v in sent["headers"].items() if k.lower() in KEPT_HEADERS}
            out["expected"] = {"path": sent["path"], "headers": headers, "body": sent["body"]}
        write(f"req_{name}.json", out)


# --------------------------------------------------------------------------------------------
# Whole responses
# --------------------------------------------------------------------------------------------


def message(content: list[dict[str, Any]], stop_reason: str | None, usage: dict[str, Any], model: str = "claude-sonnet-4-5-20250929") -> dict[str, Any]:
    return {"id": "msg_01Aq9w938a90dw8q", "type": "message", "role": "assistant", "model": model, "content": content,
            "stop_reason": stop_reason, "stop_sequence": None, "usage": usage}


RESPONSE_CASES: dict[str, dict[str, Any]] = {
    "text_cache_usage": {"upstream": message([{"type": "text", "text": "Hello! How can I help?"}], "end_turn",
                                             {"input_tokens": 50, "output_tokens": 9, "cache_creation_input_tokens": 1200, "cache_read_input_tokens": 300,
                                              "cache_creation": {"ephemeral_5m_input_tokens": 1200, "ephemeral_1h_input_tokens": 0}, "service_tier": "standard"})},
    "tool_use": {"upstream": message([
        {"type": "text", "text": "I'll check both."},
        {"type": "tool_use", "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "name": "get_weather", "input": {"city": "Paris", "units": "celsius", "note": "café"}},
        {"type": "tool_use", "id": "toolu_02", "name": "get_time", "input": {}},
    ], "tool_use", {"input_tokens": 472, "output_tokens": 89}), "request": {"tools": [WEATHER, TIME]}},
    "thinking_tool_use": {"upstream": message([
        {"type": "thinking", "thinking": "The user wants the weather. I should call the tool.", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"},
        {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2YfWXGmKDxH4mPnZ5sQ7vB5URj2pLmN0kz2ZoEzbqn2n"},
        {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}},
    ], "tool_use", {"input_tokens": 80, "output_tokens": 120}), "request": {"tools": [WEATHER], "reasoning_effort": "low"}},
    "thinking_tokens_reported": {"upstream": message([
        {"type": "thinking", "thinking": "Short.", "signature": "sig"},
        {"type": "text", "text": "42"},
    ], "end_turn", {"input_tokens": 10, "output_tokens": 40, "output_tokens_details": {"thinking_tokens": 30}})},
    "json_mode_tool": {"upstream": message([{"type": "tool_use", "id": "toolu_3", "name": "json_tool_call", "input": {"name": "Bob", "age": 30}}],
                                           "tool_use", {"input_tokens": 5, "output_tokens": 6}, model="claude-3-7-sonnet-20250219"),
                       "request": {"model": "claude-3-7-sonnet-20250219", "response_format": SCHEMA}},
    "json_mode_tool_with_other_tools": {"upstream": message([
        {"type": "tool_use", "id": "toolu_4", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "toolu_5", "name": "json_tool_call", "input": {"values": {"name": "Bob"}}},
    ], "tool_use", {"input_tokens": 5, "output_tokens": 6}, model="claude-3-7-sonnet-20250219"),
        "request": {"model": "claude-3-7-sonnet-20250219", "response_format": SCHEMA, "tools": [WEATHER], "tool_choice": "auto"}},
    "renamed_tool": {"upstream": message([{"type": "tool_use", "id": "toolu_6", "name": "actions_get_logs", "input": {}}], "tool_use", {"input_tokens": 5, "output_tokens": 6}),
                     "request": {"tools": [{"type": "function", "function": {"name": "actions/get.logs", "parameters": {"type": "object", "properties": {}}}}]}},
    "refusal_citations": {"upstream": message([
        {"type": "text", "text": "The grass is green.", "citations": [{"type": "char_location", "cited_text": "The grass is green.", "document_index": 0, "document_title": "Doc", "start_char_index": 0, "end_char_index": 20}]},
        {"type": "text", "text": " More."},
    ], "refusal", {"input_tokens": 5, "output_tokens": 3})},
    "max_tokens": {"upstream": message([{"type": "text", "text": "Once upon a"}], "max_tokens", {"input_tokens": 5, "output_tokens": 3})},
    "pause_turn_empty": {"upstream": message([], "pause_turn", {"input_tokens": 5, "output_tokens": 0})},
    "stop_sequence": {"upstream": {**message([{"type": "text", "text": "1, 2, 3"}], "stop_sequence", {"input_tokens": 5, "output_tokens": 5}), "stop_sequence": "4"}},
    "server_tool_web_search": {"upstream": {**message([
        {"type": "server_tool_use", "id": "srvtoolu_01", "name": "web_search", "input": {"query": "weather Paris"}},
        {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_01", "content": [{"type": "web_search_result", "url": "https://example.com", "title": "Weather", "encrypted_content": "abc", "page_age": None}]},
        {"type": "text", "text": "It is sunny."},
    ], "end_turn", {"input_tokens": 900, "output_tokens": 40, "server_tool_use": {"web_search_requests": 1}}), "container": {"id": "container_1", "expires_at": "2026-01-01T00:00:00Z"}},
        "request": {"web_search_options": {}}},
    "iterations_usage": {"upstream": message([{"type": "text", "text": "done"}], "end_turn", {
        "input_tokens": 5, "output_tokens": 7, "cache_read_input_tokens": 0,
        "iterations": [{"input_tokens": 100, "output_tokens": 20, "cache_read_input_tokens": 10, "cache_creation_input_tokens": 5},
                       {"input_tokens": 30, "output_tokens": 7, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}]})},
    "prefix_prompt": {"upstream": message([{"type": "text", "text": " Paris."}], "end_turn", {"input_tokens": 5, "output_tokens": 2}),
                      "request": {"messages": [{"role": "user", "content": "Capital of France?"}, {"role": "assistant", "content": "The capital is", "prefix": True}]}},
}


# Statuses the recorded error bodies are sent with (https://docs.anthropic.com/en/api/errors).
ERROR_STATUS = {"overloaded": 529, "rate_limit": 429, "invalid_request": 400, "authentication": 401,
                "permission": 403, "not_found": 404, "request_too_large": 413, "api": 500}


def normalize(value: Any) -> Any:
    """JSON-safe, with LiteLLM's per-call id and timestamp fixed so re-runs give the same files."""
    value = json.loads(json.dumps(value, default=str))
    if isinstance(value, dict):
        if isinstance(value.get("id"), str) and value["id"].startswith("chatcmpl-"):
            value["id"] = "chatcmpl-<uuid4>"
        if "created" in value:
            value["created"] = 0
    return value


def record_responses() -> None:
    for name, case in RESPONSE_CASES.items():
        request = {"model": "claude-sonnet-4-5", "messages": U, **case.get("request", {})}
        REPLY.clear()
        REPLY.append((200, "application/json", json.dumps(case["upstream"]).encode()))
        out: dict[str, Any] = {"docs": "https://docs.anthropic.com/en/api/messages", "request": request, "upstream": case["upstream"]}
        try:
            response = call(request, None, "sk-test")
            dumped = response.model_dump(exclude_none=True)
            dumped["usage"] = response.usage.model_dump(exclude_none=True)
            out["expected"] = normalize(dumped)
        except Exception as exc:  # noqa: BLE001
            out["expected_error"] = error_of(exc)
        write(f"resp_{name}.json", out)
    request = {"model": "claude-sonnet-4-5", "messages": U}
    for path in sorted(OUT.glob("message_*.json")):
        REPLY.clear()
        REPLY.append((200, "application/json", path.read_bytes()))
        out = {"request": request, "upstream_file": path.name}
        try:
            response = call(request, None, "sk-test")
            dumped = response.model_dump(exclude_none=True)
            dumped["usage"] = response.usage.model_dump(exclude_none=True)
            out["expected"] = normalize(dumped)
        except Exception as exc:  # noqa: BLE001
            out["expected_error"] = error_of(exc)
        write(f"resp_{path.stem}.json", out)
    for path in sorted(OUT.glob("error_*.json")):
        status = ERROR_STATUS.get(path.stem.removeprefix("error_"))
        if status is None:
            print(f"skip {path.name}: no known status")
            continue
        REPLY.clear()
        REPLY.append((status, "application/json", path.read_bytes()))
        out = {"request": request, "upstream_file": path.name, "status": status}
        try:
            call(request, None, "sk-test", num_retries=0)
        except Exception as exc:  # noqa: BLE001
            out["expected_error"] = error_of(exc)
        write(f"resp_{path.stem}.json", out)


# --------------------------------------------------------------------------------------------
# Streams
# --------------------------------------------------------------------------------------------


def sse(events: list[dict[str, Any]]) -> bytes:
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()


def start(usage: dict[str, Any], model: str = "claude-sonnet-4-5-20250929") -> dict[str, Any]:
    return {"type": "message_start", "message": {"id": "msg_014p7gG3wDgGV9EUtLvnow3U", "type": "message", "role": "assistant", "model": model,
                                                 "content": [], "stop_reason": None, "stop_sequence": None, "usage": usage}}


def block_start(index: int, block: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": block}


def delta(index: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": body}


def stop(index: int) -> dict[str, Any]:
    return {"type": "content_block_stop", "index": index}


def finish(reason: str, output_tokens: int) -> dict[str, Any]:
    return {"type": "message_delta", "delta": {"stop_reason": reason, "stop_sequence": None}, "usage": {"output_tokens": output_tokens}}


TEXT_EVENTS = [
    start({"input_tokens": 25, "output_tokens": 1}),
    block_start(0, {"type": "text", "text": ""}),
    {"type": "ping"},
    delta(0, {"type": "text_delta", "text": "Hello"}),
    delta(0, {"type": "text_delta", "text": "!"}),
    stop(0),
    finish("end_turn", 15),
    {"type": "message_stop"},
]

STREAM_CASES: dict[str, dict[str, Any]] = {
    "text": {"events": TEXT_EVENTS},
    "tool_use_interleaved": {"request": {"tools": [WEATHER, TIME]}, "events": [
        start({"input_tokens": 472, "output_tokens": 2, "cache_creation_input_tokens": 100, "cache_read_input_tokens": 50}),
        block_start(0, {"type": "text", "text": ""}),
        delta(0, {"type": "text_delta", "text": "Okay"}),
        delta(0, {"type": "text_delta", "text": ", checking."}),
        stop(0),
        block_start(1, {"type": "tool_use", "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "name": "get_weather", "input": {}}),
        delta(1, {"type": "input_json_delta", "partial_json": ""}),
        delta(1, {"type": "input_json_delta", "partial_json": "{\"city\":"}),
        delta(1, {"type": "input_json_delta", "partial_json": " \"Paris\"}"}),
        stop(1),
        block_start(2, {"type": "tool_use", "id": "toolu_02", "name": "get_time", "input": {}}),
        delta(2, {"type": "input_json_delta", "partial_json": ""}),
        stop(2),
        finish("tool_use", 89),
        {"type": "message_stop"},
    ]},
    "thinking_signature": {"request": {"reasoning_effort": "low"}, "events": [
        start({"input_tokens": 10, "output_tokens": 1}),
        block_start(0, {"type": "thinking", "thinking": "", "signature": ""}),
        delta(0, {"type": "thinking_delta", "thinking": "Let me solve "}),
        delta(0, {"type": "thinking_delta", "thinking": "this."}),
        delta(0, {"type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"}),
        stop(0),
        block_start(1, {"type": "redacted_thinking", "data": "RedactedData=="}),
        stop(1),
        block_start(2, {"type": "text", "text": ""}),
        delta(2, {"type": "text_delta", "text": "The answer is 42."}),
        stop(2),
        finish("end_turn", 50),
        {"type": "message_stop"},
    ]},
    "json_mode_tool": {"request": {"model": "claude-3-7-sonnet-20250219", "response_format": SCHEMA}, "events": [
        start({"input_tokens": 3, "output_tokens": 1}, model="claude-3-7-sonnet-20250219"),
        block_start(0, {"type": "tool_use", "id": "toolu_9", "name": "json_tool_call", "input": {}}),
        delta(0, {"type": "input_json_delta", "partial_json": ""}),
        delta(0, {"type": "input_json_delta", "partial_json": "{\"name\": "}),
        delta(0, {"type": "input_json_delta", "partial_json": "\"Bob\"}"}),
        stop(0),
        finish("tool_use", 9),
        {"type": "message_stop"},
    ]},
    "max_tokens": {"events": [
        start({"input_tokens": 3, "output_tokens": 1}),
        block_start(0, {"type": "text", "text": "Once"}),
        delta(0, {"type": "text_delta", "text": " upon"}),
        stop(0),
        finish("max_tokens", 2),
        {"type": "message_stop"},
    ]},
    "citations_and_prefilled_text": {"events": [
        start({"input_tokens": 30, "output_tokens": 1}),
        block_start(0, {"type": "text", "text": "According to the document, "}),
        delta(0, {"type": "citations_delta", "citation": {"type": "char_location", "cited_text": "The grass is green.", "document_index": 0, "document_title": "Doc", "start_char_index": 0, "end_char_index": 20}}),
        delta(0, {"type": "text_delta", "text": "the grass is green."}),
        stop(0),
        {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"input_tokens": 30, "output_tokens": 12, "cache_read_input_tokens": 8}},
        {"type": "message_stop"},
    ]},
    "renamed_tool": {"request": {"tools": [{"type": "function", "function": {"name": "actions/get.logs", "parameters": {"type": "object", "properties": {}}}}]}, "events": [
        start({"input_tokens": 30, "output_tokens": 1}),
        block_start(0, {"type": "tool_use", "id": "toolu_7", "name": "actions_get_logs", "input": {}}),
        delta(0, {"type": "input_json_delta", "partial_json": "{}"}),
        stop(0),
        finish("tool_use", 5),
        {"type": "message_stop"},
    ]},
    "server_tool_web_search": {"request": {"web_search_options": {}}, "events": [
        start({"input_tokens": 900, "output_tokens": 1}),
        block_start(0, {"type": "server_tool_use", "id": "srvtoolu_01", "name": "web_search", "input": {}}),
        delta(0, {"type": "input_json_delta", "partial_json": "{\"query\": \"weather Paris\"}"}),
        stop(0),
        block_start(1, {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_01", "content": [{"type": "web_search_result", "url": "https://example.com", "title": "Weather", "encrypted_content": "abc"}]}),
        stop(1),
        block_start(2, {"type": "text", "text": ""}),
        delta(2, {"type": "text_delta", "text": "It is sunny."}),
        stop(2),
        {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": 40, "server_tool_use": {"web_search_requests": 1}}},
        {"type": "message_stop"},
    ]},
    "error_overloaded": {"events": [
        start({"input_tokens": 3, "output_tokens": 1}),
        block_start(0, {"type": "text", "text": ""}),
        delta(0, {"type": "text_delta", "text": "Hel"}),
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
    ]},
    "error_api": {"events": [
        start({"input_tokens": 3, "output_tokens": 1}),
        block_start(0, {"type": "text", "text": ""}),
        delta(0, {"type": "text_delta", "text": "Hel"}),
        {"type": "error", "error": {"type": "api_error", "message": "Internal server error"}},
    ]},
}


def replay_stream(request: dict[str, Any], payload: bytes) -> dict[str, Any]:
    REPLY.clear()
    REPLY.append((200, "text/event-stream", payload))
    chunks: list[Any] = []
    out: dict[str, Any] = {}
    try:
        for chunk in call(request, None, "sk-test", stream=True, stream_options={"include_usage": True}):
            chunks.append(normalize(chunk.model_dump(exclude_none=True)))
    except Exception as exc:  # noqa: BLE001
        out["expected_error"] = error_of(exc)
    out["expected_chunks"] = chunks
    return out


def record_streams() -> None:
    for name, case in STREAM_CASES.items():
        request = {"model": "claude-sonnet-4-5", "messages": U, **case.get("request", {})}
        out = {"docs": "https://docs.anthropic.com/en/docs/build-with-claude/streaming", "request": request, "upstream_events": case["events"]}
        out.update(replay_stream(request, sse(case["events"])))
        write(f"resp_stream_{name}.json", out)
    for path in sorted(OUT.glob("stream_*.sse")):
        request = {"model": "claude-sonnet-4-5", "messages": U}
        out = {"request": request, "upstream_file": path.name}
        out.update(replay_stream(request, path.read_bytes()))
        write(f"resp_stream_sse_{path.stem.removeprefix('stream_')}.json", out)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    record_requests()
    record_responses()
    record_streams()


if __name__ == "__main__":
    main()
