"""Generate rust/llmrelay-core/tests/fixtures/tokens/corpus.json: reference token ids and counts.

The reference values come from running tiktoken and LiteLLM's `token_counter`, offline:
LiteLLM ships the cl100k_base and o200k_base BPE files and points TIKTOKEN_CACHE_DIR at them,
and LITELLM_LOCAL_MODEL_COST_MAP=True keeps it from fetching its model list.

    /opt/litellm-venv/bin/python scripts/gen_token_fixtures.py
    /opt/litellm-venv/bin/python scripts/gen_token_fixtures.py --model-table   # O200K_MODELS for tokens.rs

Images are hand-built headers (PNG, JPEG, GIF, WebP, HEIC, unknown) so no imaging library is needed:
LiteLLM reads only the header to learn an image's size.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import struct
import sys
import zlib
from importlib.metadata import version
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

# Imported after the environment is set: LiteLLM reads it at import time.
import litellm
import tiktoken
from litellm.litellm_core_utils.token_counter import openai_tokenizer_encoding_name

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "rust/llmrelay-core/tests/fixtures/tokens/corpus.json"
ENCODINGS = ("cl100k_base", "o200k_base")
MESSAGE_MODELS = ("gpt-4o", "gpt-4", "gpt-3.5-turbo", "claude-3-5-sonnet-20241022")
TEXT_MODELS = ("gpt-4o", "gpt-4")


# ---- images ---------------------------------------------------------------------------------


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def jpeg(width: int, height: int, *, progressive: bool = False, fill_bytes: bool = False) -> bytes:
    def segment(marker: int, body: bytes) -> bytes:
        return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body

    app0 = segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    quantization = segment(0xDB, b"\x00" + bytes(range(64)))
    huffman = segment(
        0xC4, b"\x00" + bytes(16)
    )  # DHT sits in the SOF marker range and must be skipped
    frame = segment(
        0xC2 if progressive else 0xC0,
        struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01",
    )
    padding = b"\xff\xff" if fill_bytes else b""
    return b"\xff\xd8" + app0 + quantization + padding + huffman + frame + b"\xff\xd9"


def gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00;"


def webp_vp8x(width: int, height: int) -> bytes:
    body = (
        b"\x10\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    )
    return (
        b"RIFF"
        + struct.pack("<I", 4 + 8 + len(body))
        + b"WEBP"
        + b"VP8X"
        + struct.pack("<I", len(body))
        + body
    )


def webp_vp8(width: int, height: int) -> bytes:
    body = b"\x00\x00\x00" + b"\x9d\x01\x2a" + struct.pack("<HH", width, height) + bytes(10)
    return (
        b"RIFF"
        + struct.pack("<I", 4 + 8 + len(body))
        + b"WEBP"
        + b"VP8 "
        + struct.pack("<I", len(body))
        + body
    )


def webp_vp8l(width: int, height: int) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    body = b"\x2f" + struct.pack("<I", bits) + bytes(8)
    return (
        b"RIFF"
        + struct.pack("<I", 4 + 8 + len(body))
        + b"WEBP"
        + b"VP8L"
        + struct.pack("<I", len(body))
        + body
    )


def heic() -> bytes:
    return b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"


def data_url(media_type: str, data: bytes) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def image_part(url: str, detail: str | None = None) -> dict[str, Any]:
    image_url: dict[str, Any] = {"url": url}
    if detail is not None:
        image_url["detail"] = detail
    return {"type": "image_url", "image_url": image_url}


# ---- text corpus ----------------------------------------------------------------------------

TEXTS: list[tuple[str, str]] = [
    ("empty", ""),
    ("hello_world", "Hello world"),
    ("lowercase", "hello world"),
    ("leading_space", " leading space"),
    ("trailing_space", "trailing space "),
    ("multiple_spaces", "   multiple   spaces   between   words   "),
    ("tabs_newlines", "\t\ttabs\tand\nnewlines\n\n\n"),
    ("crlf", "\r\n windows \r\n line endings\r\n"),
    ("space_run", " " * 50),
    ("newline_run", "\n" * 20),
    ("mixed_whitespace", "  \n  \n\t \n\u00a0\u2003x"),
    ("trailing_whitespace_lines", "text   \n   "),
    (
        "python_code",
        (
            'def fib(n: int) -> int:\n    """Return the n-th Fibonacci number."""\n    a, b = 0, 1\n'
            "    for _ in range(n):\n        a, b = b, a + b\n    return a\n"
        ),
    ),
    (
        "rust_code",
        (
            "fn main() {\n    let v: Vec<u32> = (0..10).map(|x| x * x).collect();\n"
            '    println!("{:?}", v.iter().sum::<u32>());\n}\n'
        ),
    ),
    (
        "json",
        '{"name": "llmrelay", "version": [0, 1, 0], "tags": ["gateway", "rust"], "ok": true, "none": null}',
    ),
    ("numbers", "1234567890 3.14159 -42 1e10 0x1F 007 1,000,000.50"),
    ("long_digits", "12345678901234567890123456789012345678901234567890"),
    ("emoji", "😀😃😄 👍🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️ 🤖"),
    ("lone_emoji", "🤖"),
    ("chinese", "我爱自然语言处理。今天天气很好，我们去公园散步吧！"),
    ("japanese", "こんにちは世界、カタカナとひらがなと漢字が混ざった文章です。"),
    ("korean", "안녕하세요 세계, 한국어 텍스트입니다."),
    ("arabic", "مرحبا بالعالم، هذا نص باللغة العربية."),
    ("hebrew", "שלום עולם, זה טקסט בעברית."),
    ("hindi", "नमस्ते दुनिया, यह हिंदी पाठ है। १२३"),
    ("thai", "สวัสดีชาวโลก นี่คือข้อความภาษาไทย"),
    ("russian", "Привет, мир! Как дела? Всё хорошо."),
    ("greek", "Γειά σου Κόσμε! Ελληνικό κείμενο."),
    ("mixed_scripts", "English 中文 العربية русский 😀 123 日本語 한국어 ελληνικά"),
    ("cjk_ascii_no_spaces", "GPT-4o是OpenAI的模型，Claude是Anthropic的。"),
    ("long_word", "supercalifragilisticexpialidocious"),
    ("very_long_word", "pneumonoultramicroscopicsilicovolcanoconiosis" * 3),
    ("endoftext", "<|endoftext|>"),
    ("endoftext_inline", "before <|endoftext|> after"),
    ("fim_tokens", "<|fim_prefix|><|fim_middle|><|fim_suffix|><|endofprompt|>"),
    ("chatml", "<|im_start|>user\nhi<|im_end|>"),
    ("contractions", "I'm, you're, they've, we'll, it's, don't, he'd, SHE'S, They'RE"),
    ("uppercase", "THIS IS SHOUTING'S TEST WITH UPPERCASE WORDS"),
    ("camel_case", "getHTTPResponseCode parseXMLDocument iPhone McDonald's"),
    ("url", "https://example.com/path/to/page?query=1&b=two#fragment"),
    ("email", "Contact: first.last+tag@example.co.uk, admin@llmrelay.dev"),
    (
        "markdown_table",
        "| Model | Tokens |\n|-------|-------:|\n| gpt-4o | 128k |\n| gpt-4 | 8k |\n",
    ),
    ("html", '<div class="card"><p>Hello&nbsp;<b>world</b></p><br/></div>'),
    ("punctuation_run", "!!!???...,,,;;;:::---___***"),
    ("dot_leaders", "Chapter 1" + "." * 100 + "5"),
    ("math", "∑_{i=1}^{n} x_i² ≤ ∞, ∂f/∂x = 0, √2 ≈ 1.414, α+β=γ"),
    ("accents", "café naïve résumé São Paulo Zürich Ångström"),
    ("combining", "e\u0301 a\u0300 n\u0303 o\u0308 \u1e9b\u0323"),
    ("zero_width", "a\u200bb\u200cc\u200dd\ufeffe"),
    ("control_chars", "\x00\x01\x07\x1b[31mred\x1b[0m\x7f"),
    ("base64_blob", base64.b64encode(bytes(range(256))).decode()),
    ("hex_hash", "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
    ("single_char", "a"),
    ("single_space", " "),
    ("single_newline", "\n"),
    (
        "sql",
        "SELECT u.id, COUNT(*) AS n FROM users u JOIN orders o ON o.user_id = u.id WHERE o.total > 100 GROUP BY u.id;",
    ),
    (
        "paragraph",
        (
            "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut "
            "labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco."
        ),
    ),
    ("apostrophes", "rock 'n' roll, ’curly’ quotes, «guillemets», „German“"),
    ("surrogate_plane", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕄𝕒𝕥𝕙 𓀀𓀁 𠀀𠀁"),
    # Longer than one 1,024-character chunk: LiteLLM's count differs from one `encode` here.
    ("chunk_ascii", "a" * 1500 + " word" * 300),
    ("chunk_words", "word " * 500),
    ("chunk_cjk", "漢字テスト" * 300),
    ("chunk_emoji", "😀" * 1100),
    ("chunk_mixed", ("The quick brown fox — 敏捷的棕色狐狸 — جمل سريع. " * 60)),
]


def text_cases() -> list[dict[str, Any]]:
    encodings = {name: tiktoken.get_encoding(name) for name in ENCODINGS}
    cases = []
    for name, text in TEXTS:
        case: dict[str, Any] = {"name": name, "text": text}
        for encoding_name, encoding in encodings.items():
            case[encoding_name] = encoding.encode(text, disallowed_special=())
        case["litellm_text_count"] = {
            model: litellm.token_counter(model=model, text=text) for model in TEXT_MODELS
        }
        cases.append(case)
    return cases


def long_text_cases() -> list[dict[str, Any]]:
    """Texts built in the test from a unit repeated; the last is past LiteLLM's 4,000,000-character
    limit where it samples and extrapolates."""
    recipes = [
        ("words_20k", "lorem ipsum dolor ", 20_000 // 18),
        ("extrapolated", "Tokens ünd Wörter 漢字 ", 210_000),
    ]
    cases = []
    for name, unit, repeat in recipes:
        text = unit * repeat
        cases.append(
            {
                "name": name,
                "unit": unit,
                "repeat": repeat,
                "chars": len(text),
                "litellm_text_count": {
                    model: litellm.token_counter(model=model, text=text) for model in TEXT_MODELS
                },
            }
        )
    return cases


def decode_cases() -> list[dict[str, Any]]:
    cases = []
    for encoding_name in ENCODINGS:
        encoding = tiktoken.get_encoding(encoding_name)
        for text in ("😀 hi", "漢字", "é", "👨‍👩‍👧‍👦"):
            tokens = encoding.encode(text)
            for end in range(1, len(tokens) + 1):
                cases.append(
                    {
                        "encoding": encoding_name,
                        "tokens": tokens[:end],
                        "text": encoding.decode(tokens[:end]),
                    }
                )
            cases.append(
                {
                    "encoding": encoding_name,
                    "tokens": tokens[1:],
                    "text": encoding.decode(tokens[1:]),
                }
            )
        special = encoding.encode("<|endoftext|>", allowed_special="all")
        cases.append(
            {"encoding": encoding_name, "tokens": special, "text": encoding.decode(special)}
        )
        for invalid in (encoding.max_token_value + 1, 4_000_000_000):
            try:
                encoding.decode([invalid])
                cases.append({"encoding": encoding_name, "tokens": [invalid], "text": None})
            except Exception:  # noqa: BLE001  # tiktoken raises KeyError; the fixture records that it fails
                cases.append({"encoding": encoding_name, "tokens": [invalid], "error": True})
    return cases


# ---- messages -------------------------------------------------------------------------------

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather in a given location",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {
                    "type": "string",
                    "description": "The city and state, e.g. San Francisco, CA",
                },
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location"],
        },
    },
}

RICH_TOOL = {
    "type": "function",
    "function": {
        "name": "search_catalog",
        "description": "Search the product catalog — supports filters",
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"type": "string"},
                "limit": {"type": "integer", "description": "How many results"},
                "ratio": {"type": "number", "enum": [0.5, 1, 2.25]},
                "in_stock": {"type": "boolean"},
                "nothing": {"type": "null"},
                "anything": {"description": "No type given"},
                "union": {"type": ["string", "null"]},
                "tags": {"type": "array", "items": {"type": "string"}},
                "filters": {
                    "type": "object",
                    "description": "Nested filters",
                    "properties": {
                        "price": {
                            "type": "object",
                            "properties": {"min": {"type": "number"}, "max": {"type": "number"}},
                            "required": ["min"],
                        },
                        "brands": {
                            "type": "array",
                            "items": {"type": "object", "properties": {"id": {"type": "integer"}}},
                        },
                        "sort": {"type": "string", "enum": ["asc", "desc", 3, True, None]},
                    },
                    "required": ["price"],
                },
                "empty_object": {"type": "object"},
            },
            "required": ["query", "filters"],
        },
    },
}

NO_PARAMETER_TOOLS = [
    {"type": "function", "function": {"name": "ping"}},
    {
        "type": "function",
        "function": {
            "name": "noop",
            "description": "Does nothing",
            "parameters": {"type": "object", "properties": {}},
        },
    },
    {"type": "function", "function": {"description": "nameless tools are skipped"}},
    "not a tool",
]

ANTHROPIC_TOOL = {
    "name": "get_stock_price",
    "description": "Get the current stock price for a ticker symbol.",
    "input_schema": {
        "type": "object",
        "properties": {"ticker": {"type": "string", "description": "The ticker symbol, e.g. AAPL"}},
        "required": ["ticker"],
    },
}

LONG_DESCRIPTION_TOOL = {
    "type": "function",
    "function": {
        "name": "long_tool",
        "description": "A deliberately long description. " * 40,
        "parameters": {
            "type": "object",
            "properties": {"x": {"type": "string", "description": "ünïcödé 描述"}},
        },
    },
}


def message_cases() -> list[dict[str, Any]]:
    png_small = data_url("image/png", png(100, 100))
    images = {
        "png_100x100": data_url("image/png", png(100, 100)),
        "png_768x768": data_url("image/png", png(768, 768)),
        "png_1024x768": data_url("image/png", png(1024, 768)),
        "png_2048x4096": data_url("image/png", png(2048, 4096)),
        "png_1000x1": data_url("image/png", png(1000, 1)),
        "png_769x100": data_url("image/png", png(769, 100)),
        "jpeg_800x600": data_url("image/jpeg", jpeg(800, 600)),
        "jpeg_progressive_3000x2000": data_url(
            "image/jpeg", jpeg(3000, 2000, progressive=True, fill_bytes=True)
        ),
        "gif_500x2000": data_url("image/gif", gif(500, 2000)),
        "gif_3x3": data_url("image/gif", gif(3, 3)),
        "webp_vp8x_4000x500": data_url("image/webp", webp_vp8x(4000, 500)),
        "webp_vp8_1920x1080": data_url("image/webp", webp_vp8(1920, 1080)),
        "webp_vp8l_300x3000": data_url("image/webp", webp_vp8l(300, 3000)),
        "heic": data_url("image/heic", heic()),
        "unknown_format": data_url("application/octet-stream", b"this is not an image at all"),
        "no_media_type": "x," + base64.b64encode(png(1500, 1500)).decode(),
    }
    cases: list[dict[str, Any]] = [
        {"name": "simple_user", "messages": [{"role": "user", "content": "Hello world"}]},
        {
            "name": "system_and_user",
            "messages": [
                {"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": "What is the capital of France?"},
            ],
        },
        {
            "name": "multi_turn",
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Hi!"},
                {"role": "assistant", "content": "Hello. How can I help?"},
                {"role": "user", "content": "Tell me a joke about tokenizers."},
            ],
        },
        {
            "name": "names",
            "messages": [
                {
                    "role": "system",
                    "name": "example_user",
                    "content": "New synergies will help drive top-line growth.",
                },
                {"role": "user", "name": "Alice", "content": "Hi"},
                {"role": "developer", "content": "Be formal."},
            ],
        },
        {
            "name": "tool_calls_round_trip",
            "messages": [
                {"role": "user", "content": "What's the weather in Paris and Tokyo?"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {
                                "name": "get_current_weather",
                                "arguments": '{"location": "Paris, FR"}',
                            },
                        },
                        {
                            "id": "call_2",
                            "type": "function",
                            "function": {
                                "name": "get_current_weather",
                                "arguments": '{"location": "Tokyo, JP", "unit": "celsius"}',
                            },
                        },
                    ],
                },
                {
                    "role": "tool",
                    "tool_call_id": "call_1",
                    "content": '{"temperature": 18, "unit": "celsius"}',
                },
                {
                    "role": "tool",
                    "tool_call_id": "call_2",
                    "name": "get_current_weather",
                    "content": '{"temperature": 24}',
                },
            ],
            "tools": [WEATHER_TOOL],
        },
        {
            "name": "tool_call_arguments_not_strings",
            "messages": [
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "c",
                            "type": "function",
                            "function": {
                                "name": "f",
                                "arguments": {
                                    "city": "Zürich",
                                    "n": 2,
                                    "ok": True,
                                    "x": None,
                                    "f": 1.5e20,
                                    "q": "it's",
                                },
                            },
                        },
                        {"id": "d", "type": "function", "function": {"name": "g"}},
                        {
                            "id": "e",
                            "type": "function",
                            "function": {"name": "h", "arguments": None},
                        },
                    ],
                },
            ],
        },
        {
            "name": "legacy_function_call",
            "messages": [
                {"role": "user", "content": "Weather in Berlin?"},
                {
                    "role": "assistant",
                    "content": None,
                    "function_call": {
                        "name": "get_current_weather",
                        "arguments": '{"location": "Berlin"}',
                    },
                },
                {"role": "function", "name": "get_current_weather", "content": "sunny, 21C"},
            ],
        },
        {
            "name": "weather_tool",
            "messages": [{"role": "user", "content": "Weather in Boston?"}],
            "tools": [WEATHER_TOOL],
        },
        {
            "name": "tools_with_system_message",
            "messages": [
                {"role": "system", "content": "Use tools."},
                {"role": "user", "content": "Weather in Boston?"},
            ],
            "tools": [WEATHER_TOOL],
        },
        {
            "name": "rich_tool_schema",
            "messages": [{"role": "user", "content": "find shoes"}],
            "tools": [RICH_TOOL, WEATHER_TOOL],
        },
        {
            "name": "tools_without_parameters",
            "messages": [{"role": "user", "content": "ping"}],
            "tools": NO_PARAMETER_TOOLS,
        },
        {
            "name": "anthropic_shaped_tool",
            "messages": [{"role": "user", "content": "AAPL?"}],
            "tools": [ANTHROPIC_TOOL],
        },
        {
            "name": "long_tool_description",
            "messages": [{"role": "user", "content": "go"}],
            "tools": [LONG_DESCRIPTION_TOOL],
        },
        {
            "name": "tool_choice_none",
            "messages": [{"role": "user", "content": "hi"}],
            "tools": [WEATHER_TOOL],
            "tool_choice": "none",
        },
        {
            "name": "tool_choice_auto",
            "messages": [{"role": "user", "content": "hi"}],
            "tools": [WEATHER_TOOL],
            "tool_choice": "auto",
        },
        {
            "name": "tool_choice_required",
            "messages": [{"role": "user", "content": "hi"}],
            "tools": [WEATHER_TOOL],
            "tool_choice": "required",
        },
        {
            "name": "tool_choice_function",
            "messages": [{"role": "user", "content": "hi"}],
            "tools": [WEATHER_TOOL],
            "tool_choice": {"type": "function", "function": {"name": "get_current_weather"}},
        },
        {
            "name": "tool_choice_without_tools",
            "messages": [{"role": "user", "content": "hi"}],
            "tool_choice": {"type": "function", "function": {"name": "x"}},
        },
        {"name": "empty_tools_list", "messages": [{"role": "system", "content": "s"}], "tools": []},
        {
            "name": "count_response_tokens",
            "messages": [{"role": "assistant", "content": "The answer is 42."}],
            "tools": [WEATHER_TOOL],
            "tool_choice": "none",
            "options": {"count_response_tokens": True},
        },
        {"name": "empty_messages", "messages": []},
        {
            "name": "empty_messages_response",
            "messages": [],
            "options": {"count_response_tokens": True},
        },
        {
            "name": "empty_and_null_content",
            "messages": [
                {"role": "user", "content": ""},
                {"role": "assistant", "content": None},
                {"role": "user"},
            ],
        },
        {
            "name": "extra_fields",
            "messages": [
                {
                    "role": "assistant",
                    "content": "ok",
                    "refusal": "I can't",
                    "reasoning_content": "thinking...",
                    "index": 3,
                    "audio": {"id": "a"},
                    "annotations": [],
                },
            ],
        },
        {
            "name": "text_parts",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "Describe"},
                        {"type": "text", "text": " this in detail."},
                        "a bare string part",
                    ],
                },
            ],
        },
        {
            "name": "text_parts_not_strings",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": 12345},
                        {"type": "text", "text": None},
                        {"type": "text"},
                        {"type": "text", "text": ["a", {"b": 2.0}]},
                    ],
                }
            ],
        },
        {
            "name": "unicode_conversation",
            "messages": [
                {"role": "system", "content": "Réponds en français. 用中文回答。"},
                {"role": "user", "content": "😀 Привет! مرحبا 👨‍👩‍👧‍👦"},
                {"role": "assistant", "content": "Bonjour ! 你好！"},
            ],
        },
        {
            "name": "long_content_chunked",
            "messages": [{"role": "user", "content": "word " * 700 + "漢字" * 400}],
        },
        {
            "name": "image_url_remote_auto_and_low",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "What is in these images?"},
                        image_part("https://example.invalid/cat.png"),
                        image_part("https://example.invalid/dog.png", "low"),
                        image_part("https://example.invalid/bird.png", "auto"),
                        {
                            "type": "image_url",
                            "image_url": "https://example.invalid/plain-string.png",
                        },
                    ],
                }
            ],
        },
        {
            "name": "image_url_data_high",
            "messages": [
                {"role": "user", "content": [image_part(url, "high") for url in images.values()]}
            ],
        },
        {
            "name": "image_url_data_low_and_auto",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        image_part(images["png_2048x4096"], "low"),
                        image_part(images["png_2048x4096"]),
                    ],
                }
            ],
        },
        {
            "name": "image_default_token_count_flag",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        image_part("https://example.invalid/cat.png", "high"),
                        image_part(png_small, "low"),
                        {"type": "image_url", "image_url": "https://example.invalid/x.png"},
                        {
                            "type": "image",
                            "source": {"type": "url", "url": "https://example.invalid/y.png"},
                        },
                        {
                            "type": "file",
                            "file": {
                                "filename": "scan.pdf",
                                "file_data": "data:application/pdf;base64,JVBERi0=",
                            },
                        },
                    ],
                }
            ],
            "options": {"use_default_image_token_count": True},
        },
        {
            "name": "image_remote_high_fails",
            "messages": [
                {"role": "user", "content": [image_part("https://example.invalid/cat.png", "high")]}
            ],
            "expected_error_kind": "image_fetch",
        },
        {
            "name": "image_remote_high_default_token_count",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "see"},
                        image_part("https://example.invalid/cat.png", "high"),
                    ],
                }
            ],
            "options": {"default_token_count": 7},
        },
    ]
    for name, url in images.items():
        cases.append(
            {
                "name": f"image_high_{name}",
                "messages": [{"role": "user", "content": [image_part(url, "high")]}],
            }
        )
    cases += [
        {
            "name": "image_zero_width_high",
            "messages": [
                {
                    "role": "user",
                    "content": [image_part(data_url("image/png", png(0, 1000)), "high")],
                }
            ],
        },
        {
            "name": "image_truncated_png",
            "messages": [
                {
                    "role": "user",
                    "content": [image_part(data_url("image/png", png(800, 800)[:20]), "high")],
                }
            ],
        },
        {
            "name": "image_bad_padding",
            "messages": [
                {
                    "role": "user",
                    "content": [image_part("data:image/png;base64,iVBORw0KGgo", "high")],
                }
            ],
        },
        {
            "name": "image_bad_detail",
            "messages": [{"role": "user", "content": [image_part(png_small, "ultra")]}],
        },
        {
            "name": "image_missing_url",
            "messages": [
                {"role": "user", "content": [{"type": "image_url", "image_url": {"detail": "low"}}]}
            ],
        },
        {
            "name": "image_empty_string",
            "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": "   "}]}],
        },
        {
            "name": "invalid_part_type",
            "messages": [
                {
                    "role": "user",
                    "content": [{"type": "text", "text": "hi"}, {"type": "video", "url": "x"}],
                }
            ],
        },
        {
            "name": "invalid_part_type_with_default",
            "messages": [
                {
                    "role": "user",
                    "content": [{"type": "text", "text": "hi"}, {"type": "video", "url": "x"}],
                },
                {"role": "user", "content": "after"},
            ],
            "options": {"default_token_count": 11},
        },
        {
            "name": "part_without_type",
            "messages": [{"role": "user", "content": [{"text": "no type"}]}],
        },
        {
            "name": "tool_calls_not_a_list",
            "messages": [{"role": "assistant", "tool_calls": "oops"}],
        },
        {
            "name": "tool_call_without_function",
            "messages": [{"role": "assistant", "tool_calls": [{"id": "x", "type": "function"}]}],
        },
        {"name": "message_not_an_object", "messages": ["just a string"]},
        {
            "name": "tool_choice_missing_function",
            "messages": [{"role": "user", "content": "hi"}],
            "tool_choice": {"type": "function"},
        },
        {
            "name": "array_without_items",
            "messages": [{"role": "user", "content": "hi"}],
            "tools": [
                {
                    "type": "function",
                    "function": {
                        "name": "f",
                        "parameters": {"type": "object", "properties": {"a": {"type": "array"}}},
                    },
                }
            ],
        },
        {
            "name": "anthropic_blocks",
            "messages": [
                {
                    "role": "assistant",
                    "content": [
                        {
                            "type": "thinking",
                            "thinking": "Let me check the weather first.",
                            "signature": "abc123==",
                        },
                        {"type": "redacted_thinking", "data": "opaque"},
                        {
                            "type": "tool_use",
                            "id": "toolu_1",
                            "name": "get_weather",
                            "input": {"city": "Paris", "days": [1, 2], "metric": True},
                        },
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": "toolu_1",
                            "content": [{"type": "text", "text": "18C and sunny"}],
                        },
                        {
                            "type": "tool_result",
                            "tool_use_id": "toolu_2",
                            "content": "plain result",
                            "is_error": True,
                        },
                        {"type": "tool_reference", "tool_name": "get_weather"},
                        {
                            "type": "image",
                            "source": {
                                "type": "base64",
                                "media_type": "image/png",
                                "data": base64.b64encode(png(2000, 2000)).decode(),
                            },
                        },
                    ],
                },
            ],
        },
        {
            "name": "tool_result_missing_id",
            "messages": [{"role": "user", "content": [{"type": "tool_result", "content": "x"}]}],
        },
        {
            "name": "documents_and_files",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "document",
                            "title": "Report",
                            "context": "Quarterly",
                            "source": {
                                "type": "text",
                                "media_type": "text/plain",
                                "data": "Revenue grew 12% year over year.",
                            },
                        },
                        {
                            "type": "document",
                            "source": {
                                "type": "content",
                                "content": [
                                    {"type": "text", "text": "chunk one"},
                                    {"type": "text", "text": "chunk two"},
                                ],
                            },
                        },
                        {
                            "type": "document",
                            "source": {"type": "content", "content": "inline content"},
                        },
                        {
                            "type": "document",
                            "source": {
                                "type": "base64",
                                "media_type": "application/pdf",
                                "data": "JVBERi0=",
                            },
                        },
                        {
                            "type": "file",
                            "file": {
                                "filename": "notes.txt",
                                "file_data": "data:text/plain;base64,aGVsbG8=",
                            },
                        },
                        {"type": "file", "file": {"file_id": "file-123"}},
                        {"type": "file", "file": {"filename": "only-name.pdf"}},
                    ],
                }
            ],
        },
        {
            "name": "search_results",
            "messages": [
                {
                    "role": "tool",
                    "tool_call_id": "call_9",
                    "content": "see results",
                    "search_results": [
                        {
                            "source": "https://example.com/a",
                            "title": "Alpha",
                            "content": [{"type": "text", "text": "alpha body"}],
                            "citations": {"enabled": True},
                        },
                        {
                            "source": "https://example.com/b",
                            "title": "Bêta — ünïcode",
                            "content": [],
                            "citations": [{"quote": "é 漢 😀", "score": 0.5}],
                        },
                        "ignored",
                    ],
                }
            ],
        },
    ]
    for case in cases:
        case.setdefault("options", {})
    return cases


def run_token_counter(model: str, case: dict[str, Any]) -> dict[str, Any] | int:
    options = case["options"]
    try:
        return litellm.token_counter(
            model=model,
            messages=case["messages"],
            tools=case.get("tools"),
            tool_choice=case.get("tool_choice"),
            count_response_tokens=options.get("count_response_tokens", False),
            use_default_image_token_count=options.get("use_default_image_token_count", False),
            default_token_count=options.get("default_token_count"),
        )
    except Exception as error:  # noqa: BLE001  # the fixture records LiteLLM's failures too
        return {"error": type(error).__name__, "message": str(error)}


def model_table() -> list[str]:
    models = set(litellm.open_ai_chat_completion_models) | set(litellm.azure_llms)
    return sorted(
        model for model in models if openai_tokenizer_encoding_name(model) == "o200k_base"
    )


def encoding_cases() -> dict[str, str]:
    models = set(litellm.open_ai_chat_completion_models) | set(litellm.azure_llms)
    models |= {
        "",
        "openai/gpt-4o",
        "azure/gpt-4o",
        "gpt-4o-unknown-future",
        "chatgpt-4o-latest",
        "gpt-3.5-turbo-0301",
        "claude-3-5-sonnet-20241022",
        "claude-sonnet-4-5",
        "gemini/gemini-2.5-pro",
        "llama-3-70b",
        "mistral-large-latest",
    }
    return {model: openai_tokenizer_encoding_name(model) for model in sorted(models)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model-table", action="store_true", help="print the O200K_MODELS table for tokens.rs"
    )
    arguments = parser.parse_args()
    if arguments.model_table:
        for model in model_table():
            print(f'    "{model}",')
        return

    messages = message_cases()
    for case in messages:
        case["expected"] = {model: run_token_counter(model, case) for model in MESSAGE_MODELS}
    corpus = {
        "generated_by": {
            "command": "/opt/litellm-venv/bin/python scripts/gen_token_fixtures.py",
            "python": platform.python_version(),
            "litellm": version("litellm"),
            "tiktoken": tiktoken.__version__,
            "environment": {
                "LITELLM_LOCAL_MODEL_COST_MAP": os.environ.get("LITELLM_LOCAL_MODEL_COST_MAP")
            },
            "note": "token ids: tiktoken encode(text, disallowed_special=()); counts: litellm.token_counter",
        },
        "o200k_models": model_table(),
        "encoding_for_model": encoding_cases(),
        "text_cases": text_cases(),
        "long_text_cases": long_text_cases(),
        "decode_cases": decode_cases(),
        "message_models": list(MESSAGE_MODELS),
        "message_cases": messages,
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(corpus, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(
        f"wrote {OUTPUT.relative_to(ROOT)}: {len(corpus['text_cases'])} texts, {len(messages)} message cases",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
