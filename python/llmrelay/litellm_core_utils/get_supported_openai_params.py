"""``get_supported_openai_params`` (``litellm.litellm_core_utils.get_supported_openai_params``)."""

from ..utils import get_supported_openai_params

__all__ = ["get_supported_openai_params"]
