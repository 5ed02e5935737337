"""Router types with LiteLLM's names and fields (``litellm.types.router``): ``RetryPolicy``,
``AllowedFailsPolicy``, ``LiteLLM_Params``, ``ModelInfo``, ``Deployment``, ``ModelGroupInfo`` …

They are pydantic models as LiteLLM's are; ``llmrelay.Router`` accepts them wherever it accepts
the equivalent dicts.
"""

from __future__ import annotations

import enum
import logging
import re
import uuid
from typing import Any, Literal, Optional, TypedDict, Union

from pydantic import BaseModel, ConfigDict, create_model, field_validator, model_validator
from typing_extensions import TypedDict as PydanticTypedDict

from ._pricing import (
    PRICING_FIELDS,
    SPECIAL_MODEL_INFO_PARAMS,
    CustomPricingLiteLLMParams,
    MirroredPricingParams,
)

__all__ = [
    "AllowedFailsPolicy",
    "AlertingConfig",
    "Deployment",
    "DeploymentTypedDict",
    "GenericLiteLLMParams",
    "LiteLLMParamsTypedDict",
    "LiteLLM_Params",
    "ModelGroupInfo",
    "ModelInfo",
    "PRICING_FIELDS",
    "RetryPolicy",
    "RouterErrors",
    "RouterRateLimitError",
    "SPECIAL_MODEL_INFO_PARAMS",
]

_logger = logging.getLogger("LiteLLM")


class RetryPolicy(BaseModel):
    """Retries per exception class (``None``: use the router's ``num_retries``)."""

    BadRequestErrorRetries: Optional[int] = None
    AuthenticationErrorRetries: Optional[int] = None
    TimeoutErrorRetries: Optional[int] = None
    RateLimitErrorRetries: Optional[int] = None
    ContentPolicyViolationErrorRetries: Optional[int] = None
    InternalServerErrorRetries: Optional[int] = None
    ServiceUnavailableErrorRetries: Optional[int] = None
    NotFoundErrorRetries: Optional[int] = None
    DefaultRetries: Optional[int] = None


class AllowedFailsPolicy(BaseModel):
    """Failures per exception class a deployment may have before it cools down."""

    BadRequestErrorAllowedFails: Optional[int] = None
    AuthenticationErrorAllowedFails: Optional[int] = None
    TimeoutErrorAllowedFails: Optional[int] = None
    RateLimitErrorAllowedFails: Optional[int] = None
    ContentPolicyViolationErrorAllowedFails: Optional[int] = None
    InternalServerErrorAllowedFails: Optional[int] = None
    ServiceUnavailableErrorAllowedFails: Optional[int] = None
    BadGatewayErrorAllowedFails: Optional[int] = None
    NotFoundErrorAllowedFails: Optional[int] = None


class RouterErrors(enum.Enum):
    """Messages of the router's own errors."""

    user_defined_ratelimit_error = "Deployment over user-defined ratelimit."
    no_deployments_available = "No deployments available for selected model"
    no_deployments_with_tag_routing = "Not allowed to access model due to tags configuration"
    no_deployments_with_provider_budget_routing = (
        "No deployments available - crossed budget for provider"
    )


class AwsSessionTag(PydanticTypedDict):
    """One STS session tag, in the ``{"Key": …, "Value": …}`` shape AssumeRole takes."""

    Key: str
    Value: str


# ------------------------------------------------------------------------------ params

_FLAG_WORDS = {"true": True, "yes": True, "1": True, "on": True,
               "false": False, "no": False, "0": False, "off": False}
_HEADER_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_FORBIDDEN_AFFINITY_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "host", "content-length",
     "content-type", "x-api-key", "transfer-encoding", "connection", "api-key"}
)

_CREDENTIAL_FIELDS: dict[str, Any] = {
    name: (Optional[str], None)
    for name in (
        "api_key", "api_base", "api_version", "azure_ad_token", "tenant_id", "client_id",
        "client_secret", "azure_scope", "azure_username", "azure_password", "vertex_project",
        "vertex_location", "region_name", "gcs_bucket_name", "aws_access_key_id",
        "aws_secret_access_key", "aws_session_token", "aws_region_name", "aws_session_name",
        "aws_profile_name", "aws_role_name", "aws_web_identity_token", "aws_sts_endpoint",
        "aws_external_id", "aws_bedrock_runtime_endpoint", "aws_bedrock_project_id",
        "s3_bucket_name", "s3_endpoint_url", "s3_region_name", "s3_access_key_id",
        "s3_secret_access_key", "s3_encryption_key_id", "s3_bucket_owner", "aws_batch_role_arn",
        "s3_output_bucket_name", "watsonx_region_name", "custom_llm_provider", "organization",
        "litellm_credential_name", "provider_affinity_header", "litellm_trace_id",
        "budget_duration",
    )
}

