"""The docs' code runs as shown. A ```python block right after a ``<!-- test -->`` line is run;
the runnable blocks of one page run in order in one fresh interpreter (later blocks see the
names of earlier ones, as a reader's session would). When the block is followed by a
``<!-- output -->`` line and a ```text block, what the code prints must be that text.

The examples start their own mock upstream (``llmrelay.mock.MockServer``), so they need no key
and no network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import llmrelay
import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
PYTHON_DIR = str(Path(llmrelay.__file__).resolve().parent.parent)
TEST_MARK = "<!-- test -->"
OUTPUT_MARK = "<!-- output -->"


@dataclass
class Example:
    line: int
    code: str
    output: str | None


def _fenced(lines: list[str], start: int) -> tuple[str, int]:
    """The body of the fenced block whose opening fence is ``lines[start]``, and the index
    after its closing fence."""
    end = start + 1
    while end < len(lines) and lines[end].strip() != "```":
        end += 1
    if end == len(lines):
        raise AssertionError(f"unclosed code block at line {start + 1}")
    return "\n".join(lines[start + 1:end]) + "\n", end + 1


def examples(path: Path) -> list[Example]:
    lines = path.read_text().splitlines()
    found = []
    index = 0
    while index < len(lines):
        if lines[index].strip() != TEST_MARK:
            index += 1
            continue
        fence = index + 1
        if fence >= len(lines) or lines[fence].strip() != "```python":
            raise AssertionError(f"{path.name}:{index + 1}: {TEST_MARK} must precede ```python")
        code, after = _fenced(lines, fence)
        output = None
        probe = after
        while probe < len(lines) and not lines[probe].strip():
            probe += 1
        if probe < len(lines) and lines[probe].strip() == OUTPUT_MARK:
            if probe + 1 >= len(lines) or lines[probe + 1].strip() != "```text":
                raise AssertionError(f"{path.name}:{probe + 1}: {OUTPUT_MARK} must precede ```text")
            output, after = _fenced(lines, probe + 1)
        found.append(Example(fence + 1, code, output))
        index = after
    return found


RUNNER = r"""
import contextlib, io, json, sys, traceback
blocks = json.load(sys.stdin)
namespace = {"__name__": "__docs__"}
outputs = []
for code in blocks:
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            exec(compile(code, "<docs>", "exec"), namespace)
    except BaseException:
        outputs.append({"output": buffer.getvalue(), "error": traceback.format_exc()})
        break
    outputs.append({"output": buffer.getvalue(), "error": None})
print(json.dumps(outputs))
"""

PAGES = sorted(path for path in DOCS.glob("*.md") if examples(path))


def test_some_pages_have_runnable_examples() -> None:
    names = {path.name for path in PAGES}
    assert {"python-api.md", "mock.md", "router.md"} <= names, names


def test_the_convention_is_parsed() -> None:
    page = "<!-- test -->\n```python\nprint(1)\n```\n\n<!-- output -->\n```text\n1\n```\n"
    path = Path(os.environ.get("TMPDIR", "/tmp")) / "llmrelay-docs-convention.md"
    path.write_text(page)
    try:
        assert examples(path) == [Example(2, "print(1)\n", "1\n")]
    finally:
        path.unlink()


@pytest.mark.parametrize("page", PAGES, ids=lambda path: path.name)
def test_examples_run_as_shown(page: Path) -> None:
    found = examples(page)
    environment = {**os.environ, "PYTHONPATH": PYTHON_DIR}
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_API_BASE", "OPENAI_BASE_URL"):
        environment.pop(name, None)
    result = subprocess.run([sys.executable, "-c", RUNNER], check=False, input=json.dumps([e.code for e in found]),
                            capture_output=True, text=True, env=environment, timeout=120)
    assert result.returncode == 0, result.stderr
    outputs = json.loads(result.stdout.strip().splitlines()[-1])
    for example, outcome in zip(found, outputs):
        where = f"{page.name}:{example.line}"
        assert outcome["error"] is None, f"{where} raised:\n{outcome['error']}"
        if example.output is not None:
            assert outcome["output"] == example.output, f"{where} printed:\n{outcome['output']}"
    assert len(outputs) == len(found)
