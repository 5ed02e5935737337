//! Endpoints beyond chat, completions and embeddings: image generation, rerank and moderation.
//!
//! Their request and response bodies are JSON passed through with light validation: the
//! canonical shape is OpenAI's (images, moderations) or LiteLLM's `RerankResponse` (rerank),
//! and a provider only translates where its wire format differs.

use serde_json::{Map, Value};

use llmrelay_core::{Error, Result};

/// One of the extra endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `image_generation()`: OpenAI's `/images/generations`.
    ImageGeneration,
    /// `rerank()`: Cohere's `/v2/rerank`, answered as LiteLLM's `RerankResponse`.
    Rerank,
    /// `moderation()`: OpenAI's `/moderations`.
    Moderation,
    /// `transcription()`: OpenAI's `/audio/transcriptions` (multipart upload).
    Transcription,
    /// `speech()`: OpenAI's `/audio/speech` (answers audio bytes).
    Speech,
    /// `search()`: LiteLLM's Search API over the search providers (see `search`).
    Search,
}

impl Operation {
    /// The operation serving a call kind, if the kind is one.
    #[must_use]
    pub const fn for_kind(kind: llmrelay_core::CallKind) -> Option<Self> {
        match kind {
            llmrelay_core::CallKind::ImageGeneration => Some(Self::ImageGeneration),
            llmrelay_core::CallKind::Rerank => Some(Self::Rerank),
            llmrelay_core::CallKind::Moderation => Some(Self::Moderation),
            llmrelay_core::CallKind::Transcription => Some(Self::Transcription),
            llmrelay_core::CallKind::Speech => Some(Self::Speech),
            llmrelay_core::CallKind::Search => Some(Self::Search),
            _ => None,
        }
    }

    /// The call kind of the operation.
    #[must_use]
    pub const fn kind(self) -> llmrelay_core::CallKind {
        match self {
            Self::ImageGeneration => llmrelay_core::CallKind::ImageGeneration,
            Self::Rerank => llmrelay_core::CallKind::Rerank,
            Self::Moderation => llmrelay_core::CallKind::Moderation,
            Self::Transcription => llmrelay_core::CallKind::Transcription,
            Self::Speech => llmrelay_core::CallKind::Speech,
            Self::Search => llmrelay_core::CallKind::Search,
        }
    }

    /// The LiteLLM function name, used in messages and logs.
    #[must_use]
    pub const fn label(self) -> &'static str {
        match self {
            Self::ImageGeneration => "image_generation",
            Self::Rerank => "rerank",
            Self::Moderation => "moderation",
            Self::Transcription => "transcription",
            Self::Speech => "speech",
            Self::Search => "search",
        }
    }

    /// Check the parameters the endpoint cannot do without, before any network call.
    ///
    /// # Errors
    /// `BadRequest` naming the missing or mistyped parameter.
    pub fn validate(self, body: &Map<String, Value>) -> Result<()> {
        let require_string = |name: &str| match body.get(name) {
            Some(Value::String(text)) if !text.is_empty() => Ok(()),
            _ => Err(
                Error::bad_request(format!("{name} is required: a non-empty string"))
                    .with_param(name),
            ),
        };
        match self {
            Self::ImageGeneration => require_string("prompt"),
            Self::Rerank => {
                require_string("query")?;
                match body.get("documents") {
                    Some(Value::Array(documents))
                        if !documents.is_empty()
                            && documents.iter().all(|d| d.is_string() || d.is_object()) =>
                    {
                        Ok(())
                    }
                    _ => Err(Error::bad_request(
                        "documents is required: a non-empty list of strings or dicts",
                    )
                    .with_param("documents")),
                }
            }
            Self::Moderation => {
                match body.get("input") {
                    Some(Value::String(_) | Value::Array(_)) => Ok(()),
                    _ => Err(Error::bad_request("input is required: a string or a list")
                        .with_param("input")),
                }
            }
            Self::Transcription => match body.get("file") {
                Some(Value::Object(file)) if file.get("data").and_then(Value::as_str).is_some() => {
                    Ok(())
                }
                _ => Err(Error::bad_request(
                    "file is required: the audio file (a path, bytes or a file object)",
                )
                .with_param("file")),
            },
            Self::Speech => {
                require_string("input")?;
                require_string("voice")
            }
            Self::Search => crate::search::SearchCall::parse(body).map(|_| ()),
        }
    }
}

/// The unsupported-endpoint error every provider returns by default.
#[must_use]
pub fn unsupported(provider: &str, operation: Operation) -> Error {
    Error::bad_request(format!("{provider} does not support {}", operation.label()))
}

/// The text of a rerank document as sent (a string, or a dict's `text` field / its JSON).
#[must_use]
pub fn document_text(document: &Value) -> String {
    match document {
        Value::String(text) => text.clone(),
        Value::Object(map) => map
            .get("text")
            .and_then(Value::as_str)
            .map_or_else(|| document.to_string(), str::to_owned),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn validation_names_the_parameter() {
        let error = Operation::Rerank
            .validate(&map(json!({"query": "q", "documents": []})))
            .unwrap_err();
        assert_eq!(error.inner().param.as_deref(), Some("documents"));
        assert!(
            Operation::Rerank
                .validate(&map(
                    json!({"query": "q", "documents": ["a", {"text": "b"}]})
                ))
                .is_ok()
        );
        let error = Operation::ImageGeneration
            .validate(&map(json!({})))
            .unwrap_err();
        assert_eq!(error.inner().param.as_deref(), Some("prompt"));
        let error = Operation::Transcription
            .validate(&map(json!({"file": "a.wav"})))
            .unwrap_err();
        assert_eq!(error.inner().param.as_deref(), Some("file"));
        assert!(
            Operation::Transcription
                .validate(&map(json!({"file": {"filename": "a.wav", "data": "AAA="}})))
                .is_ok()
        );
        let error = Operation::Speech
            .validate(&map(json!({"input": "hi"})))
            .unwrap_err();
        assert_eq!(error.inner().param.as_deref(), Some("voice"));
        assert!(
            Operation::Moderation
                .validate(&map(json!({"input": 3})))
                .is_err()
        );
    }

    #[test]
    fn document_texts() {
        assert_eq!(document_text(&json!("a")), "a");
        assert_eq!(document_text(&json!({"text": "b", "id": 1})), "b");
        assert_eq!(document_text(&json!({"title": "t"})), r#"{"title":"t"}"#);
    }
}
