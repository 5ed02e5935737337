"""``llmrelay``: run the proxy server (an OpenAI- and Anthropic-compatible gateway) from a
LiteLLM ``config.yaml``, or for one model.

    llmrelay --config config.yaml [--port 4000] [--host 0.0.0.0]
    llmrelay --model gpt-4o-mini [--alias mini] [--api_base URL] [--api_key KEY]
    llmrelay --config config.yaml --validate_config
    python -m llmrelay.proxy --config config.yaml

The server is Rust (``llmrelay-proxy``); it runs with the GIL released for its whole life.
Python is involved only when ``litellm_settings.callbacks`` names ``module.instance`` hooks:
those are imported here (relative to the config's directory) and called from the server.
Flags are LiteLLM's (``litellm --help``) and are parsed by the server itself, so this command
and the ``llmrelay-proxy`` binary take the same ones; see ``docs/proxy.md``.

Hooks raise :class:`HTTPException` (or LiteLLM's :class:`ProxyException`) to answer the client
with a chosen status; see :mod:`llmrelay.proxy._types`.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from typing import Any

from ._types import HTTPException, ProxyException

__all__ = ["HTTPException", "ProxyException", "load_callbacks", "main"]

_log = logging.getLogger("llmrelay.proxy")

# LiteLLM's exit codes: 2 for bad flags (click's usage error), 1 when the proxy cannot start.
_USAGE_ERROR = 2
_START_ERROR = 1


def load_callbacks(names: list[str], config_dir: str | None) -> list[Any]:
    """Import ``module.instance`` callbacks (the module is looked up next to the config first,
    as LiteLLM does). Built-in integration names (``langfuse``, ``otel``, ...) never get here:
    the Rust server runs them; another bare name is skipped with a warning."""
    directory = os.path.abspath(config_dir or ".")
    if directory not in sys.path:
        sys.path.insert(0, directory)
    callbacks = []
    for name in names:
        module_name, _, attribute = name.rpartition(".")
        if not module_name:
            _log.warning("callback %r is not an integration llmrelay ships nor a "
                         "module.instance path; ignored", name)
            continue
        module = importlib.import_module(module_name)
        callbacks.append(getattr(module, attribute))
    return callbacks


def _error(message: object, code: int) -> int:
    text = str(message)
    print(text if text.startswith("llmrelay") else f"llmrelay: {text}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    from .. import _native

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        prepared = _native.proxy_prepare(argv)
    except ValueError as error:
        return _error(error, _USAGE_ERROR)
    except RuntimeError as error:
        return _error(error, _START_ERROR)
    if prepared["help"]:
        print(prepared["usage"], end="")
        return 0
    if prepared["version"]:
        print(f"llmrelay {_native.__version__}")
        return 0
    # `environment_variables` from the config, exported before `os.environ/...` is resolved.
    for name, value in prepared["environment"]:
        os.environ[name] = value
    # A `local-semantic` cache finds the model the `semantic` extra installed.
    if "LLMRELAY_SEMANTIC_MODEL_DIR" not in os.environ:
        from ..caching.caching import default_semantic_model_dir

        model_dir = default_semantic_model_dir()
        if model_dir is not None:
            os.environ["LLMRELAY_SEMANTIC_MODEL_DIR"] = model_dir
    host = None
    if prepared["callbacks"] and prepared["serves"]:
        from .._proxy_hooks import HookHost

        logging.basicConfig(level=logging.INFO)
        try:
            callbacks = load_callbacks(prepared["callbacks"], prepared["config_dir"])
        except (ImportError, AttributeError) as error:
            return _error(f"cannot load litellm_settings callbacks: {error}", _START_ERROR)
        if callbacks:
            host = HookHost(callbacks)
    try:
        _native.proxy_serve(argv, host)
    except KeyboardInterrupt:
        pass
    except ValueError as error:
        return _error(error, _USAGE_ERROR)
    except RuntimeError as error:
        return _error(error, _START_ERROR)
    finally:
        if host is not None:
            host.close()
    return 0
