"""Guardrail enums and the tag-based ``Mode`` (mirrors ``litellm.types.guardrails``)."""

from __future__ import annotations

from enum import Enum
from typing import Any

__all__ = ["GuardrailEventHooks", "Mode", "SupportedGuardrailIntegrations"]


class GuardrailEventHooks(str, Enum):
    """When a guardrail runs."""

    pre_call = "pre_call"
    post_call = "post_call"
    during_call = "during_call"
    logging_only = "logging_only"
    pre_mcp_call = "pre_mcp_call"
    during_mcp_call = "during_mcp_call"
    post_mcp_call = "post_mcp_call"
    realtime_input_transcription = "realtime_input_transcription"


class Mode:
    """Tag-dependent event hooks: ``Mode(tags={"tag": "pre_call"}, default="post_call")``.

    A request whose ``metadata.tags`` contains one of ``tags`` uses that tag's
    mode(s); other requests use ``default``.
    """

    def __init__(self, tags: dict[str, Any] | None = None, default: Any = None, **kwargs: Any):
        self.tags = dict(tags or {})
        self.default = default

    def model_dump(self, **_: Any) -> dict[str, Any]:
        return {"tags": self.tags, "default": self.default}

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mode):
            return self.tags == other.tags and self.default == other.default
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Mode(tags={self.tags!r}, default={self.default!r})"


class SupportedGuardrailIntegrations(str, Enum):
    """A subset of LiteLLM's built-in guardrail type names."""

    APORIA = "aporia"
    BEDROCK = "bedrock"
    GUARDRAILS_AI = "guardrails_ai"
    LAKERA = "lakera"
    LAKERA_V2 = "lakera_v2"
    PRESIDIO = "presidio"
    HIDE_SECRETS = "hide-secrets"
    AIM = "aim"
    PANGEA = "pangea"
    LASSO = "lasso"
    PANW_PRISMA_AIRS = "panw_prisma_airs"
    AZURE_PROMPT_SHIELD = "azure/prompt_shield"
    AZURE_TEXT_MODERATIONS = "azure/text_moderations"
    MODEL_ARMOR = "model_armor"
    OPENAI_MODERATION = "openai_moderation"
    NOMA = "noma"
    LITELLM_CONTENT_FILTER = "litellm_content_filter"
    GENERIC_GUARDRAIL_API = "generic_guardrail_api"
    CUSTOM_CODE = "custom_code"
    TOOL_PERMISSION = "tool_permission"
    LLM_AS_A_JUDGE = "llm_as_a_judge"
