//! Short-lived access tokens obtained by an exchange (Google OAuth, IBM IAM, GigaChat OAuth),
//! cached per credential until shortly before they expire.
//!
//! One slot per credential key: concurrent calls with the same credential wait for one
//! exchange instead of each starting their own; calls with other credentials are not held up.
//! The slot's lock is a Tokio mutex held across the exchange on purpose (that is what makes
//! concurrent callers share it); the map of slots is a std mutex held only to find the slot.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use llmrelay_core::Result;

#[derive(Debug, Clone)]
struct CachedToken {
    token: String,
    renew_at: Instant,
}

type Slot = Arc<tokio::sync::Mutex<Option<CachedToken>>>;

static TOKENS: LazyLock<Mutex<HashMap<String, Slot>>> = LazyLock::new(Mutex::default);

fn slot(key: &str) -> Slot {
    let mut map = match TOKENS.lock() {
        Ok(map) => map,
        Err(poisoned) => poisoned.into_inner(),
    };
    Arc::clone(map.entry(key.to_owned()).or_default())
}

/// The token cached under `key` while it is fresh; otherwise `exchange()` is awaited for a new
/// `(token, lifetime)`, which is cached until `margin` before its lifetime ends (or half its
/// lifetime, for tokens that live shorter than the margin).
///
/// `key` names the credential (and the service): callers prefix it with their provider so two
/// providers never share a slot.
///
/// # Errors
/// The exchange's error; nothing is cached then.
pub async fn cached<F, Fut>(key: &str, margin: Duration, exchange: F) -> Result<String>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(String, Duration)>>,
{
    let slot = slot(key);
    let mut cached = slot.lock().await;
    if let Some(token) = cached.as_ref() {
        if Instant::now() < token.renew_at {
            return Ok(token.token.clone());
        }
    }
    let (token, lifetime) = exchange().await?;
    let renew_in = lifetime
        .checked_sub(margin)
        .filter(|d| !d.is_zero())
        .unwrap_or(lifetime / 2);
    *cached = Some(CachedToken {
        token: token.clone(),
        renew_at: Instant::now() + renew_in,
    });
    Ok(token)
}

/// Forget every cached token whose key starts with `prefix` (tests; credential rotation).
pub fn clear(prefix: &str) {
    let mut map = match TOKENS.lock() {
        Ok(map) => map,
        Err(poisoned) => poisoned.into_inner(),
    };
    map.retain(|key, _| !key.starts_with(prefix));
}

/// `application/x-www-form-urlencoded` encoding of one value.
#[must_use]
pub fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    const MARGIN: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn one_exchange_per_credential_while_fresh() {
        clear("test-cache:");
        let exchanges = Arc::new(AtomicUsize::new(0));
        let calls = (0..8).map(|_| {
            let exchanges = Arc::clone(&exchanges);
            async move {
                cached("test-cache:a", MARGIN, || async move {
                    exchanges.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Ok(("tok-a".to_owned(), Duration::from_secs(3600)))
                })
                .await
            }
        });
        let tokens = futures::future::join_all(calls).await;
        assert!(tokens.iter().all(|t| t.as_deref().ok() == Some("tok-a")));
        assert_eq!(exchanges.load(Ordering::SeqCst), 1);
        let other = cached("test-cache:b", MARGIN, || async {
            Ok(("tok-b".to_owned(), Duration::from_secs(3600)))
        })
        .await
        .unwrap();
        assert_eq!(other, "tok-b");
    }

    #[tokio::test]
    async fn failures_are_not_cached_and_short_tokens_renew_early() {
        clear("test-fail:");
        let failed = cached("test-fail:x", MARGIN, || async {
            Err(llmrelay_core::Error::bad_request("no"))
        })
        .await;
        assert!(failed.is_err());
        let token = cached("test-fail:x", MARGIN, || async {
            Ok(("t1".to_owned(), Duration::ZERO))
        })
        .await
        .unwrap();
        assert_eq!(token, "t1");
        // A zero lifetime is never fresh: the next call exchanges again.
        let token = cached("test-fail:x", MARGIN, || async {
            Ok(("t2".to_owned(), Duration::from_secs(3600)))
        })
        .await
        .unwrap();
        assert_eq!(token, "t2");
    }

    #[test]
    fn form_encoding() {
        assert_eq!(form_encode("a b+c/=~"), "a%20b%2Bc%2F%3D~");
    }
}
