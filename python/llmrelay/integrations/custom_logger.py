"""``CustomLogger``: the base class for user callbacks and proxy hooks.

Subclass it and override the methods you need; every method here is a no-op
default with LiteLLM's signature and return value.  Register an instance in
``llmrelay.callbacks`` (SDK) or via ``litellm_settings.callbacks`` (proxy).

Sync calls invoke the sync logging methods, async calls the ``async_*`` ones.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ..types.utils import CallTypes, ModelResponse, StandardLoggingPayload

__all__ = ["CustomLogger"]


class CustomLogger:
    def __init__(
        self, turn_off_message_logging: bool = False, message_logging: bool = True, **kwargs: Any
    ) -> None:
        self.message_logging = message_logging
        self.turn_off_message_logging = turn_off_message_logging

    @staticmethod
    def get_callback_env_vars(callback_name: str | None = None) -> list[str]:
        """Environment variables the integration needs (none for a plain logger)."""
        return []

    # ------------------------------------------------------------------ SDK logging
    def log_pre_api_call(self, model: Any, messages: Any, kwargs: Any) -> None:
        pass

    def log_post_api_call(
        self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        pass

    def log_stream_event(
        self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        pass

    def log_success_event(
        self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        pass

    def log_failure_event(
        self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        pass

    async def async_log_stream_event(
        self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        pass

    async def async_log_pre_api_call(self, model: Any, messages: Any, kwargs: Any) -> None:
        pass

    async def async_log_success_event(
        self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        pass

    async def async_log_failure_event(
        self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        pass

    async def async_log_audit_log_event(self, audit_log: Any) -> None:
        pass

    # ----------------------------------------------------------- logging transforms
    def logging_hook(self, kwargs: dict, result: object, call_type: str) -> tuple[dict, object]:
        """Change what gets logged; return ``(kwargs, result)``."""
        return kwargs, result

    async def async_logging_hook(
        self, kwargs: dict, result: object, call_type: str
    ) -> tuple[dict, object]:
        return kwargs, result

    def translate_completion_input_params(self, kwargs: Any) -> Any:
        return None

    def translate_completion_output_params(self, response: ModelResponse) -> Any:
        return None

    def translate_completion_output_params_streaming(self, completion_stream: object) -> Any:
        return None

    async def async_dataset_hook(
        self, logged_item: Any, standard_logging_payload: StandardLoggingPayload | None
    ) -> Any:
        raise NotImplementedError("async_dataset_hook not implemented")

    # ------------------------------------------------------------- router events
    async def log_success_fallback_event(
        self, original_model_group: str, kwargs: dict, original_exception: Exception
    ) -> None:
        pass

    async def log_failure_fallback_event(
        self, original_model_group: str, kwargs: dict, original_exception: Exception
    ) -> None:
        pass

    async def log_model_group_rate_limit_error(
        self, exception: Exception, original_model_group: str | None, kwargs: dict
    ) -> None:
        pass

    # --------------------------------------------------- SDK / router request hooks
    async def async_pre_request_hook(self, model: str, messages: list, kwargs: dict) -> dict | None:
        """Return a dict to replace the call kwargs, or ``None`` to keep them."""
        return None

    async def async_pre_routing_hook(
        self,
        model: str,
        request_kwargs: dict,
        messages: list[dict[str, Any]] | None = None,
        input: str | list | None = None,
        specific_deployment: bool | None = False,
    ) -> Any | None:
        return None

    async def async_filter_deployments(
        self,
        model: str,
        healthy_deployments: list,
        messages: list | None,
        request_kwargs: dict | None = None,
        parent_otel_span: Any | None = None,
    ) -> list[dict]:
        return healthy_deployments

    async def async_pre_call_check(
        self, deployment: dict, parent_otel_span: Any | None
    ) -> dict | None:
        return None

    def pre_call_check(self, deployment: dict) -> dict | None:
        return None

    async def async_pre_call_deployment_hook(
        self, kwargs: dict[str, object], call_type: CallTypes | None
    ) -> dict | None:
        return None

    async def async_post_call_success_deployment_hook(
        self, request_data: dict, response: Any, call_type: CallTypes | None
    ) -> Any | None:
        return None

    async def async_post_call_failure_deployment_hook(
        self,
        request_data: Mapping[str, object],
        exception: Exception,
        call_type: CallTypes | None,
        fallback_depth: int | None = None,
    ) -> None:
        return None

    async def async_post_call_streaming_deployment_hook(
        self, request_data: dict, response_chunk: object, call_type: CallTypes | None
    ) -> object | None:
        return None

    # -------------------------------------------------------- prompt management
    def get_chat_completion_prompt(
        self,
        model: str,
        messages: list,
        non_default_params: dict,
        prompt_id: str | None,
        prompt_variables: dict | None,
        dynamic_callback_params: Any,
        prompt_spec: Any | None = None,
        prompt_label: str | None = None,
        prompt_version: int | None = None,
        ignore_prompt_manager_model: bool | None = False,
        ignore_prompt_manager_optional_params: bool | None = False,
    ) -> tuple[str, list, dict]:
        """Return ``(model, messages, non_default_params)``, possibly rewritten."""
        return model, messages, non_default_params

    async def async_get_chat_completion_prompt(
        self,
        model: str,
        messages: list,
        non_default_params: dict,
        prompt_id: str | None,
        prompt_variables: dict | None,
        dynamic_callback_params: Any,
        litellm_logging_obj: Any = None,
        prompt_spec: Any | None = None,
        tools: list[dict] | None = None,
        prompt_label: str | None = None,
        prompt_version: int | None = None,
        ignore_prompt_manager_model: bool | None = False,
        ignore_prompt_manager_optional_params: bool | None = False,
    ) -> tuple[str, list, dict]:
        return model, messages, non_default_params

    # ------------------------------------------------------------ proxy-only hooks
    async def async_pre_call_hook(
        self, user_api_key_dict: Any, cache: Any, data: dict, call_type: str
    ) -> Exception | str | dict | None:
        """Raise to reject; return a str to answer with it; return a dict to replace the body."""
        return None

    async def async_moderation_hook(
        self, data: dict, user_api_key_dict: Any, call_type: str
    ) -> Any:
        """Runs in parallel with the LLM call ("during_call"); raise to block."""
        return None

    async def async_post_call_success_hook(
        self, data: dict, user_api_key_dict: Any, response: Any
    ) -> Any:
        return None

    async def async_post_call_failure_hook(
        self,
        request_data: dict,
        original_exception: Exception,
        user_api_key_dict: Any,
        traceback_str: str | None = None,
    ) -> Any | None:
        """May return an ``HTTPException`` to replace the error."""
        return None

    async def async_post_call_streaming_hook(self, user_api_key_dict: Any, response: str) -> Any:
        return None

    async def async_post_call_streaming_iterator_hook(
        self, user_api_key_dict: Any, response: Any, request_data: dict
    ) -> AsyncGenerator[Any, None]:
        """Wrap the whole stream; the default passes every chunk through."""
        async for item in response:
            yield item

    async def async_post_call_response_headers_hook(
        self,
        data: dict,
        user_api_key_dict: Any,
        response: object,
        request_headers: dict[str, str] | None = None,
        litellm_call_info: dict[str, object] | None = None,
    ) -> dict[str, str] | None:
        """Return extra response headers, or ``None``."""
        return None

    async def async_filter_listed_models(
        self, user_api_key_dict: Any, model_names: Sequence[str]
    ) -> Sequence[str]:
        return model_names

    async def async_post_mcp_tool_call_hook(
        self, kwargs: Any, response_obj: Any, start_time: Any, end_time: Any
    ) -> Any | None:
        return None

    # ----------------------------------------------------------- agentic loop hooks
    async def async_should_run_agentic_loop(
        self,
        response: object,
        model: str,
        messages: list[dict],
        tools: list[dict] | None,
        stream: bool,
        custom_llm_provider: str,
        kwargs: dict,
    ) -> tuple[bool, dict]:
        return False, {}

    async def async_build_agentic_loop_plan(
        self,
        tools: dict,
        model: str,
        messages: list[dict],
        response: object,
        anthropic_messages_provider_config: Any,
        anthropic_messages_optional_request_params: dict,
        logging_obj: Any,
        stream: bool,
        kwargs: dict,
    ) -> Any:
        raise NotImplementedError("async_build_agentic_loop_plan not implemented")

    async def async_run_agentic_loop(
        self,
        tools: dict,
        model: str,
        messages: list[dict],
        response: object,
        anthropic_messages_provider_config: Any,
        anthropic_messages_optional_request_params: dict,
        logging_obj: Any,
        stream: bool,
        kwargs: dict,
    ) -> Any:
        return response

    async def async_post_agentic_loop_response_hook(
        self, response: object, plan: Any, kwargs: dict
    ) -> Any:
        return response

    async def async_agentic_loop_cleanup_hook(self, plan: Any, kwargs: dict) -> None:
        return None

    async def async_should_run_chat_completion_agentic_loop(
        self,
        response: object,
        model: str,
        messages: list[dict],
        tools: list[dict] | None,
        stream: bool,
        custom_llm_provider: str,
        kwargs: dict,
    ) -> tuple[bool, dict]:
        return False, {}

    async def async_build_chat_completion_agentic_loop_plan(
        self,
        tools: dict,
        model: str,
        messages: list[dict],
        response: object,
        optional_params: dict,
        logging_obj: Any,
        stream: bool,
        kwargs: dict,
    ) -> Any:
        raise NotImplementedError("async_build_chat_completion_agentic_loop_plan not implemented")

    async def async_run_chat_completion_agentic_loop(
        self,
        tools: dict,
        model: str,
        messages: list[dict],
        response: object,
        optional_params: dict,
        logging_obj: Any,
        stream: bool,
        kwargs: dict,
    ) -> object:
        return response

    # ------------------------------------------------------------ legacy helpers
    def log_input_event(
        self, model: Any, messages: Any, kwargs: Any, print_verbose: Any, callback_func: Any
    ) -> None:
        """Call a plain-function input callback as ``callback_func(kwargs)``."""
        kwargs["model"] = model
        kwargs["messages"] = messages
        callback_func(kwargs)

    async def async_log_input_event(
        self, model: Any, messages: Any, kwargs: Any, print_verbose: Any, callback_func: Any
    ) -> None:
        kwargs["model"] = model
        kwargs["messages"] = messages
        await callback_func(kwargs)

    def log_event(
        self,
        kwargs: Any,
        response_obj: Any,
        start_time: Any,
        end_time: Any,
        print_verbose: Any,
        callback_func: Any,
    ) -> None:
        """Call a plain-function callback as ``callback_func(kwargs, response_obj, start_time, end_time)``."""
        callback_func(kwargs, response_obj, start_time, end_time)

    async def async_log_event(
        self,
        kwargs: Any,
        response_obj: Any,
        start_time: Any,
        end_time: Any,
        print_verbose: Any,
        callback_func: Any,
    ) -> None:
        await callback_func(kwargs, response_obj, start_time, end_time)

    # -------------------------------------------------------------- redaction
    def redacts_messages_itself(self) -> bool:
        """True if this logger redacts message content on its own."""
        return False

    def redact_standard_logging_payload_from_model_call_details(
        self, model_call_details: dict
    ) -> dict:
        return model_call_details

    async def get_proxy_server_request_from_cold_storage_with_object_key(
        self, object_key: str
    ) -> dict | None:
        return None

    def handle_callback_failure(self, callback_name: str) -> None:
        pass
