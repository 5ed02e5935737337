"""``transcription`` / ``speech`` on OpenAI and Azure (issue 11 §1), against the mock's
``/audio/transcriptions`` (multipart) and ``/audio/speech`` routes."""

from __future__ import annotations

import asyncio
import io

import pytest

import llmrelay as litellm


def _azure(mock) -> dict:
    return {"api_base": mock.url, "api_key": "sk-test", "api_version": "2024-06-01"}


def test_transcription_uploads_the_file_as_multipart(mock, tmp_path):
    audio = tmp_path / "meeting.wav"
    audio.write_bytes(b"\x00" * 64000)
    response = litellm.transcription(model="whisper-1", file=str(audio), language="en",
                                     response_format="verbose_json", **mock.params())
    assert isinstance(response, litellm.TranscriptionResponse)
    assert response.text == "Mock transcription of meeting.wav (64000 bytes)."
    assert response.duration == 2.0 and response.language == "en"
    # whisper-1 is priced per second of audio.
    assert response._hidden_params["response_cost"] == pytest.approx(2.0 * 0.0001)
    request = mock.last_request()
    assert request["path"].endswith("/audio/transcriptions")
    assert request["headers"]["content-type"].startswith("multipart/form-data; boundary=")


def test_transcription_formats_files_and_token_usage(mock):
    text = litellm.transcription(model="whisper-1", file=("a.mp3", b"abc", "audio/mpeg"),
                                 response_format="text", **mock.params())
    assert text.text == "Mock transcription of a.mp3 (3 bytes)."
    tokens = litellm.transcription(model="gpt-4o-transcribe", file=io.BytesIO(b"\x00" * 32000), **mock.params())
    assert tokens.usage.prompt_tokens_details.audio_tokens == 10
    assert tokens._hidden_params["response_cost"] == pytest.approx(10 * 2.5e-06 + tokens.usage.completion_tokens * 1e-05)
    with pytest.raises(litellm.BadRequestError, match="file must be a path"):
        litellm.transcription(model="whisper-1", file=12345, **mock.params())


def test_speech_returns_audio_bytes_priced_per_character(mock, tmp_path):
    speech = litellm.speech(model="tts-1", input="hello world", voice="alloy",
                            response_format="wav", **mock.params())
    assert speech.content[:4] == b"RIFF"
    assert speech.response.headers["content-type"] == "audio/wav"
    assert speech._hidden_params["response_cost"] == pytest.approx(11 * litellm.model_cost["tts-1"]["input_cost_per_character"])
    target = tmp_path / "out.wav"
    speech.write_to_file(target)
    assert target.read_bytes() == speech.content
    body = mock.last_request()["body"]
    assert body == {"model": "tts-1", "input": "hello world", "voice": "alloy", "response_format": "wav"}
    with pytest.raises(litellm.BadRequestError, match="voice is required"):
        litellm.speech(model="tts-1", input="hi", **mock.params())


def test_async_audio_calls(mock):
    async def run() -> tuple:
        speech = await litellm.aspeech(model="tts-1", input="hi", voice="alloy", **mock.params())
        text = await litellm.atranscription(model="whisper-1", file=b"12", **mock.params())
        return speech, text

    speech, text = asyncio.run(run())
    assert speech.content[:3] == b"ID3"  # mp3 by default
    assert text.text == "Mock transcription of audio (2 bytes)."


def test_azure_audio_deployments(mock):
    text = litellm.transcription(model="azure/my-whisper", file=b"1234", **_azure(mock))
    assert text.text == "Mock transcription of audio (4 bytes)."
    request = mock.last_request()
    assert "/openai/deployments/my-whisper/audio/transcriptions" in request["path"]
    speech = litellm.speech(model="azure/my-tts", input="hi", voice="nova", **_azure(mock))
    assert speech.content[:3] == b"ID3"
    assert "/openai/deployments/my-tts/audio/speech" in mock.last_request()["path"]


def test_audio_upstream_errors_are_litellm_classes(mock):
    with pytest.raises(litellm.RateLimitError):
        litellm.speech(model="tts-1", input="hi", voice="alloy",
                       extra_headers={"x-mock-status": "429"}, **mock.params())
