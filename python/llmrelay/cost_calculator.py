"""Cost of a call (``litellm.cost_calculator``): ``completion_cost``, ``cost_per_token`` and
``response_cost_calculator``, priced by the engine's catalog (exact decimal arithmetic).

A response's ``_hidden_params`` carry what the engine learned: the provider, the model sent
upstream, and, when the upstream is itself a LiteLLM-compatible gateway, the cost it reported
(``additional_headers["llm_provider-x-litellm-response-cost"]``), which wins.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Optional

from . import _native
from ._native import NativeError

__all__ = [
    "BaseTokenUsageProcessor",
    "RealtimeAPITokenUsageProcessor",
    "completion_cost",
    "cost_per_token",
    "handle_realtime_stream_cost_calculation",
    "model_candidates",
    "response_cost_calculator",
]

_UPSTREAM_COST_HEADER = "llm_provider-x-litellm-response-cost"


def _raise(error: NativeError) -> Exception:
    from ._call import exception

    return exception(error)


def model_candidates(model: str) -> list[str]:
    """The catalog keys LiteLLM tries for ``model``: itself, a fine-tune id's base
    (``ft:gpt-3.5-turbo:org:suffix:id`` → ``ft:gpt-3.5-turbo``, then ``gpt-3.5-turbo``)."""
    # A repeated provider prefix (``openai/openai/gpt-4o`` from a deployment id) names the
    # same model, as LiteLLM reads it.
    while model.count("/") >= 2 and model.split("/", 2)[0] == model.split("/", 2)[1]:
        model = model.split("/", 1)[1]
    names = [model]
    prefix, slash, rest = model.partition("/")
    bare = rest if slash and rest.startswith("ft:") else model
    if bare.startswith("ft:"):
        base = bare[3:].split(":", 1)[0]
        head = f"{prefix}/" if bare is rest else ""
        names += [f"{head}ft:{base}", f"ft:{base}", base]
    seen: list[str] = []
    for name in names:
        if name not in seen:
            seen.append(name)
    return seen


def _usage_numbers(usage: Any) -> tuple[int, int, int, int, int]:
    if usage is None:
        return 0, 0, 0, 0, 0
    get = usage.get if isinstance(usage, dict) else (lambda k, d=None: getattr(usage, k, d))
    prompt = get("prompt_tokens", 0) or 0
    completion = get("completion_tokens", 0) or 0
    pdetails = get("prompt_tokens_details", None)
    cdetails = get("completion_tokens_details", None)

    def field(obj: Any, name: str) -> int:
        if obj is None:
            return 0
        value = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
        return value or 0

    cached = field(pdetails, "cached_tokens") or (get("cache_read_input_tokens", 0) or 0)
    creation = field(pdetails, "cache_creation_tokens") or (get("cache_creation_input_tokens", 0) or 0)
    reasoning = field(cdetails, "reasoning_tokens")
    return prompt, completion, cached, creation, reasoning


def _native_cost(model: str, prompt: int, completion: int, cached: int, creation: int,
                 reasoning: int, provider: Optional[str], service_tier: Optional[str],
                 custom: dict) -> tuple[float, float]:
    last: Optional[NativeError] = None
    for candidate in model_candidates(model):
        tiered = _tiered_cost(candidate, provider, prompt, completion, custom)
        if tiered is not None:
            return tiered
        try:
            p, c, _ = _native.cost_per_token(
                candidate, prompt, completion, cached, creation, reasoning, provider,
                service_tier, custom.get("input_cost_per_token"),
                custom.get("output_cost_per_token"),
            )
            return p, c
        except NativeError as error:
            last = error
    assert last is not None
    raise _raise(last) from None


def _tiered_cost(model: str, provider: Optional[str], prompt: int, completion: int,
                 custom: dict) -> Optional[tuple[float, float]]:
    """Cost of a model priced only by ``tiered_pricing`` (no flat per-token rate): every token
    at the rates of the tier whose ``range`` holds the prompt's size, as LiteLLM bills it."""
    if custom.get("input_cost_per_token") is not None or custom.get("output_cost_per_token") is not None:
        return None
    entry = _native.model_info(model, provider)
    if not entry or entry.get("input_cost_per_token") is not None:
        return None
    tiers = entry.get("tiered_pricing")
    if not isinstance(tiers, list) or not tiers:
        return None
    chosen = tiers[-1]
    for tier in tiers:
        low, high = (tier.get("range") or [0, float("inf")])[:2]
        if low <= prompt < high:
            chosen = tier
            break
    prompt_rate = Decimal(str(chosen.get("input_cost_per_token") or 0))
    completion_rate = Decimal(str(chosen.get("output_cost_per_token") or 0))
    return float(prompt_rate * prompt), float(completion_rate * completion)


