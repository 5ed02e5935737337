"""Generate rust/llmrelay-core/tests/fixtures/assemble/litellm.json: LiteLLM's
`stream_chunk_builder` output for recorded chunk sequences.

Each case holds OpenAI-shaped stream chunks (as on the wire; the shapes follow
https://platform.openai.com/docs/api-reference/chat-streaming and, for text completions,
https://platform.openai.com/docs/api-reference/completions/object), the request's messages and
LiteLLM 1.104's rebuilt response (`model_dump()`). Tool-call ids are always given, so outputs
are deterministic. Run offline with LiteLLM's interpreter:

    LITELLM_LOCAL_MODEL_COST_MAP=True /work/venvs/litellm/bin/python scripts/gen_stream_builder_fixtures.py

`tests/python/test_stream_builder_litellm.py` checks llmrelay's `stream_chunk_builder` against it.
"""

from __future__ import annotations

import copy
import json
import os
from importlib.metadata import version
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

# Imported after the environment is set: LiteLLM reads it at import time.
import litellm
from litellm.types.utils import ModelResponseStream, TextChoices, TextCompletionResponse

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "rust/llmrelay-core/tests/fixtures/assemble/litellm.json"

USER = [{"role": "user", "content": "What is the weather in Paris and in Rome?"}]


def chunk(
    delta: dict | None = None,
    finish_reason: str | None = None,
    index: int = 0,
    model: str = "gpt-4o",
    **extra: Any,
) -> dict:
    choices = (
        []
        if delta is None
        else [{"index": index, "delta": delta, "finish_reason": finish_reason, "logprobs": None}]
    )
    return {
        "id": "chatcmpl-rec1",
        "object": "chat.completion.chunk",
        "created": 1735689600,
        "model": model,
        "system_fingerprint": "fp_rec",
        "choices": choices,
        **extra,
    }


def usage(prompt: int, completion: int, **extra: Any) -> dict:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        **extra,
    }


def tool(index: int, arguments: str, id: str | None = None, name: str | None = None) -> dict:
    fragment: dict[str, Any] = {"index": index, "function": {"arguments": arguments}}
    if id is not None:
        fragment["id"] = id
        fragment["type"] = "function"
        fragment["function"]["name"] = name
    return fragment


