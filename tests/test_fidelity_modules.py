"""Every path and name of the module map in docs/python-api.md imports (issue 11: "a test imports
every path in it"); the names' behaviour is tested in test_fidelity_sdk.py, test_fidelity_types.py
and test_fidelity_router.py."""

from __future__ import annotations

import importlib
import pathlib
import re

import pytest

DOC = pathlib.Path(__file__).resolve().parent.parent / "docs" / "python-api.md"


def _module_map() -> list[tuple[str, str, list[str]]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Module map", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`litellm"):
            names = re.findall(r"`([^`]+)`", cells[2])
            rows.append((cells[0].strip("`"), cells[1].strip("`"), names))
    return rows


ROWS = _module_map()


def test_the_module_map_is_complete():
    paths = {litellm_path for litellm_path, _, _ in ROWS}
    assert len(ROWS) >= 20
    for required in ("litellm.types.router", "litellm.cost_calculator", "litellm.responses.main",
                     "litellm.llms.custom_httpx.http_handler", "litellm.router_utils.get_retry_from_policy",
                     "litellm.litellm_core_utils.get_llm_provider_logic"):
        assert required in paths
    for litellm_path, llmrelay_path, _ in ROWS:
        assert llmrelay_path == "llmrelay" + litellm_path[len("litellm"):]


@pytest.mark.parametrize(("litellm_path", "llmrelay_path", "names"), ROWS, ids=[r[0] for r in ROWS])
def test_every_path_and_name_imports(litellm_path, llmrelay_path, names):
    module = importlib.import_module(llmrelay_path)
    missing = [name for name in names if not hasattr(module, name)]
    assert missing == [], f"{llmrelay_path} lacks {missing}"
    # `from <path> import <name>` works too (not only attribute access).
    namespace: dict = {}
    exec(f"from {llmrelay_path} import {', '.join(names)}", namespace)
    assert all(name in namespace for name in names)