def cost_per_token(
    model: str = "",
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    custom_llm_provider: Optional[str] = None,
    cache_creation_input_tokens: Optional[int] = 0,
    cache_read_input_tokens: Optional[int] = 0,
    usage_object: Any = None,
    service_tier: Optional[str] = None,
    custom_cost_per_token: Optional[dict] = None,
    **kwargs: Any,
) -> tuple[float, float]:
    """``(prompt_cost_usd, completion_cost_usd)``; cached and reasoning tokens at their rates."""
    if not isinstance(model, str):
        raise TypeError(f"cost_per_token: model must be a string, got {type(model).__name__}")
    reasoning = 0
    if usage_object is not None:
        prompt_tokens, completion_tokens, cached, creation, reasoning = _usage_numbers(usage_object)
        cache_read_input_tokens = cache_read_input_tokens or cached
        cache_creation_input_tokens = cache_creation_input_tokens or creation
    return _native_cost(
        model, prompt_tokens or 0, completion_tokens or 0, cache_read_input_tokens or 0,
        cache_creation_input_tokens or 0, reasoning, custom_llm_provider, service_tier,
        custom_cost_per_token or {},
    )


def _catalog_entry(model: str, provider: Optional[str]) -> Optional[dict]:
    for candidate in model_candidates(model):
        info = _native.model_info(candidate, provider)
        if info is not None:
            return info
    return None


def _transcription_cost(response: Any, model: str, provider: Optional[str]) -> float:
    """Token-priced models (``gpt-4o-transcribe``) from usage; others by audio duration."""
    entry = _catalog_entry(model, provider)
    if entry is None:
        from .exceptions import NotFoundError

        raise NotFoundError(
            message=f"This model isn't mapped yet. model={model}, custom_llm_provider={provider}.",
            model=model, llm_provider=provider or "",
        )
    usage = getattr(response, "usage", None)
    if usage is not None and (entry.get("output_cost_per_token") or entry.get("input_cost_per_audio_token")):
        get = usage.get if isinstance(usage, dict) else (lambda k, d=None: getattr(usage, k, d))
        details = get("prompt_tokens_details", None)
        dget = (details.get if isinstance(details, dict)
                else (lambda k, d=None: getattr(details, k, d))) if details is not None else None
        audio = (dget("audio_tokens", 0) or 0) if dget else 0
        text = (dget("text_tokens", None) if dget else None)
        prompt = get("prompt_tokens", 0) or 0
        if text is None:
            text = max(prompt - audio, 0)
        audio_rate = entry.get("input_cost_per_audio_token") or entry.get("input_cost_per_token") or 0.0
        return (audio * audio_rate + text * (entry.get("input_cost_per_token") or 0.0)
                + (get("completion_tokens", 0) or 0) * (entry.get("output_cost_per_token") or 0.0))
    duration = getattr(response, "duration", None) or 0.0
    rate = entry.get("output_cost_per_second")
    if rate is None:
        rate = entry.get("input_cost_per_second") or 0.0
    return float(duration) * rate


def completion_cost(
    completion_response: Any = None,
    model: Optional[str] = None,
    prompt: str = "",
    messages: Optional[list] = None,
    completion: str = "",
    custom_llm_provider: Optional[str] = None,
    custom_cost_per_token: Optional[dict] = None,
    service_tier: Optional[str] = None,
    call_type: Optional[str] = None,
    base_model: Optional[str] = None,
    **kwargs: Any,
) -> float:
    """USD cost of a response (from its usage) or of prompt/completion text (tokenized)."""
    from .types.utils import TranscriptionResponse
    from .utils import token_counter

    custom = custom_cost_per_token or {}
    if completion_response is not None:
        hidden = getattr(completion_response, "_hidden_params", None) or {}
        if isinstance(completion_response, dict):
            get: Any = completion_response.get
        else:
            def get(key: str, default: Any = None) -> Any:
                return getattr(completion_response, key, default)
        provider = custom_llm_provider or hidden.get("custom_llm_provider")
        candidates = [m for m in (base_model, model, hidden.get("litellm_model_name"),
                                  hidden.get("model"), get("model", None)) if m]
        if not candidates:
            raise ValueError("completion_cost needs a model: the response has none")
        if isinstance(completion_response, TranscriptionResponse) or (call_type or "").endswith("transcription"):
            failure: Optional[Exception] = None
            for candidate in candidates:
                try:
                    return _transcription_cost(completion_response, candidate, provider)
                except Exception as error:  # an Azure deployment name: the next candidate
                    failure = error
            assert failure is not None
            raise failure
        numbers = _usage_numbers(get("usage", None))
        service_tier = service_tier or get("service_tier", None)
        if custom.get("input_cost_per_token") is not None or custom.get("output_cost_per_token") is not None:
            prompt_tokens, completion_tokens = numbers[0], numbers[1]
            return (prompt_tokens * (custom.get("input_cost_per_token") or 0.0)
                    + completion_tokens * (custom.get("output_cost_per_token") or 0.0))
        last: Optional[Exception] = None
        for candidate in candidates:
            try:
                p, c = _native_cost(candidate, *numbers, provider, service_tier, custom)
                return p + c
            except Exception as error:  # the next candidate may be priced
                last = error
        assert last is not None
        raise last
    if not model:
        raise ValueError("completion_cost needs completion_response or model")
    prompt_tokens = (
        token_counter(model=model, messages=messages) if messages else token_counter(model=model, text=prompt)
    )
    completion_tokens = token_counter(model=model, text=completion) if completion else 0
    p, c = cost_per_token(
        model, prompt_tokens, completion_tokens, custom_llm_provider=custom_llm_provider,
        custom_cost_per_token=custom_cost_per_token, service_tier=service_tier,
    )
    return p + c


