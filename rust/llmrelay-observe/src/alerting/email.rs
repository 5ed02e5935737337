//! Budget alerts by mail (`alerting: ["email"]`), over SMTP with LiteLLM's variables
//! (`SMTP_HOST`, `SMTP_PORT`, `SMTP_USERNAME`, `SMTP_PASSWORD`, `SMTP_SENDER_EMAIL`, `SMTP_TLS`:
//! STARTTLS unless false), sent with `lettre` to the user of the key that crossed its budget.

use futures::future::BoxFuture;
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use llmrelay_pipeline::delivery::Sink;

use super::{SmtpSettings, WebhookEvent};

/// One mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAlert {
    pub to: String,
    pub subject: String,
    pub html: String,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl EmailAlert {
    /// The mail of a budget event, to the key's user (`None` without an address).
    #[must_use]
    pub fn budget(event: &WebhookEvent) -> Option<Self> {
        let to = event.user_email.clone()?;
        let who = event
            .user_id
            .as_deref()
            .or(event.key_alias.as_deref())
            .unwrap_or("there");
        let limit = match event.event {
            "soft_budget_crossed" => event.soft_budget,
            _ => event.max_budget,
        }
        .map_or_else(String::new, |v| format!(" of ${v}"));
        let body = match event.event {
            "budget_crossed" => format!(
                "Your LLM API usage has reached your budget{limit}. API requests will be rejected until the budget is raised or it resets."
            ),
            "soft_budget_crossed" => format!(
                "Your LLM API usage has crossed your soft budget{limit}. Requests still go through."
            ),
            _ => format!("Your LLM API usage is close to your budget{limit}."),
        };
        Some(Self {
            to,
            // One line: the event message has line breaks for Slack.
            subject: format!(
                "LiteLLM: {}",
                event
                    .event_message
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            html: format!(
                "<p>Hi {},<br/><br/>{}<br/><br/>Spend: ${}</p>",
                escape(who),
                escape(&body),
                event.spend
            ),
        })
    }
}

pub(super) struct Email {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    sender: Mailbox,
}

impl Email {
    pub(super) fn new(settings: &SmtpSettings) -> Result<Self, String> {
        let sender: Mailbox = settings
            .sender
            .parse()
            .map_err(|e| format!("email alerting: SMTP_SENDER_EMAIL: {e}"))?;
        let mut builder = if settings.tls {
            let _ = rustls::crypto::ring::default_provider().install_default();
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&settings.host)
                .map_err(|e| format!("email alerting: {e}"))?
        } else {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
        }
        .port(settings.port)
        .timeout(Some(std::time::Duration::from_secs(10)));
        if let (Some(username), Some(password)) = (&settings.username, &settings.password) {
            builder = builder.credentials(Credentials::new(username.clone(), password.clone()));
        }
        Ok(Self {
            transport: builder.build(),
            sender,
        })
    }
}

impl Sink for Email {
    type Item = EmailAlert;

    fn name(&self) -> &'static str {
        "email_alerting"
    }

    fn deliver<'a>(&'a self, batch: &'a [EmailAlert]) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let mut sends = super::Sends::default();
            for alert in batch {
                let to: Mailbox = match alert.to.parse() {
                    Ok(to) => to,
                    Err(error) => {
                        tracing::warn!(%error, to = %alert.to, "email alert: not an address");
                        continue;
                    }
                };
                let message = Message::builder()
                    .from(self.sender.clone())
                    .to(to)
                    .subject(alert.subject.clone())
                    .header(ContentType::TEXT_HTML)
                    .body(alert.html.clone())
                    .map_err(|e| e.to_string())?;
                sends.record("email", self.transport.send(message).await);
            }
            sends.outcome()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_mail_goes_to_the_user_and_escapes_names() {
        let mut event = WebhookEvent {
            spend: 2.0,
            max_budget: Some(1.0),
            user_id: Some("<ana>".into()),
            event: "budget_crossed",
            event_group: "key",
            event_message: "Key Budget: Budget Crossed".into(),
            ..WebhookEvent::default()
        };
        assert!(EmailAlert::budget(&event).is_none(), "no address");
        event.user_email = Some("ana@example.com".into());
        let mail = EmailAlert::budget(&event).unwrap();
        assert_eq!(mail.to, "ana@example.com");
        assert_eq!(mail.subject, "LiteLLM: Key Budget: Budget Crossed");
        event.event_message = "Key Budget: Budget Crossed\n Total Budget:`1`".into();
        let mail = EmailAlert::budget(&event).unwrap();
        assert_eq!(
            mail.subject,
            "LiteLLM: Key Budget: Budget Crossed Total Budget:`1`"
        );
        assert!(
            mail.html.contains("&lt;ana&gt;") && mail.html.contains("$1"),
            "{}",
            mail.html
        );
    }
}
