//! Slack's incoming webhooks: one `POST` of `application/json` `{"text": "…"}` per message to
//! the webhook URL, answered `200` with the body `ok` (errors are 4xx with a short reason such
//! as `invalid_payload` or `no_text`). Contract: Slack's "Sending messages using incoming
//! webhooks" (<https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks>);
//! `text` is mrkdwn, the form LiteLLM's alerts use. Discord's `/slack` webhooks and other
//! Slack-compatible receivers take the same body.

use futures::future::BoxFuture;
use serde_json::json;

use llmrelay_pipeline::delivery::Sink;

/// One alert for one URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackMessage {
    pub url: String,
    pub text: String,
}

pub(super) struct Slack {
    client: reqwest::Client,
    log_to_console: bool,
}

impl Slack {
    pub(super) fn new(log_to_console: bool) -> Result<Self, String> {
        Ok(Self {
            client: crate::http::client()?,
            log_to_console,
        })
    }
}

/// A batch with identical messages to one URL sent once, `[Num Alerts: N]` in front (as
/// LiteLLM squashes a burst); different messages are all sent, in order.
pub(super) fn squash(batch: &[SlackMessage]) -> Vec<(&SlackMessage, usize)> {
    let mut out: Vec<(&SlackMessage, usize)> = Vec::new();
    for message in batch {
        match out.iter_mut().find(|(seen, _)| *seen == message) {
            Some((_, count)) => *count += 1,
            None => out.push((message, 1)),
        }
    }
    out
}

impl Sink for Slack {
    type Item = SlackMessage;

    fn name(&self) -> &'static str {
        "slack_alerting"
    }

    fn deliver<'a>(&'a self, batch: &'a [SlackMessage]) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let squashed = squash(batch);
            let mut sends = super::Sends::default();
            for (message, count) in &squashed {
                let text = if *count > 1 {
                    format!("[Num Alerts: {count}]\n\n{}", message.text)
                } else {
                    message.text.clone()
                };
                let payload = json!({ "text": text });
                if self.log_to_console {
                    tracing::warn!(%payload, "alerting payload");
                }
                sends.record(
                    "slack",
                    crate::http::send(self.client.post(&message.url).json(&payload)).await,
                );
            }
            sends.outcome()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_messages_to_one_url_are_squashed() {
        let message = |url: &str, text: &str| SlackMessage {
            url: url.into(),
            text: text.into(),
        };
        let batch = [
            message("a", "x"),
            message("a", "y"),
            message("a", "x"),
            message("b", "x"),
        ];
        let squashed = squash(&batch);
        let counts: Vec<(&str, &str, usize)> = squashed
            .iter()
            .map(|(m, n)| (m.url.as_str(), m.text.as_str(), *n))
            .collect();
        assert_eq!(counts, [("a", "x", 2), ("a", "y", 1), ("b", "x", 1)]);
    }
}
