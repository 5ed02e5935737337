//! OpenAI's image generation, moderation and audio endpoints (bodies are OpenAI's own shapes).
//!
//! Wire format: <https://platform.openai.com/docs/api-reference/images/create>,
//! <https://platform.openai.com/docs/api-reference/moderations/create>; audio in [`super::audio`].

use serde_json::{Map, Value};

use llmrelay_core::{Error, ErrorKind, Result};

use super::audio;
use crate::operations::Operation;
use crate::provider::HttpRequest;

/// The path under the API base.
#[must_use]
pub fn path(operation: Operation) -> Option<&'static str> {
    match operation {
        Operation::ImageGeneration => Some("/images/generations"),
        Operation::Moderation => Some("/moderations"),
        Operation::Transcription => Some("/audio/transcriptions"),
        Operation::Speech => Some("/audio/speech"),
        Operation::Rerank | Operation::Search => None,
    }
}

/// The request body of an operation and, when it is not JSON, its content type.
///
/// # Errors
/// A transcription file that is not base64; serialization failure.
pub fn encoded(
    operation: Operation,
    body: &Map<String, Value>,
) -> Result<(Vec<u8>, Option<String>)> {
    match operation {
        Operation::Transcription => {
            let (form, content_type) = audio::transcription_form(body)?;
            Ok((form, Some(content_type)))
        }
        Operation::Speech => Ok((audio::speech_body(body)?, None)),
        _ => Ok((self::body(body)?, None)),
    }
}

/// `request` with its `content-type` replaced (multipart uploads carry their boundary).
#[must_use]
pub fn with_content_type(mut request: HttpRequest, content_type: Option<String>) -> HttpRequest {
    if let Some(content_type) = content_type {
        for (name, value) in &mut request.headers {
            if name.eq_ignore_ascii_case("content-type") {
                value.clone_from(&content_type);
            }
        }
    }
    request
}

/// The canonical JSON answer of an operation.
///
/// # Errors
/// A body that is not a valid answer of the operation.
pub fn answer(operation: Operation, body: &[u8], request: &Map<String, Value>) -> Result<Value> {
    match operation {
        Operation::Transcription => audio::transcription_response(body, request),
        Operation::Speech => Ok(audio::speech_response(body, request)),
        _ => response(operation, body),
    }
}

/// The request body: the call's parameters as given (OpenAI's names are LiteLLM's).
///
/// # Errors
/// Serialization failure.
pub fn body(body: &Map<String, Value>) -> Result<Vec<u8>> {
    Ok(serde_json::to_vec(body)?)
}

/// Check the response has the documented top-level list and return it as JSON.
///
/// # Errors
/// A body that is not JSON or lacks `data` (images) / `results` (moderations).
pub fn response(operation: Operation, body: &[u8]) -> Result<Value> {
    let field = match operation {
        Operation::ImageGeneration => "data",
        Operation::Transcription => "text",
        Operation::Moderation | Operation::Rerank | Operation::Speech | Operation::Search => {
            "results"
        }
    };
    let value: Value = serde_json::from_slice(body)
        .ok()
        .filter(|v: &Value| v.get(field).is_some_and(Value::is_array))
        .ok_or_else(|| {
            let preview: String = String::from_utf8_lossy(body).chars().take(200).collect();
            Error::new(
                ErrorKind::Api,
                format!(
                    "Invalid {} response from upstream: expected a `{field}` list. Body: {preview}",
                    operation.label()
                ),
            )
            .with_status(500)
        })?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example response of <https://platform.openai.com/docs/api-reference/images/object>.
    const IMAGES: &str = include_str!("../../tests/fixtures/openai/image_generation.json");
    /// The example response of <https://platform.openai.com/docs/api-reference/moderations/object>.
    const MODERATION: &str = include_str!("../../tests/fixtures/openai/moderation.json");

    #[test]
    fn documented_responses() {
        let images = response(Operation::ImageGeneration, IMAGES.as_bytes()).unwrap();
        assert_eq!(images["data"][0]["url"], "https://example.com/image.png");
        let moderation = response(Operation::Moderation, MODERATION.as_bytes()).unwrap();
        assert_eq!(moderation["results"][0]["flagged"], true);
        assert_eq!(moderation["results"][0]["categories"]["violence"], true);
        let error = response(Operation::Moderation, IMAGES.as_bytes()).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Api);
    }
}
