//! OpenAI's audio endpoints: the multipart upload of `/audio/transcriptions` and the audio bytes
//! `/audio/speech` answers, carried to Python as JSON.
//!
//! Wire format: <https://platform.openai.com/docs/api-reference/audio/createTranscription> and
//! <https://platform.openai.com/docs/api-reference/audio/createSpeech>.

use base64::Engine as _;
use serde_json::{Map, Value, json};

use llmrelay_core::{Error, ErrorKind, Result};

/// The transcription form fields OpenAI documents, besides `file` (sent in this order).
const TRANSCRIPTION_FIELDS: &[&str] = &[
    "model",
    "language",
    "prompt",
    "response_format",
    "temperature",
    "timestamp_granularities",
    "include",
    "chunking_strategy",
    "stream",
];

fn form_value(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The `multipart/form-data` body of a transcription and its content type (with the
/// boundary). `file` is `{"filename", "data" (base64), "content_type"}` as the facade sends it.
///
/// # Errors
/// `BadRequest` when `file.data` is not base64.
pub fn transcription_form(body: &Map<String, Value>) -> Result<(Vec<u8>, String)> {
    let file = body.get("file").and_then(Value::as_object);
    let data = file
        .and_then(|f| f.get("data"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| {
            Error::bad_request(format!("file: not base64 data: {e}")).with_param("file")
        })?;
    let filename = file
        .and_then(|f| f.get("filename"))
        .and_then(Value::as_str)
        .unwrap_or("audio.wav")
        .replace(['"', '\r', '\n'], "_");
    let content_type = file
        .and_then(|f| f.get("content_type"))
        .and_then(Value::as_str)
        .unwrap_or("application/octet-stream");
    let boundary = format!("llmrelay-{}", uuid::Uuid::new_v4().simple());
    let mut form = Vec::with_capacity(bytes.len() + 512);
    let mut field = |name: &str, value: &str| {
        form.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    };
    for name in TRANSCRIPTION_FIELDS {
        match body.get(*name) {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for item in items {
                    field(&format!("{name}[]"), &form_value(item));
                }
            }
            Some(value) => field(name, &form_value(value)),
        }
    }
    form.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
             Content-Type: {content_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    form.extend_from_slice(&bytes);
    form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Ok((form, format!("multipart/form-data; boundary={boundary}")))
}

/// The speech request: the call's parameters as given (OpenAI's names are LiteLLM's).
///
/// # Errors
/// Serialization failure.
pub fn speech_body(body: &Map<String, Value>) -> Result<Vec<u8>> {
    Ok(serde_json::to_vec(body)?)
}

/// A transcription answer as JSON: the `json` / `verbose_json` object as sent, or the text of
/// the `text` / `srt` / `vtt` formats as `{"text": ...}`.
///
/// # Errors
/// A JSON body without `text`.
pub fn transcription_response(body: &[u8], request: &Map<String, Value>) -> Result<Value> {
    let format = request
        .get("response_format")
        .and_then(Value::as_str)
        .unwrap_or("json");
    if matches!(format, "text" | "srt" | "vtt") {
        return Ok(json!({"text": String::from_utf8_lossy(body)}));
    }
    serde_json::from_slice::<Value>(body)
        .ok()
        .filter(|v| v.get("text").is_some_and(Value::is_string))
        .ok_or_else(|| {
            let preview: String = String::from_utf8_lossy(body).chars().take(200).collect();
            Error::new(
                ErrorKind::Api,
                format!(
                    "Invalid transcription response from upstream: expected `text`. Body: {preview}"
                ),
            )
            .with_status(500)
        })
}

/// The audio bytes of a speech answer, base64-encoded with the format they are in.
#[must_use]
pub fn speech_response(body: &[u8], request: &Map<String, Value>) -> Value {
    let format = request
        .get("response_format")
        .and_then(Value::as_str)
        .unwrap_or("mp3");
    json!({
        "audio_base64": base64::engine::general_purpose::STANDARD.encode(body),
        "response_format": format,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn transcription_form_carries_the_file_and_fields() {
        let (form, content_type) = transcription_form(&map(json!({
            "model": "whisper-1", "language": "en", "temperature": 0.2,
            "timestamp_granularities": ["word", "segment"],
            "file": {"filename": "a.wav", "content_type": "audio/wav", "data": "UklGRg=="},
        })))
        .unwrap();
        let boundary = content_type
            .strip_prefix("multipart/form-data; boundary=")
            .unwrap();
        let text = String::from_utf8_lossy(&form);
        assert!(text.starts_with(&format!("--{boundary}\r\n")));
        assert!(text.contains("name=\"model\"\r\n\r\nwhisper-1\r\n"));
        assert!(text.contains("name=\"temperature\"\r\n\r\n0.2\r\n"));
        assert!(text.contains("name=\"timestamp_granularities[]\"\r\n\r\nword\r\n"));
        assert!(text.contains("filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\nRIFF\r\n"));
        assert!(text.ends_with(&format!("--{boundary}--\r\n")));
        let error = transcription_form(&map(json!({"file": {"data": "%%%"}}))).unwrap_err();
        assert_eq!(error.inner().param.as_deref(), Some("file"));
    }

    #[test]
    fn transcription_and_speech_responses() {
        let request = map(json!({"response_format": "verbose_json"}));
        let body = br#"{"task":"transcribe","language":"english","duration":2.5,"text":"hello"}"#;
        assert_eq!(
            transcription_response(body, &request).unwrap()["duration"],
            2.5
        );
        let text = transcription_response(b"hello there", &map(json!({"response_format": "text"})));
        assert_eq!(text.unwrap()["text"], "hello there");
        assert!(transcription_response(b"{}", &Map::new()).is_err());
        let audio = speech_response(b"ID3", &map(json!({"response_format": "wav"})));
        assert_eq!(audio["audio_base64"], "SUQz");
        assert_eq!(audio["response_format"], "wav");
    }
}
