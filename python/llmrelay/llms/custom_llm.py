"""``CustomLLM``: the base class of user-defined providers (``litellm.llms.custom_llm``).

Register an instance in ``litellm.custom_provider_map`` and ``model="<provider>/<model>"``
calls it instead of a built-in provider::

    class MyLLM(CustomLLM):
        def completion(self, *args, **kwargs):
            return litellm.completion(model="gpt-4o", messages=[...], mock_response="Hi!")

    litellm.custom_provider_map = [{"provider": "my-llm", "custom_handler": MyLLM()}]
    litellm.completion(model="my-llm/anything", messages=[...])

Each method receives LiteLLM's keyword arguments (``model`` without the provider prefix,
``messages``, ``optional_params``, ``api_key``, ``api_base``, ``timeout``, ``model_response``,
``litellm_params``, …). Methods a subclass does not override raise ``CustomLLMError`` (501).
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Iterator

__all__ = ["CustomLLM", "CustomLLMError"]


class CustomLLMError(Exception):
    """Raised by a ``CustomLLM`` method the provider does not implement."""

    def __init__(self, status_code: int, message: str) -> None:
        self.status_code = status_code
        self.message = message
        super().__init__(message)


def _not_implemented(method: str) -> CustomLLMError:
    return CustomLLMError(status_code=501, message=f"CustomLLM.{method} is not implemented by this provider")


class CustomLLM:
    """Override the calls your provider serves; the others answer 501."""

    def completion(self, *args: Any, **kwargs: Any) -> Any:
        raise _not_implemented("completion")

    async def acompletion(self, *args: Any, **kwargs: Any) -> Any:
        raise _not_implemented("acompletion")

    def streaming(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        raise _not_implemented("streaming")

    async def astreaming(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        raise _not_implemented("astreaming")
        yield  # pragma: no cover  (makes this an async generator, as subclasses are)

    def embedding(self, *args: Any, **kwargs: Any) -> Any:
        raise _not_implemented("embedding")

    async def aembedding(self, *args: Any, **kwargs: Any) -> Any:
        raise _not_implemented("aembedding")

    def image_generation(self, *args: Any, **kwargs: Any) -> Any:
        raise _not_implemented("image_generation")

    async def aimage_generation(self, *args: Any, **kwargs: Any) -> Any:
        raise _not_implemented("aimage_generation")
