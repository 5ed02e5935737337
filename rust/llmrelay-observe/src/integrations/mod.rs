//! The built-in integrations, each a delivery-queue [`Sink`] of [`Event`]s that formats the
//! payload in its vendor's documented wire shape (the doc page is named in each module).
//!
//! [`Sink`]: llmrelay_pipeline::delivery::Sink
//! [`Event`]: crate::Event

pub mod datadog;
pub mod file;
pub mod generic_api;
pub mod langfuse;
pub mod langsmith;
pub mod otel;
pub mod request_log;
pub mod sentry;

use chrono::{DateTime, SecondsFormat, Utc};

/// An epoch-seconds time as RFC 3339 with milliseconds (`2026-01-01T00:00:00.000Z`).
pub(crate) fn iso8601(epoch_seconds: f64) -> String {
    let micros = (epoch_seconds * 1_000_000.0) as i64;
    DateTime::<Utc>::from_timestamp_micros(micros)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `a=b,c=d` header lists (LiteLLM's `GENERIC_LOGGER_HEADERS`, OTel's `OTEL_EXPORTER_OTLP_HEADERS`).
pub(crate) fn header_list(text: &str) -> Vec<(String, String)> {
    text.split(',')
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            let name = name.trim();
            (!name.is_empty()).then(|| (name.to_owned(), value.trim().to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_times_and_header_lists() {
        assert_eq!(super::iso8601(1.5), "1970-01-01T00:00:01.500Z");
        assert_eq!(
            super::header_list("a=1, b = x=y ,bad,"),
            [("a".into(), "1".into()), ("b".into(), "x=y".into())]
        );
    }
}
