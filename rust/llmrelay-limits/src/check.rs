//! What is limited: a [`Check`] names an entity (LiteLLM's rate-limit descriptor: `api_key`,
//! `user`, `team`, …), a metric (requests, tokens, parallel requests) and its limit; the
//! sliding window it is counted in is cut into [`BUCKETS`] buckets.

use std::time::Duration;

/// Buckets per window: a window of 60 s is counted in 1 s buckets.
pub const BUCKETS: u64 = 60;

/// What a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    /// Requests per window (`rpm_limit`).
    Requests,
    /// Tokens per window (`tpm_limit`, `tpd_limit`): reserved from an estimate, settled to the
    /// real usage.
    Tokens,
    /// Requests in flight (`max_parallel_requests`).
    Parallel,
}

impl Metric {
    /// LiteLLM's `rate_limit_type` name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Requests => "requests",
            Self::Tokens => "tokens",
            Self::Parallel => "max_parallel_requests",
        }
    }

    pub(crate) const fn code(self) -> &'static str {
        match self {
            Self::Requests => "r",
            Self::Tokens => "t",
            Self::Parallel => "p",
        }
    }
}

/// One limit that applies to a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// LiteLLM's descriptor key: `api_key`, `user`, `team`, `team_member`, `organization`,
    /// `end_user`, `model_per_key`, `model_per_team`, `global`.
    pub descriptor: &'static str,
    /// The entity (a key hash, a team id, `key:model`, …).
    pub value: String,
    pub metric: Metric,
    pub limit: u64,
    /// The sliding window (ignored for [`Metric::Parallel`]).
    pub window: Duration,
    /// Counted by this instance only (LiteLLM's `global_max_parallel_requests` is per instance).
    pub local_only: bool,
}

impl Check {
    #[must_use]
    pub fn new(
        descriptor: &'static str,
        value: impl Into<String>,
        metric: Metric,
        limit: u64,
        window: Duration,
    ) -> Self {
        Self {
            descriptor,
            value: value.into(),
            metric,
            limit,
            window,
            local_only: false,
        }
    }

    /// The counter's name. The braces are a Redis Cluster hash tag: every counter of one
    /// entity lives in one slot, so one script can check and reserve all of them.
    #[must_use]
    pub fn key(&self, prefix: &str) -> String {
        match self.metric {
            Metric::Parallel => format!(
                "{prefix}{{{}:{}}}:{}",
                self.descriptor,
                self.value,
                self.metric.code()
            ),
            _ => format!(
                "{prefix}{{{}:{}}}:{}:{}",
                self.descriptor,
                self.value,
                self.metric.code(),
                self.window_ms()
            ),
        }
    }

    /// The entity part of the key (its hash tag), which decides the Cluster slot.
    #[must_use]
    pub fn entity(&self) -> String {
        format!("{}:{}", self.descriptor, self.value)
    }

    #[must_use]
    pub fn window_ms(&self) -> u64 {
        u64::try_from(self.window.as_millis())
            .unwrap_or(u64::MAX)
            .max(BUCKETS)
    }

    /// Width of one bucket, in milliseconds.
    #[must_use]
    pub fn bucket_ms(&self) -> u64 {
        (self.window_ms() / BUCKETS).max(1)
    }

    /// The bucket `now_ms` falls in.
    #[must_use]
    pub fn bucket(&self, now_ms: u64) -> u64 {
        now_ms / self.bucket_ms()
    }

    /// What one call adds: one request, the token estimate, one slot.
    #[must_use]
    pub fn amount(&self, tokens: u64) -> u64 {
        match self.metric {
            Metric::Tokens => tokens,
            Metric::Requests | Metric::Parallel => 1,
        }
    }
}

/// The state of one limit after a call was admitted or refused (for LiteLLM's
/// `x-ratelimit-*` headers and its 429 message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub descriptor: &'static str,
    pub value: String,
    pub metric: Metric,
    pub limit: u64,
    /// Counted in the window, this call included when it was admitted.
    pub used: u64,
    /// Milliseconds until the window frees room (0 for parallel requests).
    pub reset_ms: u64,
}

impl Status {
    #[must_use]
    pub fn remaining(&self) -> u64 {
        self.limit.saturating_sub(self.used)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_tag_the_entity_for_cluster_slots() {
        let check = Check::new(
            "api_key",
            "abc",
            Metric::Requests,
            10,
            Duration::from_secs(60),
        );
        assert_eq!(check.key("rl:"), "rl:{api_key:abc}:r:60000");
        assert_eq!(check.bucket_ms(), 1000);
        assert_eq!(check.bucket(61_500), 61);
        let parallel = Check::new("team", "t", Metric::Parallel, 2, Duration::ZERO);
        assert_eq!(parallel.key("rl:"), "rl:{team:t}:p");
        assert_eq!(parallel.amount(500), 1);
        let tokens = Check::new("team", "t", Metric::Tokens, 2, Duration::from_secs(86_400));
        assert_eq!(tokens.amount(500), 500);
        assert_eq!(tokens.bucket_ms(), 1_440_000);
    }
}