CredentialLiteLLMParams = create_model(  # type: ignore[call-overload]
    "CredentialLiteLLMParams",
    __base__=CustomPricingLiteLLMParams,
    __module__=__name__,
    **_CREDENTIAL_FIELDS,
)


class _DictAccess:
    """LiteLLM's params and deployments also behave like dicts."""

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        setattr(self, key, value)

    def __contains__(self, key: str) -> bool:
        return getattr(self, key, None) is not None


class GenericLiteLLMParams(CredentialLiteLLMParams, _DictAccess):  # type: ignore[misc, valid-type]
    """The ``litellm_params`` of a deployment, without ``model``."""

    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True, protected_namespaces=())

    vertex_credentials: Optional[Union[str, dict]] = None
    aws_session_tags: Optional[list[AwsSessionTag]] = None
    bedrock_tags: Optional[list] = None
    tpm: Optional[int] = None
    rpm: Optional[int] = None
    itpm: Optional[int] = None
    otpm: Optional[int] = None
    timeout: Optional[Union[float, str, Any]] = None
    stream_timeout: Optional[Union[float, str]] = None
    max_retries: Optional[int] = None
    drop_params: Optional[Union[bool, str]] = None
    configurable_clientside_auth_params: Optional[list] = None
    max_file_size_mb: Optional[float] = None
    default_api_key_tpm_limit: Optional[int] = None
    default_api_key_rpm_limit: Optional[int] = None
    max_budget: Optional[float] = None
    keepalive_seconds: Optional[float] = None
    allow_client_keepalive_override: Optional[bool] = False
    use_in_pass_through: Optional[bool] = False
    use_litellm_proxy: Optional[bool] = False
    use_chat_completions_api: Optional[bool] = None
    merge_reasoning_content_in_choices: Optional[bool] = False
    model_info: Optional[dict] = None
    mock_response: Optional[Any] = None
    tags: Optional[list[str]] = None
    tag_regex: Optional[list[str]] = None

    @field_validator("drop_params", mode="before")
    @classmethod
    def _drop_params_flag(cls, value: Any) -> Any:
        # Flags may arrive as strings (config files, the DB); unresolved references
        # (``os.environ/NAME``) and encrypted values stay strings.
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str):
            return _FLAG_WORDS.get(value.strip().lower(), value)
        _logger.warning("drop_params=%r is not a flag value; ignoring it", value)
        return None

    @field_validator("provider_affinity_header")
    @classmethod
    def _affinity_header(cls, value: Optional[str]) -> Optional[str]:
        if value is None:
            return value
        name = value.strip()
        if not name or not _HEADER_TOKEN.match(name):
            raise ValueError(f"provider_affinity_header {value!r} is not a valid header name")
        if name.lower() in _FORBIDDEN_AFFINITY_HEADERS:
            raise ValueError(
                f"provider_affinity_header {value!r} names a credential or transport header"
            )
        return name


class LiteLLM_Params(GenericLiteLLMParams):  # noqa: N801 (LiteLLM's name)
    """A deployment's ``litellm_params``: ``model`` plus everything a call takes."""

    model: str

    def __init__(self, model: str, **params: Any) -> None:
        super().__init__(model=model, **params)


# ------------------------------------------------------------------------------ deployments


class ModelInfo(MirroredPricingParams, _DictAccess):  # type: ignore[misc, valid-type]
    """A deployment's ``model_info``; ``id`` is generated when not given."""

    model_config = ConfigDict(extra="allow", protected_namespaces=())

    id: Optional[str] = None
    db_model: bool = False
    updated_at: Optional[Any] = None
    updated_by: Optional[str] = None
    created_at: Optional[Any] = None
    created_by: Optional[str] = None
    base_model: Optional[str] = None
    tier: Optional[Literal["free", "paid"]] = None
    team_id: Optional[str] = None
    team_public_model_name: Optional[str] = None

    @field_validator("id", mode="before")
    @classmethod
    def _id_text(cls, value: Any) -> Any:
        if value is None:
            return str(uuid.uuid4())
        return str(value)

    def __init__(self, id: Any = None, **params: Any) -> None:  # noqa: A002 (LiteLLM's name)
        super().__init__(id=id, **params)


