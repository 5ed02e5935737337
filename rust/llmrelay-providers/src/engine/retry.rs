//! Retrying an attempt: retryable failures (429, 5xx, timeouts, connection errors) are tried
//! again with exponential backoff, honouring the upstream's `Retry-After`, up to
//! `num_retries` times; only before anything reached the caller (an attempt returns a stream
//! after its first chunk arrived).

use std::future::Future;

use llmrelay_core::Result;

use crate::http;

/// Run `attempt(n)` for n = 0, 1, … until it succeeds, fails for good, or `num_retries`
/// retries are spent. The returned error carries the number of retries made.
///
/// # Errors
/// The last failure.
pub async fn with_retries<T, F, Fut>(num_retries: u32, mut attempt: F) -> Result<(T, u32)>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut retries = 0;
    loop {
        match attempt(retries).await {
            Ok(value) => return Ok((value, retries)),
            Err(error) if error.is_retryable() && retries < num_retries => {
                tokio::time::sleep(http::backoff(retries, error.retry_after())).await;
                retries += 1;
            }
            Err(mut error) => {
                error.set_num_retries(retries);
                return Err(error);
            }
        }
    }
}
