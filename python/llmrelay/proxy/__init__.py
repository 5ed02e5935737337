"""``llmrelay``: run the proxy server (an OpenAI- and Anthropic-compatible gateway) from a
LiteLLM ``config.yaml``, or for one model.

    llmrelay --config config.yaml [--port 4000] [--host 0.0.0.0]
    llmrelay --model gpt-4o-mini [--alias mini] [--api_base URL] [--api_key KEY]
    python -m llmrelay.proxy --config config.yaml

The server is Rust (``llmrelay-proxy``); it runs with the GIL released for its whole life.
Python is involved only when ``litellm_settings.callbacks`` names ``module.instance`` hooks:
those are imported here (relative to the config's directory) and called from the server.
Flags are LiteLLM's (``litellm --help``); see ``docs/proxy.md``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from typing import Any

__all__ = ["main", "load_callbacks"]

_log = logging.getLogger("llmrelay.proxy")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llmrelay", description="llmrelay proxy: an OpenAI/Anthropic-compatible LLM gateway."
    )
    parser.add_argument("--config", "-c", help="LiteLLM proxy config.yaml")
    parser.add_argument("--port", type=int, help="port (env PORT, default 4000)")
    parser.add_argument("--host", help="address (env HOST, default 0.0.0.0)")
    parser.add_argument("--model", "-m", help="serve one model without a config")
    parser.add_argument("--alias", help="public name for --model")
    parser.add_argument("--api_base", help="api_base of the --model deployment")
    parser.add_argument("--api_key", help="api_key of the --model deployment")
    parser.add_argument("--api_version", help="api_version of the --model deployment")
    parser.add_argument("--temperature", type=float, help="default temperature for --model")
    parser.add_argument("--max_tokens", type=int, help="default max_tokens for --model")
    parser.add_argument("--request_timeout", type=float, help="upstream timeout (seconds)")
    parser.add_argument("--drop_params", action="store_true", help="drop unsupported params")
    parser.add_argument(
        "--num_workers", type=int,
        help="accepted for LiteLLM compatibility: one process already serves all cores",
    )
    parser.add_argument("--debug", action="store_true", help="request logs")
    parser.add_argument("--detailed_debug", action="store_true", help="per-request debug logs")
    parser.add_argument("--validate_config", action="store_true", help="check the config, exit")
    parser.add_argument("--drain_timeout", type=float,
                        help="seconds in-flight requests may finish after Ctrl-C/SIGTERM (30)")
    parser.add_argument("--version", "-v", action="store_true", help="print the version")
    return parser


def _argv(args: argparse.Namespace) -> list[str]:
    """The parsed flags, in the form the native server parses."""
    out: list[str] = []
    for name, value in vars(args).items():
        if value is None or value is False:
            continue
        if value is True:
            out.append(f"--{name}")
        else:
            out.extend([f"--{name}", str(value)])
    return out


def load_callbacks(names: list[str], config_dir: str | None) -> list[Any]:
    """Import ``module.instance`` callbacks (the module is looked up next to the config first,
    as LiteLLM does). Built-in integration names (``langfuse``, ...) are not available in the
    llmrelay proxy yet and are skipped with a warning."""
    if config_dir and config_dir not in sys.path:
        sys.path.insert(0, config_dir)
    callbacks = []
    for name in names:
        module_name, _, attribute = name.rpartition(".")
        if not module_name:
            _log.warning("callback %r: built-in integrations are not supported by the llmrelay "
                         "proxy yet; ignored", name)
            continue
        module = importlib.import_module(module_name)
        callbacks.append(getattr(module, attribute))
    return callbacks


def main(argv: list[str] | None = None) -> int:
    from . import _native

    args = _parser().parse_args(argv)
    native_argv = _argv(args)
    if args.version:
        print(f"llmrelay {_native.__version__}")
        return 0
    try:
        prepared = _native.proxy_prepare(native_argv)
    except ValueError as error:
        print(f"llmrelay: {error}", file=sys.stderr)
        return 2
    # `environment_variables` from the config, exported before `os.environ/...` is resolved.
    for name, value in prepared["environment"]:
        os.environ[name] = value
    host = None
    if prepared["callbacks"]:
        from ._proxy_hooks import HookHost

        logging.basicConfig(level=logging.INFO)
        try:
            callbacks = load_callbacks(prepared["callbacks"], prepared["config_dir"])
        except (ImportError, AttributeError) as error:
            print(f"llmrelay: cannot load litellm_settings callbacks: {error}", file=sys.stderr)
            return 1
        if callbacks:
            host = HookHost(callbacks)
    try:
        _native.proxy_serve(native_argv, host)
    except KeyboardInterrupt:
        pass
    except (ValueError, RuntimeError) as error:
        print(f"llmrelay: {error}", file=sys.stderr)
        return 1
    finally:
        if host is not None:
            host.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
