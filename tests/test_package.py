"""Package surface: LiteLLM's import paths, the native stub in step with the module, lazy imports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import llmrelay
from llmrelay import _native


def test_native_stub_matches_module():
    stub = Path(llmrelay.__file__).with_name("_native.pyi")
    tree = ast.parse(stub.read_text())
    declared = {
        node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))
    } | {
        node.target.id for node in tree.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    }
    public = {name for name in dir(_native) if not name.startswith("_")} | {"__version__"}
    assert declared == public


def test_litellm_import_paths():
    from llmrelay.exceptions import RateLimitError  # noqa: F401
    from llmrelay.integrations.custom_logger import CustomLogger  # noqa: F401
    from llmrelay.types.utils import ModelResponse, Usage  # noqa: F401

    for name in llmrelay.__all__:
        assert hasattr(llmrelay, name), name
    assert Path(llmrelay.__file__).with_name("py.typed").exists()


def test_import_does_not_load_openai_or_the_price_map():
    code = (
        "import sys, llmrelay;"
        "print('openai' in sys.modules, 'llmrelay.exceptions' in sys.modules,"
        " '_model_cost' in vars(llmrelay) and llmrelay._model_cost is not None)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "False"]


def test_quickstart_example_runs():
    example = Path(__file__).parents[1] / "examples" / "quickstart.py"
    out = subprocess.run([sys.executable, str(example)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "completion: This is a mock response" in out.stdout
    assert "error: RateLimitError 429" in out.stdout
