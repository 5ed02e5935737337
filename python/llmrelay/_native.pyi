"""Type stubs of ``llmrelay._native``, the Rust engine (PyO3, abi3)."""

from collections.abc import Callable
from typing import Any, Literal

__version__: str

class ErrorInfo:
    """What the engine knows about a failure; ``str(info)`` is the message."""

    kind: str
    message: str
    status: int
    provider: str | None
    model: str | None
    retry_after: float | None
    headers: list[tuple[str, str]]
    body: str | None
    num_retries: int
    param: str | None
    payload: dict[str, Any] | None

class NativeError(Exception):
    """An engine error: ``args[0]`` is its :class:`ErrorInfo`; mapped to LiteLLM's classes by
    ``llmrelay._errors.from_native``."""

    args: tuple[ErrorInfo]

class Stream:
    """A stream of chunk dicts from the engine (sync iteration; async through AsyncBridge)."""

    def __iter__(self) -> Stream: ...
    def __next__(self) -> dict[str, Any]: ...
    def close(self) -> None: ...
    def summary(self) -> dict[str, Any]: ...
    def hidden_params(self) -> dict[str, Any]: ...
    def payload(self) -> dict[str, Any] | None: ...

class AsyncBridge:
    """Completes engine work for one asyncio loop without the GIL; see ``llmrelay._async``."""

    def __init__(self) -> None: ...
    def fileno(self) -> int: ...
    def submit_call(self, kind: str, params: dict[str, Any], log: bool, token: int) -> None: ...
    def submit_count_tokens(self, params: dict[str, Any], token: int) -> None: ...
    def submit_next(self, stream: Stream, token: int) -> None: ...
    def submit_router(
        self,
        call: tuple[Router, str, dict[str, Any], bool, Callable[[dict[str, Any], ErrorInfo | None], None] | None],
        token: int,
    ) -> None: ...
    def cancel(self, token: int) -> None: ...
    def drain(self) -> list[tuple[int, bool, Any]]: ...

class Router:
    """The Rust router behind ``llmrelay.Router``; built from ``Router(**kwargs)`` as a dict."""

    def __init__(self, config: dict[str, Any]) -> None: ...
    def call(
        self,
        kind: str,
        params: dict[str, Any],
        log: bool = False,
        attempts: Callable[[dict[str, Any], ErrorInfo | None], None] | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any]] | Stream: ...
    def get_model_list(self, model_name: str | None = None) -> list[dict[str, Any]]: ...
    def get_model_names(self) -> list[str]: ...
    def get_model_ids(self, model_name: str | None = None) -> list[str]: ...
    def get_model_info(self, id: str) -> dict[str, Any] | None: ...
    def get_available_deployment(self, model: str, params: dict[str, Any]) -> dict[str, Any]: ...
    def set_model_list(self, model_list: list[Any]) -> None: ...
    def add_deployment(self, deployment: dict[str, Any]) -> dict[str, Any] | None: ...
    def delete_deployment(self, id: str) -> dict[str, Any] | None: ...
    def health_check(self, model: str | None = None) -> dict[str, Any]: ...
    def deployment_stats(self) -> list[dict[str, Any]]: ...
    def cooldown_list(self) -> list[str]: ...
    def queue_len(self) -> int: ...
    def shared_state_up(self) -> bool | None: ...
    def shutdown(self) -> None: ...

class MockServer:
    """The mock upstream provider, served on the engine's runtime."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, config: dict[str, Any] | None = None) -> None: ...
    @property
    def base_url(self) -> str: ...
    @property
    def port(self) -> int: ...
    def stop(self) -> None: ...
    def serve_forever(self) -> None: ...

def call(
    kind: str, params: dict[str, Any], log: bool = False
) -> tuple[dict[str, Any], dict[str, Any]] | Stream:
    """A call of ``kind`` (a LiteLLM function name: ``completion``, ``embedding``,
    ``image_generation`` …) through the SDK pipeline; ``log`` asks for the logging payload."""
def token_counter(
    model: str,
    messages: list[Any] | None = None,
    text: str | list[str] | None = None,
    tools: list[Any] | None = None,
    tool_choice: Any = None,
    count_response_tokens: bool = False,
    use_default_image_token_count: bool = False,
    default_token_count: int | None = None,
) -> int: ...
def assemble_stream(
    chunks: list[Any],
    messages: Any = None,
    *,
    count_tokens: bool = False,
    token_hook: Callable[[Any, str], tuple[int, int]] | None = None,
) -> tuple[Literal["chat", "text"], dict[str, Any]] | None:
    """Rebuild one response from stream chunks (dicts or response objects)."""
def encode(encoding: Literal["o200k_base", "cl100k_base"], text: str) -> list[int]: ...
def decode(encoding: Literal["o200k_base", "cl100k_base"], tokens_list: list[int]) -> str: ...
def encoding_name(model: str) -> str: ...
def cost_per_token(
    model: str,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    cache_read_tokens: int = 0,
    cache_creation_tokens: int = 0,
    reasoning_tokens: int = 0,
    custom_llm_provider: str | None = None,
    service_tier: str | None = None,
    input_cost_per_token: float | None = None,
    output_cost_per_token: float | None = None,
) -> tuple[float, float, dict[str, float]]: ...
def model_info(model: str, custom_llm_provider: str | None = None) -> dict[str, Any] | None: ...
def model_cost_map_text() -> str: ...
def register_model(entries: dict[str, Any], custom_llm_provider: str | None = None) -> list[str]: ...
def load_model_cost_map(path: str) -> int: ...
def get_llm_provider(model: str, custom_llm_provider: str | None = None, api_base: str | None = None) -> tuple[str, str]: ...
def provider_list() -> list[str]: ...
def implemented_providers() -> list[str]: ...
def supported_openai_params(model: str, provider: str) -> list[str] | None: ...
def provider_endpoint(provider: str) -> tuple[str | None, list[str], list[str], bool] | None:
    """``(default_api_base, api_key_env, api_base_env, requires_api_key)`` of a provider."""

def builtin_integrations() -> list[str]:
    """The logging integration names the engine runs in Rust (``langfuse``, ``otel``, ...)."""

def configure_integrations(
    callbacks: list[str],
    success_callback: list[str],
    failure_callback: list[str],
    turn_off_message_logging: bool = False,
    redact_user_api_key_info: bool = False,
) -> list[str]:
    """Run the built-in integrations named in the lists; returns the names running. Raises
    ``ValueError`` when one lacks its settings."""

def flush_integrations() -> None:
    """Deliver everything the integrations hold."""

def integration_stats() -> dict[str, dict[str, int]]:
    """Each running integration's ``accepted``, ``delivered``, ``dropped`` and ``failures``."""

def proxy_prepare(argv: list[str]) -> dict[str, Any]:
    """Parse proxy flags and read the config: ``help``, ``version``, ``usage``, ``serves``
    (not a one-shot --health/--test),
    ``environment`` (pairs to export), ``callbacks`` (``module.instance`` names), ``config_dir``."""

def proxy_serve(argv: list[str], hooks: Any | None = None) -> None:
    """Run the proxy server until Ctrl-C / SIGTERM, with the GIL released."""
