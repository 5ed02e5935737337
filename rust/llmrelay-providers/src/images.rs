//! Fetching image URLs for providers that need the bytes inline.
//!
//! Translation is pure, so the engine resolves such URLs first: each `image_url` part whose URL
//! the provider cannot take by reference is downloaded (through the shared client, bounded in
//! size) and replaced by a `data:` URL, which every provider's translation already handles.
//! Behaviour follows LiteLLM's image handling: 50 MB limit (`MAX_IMAGE_URL_DOWNLOAD_SIZE_MB`,
//! `0` disables downloads), the media type from `Content-Type` or the file extension, three
//! attempts on transport errors, and an in-memory cache of recent downloads.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, OnceLock, PoisonError};

use base64::Engine as _;
use futures::StreamExt;

use llmrelay_core::types::{ChatRequest, MessageContent};
use llmrelay_core::{Error, Result};

use crate::http;

/// Recent downloads kept as data URLs.
const CACHE_ENTRIES: usize = 64;

#[derive(Default)]
struct Cache {
    urls: HashMap<String, String>,
    order: VecDeque<String>,
}

fn cache() -> &'static Mutex<Cache> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

fn cached(url: &str) -> Option<String> {
    cache()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .urls
        .get(url)
        .cloned()
}

fn remember(url: &str, data_url: &str) {
    let mut cache = cache().lock().unwrap_or_else(PoisonError::into_inner);
    if cache
        .urls
        .insert(url.to_owned(), data_url.to_owned())
        .is_none()
    {
        cache.order.push_back(url.to_owned());
    }
    while cache.order.len() > CACHE_ENTRIES {
        if let Some(oldest) = cache.order.pop_front() {
            cache.urls.remove(&oldest);
        }
    }
}

fn limit_bytes() -> u64 {
    let megabytes = std::env::var("MAX_IMAGE_URL_DOWNLOAD_SIZE_MB")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
        .unwrap_or(50.0);
    // Truncation is intended: a byte limit from a megabyte setting.
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "non-negative, finite"
    )]
    let bytes = (megabytes * 1024.0 * 1024.0) as u64;
    bytes
}

fn fetch_error(message: String) -> Error {
    Error::bad_request(message).with_param("messages")
}

fn media_type_from_extension(url: &str) -> Option<&'static str> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let extension = path.rsplit('.').next()?.to_ascii_lowercase();
    match extension.as_str() {
        "jpg" | "jpeg" => Some("image/jpeg"),
        "png" => Some("image/png"),
        "gif" => Some("image/gif"),
        "webp" => Some("image/webp"),
        _ => None,
    }
}

async fn download(url: &str, limit: u64) -> Result<String> {
    let mut last_error = String::new();
    for _ in 0..3 {
        let response = match http::fetch_client().get(url).send().await {
            Ok(response) => response,
            Err(error) => {
                last_error = error.to_string();
                continue;
            }
        };
        let status = response.status().as_u16();
        if status != 200 {
            return Err(fetch_error(format!(
                "Error: Unable to fetch image from URL. Status code: {status}, url={url}"
            )));
        }
        let too_big = |bytes: u64| {
            #[expect(clippy::cast_precision_loss, reason = "a message")]
            let megabytes = bytes as f64 / (1024.0 * 1024.0);
            #[expect(clippy::cast_precision_loss, reason = "a message")]
            let allowed = limit as f64 / (1024.0 * 1024.0);
            fetch_error(format!(
                "Error: Image size ({megabytes:.2}MB) exceeds maximum allowed size ({allowed}MB). url={url}"
            ))
        };
        if let Some(length) = response.content_length().filter(|l| *l > limit) {
            return Err(too_big(length));
        }
        let media_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned())
            .filter(|v| !v.is_empty());
        let mut body = response.bytes_stream();
        let mut bytes = Vec::new();
        let mut failed = None;
        while let Some(piece) = body.next().await {
            match piece {
                Ok(piece) => {
                    bytes.extend_from_slice(&piece);
                    if bytes.len() as u64 > limit {
                        return Err(too_big(bytes.len() as u64));
                    }
                }
                Err(error) => {
                    failed = Some(error.to_string());
                    break;
                }
            }
        }
        if let Some(error) = failed {
            last_error = error;
            continue;
        }
        let media_type = match media_type {
            Some(media_type) => media_type,
            None => media_type_from_extension(url)
                .ok_or_else(|| {
                    fetch_error(format!(
                        "Error: Unsupported image format. url={url}. Supported types = \
                         ['image/jpeg', 'image/png', 'image/gif', 'image/webp']"
                    ))
                })?
                .to_owned(),
        };
        let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
        return Ok(format!("data:{media_type};base64,{encoded}"));
    }
    Err(fetch_error(format!(
        "Error: Unable to fetch image from URL after 3 attempts ({last_error}). url={url}"
    )))
}