CHAT_CASES: dict[str, tuple[list[dict], list | None]] = {
    "text_counted": (
        [
            chunk({"role": "assistant", "content": ""}),
            chunk({"content": "The weather"}),
            chunk({"content": " is sunny."}),
            chunk({}, "stop"),
        ],
        USER,
    ),
    "text_without_messages": (
        [
            chunk({"role": "assistant", "content": "Hello"}),
            chunk({"content": " there, friend"}),
            chunk({}, "length"),
        ],
        None,
    ),
    "text_usage_chunk_with_details": (
        [
            chunk({"role": "assistant", "content": "Sunny."}),
            chunk({}, "stop"),
            chunk(
                None,
                usage=usage(
                    17,
                    3,
                    prompt_tokens_details={"cached_tokens": 0, "audio_tokens": 0},
                    completion_tokens_details={
                        "reasoning_tokens": 0,
                        "audio_tokens": 0,
                        "accepted_prediction_tokens": 0,
                        "rejected_prediction_tokens": 0,
                    },
                ),
            ),
        ],
        USER,
    ),
    "text_usage_chunk_without_details": (
        [
            chunk({"role": "assistant", "content": "Sunny."}),
            chunk({}, "stop"),
            chunk(None, usage=usage(17, 3)),
        ],
        USER,
    ),
    "tool_call_split": (
        [
            chunk(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [tool(0, "", "call_paris", "get_weather")],
                }
            ),
            chunk({"tool_calls": [tool(0, '{"ci')]}),
            chunk({"tool_calls": [tool(0, 'ty": "Paris"}')]}),
            chunk({}, "tool_calls"),
        ],
        USER,
    ),
    "parallel_tool_calls": (
        [
            chunk(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [tool(0, "", "call_paris", "get_weather")],
                }
            ),
            chunk({"tool_calls": [tool(0, '{"city": "Paris"}')]}),
            chunk({"tool_calls": [tool(1, "", "call_rome", "get_weather")]}),
            chunk({"tool_calls": [tool(1, '{"city": ')]}),
            chunk({"tool_calls": [tool(1, '"Rome"}')]}),
            chunk({}, "tool_calls"),
        ],
        USER,
    ),
    "parallel_tool_calls_with_usage": (
        [
            chunk(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [tool(0, '{"city": "Paris"}', "call_paris", "get_weather")],
                }
            ),
            chunk({"tool_calls": [tool(1, '{"city": "Rome"}', "call_rome", "get_weather")]}),
            chunk({}, "tool_calls"),
            chunk(None, usage=usage(60, 40)),
        ],
        USER,
    ),
    "reasoning_then_content": (
        [
            chunk({"role": "assistant", "reasoning_content": "The user wants"}),
            chunk({"reasoning_content": " the weather."}),
            chunk({"content": "It is sunny."}),
            chunk({}, "stop"),
        ],
        USER,
    ),
    "reasoning_with_usage_chunk": (
        [
            chunk({"role": "assistant", "reasoning_content": "Thinking about it"}),
            chunk({"content": "Sunny."}),
            chunk({}, "stop"),
            chunk(None, usage=usage(17, 9)),
        ],
        USER,
    ),
    "thinking_blocks": (
        [
            chunk(
                {
                    "role": "assistant",
                    "reasoning_content": "Let me",
                    "thinking_blocks": [
                        {"type": "thinking", "thinking": "Let me", "signature": None}
                    ],
                }
            ),
            chunk(
                {
                    "reasoning_content": " think.",
                    "thinking_blocks": [
                        {"type": "thinking", "thinking": " think.", "signature": "EqQBCkYIARAB"}
                    ],
                }
            ),
            chunk({"content": "Done."}),
            chunk({}, "stop"),
        ],
        USER,
    ),
    "legacy_function_call": (
        [
            chunk(
                {
                    "role": "assistant",
                    "content": None,
                    "function_call": {"name": "get_weather", "arguments": ""},
                }
            ),
            chunk({"function_call": {"arguments": '{"city":'}}),
            chunk({"function_call": {"arguments": ' "Paris"}'}}),
            chunk({}, "function_call"),
        ],
        USER,
    ),
    "annotations_in_last_chunk": (
        [
            chunk({"role": "assistant", "content": "See the forecast."}),
            chunk(
                {
                    "annotations": [
                        {
                            "type": "url_citation",
                            "url_citation": {
                                "url": "https://example.com/paris",
                                "title": "Paris",
                                "start_index": 0,
                                "end_index": 17,
                            },
                        }
                    ]
                },
                "stop",
            ),
        ],
        USER,
    ),
}

TEXT_CASES: dict[str, tuple[list[dict], list | None]] = {
    "text_completion": (
        [
            {
                "id": "cmpl-rec1",
                "object": "text_completion",
                "created": 1735689600,
                "model": "gpt-3.5-turbo-instruct",
                "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": reason}],
            }
            for text, reason in [("Once", None), (" upon", None), (" a time", None), ("", "stop")]
        ],
        [{"role": "user", "content": "Tell me a story"}],
    ),
}


def litellm_chat(chunks: list[dict], messages: list | None) -> dict:
    objects = [ModelResponseStream(**copy.deepcopy(c)) for c in chunks]
    return litellm.stream_chunk_builder(objects, messages=messages).model_dump()


def litellm_text(chunks: list[dict], messages: list | None) -> dict:
    objects = []
    for c in copy.deepcopy(chunks):
        c["choices"] = [TextChoices(**choice) for choice in c["choices"]]
        objects.append(TextCompletionResponse(**c))
    return litellm.stream_chunk_builder(objects, messages=messages).model_dump()


def main() -> None:
    cases = []
    for name, (chunks, messages) in CHAT_CASES.items():
        cases.append(
            {
                "name": name,
                "kind": "chat",
                "chunks": chunks,
                "messages": messages,
                "litellm": litellm_chat(chunks, messages),
            }
        )
    for name, (chunks, messages) in TEXT_CASES.items():
        cases.append(
            {
                "name": name,
                "kind": "text",
                "chunks": chunks,
                "messages": messages,
                "litellm": litellm_text(chunks, messages),
            }
        )
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    document = {"litellm_version": version("litellm"), "cases": cases}
    OUTPUT.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {len(cases)} cases to {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
