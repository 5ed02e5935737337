//! Server-sent events: events serialized into one buffer, then sent whole or paced with delays.
//!
//! OpenAI sends bare `data:` events ending with `data: [DONE]`; Anthropic names every event
//! (`event: <type>` before `data:`) and ends with `message_stop`. Both end with a terminal event that
//! faults cutting a stream short never send.

use std::time::Duration;

use axum::body::{Body, Bytes};
use futures::StreamExt;
use serde::Serialize;

/// Writes `[event: ...\n]data: ...\n\n` events back to back into one buffer, remembering where each ends.
pub(crate) struct SseWriter {
    buffer: Vec<u8>,
    ends: Vec<usize>,
    terminal_start: Option<usize>,
}

impl SseWriter {
    pub fn with_capacity(bytes: usize) -> SseWriter {
        SseWriter {
            buffer: Vec::with_capacity(bytes),
            ends: Vec::new(),
            terminal_start: None,
        }
    }

    /// A `data:` event holding `value` as JSON.
    pub fn json<T: Serialize + ?Sized>(&mut self, value: &T) {
        self.buffer.extend_from_slice(b"data: ");
        // Serializing derived structs and `Value`s into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.buffer, value);
        self.end_event();
    }

    /// A `data:` event holding `data` verbatim.
    pub fn raw(&mut self, data: &str) {
        self.buffer.extend_from_slice(b"data: ");
        self.buffer.extend_from_slice(data.as_bytes());
        self.end_event();
    }

    /// An `event: <name>` line and a `data:` line holding `value` as JSON.
    pub fn named_json<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) {
        self.event_line(name);
        self.json(value);
    }

    /// One NDJSON line (Ollama's streams): the JSON and a newline, no SSE framing.
    pub fn line_json<T: Serialize + ?Sized>(&mut self, value: &T) {
        if serde_json::to_writer(&mut self.buffer, value).is_ok() {
            self.buffer.push(b'\n');
            self.ends.push(self.buffer.len());
        }
    }

    /// An `event: <name>` line and a `data:` line holding `data` verbatim.
    pub fn named_raw(&mut self, name: &str, data: &str) {
        self.event_line(name);
        self.raw(data);
    }

    fn event_line(&mut self, name: &str) {
        self.buffer.extend_from_slice(b"event: ");
        self.buffer.extend_from_slice(name.as_bytes());
        self.buffer.push(b'\n');
    }

    /// Marks the next event as the stream's terminator: faults that cut a stream short send nothing from here on.
    pub fn terminal(&mut self) {
        self.terminal_start.get_or_insert(self.ends.len());
    }

    /// The `data: [DONE]` terminator of OpenAI streams.
    pub fn done(&mut self) {
        self.terminal();
        self.raw("[DONE]");
    }

    /// A binary frame taken as is (AWS event-stream messages share the pacing and fault logic).
    pub fn frame(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
        self.ends.push(self.buffer.len());
    }

    fn end_event(&mut self) {
        self.buffer.extend_from_slice(b"\n\n");
        self.ends.push(self.buffer.len());
    }

    pub fn finish(self) -> SseEvents {
        SseEvents {
            content_events: self.terminal_start.unwrap_or(self.ends.len()),
            bytes: Bytes::from(self.buffer),
            ends: self.ends,
        }
    }
}

/// Serialized events sharing one buffer; slices are reference-counted views, not copies.
pub(crate) struct SseEvents {
    bytes: Bytes,
    ends: Vec<usize>,
    content_events: usize,
}

impl SseEvents {
    /// Every event in one piece.
    pub fn all(&self) -> Bytes {
        self.bytes.clone()
    }

    /// Every event as its own piece.
    pub fn segments(&self) -> Vec<Bytes> {
        self.slices(self.ends.len())
    }

    /// The first `count` events before the terminator.
    pub fn content_events(&self, count: usize) -> Vec<Bytes> {
        self.slices(count.min(self.content_events))
    }

    fn slices(&self, count: usize) -> Vec<Bytes> {
        let mut start = 0;
        self.ends[..count]
            .iter()
            .map(|&end| {
                let slice = self.bytes.slice(start..end);
                start = end;
                slice
            })
            .collect()
    }
}

/// A body sending `segments` with `first_delay` before the first and `interval` between the others,
/// then aborting the connection when `abort` is set.
pub(crate) fn paced_body(
    segments: Vec<Bytes>,
    first_delay: Duration,
    interval: Duration,
    abort: bool,
) -> Body {
    // hyper drops whatever it still buffers when the body fails, so the abort waits for one
    // pending poll: hyper flushes the events already sent before the connection is cut.
    let abort_error = futures::stream::iter(abort.then_some(())).then(|()| async {
        tokio::task::yield_now().await;
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "x-mock-disconnect-after",
        ))
    });
    if first_delay.is_zero() && interval.is_zero() {
        let items = futures::stream::iter(segments.into_iter().map(Ok));
        return Body::from_stream(items.chain(abort_error));
    }
    let paced = futures::stream::iter(segments.into_iter().enumerate()).then(
        move |(index, segment)| async move {
            let delay = if index == 0 { first_delay } else { interval };
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            Ok::<Bytes, std::io::Error>(segment)
        },
    );
    Body::from_stream(paced.chain(abort_error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_slices_events_and_skips_terminator() {
        let mut writer = SseWriter::with_capacity(64);
        writer.json(&serde_json::json!({"a": 1}));
        writer.raw("plain");
        writer.done();
        let events = writer.finish();
        assert_eq!(
            &events.all()[..],
            b"data: {\"a\":1}\n\ndata: plain\n\ndata: [DONE]\n\n"
        );
        assert_eq!(events.segments().len(), 3);
        let kept = events.content_events(10);
        assert_eq!(kept.len(), 2);
        assert_eq!(&kept[1][..], b"data: plain\n\n");
        assert_eq!(events.content_events(1).len(), 1);
    }

    #[test]
    fn named_events_carry_an_event_line() {
        let mut writer = SseWriter::with_capacity(64);
        writer.named_json("ping", &serde_json::json!({"type": "ping"}));
        writer.terminal();
        writer.named_raw("message_stop", "{\"type\":\"message_stop\"}");
        let events = writer.finish();
        assert_eq!(
            &events.all()[..],
            b"event: ping\ndata: {\"type\":\"ping\"}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
        );
        assert_eq!(events.content_events(5).len(), 1);
    }
}