def response_cost_calculator(
    response_object: Any = None,
    model: Optional[str] = None,
    custom_llm_provider: Optional[str] = None,
    call_type: Optional[str] = None,
    optional_params: Optional[dict] = None,
    cache_hit: Optional[bool] = None,
    base_model: Optional[str] = None,
    custom_pricing: Optional[bool] = None,
    prompt: str = "",
    **kwargs: Any,
) -> Optional[float]:
    """LiteLLM's ``response_cost_calculator``: the cost an upstream gateway reported, else
    ``completion_cost`` of the response; ``0.0`` for a cache hit. Also accepts
    ``completion_cost``'s positional form (``response_cost_calculator(response)``)."""
    if cache_hit:
        return 0.0
    hidden = getattr(response_object, "_hidden_params", None)
    if hidden is None and isinstance(response_object, dict):
        hidden = response_object.get("_hidden_params")
    if isinstance(hidden, dict):
        reported = (hidden.get("additional_headers") or {}).get(_UPSTREAM_COST_HEADER)
        if reported is not None:
            return float(reported)
    return completion_cost(
        completion_response=response_object, model=model or None,
        custom_llm_provider=custom_llm_provider, call_type=call_type, base_model=base_model,
        prompt=prompt, **kwargs,
    )


# ------------------------------------------------------------------------------------------
# Realtime (websocket) sessions: usage summed over the ``response.done`` events
# ------------------------------------------------------------------------------------------


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class BaseTokenUsageProcessor:
    """Adds up ``Usage`` objects (top-level counts and the per-kind details), as LiteLLM's."""

    @staticmethod
    def combine_usage_objects(usage_objects: list) -> Any:
        from .types.utils import CompletionTokensDetailsWrapper, PromptTokensDetailsWrapper, Usage

        combined = Usage()
        for usage in usage_objects:
            for name in ("prompt_tokens", "completion_tokens", "total_tokens"):
                value = getattr(usage, name, None)
                if _number(value):
                    setattr(combined, name, (getattr(combined, name, 0) or 0) + value)
            for attribute, wrapper in (("prompt_tokens_details", PromptTokensDetailsWrapper),
                                       ("completion_tokens_details", CompletionTokensDetailsWrapper)):
                details = getattr(usage, attribute, None)
                if not details:
                    continue
                target = getattr(combined, attribute, None) or wrapper()
                items = details.items() if isinstance(details, dict) else (
                    (k, getattr(details, k, None)) for k in type(details).model_fields)
                for key, value in items:
                    if _number(value):
                        setattr(target, key, (getattr(target, key, 0) or 0) + value)
                setattr(combined, attribute, target)
        return combined


class RealtimeAPITokenUsageProcessor(BaseTokenUsageProcessor):
    """Usage of an OpenAI Realtime session from its stream of events."""

    @staticmethod
    def collect_usage_from_realtime_stream_results(results: list) -> list:
        from .types.utils import Usage

        usages = []
        for event in results:
            if event.get("type") != "response.done":
                continue
            raw = (event.get("response") or {}).get("usage")
            if not raw:
                continue
            usages.append(Usage(
                prompt_tokens=raw.get("input_tokens", 0) or 0,
                completion_tokens=raw.get("output_tokens", 0) or 0,
                total_tokens=raw.get("total_tokens", 0) or 0,
            ))
        return usages

    @staticmethod
    def collect_and_combine_usage_from_realtime_stream_results(results: list) -> Any:
        usages = RealtimeAPITokenUsageProcessor.collect_usage_from_realtime_stream_results(results)
        return BaseTokenUsageProcessor.combine_usage_objects(usages)


def handle_realtime_stream_cost_calculation(
    results: list,
    combined_usage_object: Any,
    custom_llm_provider: str,
    litellm_model_name: str,
    **kwargs: Any,
) -> float:
    """USD cost of a realtime session: the combined usage priced at the first model that has
    a price, trying the model the session reported (``session.created``), then
    ``litellm_model_name``."""
    names = [kwargs.get("custom_pricing_model"), kwargs.get("base_pricing_model")]
    names += [(event.get("session") or {}).get("model") for event in results
              if event.get("type") == "session.created"]
    names.append(litellm_model_name)
    last: Optional[Exception] = None
    for name in [n for n in names if n]:
        try:
            prompt, completion = cost_per_token(
                model=name, custom_llm_provider=custom_llm_provider,
                usage_object=combined_usage_object,
            )
            return prompt + completion
        except Exception as error:  # not priced: the next name
            last = error
    if last is not None:
        raise last
    return 0.0
