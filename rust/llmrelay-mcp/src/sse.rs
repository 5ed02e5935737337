//! The client side of MCP's legacy HTTP+SSE transport (protocol 2024-11-05), which rmcp no
//! longer ships: a GET opens an event stream whose first `endpoint` event names the URL that
//! JSON-RPC messages are POSTed to; the server's messages arrive as `message` events. Only
//! the framing lives here; the protocol is rmcp's, over [`rmcp::transport::Transport`].

use std::borrow::Cow;
use std::sync::Arc;

use eventsource_stream::Eventsource;
use futures::StreamExt;
use rmcp::RoleClient;
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Why the SSE transport failed.
#[derive(Debug, thiserror::Error)]
pub enum SseError {
    #[error("SSE transport: {0}")]
    Http(String),
    #[error("SSE transport: the server answered {0}")]
    Status(u16),
    #[error("SSE transport: the event stream closed before naming its endpoint")]
    Closed,
}

/// A connected legacy SSE transport.
pub struct SseClientTransport {
    client: reqwest::Client,
    headers: Arc<http::HeaderMap>,
    endpoint: Arc<str>,
    incoming: mpsc::Receiver<RxJsonRpcMessage<RoleClient>>,
    stop: CancellationToken,
}

impl SseClientTransport {
    /// Opens the event stream at `url` and waits for its `endpoint` event.
    ///
    /// # Errors
    /// The GET fails, answers a non-2xx status, or the stream ends before naming the endpoint.
    pub async fn connect(
        client: reqwest::Client,
        url: &str,
        headers: http::HeaderMap,
    ) -> Result<Self, SseError> {
        let response = client
            .get(url)
            .headers(headers.clone())
            .header(http::header::ACCEPT, "text/event-stream")
            .send()
            .await
            .map_err(|e| SseError::Http(e.to_string()))?;
        if !response.status().is_success() {
            return Err(SseError::Status(response.status().as_u16()));
        }
        let base = response.url().clone();
        let mut events = response.bytes_stream().eventsource();
        let endpoint = loop {
            match events.next().await {
                Some(Ok(event)) if event.event == "endpoint" => {
                    let target = base
                        .join(event.data.trim())
                        .map_err(|e| SseError::Http(format!("bad endpoint event: {e}")))?;
                    break target.to_string();
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(SseError::Http(error.to_string())),
                None => return Err(SseError::Closed),
            }
        };
        let (sender, incoming) = mpsc::channel(64);
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        tokio::spawn(async move {
            loop {
                let event = tokio::select! {
                    () = stopped.cancelled() => break,
                    event = events.next() => event,
                };
                match event {
                    Some(Ok(event)) if event.event == "message" || event.event.is_empty() => {
                        match serde_json::from_str::<RxJsonRpcMessage<RoleClient>>(&event.data) {
                            Ok(message) => {
                                if sender.send(message).await.is_err() {
                                    break;
                                }
                            }
                            Err(error) => {
                                tracing::warn!(%error, "MCP SSE: skipping an undecodable message");
                            }
                        }
                    }
                    Some(Ok(_)) => {}
                    Some(Err(error)) => {
                        tracing::warn!(%error, "MCP SSE: the event stream failed");
                        break;
                    }
                    None => break,
                }
            }
        });
        Ok(Self {
            client,
            headers: Arc::new(headers),
            endpoint: endpoint.into(),
            incoming,
            stop,
        })
    }
}

impl Drop for SseClientTransport {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Transport<RoleClient> for SseClientTransport {
    type Error = SseError;

    fn name() -> Cow<'static, str> {
        "sse".into()
    }

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleClient>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let client = self.client.clone();
        let headers = Arc::clone(&self.headers);
        let endpoint = Arc::clone(&self.endpoint);
        async move {
            let body = serde_json::to_vec(&item).map_err(|e| SseError::Http(e.to_string()))?;
            let response = client
                .post(&*endpoint)
                .headers((*headers).clone())
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(body)
                .send()
                .await
                .map_err(|e| SseError::Http(e.to_string()))?;
            if response.status().is_success() {
                Ok(())
            } else {
                Err(SseError::Status(response.status().as_u16()))
            }
        }
    }

    fn receive(&mut self) -> impl Future<Output = Option<RxJsonRpcMessage<RoleClient>>> + Send {
        self.incoming.recv()
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.stop.cancel();
        self.incoming.close();
        Ok(())
    }
}
