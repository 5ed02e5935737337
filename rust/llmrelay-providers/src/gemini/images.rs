//! Fetch `http(s)` media referenced by `fileData` parts and inline it as base64 `inlineData`,
//! as LiteLLM does for image URLs: Gemini cannot read arbitrary URLs itself. Runs in the async
//! `authorize` step, so translation stays pure.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use llmrelay_core::{Error, Result};

fn is_http(uri: &str) -> bool {
    uri.starts_with("http://") || uri.starts_with("https://")
}

/// Whether a `generateContent` body references any `http(s)` file.
#[must_use]
pub fn has_remote_media(body: &Value) -> bool {
    remote_parts(body).next().is_some()
}

fn remote_parts(body: &Value) -> impl Iterator<Item = &Value> {
    body["contents"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["parts"].as_array().into_iter().flatten())
        .filter(|part| part["fileData"]["fileUri"].as_str().is_some_and(is_http))
}

async fn fetch(url: &str) -> Result<(String, String)> {
    let failed = |reason: String| {
        Error::bad_request(format!("Unable to fetch image from url {url}: {reason}"))
            .with_param("messages")
    };
    let response = crate::http::client()
        .get(url)
        .send()
        .await
        .map_err(|e| failed(e.to_string()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(failed(format!("status {}", status.as_u16())));
    }
    let mime = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned())
        .filter(|v| !v.is_empty() && v != "application/octet-stream")
        .unwrap_or_else(|| super::request::guess_mime_type(url).to_owned());
    let bytes = response.bytes().await.map_err(|e| failed(e.to_string()))?;
    Ok((mime, STANDARD.encode(&bytes)))
}

/// Replace every `http(s)` `fileData` part with the fetched bytes.
///
/// # Errors
/// A URL that cannot be fetched.
pub async fn inline_remote_media(body: &mut Value) -> Result<()> {
    let Some(contents) = body["contents"].as_array_mut() else {
        return Ok(());
    };
    for content in contents {
        let Some(parts) = content["parts"].as_array_mut() else {
            continue;
        };
        for part in parts {
            let Some(uri) = part["fileData"]["fileUri"].as_str().filter(|u| is_http(u)) else {
                continue;
            };
            let uri = uri.to_owned();
            let (mime, data) = fetch(&uri).await?;
            *part = json!({"inlineData": {"mimeType": mime, "data": data}});
        }
    }
    Ok(())
}
