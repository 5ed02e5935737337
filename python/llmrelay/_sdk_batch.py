"""``batch_completion`` (one model, many conversations) and ``batch_completion_models`` /
``batch_completion_models_all_responses`` (one conversation, many models), run on a thread
pool as LiteLLM does."""

from __future__ import annotations

import sys
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Any

__all__ = ["batch_completion", "batch_completion_models", "batch_completion_models_all_responses"]


def _completion() -> Any:
    return sys.modules[__package__].completion


def batch_completion(model: str, messages: list, max_workers: int = 100, **kwargs: Any) -> list:
    """One ``completion`` per conversation in ``messages`` (a list of message lists), in order.
    A failed call's exception takes its place in the list instead of raising."""
    completion = _completion()

    def one(conversation: list) -> Any:
        try:
            return completion(model=model, messages=conversation, **kwargs)
        except Exception as error:
            return error

    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(messages) or 1))) as pool:
        return list(pool.map(one, messages))


def batch_completion_models(*args: Any, **kwargs: Any) -> Any:
    """The first successful response of ``completion`` on each of ``models`` (run in
    parallel); the last error when every model fails."""
    models = kwargs.pop("models", None)
    if not models:
        return _completion()(*args, **kwargs)
    completion = _completion()
    last: BaseException | None = None
    with ThreadPoolExecutor(max_workers=len(models)) as pool:
        pending = {pool.submit(completion, *args, **dict(kwargs, model=m)) for m in models}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                error = future.exception()
                if error is None:
                    for other in pending:
                        other.cancel()
                    return future.result()
                last = error
    assert last is not None
    raise last


def batch_completion_models_all_responses(*args: Any, **kwargs: Any) -> list:
    """``completion`` on every one of ``models`` in parallel: every response, in model order
    (failed calls are left out, as LiteLLM does)."""
    models = kwargs.pop("models", None) or []
    completion = _completion()
    with ThreadPoolExecutor(max_workers=max(1, len(models))) as pool:
        futures = [pool.submit(completion, *args, **dict(kwargs, model=m)) for m in models]
        return [f.result() for f in futures if f.exception() is None]