class Deployment(BaseModel, _DictAccess):
    """One ``model_list`` entry; pricing set in ``litellm_params`` is mirrored onto
    ``model_info`` (where cost lookups read it)."""

    model_config = ConfigDict(extra="allow", protected_namespaces=())

    model_name: str
    litellm_params: LiteLLM_Params
    model_info: ModelInfo

    def __init__(self, model_name: str, litellm_params: Any, model_info: Any = None,
                 **params: Any) -> None:
        if model_info is None:
            model_info = ModelInfo()
        elif isinstance(model_info, dict):
            model_info = ModelInfo(**model_info)
        if isinstance(litellm_params, dict):
            litellm_params = LiteLLM_Params(**litellm_params)
        for field in SPECIAL_MODEL_INFO_PARAMS:
            value = getattr(litellm_params, field, None)
            if value is not None and getattr(model_info, field, None) is None:
                setattr(model_info, field, value)
        super().__init__(model_name=model_name, litellm_params=litellm_params,
                         model_info=model_info, **params)

    def to_json(self, **kwargs: Any) -> dict:
        return self.model_dump(**kwargs)


class LiteLLMParamsTypedDict(TypedDict, total=False):
    """``litellm_params`` as a plain dict."""

    model: str
    custom_llm_provider: Optional[str]
    tpm: Optional[int]
    rpm: Optional[int]
    order: Optional[int]
    weight: Optional[int]
    max_parallel_requests: Optional[int]
    api_key: Optional[str]
    api_base: Optional[str]
    api_version: Optional[str]
    timeout: Optional[Union[float, str]]
    stream_timeout: Optional[Union[float, str]]
    max_retries: Optional[int]
    organization: Optional[str]
    drop_params: Optional[bool]
    region_name: Optional[str]
    vertex_project: Optional[str]
    vertex_location: Optional[str]
    aws_access_key_id: Optional[str]
    aws_secret_access_key: Optional[str]
    aws_region_name: Optional[str]
    input_cost_per_token: Optional[float]
    output_cost_per_token: Optional[float]
    input_cost_per_second: Optional[float]
    output_cost_per_second: Optional[float]
    num_retries: Optional[int]
    mock_response: Optional[Any]
    tags: Optional[list[str]]
    max_budget: Optional[float]
    budget_duration: Optional[str]
    cooldown_time: Optional[float]


class DeploymentTypedDict(TypedDict, total=False):
    """A ``model_list`` entry as a plain dict."""

    model_name: str
    litellm_params: LiteLLMParamsTypedDict
    model_info: dict


class ModelGroupInfo(BaseModel):
    """What ``Router.get_model_group_info`` returns for one model group."""

    model_config = ConfigDict(protected_namespaces=())

    model_group: str
    providers: list[str]
    max_input_tokens: Optional[float] = None
    max_output_tokens: Optional[float] = None
    input_cost_per_token: Optional[float] = None
    output_cost_per_token: Optional[float] = None
    input_cost_per_pixel: Optional[float] = None
    mode: Optional[str] = "chat"
    tpm: Optional[int] = None
    rpm: Optional[int] = None
    itpm: Optional[int] = None
    otpm: Optional[int] = None
    supports_parallel_function_calling: bool = False
    supports_vision: bool = False
    supports_web_search: bool = False
    supports_url_context: bool = False
    supports_reasoning: bool = False
    supports_function_calling: bool = False
    supports_fast_mode: bool = False
    supported_reasoning_efforts: Optional[tuple[str, ...]] = None
    supported_openai_params: Optional[list[str]] = []
    configurable_clientside_auth_params: Optional[list] = None

    @model_validator(mode="before")
    @classmethod
    def _none_means_default(cls, values: Any) -> Any:
        # get_model_info() reports unknown capabilities as None; here they are False.
        if isinstance(values, dict):
            for name, field in cls.model_fields.items():
                if values.get(name, 0) is None and not field.is_required():
                    values[name] = field.get_default(call_default_factory=True)
        return values


class AlertingConfig(BaseModel):
    """``Router(alerting_config=…)``: accepted; alerts are not sent by llmrelay yet."""

    webhook_url: str
    alerting_threshold: Optional[float] = 300


class RouterRateLimitError(ValueError):
    """Raised when every deployment of a group is rate-limited or cooling down."""

    def __init__(self, model: str, cooldown_time: float, enable_pre_call_checks: bool = False,
                 cooldown_list: Optional[list] = None) -> None:
        self.model = model
        self.cooldown_time = cooldown_time
        self.enable_pre_call_checks = enable_pre_call_checks
        self.cooldown_list = cooldown_list
        super().__init__(
            f"{RouterErrors.no_deployments_available.value}, Try again in {cooldown_time} "
            f"seconds. Passed model={model}. pre-call-checks={enable_pre_call_checks}, "
            f"cooldown_list={cooldown_list}"
        )
