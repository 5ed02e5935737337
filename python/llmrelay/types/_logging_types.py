"""TypedDicts of the standard logging payload (loaded lazily by :mod:`llmrelay.types.utils`).

Building TypedDict classes costs a few milliseconds, so they live in their own
module that is only imported on first use.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

__all__ = [
    "CostBreakdown",
    "StandardLoggingGuardrailInformation",
    "StandardLoggingHiddenParams",
    "StandardLoggingMetadata",
    "StandardLoggingModelInformation",
    "StandardLoggingPayload",
    "StandardLoggingPayloadErrorInformation",
    "StandardLoggingPayloadStatusFields",
]


class StandardLoggingModelInformation(TypedDict):
    model_map_key: str
    model_map_value: dict | None


class StandardLoggingPayloadStatusFields(TypedDict, total=False):
    llm_api_status: str
    guardrail_status: str


class StandardLoggingHiddenParams(TypedDict, total=False):
    model_id: str | None
    cache_key: str | None
    api_base: str | None
    response_cost: str | None
    litellm_overhead_time_ms: float | None
    additional_headers: dict | None
    batch_models: list[str] | None
    batch_successful_requests: int | None
    batch_failed_requests: int | None
    upstream_provider: str | None
    litellm_model_name: str | None
    usage_object: dict | None


class StandardLoggingMetadata(TypedDict, total=False):
    user_api_key_hash: str | None
    user_api_key_alias: str | None
    user_api_key_spend: float | None
    user_api_key_max_budget: float | None
    user_api_key_budget_reset_at: str | None
    user_api_key_user_id: str | None
    user_api_key_user_email: str | None
    user_api_key_user_spend: float | None
    user_api_key_user_max_budget: float | None
    user_api_key_team_id: str | None
    user_api_key_team_alias: str | None
    user_api_key_team_spend: float | None
    user_api_key_team_max_budget: float | None
    user_api_key_org_id: str | None
    user_api_key_org_alias: str | None
    user_api_key_project_id: str | None
    user_api_key_project_alias: str | None
    user_api_key_end_user_id: str | None
    user_api_key_request_route: str | None
    user_api_key_auth_metadata: dict | None
    spend_logs_metadata: dict | None
    requester_ip_address: str | None
    user_agent: str | None
    requester_metadata: dict | None
    requester_custom_headers: dict | None
    prompt_management_metadata: dict | None
    mcp_tool_call_metadata: dict | None
    vector_store_request_metadata: list | None
    routing_decision: dict | None
    kubernetes_pod_routing: dict | None
    applied_guardrails: list[str] | None
    usage_object: dict | None
    cold_storage_object_key: str | None
    team_alias: str | None
    team_id: str | None
    used_client_oauth_token: bool | None
    is_silent_experiment: bool | None


class StandardLoggingPayloadErrorInformation(TypedDict, total=False):
    error_code: str | None
    error_class: str | None
    llm_provider: str | None
    traceback: str | None
    error_message: str | None
    error_provider_request_id: str | None
    error_rate_limit_category: str | None
    error_rate_limit_type: str | None
    error_budget_entity_type: str | None
    error_budget_entity_id: str | None
    error_budget_current_cost: float | None
    error_budget_max_budget: float | None
    error_cooldown_deployments: list | None
    normalized_error: str | None


class StandardLoggingGuardrailInformation(TypedDict, total=False):
    guardrail_name: str | None
    guardrail_provider: str | None
    guardrail_mode: Any
    guardrail_request: dict | None
    guardrail_response: Any
    guardrail_status: str
    start_time: float | None
    end_time: float | None
    duration: float | None
    masked_entity_count: dict | None
    guardrail_action: str | None
    guardrail_cost: float | None


class CostBreakdown(TypedDict, total=False):
    input_cost: float
    output_cost: float
    cache_read_cost: float
    cache_creation_cost: float
    reasoning_cost: float
    tool_usage_cost: float
    guardrail_cost: float
    total_cost: float
    original_cost: float
    discount_percent: float
    discount_amount: float
    margin_percent: float
    margin_fixed_amount: float
    margin_total_amount: float
    service_tier: str | None
    data_residency: str | None
    vertex_location: str | None
    additional_costs: dict | None


class StandardLoggingPayload(TypedDict):
    """``kwargs["standard_logging_object"]`` handed to logging callbacks."""

    id: str
    trace_id: str
    session_id: str | None
    litellm_call_id: str
    call_type: str
    stream: bool | None
    status: Literal["success", "failure"]
    status_fields: StandardLoggingPayloadStatusFields
    response_cost: float
    cost_breakdown: CostBreakdown | None
    cost_finalized: bool | None
    response_cost_failure_debug_info: dict | None
    zero_cost_diagnostic: dict | None
    total_tokens: int
    prompt_tokens: int
    completion_tokens: int
    startTime: float
    endTime: float
    completionStartTime: float
    response_time: float
    custom_llm_provider: str | None
    model_map_information: StandardLoggingModelInformation
    model: str
    model_id: str | None
    model_group: str | None
    api_base: str
    cache_hit: bool | None
    cache_key: str | None
    saved_cache_cost: float
    metadata: StandardLoggingMetadata
    request_tags: list
    request_model_access_groups: list | None
    end_user: str | None
    requester_ip_address: str | None
    user_agent: str | None
    messages: Any
    response: Any
    error_str: str | None
    error_information: StandardLoggingPayloadErrorInformation | None
    model_parameters: dict
    hidden_params: StandardLoggingHiddenParams
    guardrail_information: list[StandardLoggingGuardrailInformation] | None
    standard_built_in_tools_params: dict | None
    autorouter_savings: Any
    autorouter_savings_estimate: Any
    autorouter_baseline_observation: Any
    classifier_input: Any
    originating_request_masked: Any
