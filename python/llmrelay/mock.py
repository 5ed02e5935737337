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
    args = parser.parse_args(argv)
    config = {
        "latency_ms": args.latency_ms,
        "ttft_ms": args.ttft_ms,
        "chunk_count": args.chunk_count,
        "chunk_interval_ms": args.chunk_interval_ms,
    }
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