/// The image at `url` as a `data:` URL.
///
/// # Errors
/// `BadRequest` when downloads are disabled, the fetch fails, or the image is too large.
pub async fn to_data_url(url: &str) -> Result<String> {
    if url.starts_with("data:") {
        return Ok(url.to_owned());
    }
    let limit = limit_bytes();
    if limit == 0 {
        return Err(fetch_error(format!(
            "Error: Image URL download is disabled (MAX_IMAGE_URL_DOWNLOAD_SIZE_MB=0). url={url}"
        )));
    }
    if let Some(hit) = cached(url) {
        return Ok(hit);
    }
    let data_url = download(url, limit).await?;
    remember(url, &data_url);
    Ok(data_url)
}

/// The images one call has downloaded: every retry and fallback of the call reuses them.
#[derive(Debug, Default)]
pub struct ImageCache {
    urls: Mutex<HashMap<String, String>>,
}

impl ImageCache {
    fn get(&self, url: &str) -> Option<String> {
        self.urls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(url)
            .cloned()
    }

    fn put(&self, url: &str, data_url: &str) {
        self.urls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(url.to_owned(), data_url.to_owned());
    }

    /// The image at `url` as a `data:` URL, downloaded at most once per call.
    async fn fetch(&self, url: &str) -> Result<String> {
        if let Some(hit) = self.get(url) {
            return Ok(hit);
        }
        let data_url = to_data_url(url).await?;
        self.put(url, &data_url);
        Ok(data_url)
    }
}

/// Replace every `image_url` part whose URL `wanted` selects with its bytes as a `data:` URL.
/// Downloads run concurrently (at most once per call, through `cache`); the first failure
/// fails the call.
///
/// # Errors
/// See [`to_data_url`].
pub async fn inline_image_urls(
    request: &mut ChatRequest,
    wanted: &(dyn Fn(&str) -> bool + Sync),
    cache: &ImageCache,
) -> Result<()> {
    let mut urls: Vec<String> = Vec::new();
    for message in &request.messages {
        if let Some(MessageContent::Parts(parts)) = &message.content {
            for part in parts {
                if let Some(image) = &part.image_url {
                    if wanted(&image.url) && !urls.contains(&image.url) {
                        urls.push(image.url.clone());
                    }
                }
            }
        }
    }
    if urls.is_empty() {
        return Ok(());
    }
    let fetched = futures::future::try_join_all(urls.iter().map(|url| cache.fetch(url))).await?;
    let resolved: HashMap<&str, String> = urls.iter().map(String::as_str).zip(fetched).collect();
    for message in &mut request.messages {
        if let Some(MessageContent::Parts(parts)) = &mut message.content {
            for part in parts {
                if let Some(image) = &mut part.image_url {
                    if let Some(data_url) = resolved.get(image.url.as_str()) {
                        image.url.clone_from(data_url);
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_from_extensions() {
        assert_eq!(
            media_type_from_extension("http://x/a.PNG?x=1"),
            Some("image/png")
        );
        assert_eq!(
            media_type_from_extension("http://x/a.jpeg"),
            Some("image/jpeg")
        );
        assert_eq!(media_type_from_extension("http://x/a.bmp"), None);
    }
}
