//! AWS event-stream framing (`application/vnd.amazon.eventstream`) over a byte stream, as
//! Bedrock's `ConverseStream` and `InvokeModelWithResponseStream` send it.
//!
//! Frames (prelude, headers, payload, CRCs) are decoded by the AWS SDK's own decoder
//! (`aws-smithy-eventstream`), which checks both CRCs. Each frame becomes one `RawEvent`:
//! `event` is the `:event-type` header (`messageStart`, `contentBlockDelta`, …), or
//! `exception:<:exception-type>` / `error:<:error-code>` for failure frames; `data` is the
//! JSON payload.

use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};
use aws_smithy_types::event_stream::{HeaderValue, Message};
use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};

use llmrelay_core::{Error, Result};

use crate::sse::RawEvent;

/// The `event` name given to exception frames: `exception:<type>`.
pub const EXCEPTION_PREFIX: &str = "exception:";
/// The `event` name given to error frames: `error:<code>`.
pub const ERROR_PREFIX: &str = "error:";

fn header<'a>(message: &'a Message, name: &str) -> Option<&'a str> {
    message
        .headers()
        .iter()
        .find(|h| h.name().as_str() == name)
        .and_then(|h| match h.value() {
            HeaderValue::String(value) => Some(value.as_str()),
            _ => None,
        })
}

/// One decoded frame as a `RawEvent`.
///
/// # Errors
/// A payload that is not UTF-8.
pub fn to_event(message: &Message) -> Result<RawEvent> {
    let data = std::str::from_utf8(message.payload())
        .map_err(|_| Error::connection("event-stream payload is not valid UTF-8"))?
        .to_owned();
    let event = match header(message, ":message-type") {
        Some("exception") => format!(
            "{EXCEPTION_PREFIX}{}",
            header(message, ":exception-type").unwrap_or("UnknownException")
        ),
        Some("error") => {
            let code = header(message, ":error-code").unwrap_or("UnknownError");
            let text = header(message, ":error-message").unwrap_or_default();
            // Error frames carry their message in headers, not the payload.
            let data = serde_json::json!({"message": text}).to_string();
            return Ok(RawEvent {
                event: format!("{ERROR_PREFIX}{code}"),
                data,
            });
        }
        _ => header(message, ":event-type")
            .unwrap_or_default()
            .to_owned(),
    };
    Ok(RawEvent { event, data })
}

struct Frames<S> {
    body: S,
    buffer: BytesMut,
    decoder: MessageFrameDecoder,
    ended: bool,
}

/// Frame an HTTP body as one event per event-stream message.
pub fn events<S, E>(body: S) -> impl Stream<Item = Result<RawEvent>> + Send
where
    S: Stream<Item = std::result::Result<Bytes, E>> + Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let state = Frames {
        body: body.boxed(),
        buffer: BytesMut::new(),
        decoder: MessageFrameDecoder::new(),
        ended: false,
    };
    futures::stream::unfold(state, |mut state| async move {
        loop {
            if state.ended {
                return None;
            }
            match state.decoder.decode_frame(&mut state.buffer) {
                Ok(DecodedFrame::Complete(message)) => return Some((to_event(&message), state)),
                Ok(DecodedFrame::Incomplete) => {}
                Err(error) => {
                    state.ended = true;
                    let error = Error::connection(format!("malformed event-stream frame: {error}"));
                    return Some((Err(error), state));
                }
            }
            match state.body.next().await {
                Some(Ok(bytes)) => state.buffer.extend_from_slice(&bytes),
                Some(Err(error)) => {
                    state.ended = true;
                    let error = Error::connection(format!("stream interrupted: {error}"));
                    return Some((Err(error), state));
                }
                None => {
                    state.ended = true;
                    if !state.buffer.is_empty() {
                        let error = Error::connection("stream ended inside an event-stream frame");
                        return Some((Err(error), state));
                    }
                    return None;
                }
            }
        }
    })
}

/// Encode one event-stream message (used by tests and benchmarks to build bodies).
#[must_use]
pub fn encode(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    use aws_smithy_types::event_stream::Header;
    let headers = headers
        .iter()
        .map(|(name, value)| {
            Header::new(
                (*name).to_owned(),
                HeaderValue::String((*value).to_owned().into()),
            )
        })
        .collect();
    let message = Message::new_from_parts(headers, Bytes::copy_from_slice(payload));
    let mut out = Vec::with_capacity(payload.len() + 128);
    // Writing a well-formed message into a Vec cannot fail.
    let _ = aws_smithy_eventstream::frame::write_message_to(&message, &mut out);
    out
}

/// An `event` frame as Bedrock sends it.
#[must_use]
pub fn encode_event(event_type: &str, payload: &str) -> Vec<u8> {
    encode(
        &[
            (":event-type", event_type),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        payload.as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn collect(body: Vec<u8>, piece: usize) -> Vec<Result<RawEvent>> {
        let parts: Vec<std::result::Result<Bytes, std::convert::Infallible>> = body
            .chunks(piece)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        events(futures::stream::iter(parts)).collect().await
    }

    #[tokio::test]
    async fn frames_split_at_any_byte_decode() {
        let mut body = encode_event("messageStart", r#"{"role":"assistant"}"#);
        body.extend(encode(
            &[
                (":message-type", "exception"),
                (":exception-type", "throttlingException"),
            ],
            br#"{"message":"slow down"}"#,
        ));
        for piece in [1, 3, 7, 1000] {
            let got = collect(body.clone(), piece).await;
            assert_eq!(got.len(), 2, "piece {piece}");
            let first = got[0].as_ref().unwrap();
            assert_eq!(first.event, "messageStart");
            assert_eq!(first.data, r#"{"role":"assistant"}"#);
            let second = got[1].as_ref().unwrap();
            assert_eq!(second.event, "exception:throttlingException");
        }
    }

    #[tokio::test]
    async fn corrupt_crc_and_truncation_are_errors() {
        let mut body = encode_event("messageStart", "{}");
        let last = body.len() - 1;
        body[last] ^= 0xff;
        let got = collect(body, 5).await;
        assert_eq!(got.len(), 1);
        assert!(got[0].is_err());

        let body = encode_event("messageStart", "{}");
        let got = collect(body[..body.len() - 3].to_vec(), 5).await;
        assert_eq!(got.len(), 1);
        assert!(got[0].as_ref().unwrap_err().message().contains("inside"));
    }
}
