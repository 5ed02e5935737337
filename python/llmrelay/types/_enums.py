"""``CallTypes`` and ``LlmProviders`` (loaded lazily by :mod:`llmrelay.types.utils`).

Their members are LiteLLM's facts held by the engine (``llmrelay-core``: ``kind.rs`` and
``detect.rs``); the enums are built from them here, so the two cannot drift.
"""

from __future__ import annotations

from enum import Enum

from .. import _native

__all__ = ["CallTypes", "LlmProviders", "provider_list"]

CallTypes = Enum(  # type: ignore[misc]
    "CallTypes",
    list(_native.call_type_members()),
    type=str,
    module=__name__,
    qualname="CallTypes",
)
CallTypes.__doc__ = "Names of the call types LiteLLM reports in logging payloads and hooks."

LlmProviders = Enum(  # type: ignore[misc]
    "LlmProviders",
    list(_native.provider_members()),
    type=str,
    module=__name__,
    qualname="LlmProviders",
)
LlmProviders.__doc__ = "Provider identifiers (the ``provider/`` model prefixes)."

provider_list: list[str] = [p.value for p in LlmProviders]
