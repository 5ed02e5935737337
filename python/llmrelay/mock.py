"""``llmrelay-mock``: run the bundled mock upstream LLM provider (fault injection, recorded
requests) for tests, benchmarks and load tests.

    llmrelay-mock --port 8000 [--host 127.0.0.1] [--latency-ms N] [--ttft-ms N]
                  [--chunk-count N] [--chunk-interval-ms N] [--content TEXT]

In code: ``server = llmrelay.mock.MockServer(port=0); server.base_url; server.stop()``.
Controls (per-request ``x-mock-*`` headers, ``/__mock/*`` endpoints) are documented in
``rust/llmrelay-mock/README.md`` and ``docs/mock.md``.
"""

from __future__ import annotations

import argparse
import sys

from ._native import MockServer

__all__ = ["DIALECTS", "MockServer", "main"]

#: The wire formats the mock speaks, with the routes that serve them.
DIALECTS = (
    ("OpenAI", ("/v1/chat/completions, /v1/completions, /v1/embeddings, /v1/responses, "
                "/v1/images/generations, /v1/moderations, /v1/models")),
    ("Azure OpenAI", ("/openai/deployments/{deployment}/chat/completions, …/completions, "
                      "…/embeddings, …/images/generations")),
    ("Anthropic Messages", "/v1/messages, /v1/messages/count_tokens"),
    ("AWS Bedrock Runtime", ("/model/{id}/converse, /model/{id}/converse-stream, "
                             "/model/{id}/invoke (SigV4 checked)")),
    ("Gemini API", ("/v1beta/models/{model}:generateContent, :streamGenerateContent, "
                    ":embedContent")),
    ("Vertex AI", "/v1/projects/{project}/locations/{location}/publishers/{publisher}/models/…"),
    ("Cohere v2", "/v2/chat, /v2/embed, /v2/rerank"),
    ("Hugging Face", "/hf-inference/models/{model}/…"),
    ("Ollama", "/api/chat, /api/generate, /api/embed"),
)


def _description() -> str:
    lines = ["Run the mock upstream LLM provider until Ctrl-C or SIGTERM. It speaks:"]
    lines += [f"  {name}: {routes}" for name, routes in DIALECTS]
    lines.append("Per-request behaviour (faults, latency, scripted answers) is set with x-mock-* "
                 "headers and /__mock/* endpoints; see docs/mock.md.")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llmrelay-mock", description=_description(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000,
                        help="port to bind; 0 picks a free one (default 8000)")
    parser.add_argument("--latency-ms", type=int, default=0,
                        help="delay before whole responses and fault responses, in ms (default 0)")
    parser.add_argument("--ttft-ms", type=int, default=0,
                        help="delay before the first chunk of a stream, in ms (default 0)")
    parser.add_argument("--chunk-count", type=int, default=8,
                        help="content chunks per streamed answer (default 8)")
    parser.add_argument("--chunk-interval-ms", type=int, default=0,
                        help="delay between stream chunks, in ms (default 0)")
    parser.add_argument("--content", default=None,
                        help="answer text (default: a fixed sentence)")
    parser.add_argument("--prompt-tokens", type=int, default=None,
                        help="prompt tokens to report (default: estimated from the request)")
    parser.add_argument("--completion-tokens", type=int, default=None,
                        help="completion tokens to report (default: estimated from the answer)")
    parser.add_argument("--embedding-dim", type=int, default=8,
                        help="embedding length when a request sets no dimensions (default 8)")
    parser.add_argument("--no-record", action="store_true",
                        help="do not keep requests for GET /__mock/requests (for load tests)")
    parser.add_argument("--threads", type=int, default=None,
                        help="accepted for compatibility with the Rust binary; the engine "
                             "runtime is shared")
    parser.add_argument("--version", "-V", action="store_true", help="print the version")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.version:
        from . import _native

        print(f"llmrelay-mock {_native.__version__}")
        return 0
    config = {
        "latency_ms": args.latency_ms,
        "ttft_ms": args.ttft_ms,
        "chunk_count": args.chunk_count,
        "chunk_interval_ms": args.chunk_interval_ms,
        "embedding_dim": args.embedding_dim,
        "record": not args.no_record,
    }
    if args.prompt_tokens is not None:
        config["prompt_tokens"] = args.prompt_tokens
    if args.completion_tokens is not None:
        config["completion_tokens"] = args.completion_tokens
    if args.content is not None:
        config["content"] = args.content
    try:
        server = MockServer(args.host, args.port, config)
    except (ValueError, OSError) as error:
        # A busy port or a bad address: one line, as a command should say it.
        print(f"llmrelay-mock: error: {error}", file=sys.stderr)
        return 1
    print(f"llmrelay-mock listening on {server.base_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
