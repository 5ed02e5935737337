//! Server-sent-event framing over a byte stream (the `eventsource-stream` crate does the parsing).

use bytes::Bytes;
use eventsource_stream::Eventsource;
use futures::{Stream, StreamExt};

use llmrelay_core::{Error, Result};

/// One framed event: its `event:` name (empty when absent) and `data:` payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEvent {
    pub event: String,
    pub data: String,
}

/// Frame an HTTP body as SSE events.
pub fn events<S, E>(body: S) -> impl Stream<Item = Result<RawEvent>> + Send
where
    S: Stream<Item = std::result::Result<Bytes, E>> + Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    body.eventsource().map(|item| match item {
        Ok(event) => Ok(RawEvent {
            event: event.event,
            data: event.data,
        }),
        Err(error) => Err(Error::connection(format!("stream interrupted: {error}"))),
    })
}
