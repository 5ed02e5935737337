//! LiteLLM's `webhook` alerting: each budget event as its `WebhookEvent` JSON object, one
//! `POST` per event to `WEBHOOK_URL` (<https://docs.litellm.ai/docs/proxy/alerting>, "Webhook
//! alerting").

use futures::future::BoxFuture;

use llmrelay_pipeline::delivery::Sink;

use super::WebhookEvent;

pub(super) struct Webhook {
    client: reqwest::Client,
    url: String,
}

impl Webhook {
    pub(super) fn new(url: String) -> Result<Self, String> {
        Ok(Self {
            client: crate::http::client()?,
            url,
        })
    }
}

impl Sink for Webhook {
    type Item = WebhookEvent;

    fn name(&self) -> &'static str {
        "webhook_alerting"
    }

    fn deliver<'a>(&'a self, batch: &'a [WebhookEvent]) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let mut sends = super::Sends::default();
            for event in batch {
                sends.record(
                    "webhook",
                    crate::http::send(self.client.post(&self.url).json(event)).await,
                );
            }
            sends.outcome()
        })
    }
}
