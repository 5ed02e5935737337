"""``transcription`` / ``atranscription`` (OpenAI's and Azure's ``/audio/transcriptions``) and
``speech`` / ``aspeech`` (``/audio/speech``), with LiteLLM's signatures and return types: a
``TranscriptionResponse`` and the ``openai`` SDK's ``HttpxBinaryResponseContent``."""

from __future__ import annotations

import base64
import mimetypes
import os
from typing import Any, Optional

from . import _call, _native

__all__ = ["aspeech", "atranscription", "speech", "transcription"]

_AUDIO_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav", "opus": "audio/opus", "aac": "audio/aac",
                "flac": "audio/flac", "pcm": "audio/pcm"}


def _file_part(file: Any) -> dict:
    """The upload as the engine takes it: ``{"filename", "content_type", "data" (base64)}``.
    ``file`` is a path, bytes, a binary file object or an ``(filename, content[, type])`` tuple,
    as the openai SDK accepts."""
    filename, content_type = "audio", None
    if isinstance(file, tuple):
        filename, content = file[0] or filename, file[1]
        content_type = file[2] if len(file) > 2 else None
    elif isinstance(file, (str, os.PathLike)):
        filename = os.path.basename(os.fspath(file))
        with open(file, "rb") as handle:
            content = handle.read()
    else:
        content = file
    if hasattr(content, "read"):
        filename = os.path.basename(getattr(content, "name", filename) or filename)
        content = content.read()
    if isinstance(content, str):
        content = content.encode()
    if not isinstance(content, (bytes, bytearray, memoryview)):
        from .exceptions import BadRequestError

        raise BadRequestError(
            f"file must be a path, bytes or a binary file object, got {type(file).__name__}",
            None, None)
    guessed = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return {"filename": filename, "content_type": guessed,
            "data": base64.b64encode(bytes(content)).decode("ascii")}


def _prepare(params: dict) -> dict:
    from .main import _prepare as prepare

    return prepare({k: v for k, v in params.items() if v is not None})


def _usage(raw: Any) -> Any:
    """OpenAI's transcription usage (``input_tokens`` …) as LiteLLM's ``Usage``."""
    from .types.utils import PromptTokensDetailsWrapper, Usage

    if not isinstance(raw, dict) or raw.get("type") != "tokens":
        return None
    details = raw.get("input_token_details") or {}
    return Usage(
        prompt_tokens=raw.get("input_tokens", 0), completion_tokens=raw.get("output_tokens", 0),
        total_tokens=raw.get("total_tokens"),
        prompt_tokens_details=PromptTokensDetailsWrapper(
            audio_tokens=details.get("audio_tokens"), text_tokens=details.get("text_tokens")),
    )


def _wrap_transcription(result: Any, params: dict, _started: float) -> Any:
    from .cost_calculator import completion_cost
    from .types.utils import TranscriptionResponse

    body, hidden = result
    usage = _usage(body.pop("usage", None))
    response = TranscriptionResponse(**body)
    if usage is not None:
        response.usage = usage
    response._hidden_params = hidden
    if hidden.get("response_cost") is None:
        try:
            hidden["response_cost"] = completion_cost(
                completion_response=response, model=hidden.get("litellm_model_name") or params["model"],
                custom_llm_provider=hidden.get("custom_llm_provider"), call_type="transcription")
        except Exception:  # unpriced model, or no duration/usage to price by
            hidden["response_cost"] = None
    return response


def _wrap_speech(result: Any, params: dict, _started: float) -> Any:
    from openai._legacy_response import HttpxBinaryResponseContent

    from .exceptions import _httpx

    body, hidden = result
    audio = base64.b64decode(body["audio_base64"])
    kind = _AUDIO_TYPES.get(body.get("response_format", "mp3"), "application/octet-stream")
    response = HttpxBinaryResponseContent(_httpx.Response(200, content=audio, headers={"content-type": kind}))
    if hidden.get("response_cost") is None:
        info = _native.model_info(hidden.get("litellm_model_name") or params["model"],
                                  hidden.get("custom_llm_provider"))
        rate = (info or {}).get("input_cost_per_character")
        hidden["response_cost"] = None if rate is None else rate * len(params.get("input", ""))
    response._hidden_params = hidden  # type: ignore[attr-defined]
    return response


def _transcription_params(model: str, file: Any, kwargs: dict) -> dict:
    kwargs.update(model=model, file=_file_part(file))
    return _prepare(kwargs)


def transcription(model: str, file: Any, language: Optional[str] = None,
                  prompt: Optional[str] = None, response_format: Optional[str] = None,
                  timestamp_granularities: Optional[list] = None,
                  temperature: Optional[float] = None, **kwargs: Any) -> Any:
    """Speech to text: ``TranscriptionResponse`` (``text``; ``duration``, ``language``,
    ``segments`` with ``response_format="verbose_json"``), priced by duration or tokens."""
    params = _transcription_params(model, file, dict(
        kwargs, language=language, prompt=prompt, response_format=response_format,
        timestamp_granularities=timestamp_granularities, temperature=temperature))
    return _call.call("transcription", params, _call.native_call("transcription"),
                      _wrap_transcription)


async def atranscription(model: str, file: Any, **kwargs: Any) -> Any:
    params = _transcription_params(model, file, kwargs)
    return await _call.acall("atranscription", params, _call.submit_call("transcription"),
                             _wrap_transcription)


def _speech_params(model: str, input: str, voice: Any, kwargs: dict) -> dict:
    if isinstance(voice, dict):  # LiteLLM accepts {"voice_id": ...}-style dicts for some providers
        voice = voice.get("voice_id") or voice.get("name")
    kwargs.update(model=model, input=input, voice=voice)
    return _prepare(kwargs)


def speech(model: str, input: str, voice: Any = None, instructions: Optional[str] = None,
           response_format: Optional[str] = None, speed: Optional[float] = None,
           **kwargs: Any) -> Any:
    """Text to speech: the ``openai`` SDK's ``HttpxBinaryResponseContent`` (``.content``,
    ``.write_to_file(path)``), priced per input character."""
    params = _speech_params(model, input, voice, dict(
        kwargs, instructions=instructions, response_format=response_format, speed=speed))
    return _call.call("speech", params, _call.native_call("speech"), _wrap_speech)


async def aspeech(model: str, input: str, voice: Any = None, **kwargs: Any) -> Any:
    params = _speech_params(model, input, voice, kwargs)
    return await _call.acall("aspeech", params, _call.submit_call("speech"), _wrap_speech)
