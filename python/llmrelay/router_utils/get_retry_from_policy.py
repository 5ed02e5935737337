"""How many retries a ``RetryPolicy`` gives an exception (``litellm.router_utils.get_retry_from_policy``)."""

from __future__ import annotations

from typing import Any, Optional

__all__ = ["get_num_retries_from_retry_policy", "retry_policy_field"]

# Checked in this order: subclasses before their base classes.
_FIELDS: tuple[tuple[str, str], ...] = (
    ("ContentPolicyViolationError", "ContentPolicyViolationErrorRetries"),
    ("AuthenticationError", "AuthenticationErrorRetries"),
    ("Timeout", "TimeoutErrorRetries"),
    ("RateLimitError", "RateLimitErrorRetries"),
    ("ServiceUnavailableError", "ServiceUnavailableErrorRetries"),
    ("NotFoundError", "NotFoundErrorRetries"),
    ("BadRequestError", "BadRequestErrorRetries"),
    ("InternalServerError", "InternalServerErrorRetries"),
)


def retry_policy_field(exception: BaseException) -> Optional[str]:
    """The ``RetryPolicy`` field that governs ``exception``, or ``None``."""
    from .. import exceptions

    for class_name, field in _FIELDS:
        if isinstance(exception, getattr(exceptions, class_name)):
            return field
    return None


def get_num_retries_from_retry_policy(
    exception: BaseException,
    retry_policy: Any = None,
    model_group: Optional[str] = None,
    model_group_retry_policy: Optional[dict] = None,
) -> Optional[int]:
    """Retries for ``exception`` under the model group's policy, else ``retry_policy``;
    ``None`` when neither sets a value for this exception class."""
    policy = retry_policy
    if model_group is not None and model_group_retry_policy:
        policy = model_group_retry_policy.get(model_group, policy)
    if policy is None:
        return None
    if isinstance(policy, dict):
        from ..types.router import RetryPolicy

        policy = RetryPolicy(**policy)
    field = retry_policy_field(exception)
    value = getattr(policy, field, None) if field else None
    if value is None:
        value = getattr(policy, "DefaultRetries", None)
    return value
