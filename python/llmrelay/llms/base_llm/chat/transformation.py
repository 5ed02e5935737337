"""``BaseLLMException`` (``litellm.llms.base_llm.chat.transformation``): the error a provider
integration raises with the upstream's status and text; LiteLLM's mapping turns it into the
exception class of that status."""

from __future__ import annotations

from typing import Any, Optional

import httpx

__all__ = ["BaseLLMException"]


class BaseLLMException(Exception):
    def __init__(self, status_code: int, message: str, headers: Optional[Any] = None,
                 request: Optional[httpx.Request] = None, response: Optional[httpx.Response] = None,
                 body: Optional[Any] = None) -> None:
        self.status_code = status_code
        self.message = message
        self.headers = headers
        self.request = request or httpx.Request("POST", "https://docs.litellm.ai/docs")
        self.response = response or httpx.Response(status_code=status_code, request=self.request)
        self.body = body
        super().__init__(message)
