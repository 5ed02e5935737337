# Records LiteLLM's answer to get_llm_provider(model) for every chat and embedding model of the
# bundled price map, for the provider reach test (rust/llmrelay-providers/tests/it/reach.rs).
# Facts only: the observed (model, provider) pair, or null where LiteLLM raises.
# Usage (in a virtualenv with litellm==1.104.9 installed):
#   LITELLM_LOCAL_MODEL_COST_MAP=True python scripts/gen_provider_reach_fixture.py \
#       rust/llmrelay-core/data/model_prices_and_context_window.json \
#       rust/llmrelay-providers/tests/fixtures/litellm/get_llm_provider.json
import importlib.metadata
import json
import os
import sys

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
import litellm  # noqa: E402

source, target = sys.argv[1], sys.argv[2]
price_map = json.load(open(source))
price_map.pop("sample_spec", None)
litellm.suppress_debug_info = True
models = {}
for key, entry in price_map.items():
    if entry.get("mode") not in ("chat", "embedding"):
        continue
    try:
        model, provider, _, _ = litellm.get_llm_provider(key)
        models[key] = [model, provider]
    except Exception:  # noqa: BLE001 (LiteLLM raises BadRequestError or ValueError)
        models[key] = None
out = {
    "litellm_version": importlib.metadata.version("litellm"),
    "observed": "litellm.get_llm_provider(key) for each chat/embedding key of the bundled price map",
    "models": models,
}
# One model a line, so a regenerated fixture diffs model by model.
lines = ["{", f'"litellm_version": {json.dumps(out["litellm_version"])},',
         f'"observed": {json.dumps(out["observed"])},', '"models": {']
items = sorted(models.items())
for i, (key, value) in enumerate(items):
    lines.append(f"{json.dumps(key)}: {json.dumps(value)}" + ("," if i < len(items) - 1 else ""))
lines += ["}", "}"]
with open(target, "w") as f:
    f.write("\n".join(lines) + "\n")
