"""``CustomGuardrail``: base class for guardrails (a :class:`CustomLogger` with a mode).

A guardrail runs for a request when its event hook matches the current event and
either ``default_on`` is set or the request names it in ``guardrails`` (top level,
``metadata`` or ``litellm_metadata``).  Subclasses implement the proxy hooks
(``async_pre_call_hook``, ``async_moderation_hook``, ``async_post_call_success_hook``)
or the single ``apply_guardrail`` API.
"""

from __future__ import annotations

from typing import Any, Literal

from ..types.guardrails import GuardrailEventHooks, Mode
from .custom_logger import CustomLogger

__all__ = ["CustomGuardrail"]


def _hook_value(hook: Any) -> Any:
    return hook.value if isinstance(hook, GuardrailEventHooks) else hook


def _hooks_in(event_hook: Any) -> list[Any]:
    """All hook names mentioned by an ``event_hook`` setting."""
    if event_hook is None:
        return []
    if isinstance(event_hook, Mode):
        out: list[Any] = []
        for v in list(event_hook.tags.values()) + [event_hook.default]:
            out.extend(_hooks_in(v))
        return out
    if isinstance(event_hook, (list, tuple, set)):
        return [_hook_value(h) for h in event_hook]
    return [_hook_value(event_hook)]


def _request_metadata(data: dict) -> list[dict]:
    out = []
    for key in ("metadata", "litellm_metadata"):
        md = data.get(key)
        if isinstance(md, dict):
            out.append(md)
    return out


