//! Newline-delimited JSON framing over a byte stream (Ollama's streams, among others).
//!
//! Each non-blank line is one event; a final line without a trailing newline still counts.

use bytes::{Buf, Bytes, BytesMut};
use futures::{Stream, StreamExt};

use llmrelay_core::{Error, Result};

use crate::sse::RawEvent;

struct Lines<S> {
    body: S,
    buffer: BytesMut,
    ended: bool,
}

fn take_line(buffer: &mut BytesMut) -> Option<Result<RawEvent>> {
    loop {
        let end = buffer.iter().position(|b| *b == b'\n')?;
        let line = buffer.split_to(end);
        buffer.advance(1);
        if let Some(event) = to_event(&line) {
            return Some(event);
        }
    }
}

fn to_event(line: &[u8]) -> Option<Result<RawEvent>> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    Some(match std::str::from_utf8(line) {
        Ok(text) => Ok(RawEvent {
            event: String::new(),
            data: text.to_owned(),
        }),
        Err(_) => Err(Error::connection("stream line is not valid UTF-8")),
    })
}

/// Frame an HTTP body as one event per line.
pub fn events<S, E>(body: S) -> impl Stream<Item = Result<RawEvent>> + Send
where
    S: Stream<Item = std::result::Result<Bytes, E>> + Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    let state = Lines {
        body: body.boxed(),
        buffer: BytesMut::new(),
        ended: false,
    };
    futures::stream::unfold(state, |mut state| async move {
        loop {
            if let Some(event) = take_line(&mut state.buffer) {
                return Some((event, state));
            }
            if state.ended {
                let rest = state.buffer.split();
                return to_event(&rest).map(|event| (event, state));
            }
            match state.body.next().await {
                Some(Ok(bytes)) => state.buffer.extend_from_slice(&bytes),
                Some(Err(error)) => {
                    state.ended = true;
                    state.buffer.clear();
                    let error = Error::connection(format!("stream interrupted: {error}"));
                    return Some((Err(error), state));
                }
                None => state.ended = true,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn collect(parts: &[&'static str]) -> Vec<String> {
        let body = futures::stream::iter(
            parts
                .iter()
                .map(|p| Ok::<_, std::convert::Infallible>(Bytes::from_static(p.as_bytes())))
                .collect::<Vec<_>>(),
        );
        events(body).map(|e| e.unwrap().data).collect().await
    }

    #[tokio::test]
    async fn lines_split_across_chunks_and_blank_lines_skipped() {
        let got = collect(&["{\"a\":1}\n{\"b\"", ":2}\r\n\n", "{\"c\":3}"]).await;
        assert_eq!(got, vec!["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"]);
    }

    #[tokio::test]
    async fn empty_body_has_no_events() {
        assert!(collect(&[]).await.is_empty());
        assert!(collect(&["\n\n"]).await.is_empty());
    }
}
