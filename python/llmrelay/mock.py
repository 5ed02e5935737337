"""``llmrelay-mock``: run the bundled mock upstream (OpenAI wire format, fault injection).

    llmrelay-mock --port 8000 [--host 127.0.0.1] [--latency-ms N] [--ttft-ms N]
                  [--chunk-count N] [--chunk-interval-ms N] [--content TEXT]

In code: ``server = llmrelay.mock.MockServer(port=0); server.base_url; server.stop()``.
Controls (per-request ``x-mock-*`` headers, ``/__mock/*`` endpoints) are documented in
``rust/llmrelay-mock/README.md``.
"""

from __future__ import annotations

import argparse
import sys

from ._native import MockServer

__all__ = ["MockServer", "main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="llmrelay-mock", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--ttft-ms", type=int, default=0)
    parser.add_argument("--chunk-count", type=int, default=8)
    parser.add_argument("--chunk-interval-ms", type=int, default=0)
    parser.add_argument("--content", default=None)
    parser.add_argument("--prompt-tokens", type=int, default=None)
    parser.add_argument("--completion-tokens", type=int, default=None)
    parser.add_argument("--embedding-dim", type=int, default=8)
    parser.add_argument("--no-record", action="store_true", help="do not record requests")
    parser.add_argument("--threads", type=int, default=None,
                        help="accepted for compatibility with the Rust binary; the engine runtime is shared")
    args = parser.parse_args(argv)
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
    server = MockServer(args.host, args.port, config)
    print(f"llmrelay-mock listening on {server.base_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
