//! Usage and cost of a pass-through answer, read from its bytes as they go by: a JSON body's
//! `usage`, or the usage events of a server-sent-events stream, in each provider's own field
//! names. Bodies in other framings (Bedrock's binary event stream) are forwarded unread.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::SystemTime;

use bytes::Bytes;
use futures::Stream;
use futures::stream::BoxStream;
use serde_json::Value;

use llmrelay_core::Result;
use llmrelay_core::cost::PriceOverrides;
use llmrelay_core::types::Usage;
use llmrelay_providers::engine::usage::price;
use llmrelay_providers::stream::StreamSummary;

/// How much of a body is kept to read its usage (bigger bodies pass through unread).
const KEEP_LIMIT: usize = 4 * 1024 * 1024;

/// Token counts in the field names each provider uses.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    prompt: u64,
    completion: u64,
    seen: bool,
}

impl Counts {
    /// Counts may repeat (cumulative Gemini chunks, Anthropic's `message_delta`): keep the
    /// largest of each.
    fn merge(&mut self, other: Self) {
        if other.seen {
            self.prompt = self.prompt.max(other.prompt);
            self.completion = self.completion.max(other.completion);
            self.seen = true;
        }
    }
}

fn number(object: &Value, names: &[&str]) -> u64 {
    names
        .iter()
        .filter_map(|name| object.get(*name).and_then(Value::as_u64))
        .sum()
}

/// One usage object: OpenAI's (`prompt_tokens` / `completion_tokens`, the Responses API's
/// `input_tokens` / `output_tokens`), Anthropic's (`input_tokens` plus its cache reads and
/// writes, `output_tokens`), Gemini's `usageMetadata`, Cohere's `billed_units`.
fn counts_of(usage: &Value) -> Counts {
    if !usage.is_object() {
        return Counts::default();
    }
    let usage = usage
        .get("billed_units")
        .filter(|units| units.is_object())
        .unwrap_or(usage);
    let prompt = number(
        usage,
        &[
            "prompt_tokens",
            "input_tokens",
            "cache_read_input_tokens",
            "cache_creation_input_tokens",
            "promptTokenCount",
        ],
    );
    let completion = number(
        usage,
        &[
            "completion_tokens",
            "output_tokens",
            "candidatesTokenCount",
            "thoughtsTokenCount",
        ],
    );
    Counts {
        prompt,
        completion,
        seen: true,
    }
}

/// The usage an answer (or one stream event) carries, wherever its provider puts it.
fn usage_in(value: &Value) -> Counts {
    let mut counts = Counts::default();
    for usage in [
        value.get("usage"),
        value.get("usageMetadata"),
        value.get("meta"),
        // Anthropic's `message_start`, the Responses API's `response.completed`.
        value.get("message").and_then(|m| m.get("usage")),
        value.get("response").and_then(|r| r.get("usage")),
    ]
    .into_iter()
    .flatten()
    {
        counts.merge(counts_of(usage));
    }
    counts
}

/// The usage of a whole body: a JSON document, or `data:` lines of server-sent events.
fn usage_of_body(body: &[u8]) -> Option<Usage> {
    let mut counts = Counts::default();
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        counts.merge(usage_in(&value));
    } else {
        let text = std::str::from_utf8(body).ok()?;
        for line in text.lines() {
            let Some(data) = line.strip_prefix("data:") else {
                continue;
            };
            if let Ok(value) = serde_json::from_str::<Value>(data.trim()) {
                counts.merge(usage_in(&value));
            }
        }
    }
    counts
        .seen
        .then(|| Usage::new(counts.prompt, counts.completion))
}

/// A pass-through body that fills in `summary` (usage, cost, timings) when it ends.
pub struct Metered {
    inner: BoxStream<'static, Result<Bytes>>,
    summary: Arc<Mutex<StreamSummary>>,
    kept: Vec<u8>,
    overflowed: bool,
    provider: String,
    model: String,
}

impl Metered {
    pub fn new(
        inner: BoxStream<'static, Result<Bytes>>,
        summary: Arc<Mutex<StreamSummary>>,
        provider: &str,
        model: &str,
    ) -> Self {
        Self {
            inner,
            summary,
            kept: Vec::new(),
            overflowed: false,
            provider: provider.to_owned(),
            model: model.to_owned(),
        }
    }

    fn finish(&mut self, error: Option<String>) {
        let usage = if self.overflowed {
            None
        } else {
            usage_of_body(&std::mem::take(&mut self.kept))
        };
        let cost = usage.as_ref().and_then(|usage| {
            (!self.model.is_empty())
                .then(|| {
                    price(
                        &self.model,
                        &self.provider,
                        usage,
                        PriceOverrides::default(),
                        None,
                    )
                })
                .flatten()
        });
        let mut summary = self.summary.lock().unwrap_or_else(PoisonError::into_inner);
        summary.usage = usage;
        summary.response_cost = cost;
        summary.end_time = Some(SystemTime::now());
        summary.error = error;
        summary.finished = true;
    }
}

impl Stream for Metered {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match this.inner.as_mut().poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => {
                this.finish(None);
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(error))) => {
                this.finish(Some(error.to_string()));
                Poll::Ready(Some(Err(error)))
            }
            Poll::Ready(Some(Ok(piece))) => {
                let mut summary = this.summary.lock().unwrap_or_else(PoisonError::into_inner);
                summary.chunks += 1;
                summary
                    .completion_start_time
                    .get_or_insert_with(SystemTime::now);
                drop(summary);
                if !this.overflowed {
                    if this.kept.len() + piece.len() > KEEP_LIMIT {
                        this.overflowed = true;
                        this.kept = Vec::new();
                    } else {
                        this.kept.extend_from_slice(&piece);
                    }
                }
                Poll::Ready(Some(Ok(piece)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_is_read_in_each_provider_s_fields() {
        // OpenAI chat completion
        let usage = usage_of_body(
            br#"{"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}"#,
        )
        .unwrap();
        assert_eq!(
            (
                usage.prompt_tokens,
                usage.completion_tokens,
                usage.total_tokens
            ),
            (9, 3, 12)
        );
        // Anthropic message with cache reads counted as prompt tokens
        let usage = usage_of_body(
            br#"{"usage":{"input_tokens":10,"cache_read_input_tokens":5,"output_tokens":7}}"#,
        )
        .unwrap();
        assert_eq!((usage.prompt_tokens, usage.completion_tokens), (15, 7));
        // Gemini generateContent
        let usage = usage_of_body(br#"{"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":6,"totalTokenCount":10}}"#).unwrap();
        assert_eq!((usage.prompt_tokens, usage.completion_tokens), (4, 6));
        // Cohere v2 chat
        let usage =
            usage_of_body(br#"{"usage":{"billed_units":{"input_tokens":2,"output_tokens":8}}}"#)
                .unwrap();
        assert_eq!((usage.prompt_tokens, usage.completion_tokens), (2, 8));
        assert!(usage_of_body(br#"{"id":"x"}"#).is_none());
        assert!(usage_of_body(b"\x00\x01binary").is_none());
    }

    #[test]
    fn stream_usage_is_merged_across_events() {
        let anthropic = b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\"}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":15}}\n\n";
        let usage = usage_of_body(anthropic).unwrap();
        assert_eq!((usage.prompt_tokens, usage.completion_tokens), (25, 15));
        let openai = b"data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\ndata: [DONE]\n\n";
        let usage = usage_of_body(openai).unwrap();
        assert_eq!((usage.prompt_tokens, usage.completion_tokens), (5, 2));
        let none = b"data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n";
        assert!(usage_of_body(none).is_none());
    }
}
