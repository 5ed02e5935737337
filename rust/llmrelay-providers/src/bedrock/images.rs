//! Inlines http(s) image URLs before a Converse request is signed: Bedrock's `ImageSource`
//! takes bytes (or S3), never a URL, so the translation leaves `llmrelayFetchUrl` and this
//! step downloads each image and replaces it with base64 `bytes` and the right `format`.

use base64::Engine as _;
use serde_json::Value;

use llmrelay_core::{Error, Result};

use super::request::image_format;

/// The marker member the translation leaves in an image source.
pub const FETCH_MARKER: &str = "llmrelayFetchUrl";

/// Largest image inlined (Bedrock's own limit is 3.75 MB per image).
const MAX_IMAGE_BYTES: usize = 20 * 1024 * 1024;

/// Whether a serialized body has images left to fetch (cheap check before parsing).
#[must_use]
pub fn needs_fetch(body: &[u8]) -> bool {
    body.windows(FETCH_MARKER.len())
        .any(|w| w == FETCH_MARKER.as_bytes())
}

fn collect_sources<'a>(value: &'a mut Value, out: &mut Vec<&'a mut Value>) {
    if value
        .get("source")
        .and_then(|s| s.get(FETCH_MARKER))
        .is_some()
    {
        out.push(value);
        return;
    }
    match value {
        Value::Object(object) => {
            for child in object.values_mut() {
                collect_sources(child, out);
            }
        }
        Value::Array(items) => {
            for child in items {
                collect_sources(child, out);
            }
        }
        _ => {}
    }
}

/// The image format from a response's content type, else from the URL's extension.
fn format_of(content_type: Option<&str>, url: &str) -> Option<&'static str> {
    if let Some(format) = content_type.and_then(|c| image_format(c.split(';').next().unwrap_or(c)))
    {
        return Some(format);
    }
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let extension = path.rsplit('.').next()?.to_ascii_lowercase();
    image_format(&format!("image/{extension}"))
}

async fn download(url: &str) -> Result<(Vec<u8>, &'static str)> {
    let failed = |detail: String| {
        Error::bad_request(format!("Unable to fetch image from url {url}: {detail}"))
            .with_param("messages")
    };
    let response = crate::http::client()
        .get(url)
        .send()
        .await
        .map_err(|e| failed(e.to_string()))?;
    if !response.status().is_success() {
        return Err(failed(format!("HTTP {}", response.status().as_u16())));
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = response.bytes().await.map_err(|e| failed(e.to_string()))?;
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(failed(format!(
            "image is larger than {MAX_IMAGE_BYTES} bytes"
        )));
    }
    let format = format_of(content_type.as_deref(), url).ok_or_else(|| {
        failed(format!(
            "unsupported image type {} (bedrock takes png, jpeg, gif, webp)",
            content_type.as_deref().unwrap_or("unknown")
        ))
    })?;
    Ok((bytes.to_vec(), format))
}

/// Replace every image to fetch in `body` by its bytes; returns the new body.
///
/// # Errors
/// An image that cannot be downloaded or is not png/jpeg/gif/webp (`BadRequestError`, as
/// LiteLLM reports it).
pub async fn inline_images(body: &[u8]) -> Result<Vec<u8>> {
    let mut value: Value = serde_json::from_slice(body)?;
    let mut images = Vec::new();
    collect_sources(&mut value, &mut images);
    for image in images {
        let url = image
            .pointer(&format!("/source/{FETCH_MARKER}"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let (bytes, format) = download(&url).await?;
        image["format"] = Value::from(format);
        image["source"] = serde_json::json!({
            "bytes": base64::engine::general_purpose::STANDARD.encode(bytes)
        });
    }
    Ok(serde_json::to_vec(&value)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_content_type_or_extension() {
        assert_eq!(format_of(Some("image/png"), "http://x/a"), Some("png"));
        assert_eq!(
            format_of(Some("image/jpeg; charset=binary"), "http://x/a"),
            Some("jpeg")
        );
        assert_eq!(
            format_of(Some("application/octet-stream"), "http://x/a.JPG?x=1"),
            Some("jpeg")
        );
        assert_eq!(format_of(None, "http://x/a.bmp"), None);
        assert!(needs_fetch(
            br#"{"source":{"llmrelayFetchUrl":"http://x"}}"#
        ));
        assert!(!needs_fetch(br#"{"source":{"bytes":"AAAA"}}"#));
    }
}