class CustomGuardrail(CustomLogger):
    def __init__(
        self,
        guardrail_name: str | None = None,
        supported_event_hooks: list[GuardrailEventHooks] | None = None,
        event_hook: GuardrailEventHooks | list[GuardrailEventHooks] | Mode | str | None = None,
        default_on: bool = False,
        mask_request_content: bool = False,
        mask_response_content: bool = False,
        violation_message_template: str | None = None,
        end_session_after_n_fails: int | None = None,
        on_violation: str | None = None,
        realtime_violation_message: str | None = None,
        on_sensitive_data: str | None = None,
        sensitive_data_route_to_model: str | None = None,
        sticky_session_routing: bool = True,
        run_in_parallel: bool = False,
        scan_raw_request: bool = False,
        only_scan_new_messages: bool = False,
        timeout: float | None = None,
        **kwargs: Any,
    ):
        self.guardrail_name = guardrail_name
        self.supported_event_hooks = supported_event_hooks
        self.event_hook = event_hook
        self.default_on = default_on
        self.mask_request_content = mask_request_content
        self.mask_response_content = mask_response_content
        self.violation_message_template = violation_message_template
        self.end_session_after_n_fails = end_session_after_n_fails
        self.on_violation = on_violation
        self.realtime_violation_message = realtime_violation_message
        self.on_sensitive_data = on_sensitive_data
        self.sensitive_data_route_to_model = sensitive_data_route_to_model
        self.sticky_session_routing = sticky_session_routing
        self.run_in_parallel = run_in_parallel
        self.scan_raw_request = scan_raw_request
        self.only_scan_new_messages = only_scan_new_messages
        self.timeout = timeout
        if supported_event_hooks and event_hook is not None:
            self._validate_event_hook(event_hook, supported_event_hooks)
        super().__init__(**kwargs)

    # --------------------------------------------------------------- event hooks
    def _validate_event_hook(
        self, event_hook: Any, supported_event_hooks: list[GuardrailEventHooks]
    ) -> None:
        supported = {_hook_value(h) for h in supported_event_hooks}
        for hook in _hooks_in(event_hook):
            if hook not in supported:
                shown = (
                    GuardrailEventHooks(hook)
                    if hook in GuardrailEventHooks._value2member_map_
                    else hook
                )
                raise ValueError(
                    f"Event hook {shown} is not in the supported event hooks {supported_event_hooks}"
                )

    def _active_event_hook(self, data: dict | None) -> Any:
        """Resolve a tag-based :class:`Mode` against the request's ``metadata.tags``."""
        hook = self.event_hook
        if not isinstance(hook, Mode):
            return hook
        tags: list[Any] = []
        if data:
            for md in _request_metadata(data):
                tags.extend(md.get("tags") or [])
            tags.extend(data.get("tags") or [])
        for tag in tags:
            if tag in hook.tags:
                return hook.tags[tag]
        return hook.default

    def _event_hook_is_event_type(
        self, event_type: GuardrailEventHooks | str, data: dict | None = None
    ) -> bool:
        hook = self._active_event_hook(data)
        if hook is None:
            return True
        want = _hook_value(event_type)
        return want in _hooks_in(hook)

    # ------------------------------------------------------- requested guardrails
    def get_guardrail_from_metadata(self, data: dict) -> list[Any]:
        """The ``guardrails`` a request asked for (body, ``metadata`` or ``litellm_metadata``)."""
        for md in _request_metadata(data):
            requested = md.get("guardrails")
            if requested:
                return list(requested)
        requested = data.get("guardrails")
        if requested:
            return list(requested)
        return []

    def _guardrail_is_in_requested_guardrails(self, requested_guardrails: list[Any]) -> bool:
        for item in requested_guardrails:
            if isinstance(item, dict):
                if self.guardrail_name in item:
                    return True
            elif item == self.guardrail_name:
                return True
        return False

    def get_disable_global_guardrail(self, data: dict) -> bool | None:
        for md in _request_metadata(data):
            if "disable_global_guardrail" in md:
                return bool(md["disable_global_guardrail"])
        if "disable_global_guardrail" in data:
            return bool(data["disable_global_guardrail"])
        return None

    def get_opted_out_global_guardrails_from_metadata(self, data: dict) -> list[str]:
        for md in _request_metadata(data):
            opted = md.get("opted_out_global_guardrails")
            if opted:
                return list(opted)
        return []

    def should_run_guardrail(self, data: dict, event_type: GuardrailEventHooks | str) -> bool:
        """True when this guardrail applies to ``data`` at ``event_type``."""
        if not self._event_hook_is_event_type(event_type, data):
            return False
        if self.default_on:
            return True
        return self._guardrail_is_in_requested_guardrails(self.get_guardrail_from_metadata(data))

    def get_guardrail_dynamic_request_body_params(self, request_data: dict) -> dict:
        """Per-request params sent as ``guardrails=[{"<name>": {"extra_body": {...}}}]``."""
        for item in self.get_guardrail_from_metadata(request_data):
            if isinstance(item, dict) and self.guardrail_name in item:
                params = item[self.guardrail_name]
                if isinstance(params, dict):
                    extra = params.get("extra_body")
                    if isinstance(extra, dict):
                        return dict(extra)
        return {}

    # ---------------------------------------------------------- unified guardrail
    def uses_apply_guardrail_interface(self) -> bool:
        """True when a subclass overrides :meth:`apply_guardrail`."""
        return type(self).apply_guardrail is not CustomGuardrail.apply_guardrail

    async def apply_guardrail(
        self,
        inputs: dict,
        request_data: dict,
        input_type: Literal["request", "response"],
        logging_obj: Any = None,
    ) -> dict:
        """Inspect/transform ``inputs`` (``texts``, ``images``, ``tools`` ...); raise to block."""
        return inputs

    # ------------------------------------------------------------------ helpers
    def render_violation_message(
        self, default: str, context: dict[str, object] | None = None
    ) -> str:
        template = self.violation_message_template
        if not template:
            return default
        values: dict[str, object] = {"default_message": default}
        if context:
            values.update(context)
        try:
            return template.format(**values)
        except (KeyError, IndexError, ValueError, AttributeError):
            return default

    def raise_passthrough_exception(
        self,
        violation_message: str,
        request_data: dict[str, Any],
        detection_info: dict[str, Any] | None = None,
        original_response: object = None,
    ) -> None:
        from ..exceptions import ModifyResponseException

        raise ModifyResponseException(
            message=violation_message,
            model=request_data.get("model", "unknown"),
            request_data=request_data,
            guardrail_name=self.guardrail_name,
            detection_info=detection_info,
            original_response=original_response,
        )

    def mask_content_in_string(
        self, content_string: str, mask_string: str, start_index: int, end_index: int
    ) -> str:
        return content_string[:start_index] + mask_string + content_string[end_index:]

    def add_standard_logging_guardrail_information_to_request_data(
        self,
        guardrail_json_response: object,
        request_data: dict,
        guardrail_status: str,
        start_time: float | None = None,
        end_time: float | None = None,
        duration: float | None = None,
        masked_entity_count: dict[str, int] | None = None,
        guardrail_provider: str | None = None,
        event_type: GuardrailEventHooks | None = None,
        tracing_detail: Any = None,
    ) -> None:
        """Append a guardrail record to ``request_data["metadata"]["standard_logging_guardrail_information"]``."""
        mode = event_type if event_type is not None else self._active_event_hook(request_data)
        entry = {
            "guardrail_name": self.guardrail_name,
            "guardrail_provider": guardrail_provider,
            "guardrail_mode": _hook_value(mode)
            if not isinstance(mode, list)
            else [_hook_value(m) for m in mode],
            "guardrail_response": guardrail_json_response,
            "guardrail_status": guardrail_status,
            "start_time": start_time,
            "end_time": end_time,
            "duration": duration,
            "masked_entity_count": masked_entity_count,
        }
        if tracing_detail:
            entry.update(tracing_detail)
        key = (
            "litellm_metadata"
            if "litellm_metadata" in request_data and "metadata" not in request_data
            else "metadata"
        )
        md = request_data.get(key)
        if not isinstance(md, dict):
            md = request_data[key] = {}
        md.setdefault("standard_logging_guardrail_information", []).append(entry)
