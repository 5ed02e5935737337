//! Alerting end to end (`general_settings.alerting: ["slack", "webhook", "email"]`): the
//! `llmrelay-proxy` binary with LiteLLM's variables (`SLACK_WEBHOOK_URL`, `WEBHOOK_URL`,
//! `SMTP_*`) against the mock's recording receivers (Slack incoming webhooks, the webhook) and a
//! recording SMTP server. Each alert type is fired by a fault or by time: a key crossing its
//! budget and another its soft budget (spend from the mock's fixed token counts), a slow
//! response (the mock's latency over `alerting_threshold`), failed calls (the mock's 500s, also
//! a minor and a major outage), a deployment cooled down (a 401), a key expiring within
//! `key_expiry_warning`, and the deployment and spend reports on short intervals. Every Slack
//! post is checked against Slack's documented incoming-webhook body: a JSON object with a
//! non-empty `text` (<https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks>).

use std::time::{Duration, Instant};

use llmrelay_mock::smtp::SmtpRecorder;
use llmrelay_mock::{MockConfig, MockServer, RecordedRequest};
use serde_json::{Value, json};

use crate::support::{free_port, temp_directory, wait_until_up};

const KEY: &str = "sk-alerting-master-0123456789";

/// The binary, killed when dropped.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn slack_posts(mock: &MockServer) -> Vec<RecordedRequest> {
    mock.state()
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/services/"))
        .collect()
}

fn text_of(request: &RecordedRequest) -> &str {
    request.body["text"].as_str().unwrap_or_default()
}

/// Slack's incoming-webhook body: POST, JSON, an object whose only field is a non-empty
/// `text` (LiteLLM sends no `blocks`).
fn assert_slack_shape(request: &RecordedRequest) {
    assert_eq!(request.method, "POST");
    assert!(
        request
            .headers
            .get("content-type")
            .is_some_and(|v| v.starts_with("application/json")),
        "{:?}",
        request.headers
    );
    let object = request.body.as_object().expect("a JSON object");
    assert_eq!(
        object.keys().collect::<Vec<_>>(),
        ["text"],
        "{}",
        request.body
    );
    assert!(!text_of(request).trim().is_empty());
}

async fn post(client: &reqwest::Client, url: &str, key: &str, body: &Value) -> (u16, Value) {
    let response = client
        .post(url)
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn chat(model: &str, headers: Value) -> Value {
    json!({"model": model, "max_tokens": 1, "messages": [{"role": "user", "content": "Hello alerts"}],
           "extra_headers": headers})
}

#[tokio::test]
async fn every_alert_type_reaches_slack_the_webhook_and_mail() {
    let mock = MockServer::start(
        "127.0.0.1:0".parse().unwrap(),
        MockConfig {
            prompt_tokens: Some(1000),
            completion_tokens: Some(1000),
            ..MockConfig::default()
        },
    )
    .await
    .unwrap();
    let smtp = SmtpRecorder::start().await.unwrap();
    let base = mock.base_url();
    let directory = temp_directory("alerting");
    let config = format!(
        r#"
model_list:
  - model_name: gpt-4o
    litellm_params: {{model: openai/gpt-4o-mini, api_base: "{base}/v1", api_key: sk-test}}
  - model_name: flaky
    litellm_params: {{model: openai/gpt-4o, api_base: "{base}/v1", api_key: sk-test}}
router_settings:
  num_retries: 0
general_settings:
  master_key: {KEY}
  alerting: ["slack", "webhook", "email"]
  alerting_threshold: 1
  alert_to_webhook_url:
    spend_reports: "{base}/services/T0/B0/spend"
  alerting_args:
    report_check_interval: 0.3
    daily_report_frequency: 1
    minor_outage_alert_threshold: 2
    major_outage_alert_threshold: 3
    key_expiry_warning: 86400
  spend_report_frequency: "2s"
"#
    );
    std::fs::write(directory.join("config.yaml"), config).unwrap();
    let port = free_port();
    let smtp_port = smtp.address().port().to_string();
    let _child = Child(
        std::process::Command::new(env!("CARGO_BIN_EXE_llmrelay-proxy"))
            .args(["--config", "config.yaml", "--host", "127.0.0.1"])
            .args(["--port", &port.to_string()])
            .current_dir(&directory)
            .env_remove("LITELLM_MASTER_KEY")
            .env_remove("DATABASE_URL")
            .env(
                "SLACK_WEBHOOK_URL",
                format!("{base}/services/T0/B0/default"),
            )
            .env("WEBHOOK_URL", format!("{base}/webhook"))
            .env("SMTP_HOST", "127.0.0.1")
            .env("SMTP_PORT", &smtp_port)
            .env("SMTP_SENDER_EMAIL", "alerts@llmrelay.test")
            .env("SMTP_TLS", "False")
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let proxy = format!("http://127.0.0.1:{port}");
    assert!(wait_until_up(&format!("{proxy}/health/liveliness")).await);
    let client = reqwest::Client::new();
    let chat_url = format!("{proxy}/v1/chat/completions");

    // A team, a user with an address, a key with a budget and a key with a soft budget, both
    // expiring within a day.
    let (status, team) = post(
        &client,
        &format!("{proxy}/team/new"),
        KEY,
        &json!({"team_alias": "search"}),
    )
    .await;
    assert_eq!(status, 200, "{team}");
    let team_id = team["team_id"].as_str().unwrap().to_owned();
    let (status, user) = post(
        &client,
        &format!("{proxy}/user/new"),
        KEY,
        &json!({"user_id": "ana", "user_email": "ana@example.com"}),
    )
    .await;
    assert_eq!(status, 200, "{user}");
    let (status, capped) = post(&client, &format!("{proxy}/key/generate"), KEY,
        &json!({"user_id": "ana", "team_id": team_id, "key_alias": "capped", "max_budget": 0.0001, "duration": "1h"})).await;
    assert_eq!(status, 200, "{capped}");
    let (status, soft) = post(
        &client,
        &format!("{proxy}/key/generate"),
        KEY,
        &json!({"key_alias": "soft", "soft_budget": 0.0001, "team_id": team_id}),
    )
    .await;
    assert_eq!(status, 200, "{soft}");
    let (status, spent) = post(
        &client,
        &format!("{proxy}/key/generate"),
        KEY,
        &json!({"key_alias": "spent", "max_budget": 0.001, "spend": 0.001}),
    )
    .await;
    assert_eq!(status, 200, "{spent}");
    let spent_token = spent["token"].as_str().unwrap().to_owned();
    let capped_key = capped["key"].as_str().unwrap().to_owned();
    let capped_token = capped["token"].as_str().unwrap().to_owned();
    let soft_key = soft["key"].as_str().unwrap().to_owned();

    // Budget crossed (one call costs 0.00015: 1,000 prompt tokens and one output token of
    // gpt-4o-mini), soft budget crossed twice (alerted once).
    let (status, body) = post(&client, &chat_url, &capped_key, &chat("gpt-4o", json!({}))).await;
    assert_eq!(status, 200, "{body}");
    for _ in 0..2 {
        let (status, body) = post(&client, &chat_url, &soft_key, &chat("gpt-4o", json!({}))).await;
        assert_eq!(status, 200, "{body}");
    }
    // The key over its budget is refused: a refusal is not a failed-request alert.
    let (status, body) = post(&client, &chat_url, &capped_key, &chat("gpt-4o", json!({}))).await;
    assert_ne!(status, 200, "{body}");
    assert_eq!(body["error"]["type"], "budget_exceeded", "{body}");
    // A key over its budget before any call: refused, and its budget alert is sent then.
    let spent_key = spent["key"].as_str().unwrap();
    let (status, body) = post(&client, &chat_url, spent_key, &chat("gpt-4o", json!({}))).await;
    assert_eq!(body["error"]["type"], "budget_exceeded", "{status} {body}");
    // A slow answer, over the 1 s threshold.
    let (status, body) = post(
        &client,
        &chat_url,
        KEY,
        &chat("gpt-4o", json!({"x-mock-latency-ms": "1300"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // Three failed calls: failed-request alerts, then a minor and a major outage of `flaky`.
    for _ in 0..3 {
        let (status, body) = post(
            &client,
            &chat_url,
            KEY,
            &chat("flaky", json!({"x-mock-status": "500"})),
        )
        .await;
        assert_eq!(status, 500, "{body}");
    }
    // A 401 cools the deployment down.
    let (status, body) = post(
        &client,
        &chat_url,
        KEY,
        &chat("flaky", json!({"x-mock-status": "401"})),
    )
    .await;
    assert_eq!(status, 401, "{body}");

    let wanted: [(&str, &str); 12] = [
        ("budget crossed", "Key Budget: Budget Crossed"),
        ("soft budget", "Soft Budget Crossed"),
        ("slow", "Responses are slow"),
        ("failed", "LLM API call failed"),
        ("minor outage", "Minor Service Outage"),
        ("major outage", "Major Service Outage"),
        ("cooldown", "Deployment cooling down"),
        ("key expiring", "Virtual key expires in"),
        (
            "deployment report",
            "Deployment: `openai/gpt-4o`, Failed Requests: `",
        ),
        ("spend report", "Team: `search`"),
        ("budget crossed key", &capped_token),
        ("budget crossed before any call", &spent_token),
    ];
    let started = Instant::now();
    let missing = loop {
        let posts = slack_posts(&mock);
        let missing: Vec<&str> = wanted
            .iter()
            .filter(|(_, needle)| !posts.iter().any(|p| text_of(p).contains(needle)))
            .map(|(name, _)| *name)
            .collect();
        let mails = smtp.mails();
        let hooks = mock
            .state()
            .requests()
            .into_iter()
            .filter(|r| r.path == "/webhook")
            .count();
        if (missing.is_empty() && !mails.is_empty() && hooks >= 2)
            || started.elapsed() > Duration::from_secs(20)
        {
            break missing;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let posts = slack_posts(&mock);
    let texts: Vec<&str> = posts.iter().map(text_of).collect();
    assert!(missing.is_empty(), "missing {missing:?} in {texts:#?}");
    for request in &posts {
        assert_slack_shape(request);
    }
    // Where each went: the spend report to its own URL, the rest to SLACK_WEBHOOK_URL.
    for request in &posts {
        let spend = text_of(request).contains("Spend Report for");
        let path = if spend {
            "/services/T0/B0/spend"
        } else {
            "/services/T0/B0/default"
        };
        assert_eq!(request.path, path, "{}", text_of(request));
    }
    let count = |needle: &str| texts.iter().filter(|t| t.contains(needle)).count();
    assert_eq!(count("Budget has been exceeded"), 0, "{texts:#?}");
    assert_eq!(count("Soft Budget Crossed"), 1, "de-duplicated: {texts:#?}");
    assert_eq!(count("Minor Service Outage"), 1, "{texts:#?}");
    assert_eq!(count("Deployment cooling down"), 1, "{texts:#?}");
    let failed = texts
        .iter()
        .find(|t| t.contains("LLM API call failed"))
        .unwrap();
    assert!(
        failed.contains("Level: `High`") && failed.contains("Request Model: `flaky`"),
        "{failed}"
    );

    // The webhook: LiteLLM's WebhookEvent for each budget event.
    let hooks: Vec<Value> = mock
        .state()
        .requests()
        .into_iter()
        .filter(|r| r.path == "/webhook")
        .map(|r| r.body)
        .collect();
    let crossed = hooks
        .iter()
        .find(|e| e["event"] == "budget_crossed")
        .unwrap_or_else(|| panic!("{hooks:#?}"));
    assert_eq!(crossed["event_group"], "key");
    assert_eq!(crossed["token"], capped_token.as_str());
    assert_eq!(crossed["user_id"], "ana");
    assert_eq!(crossed["key_alias"], "capped");
    assert_eq!(crossed["max_budget"], 0.0001);
    assert!(crossed["spend"].as_f64().unwrap() >= 0.0001, "{crossed}");
    assert!(
        crossed["event_message"]
            .as_str()
            .unwrap()
            .starts_with("Key Budget: Budget Crossed")
    );
    for field in [
        "soft_budget",
        "customer_id",
        "team_id",
        "team_alias",
        "user_email",
        "projected_exceeded_date",
        "projected_spend",
    ] {
        assert!(crossed.get(field).is_some(), "{field} missing: {crossed}");
    }
    assert!(
        hooks.iter().any(|e| e["event"] == "soft_budget_crossed"),
        "{hooks:#?}"
    );

    // Mail: to the key's user, about the crossed budget.
    let mails = smtp.mails();
    let mail = mails
        .iter()
        .find(|m| m.to == ["ana@example.com"])
        .unwrap_or_else(|| panic!("{mails:#?}"));
    assert_eq!(mail.from, "alerts@llmrelay.test");
    assert!(
        mail.data
            .contains("Subject: LiteLLM: Key Budget: Budget Crossed"),
        "{}",
        mail.data
    );

    // The settings route (admins only).
    let response = client
        .get(format!("{proxy}/alerting/settings"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let fields: Value = response.json().await.unwrap();
    let field = fields
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field_name"] == "minor_outage_alert_threshold")
        .unwrap();
    assert_eq!(field["field_value"], 2);
    assert_eq!(field["field_default_value"], 5);
    let response = client
        .get(format!("{proxy}/alerting/settings"))
        .bearer_auth(&soft_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let _ = std::fs::remove_dir_all(directory);
}

/// A config whose channels lack their variables stops the start (exit 1) with the variable's
/// name; a bad alert type names its path.
#[test]
fn missing_channel_variables_stop_the_start() {
    let directory = temp_directory("alerting-start");
    let model =
        "model_list:\n  - model_name: a\n    litellm_params: {model: openai/gpt-4o, api_key: k}\n";
    for (general, expected) in [
        ("  alerting: [\"slack\"]\n", "SLACK_WEBHOOK_URL"),
        (
            "  alerting: [\"webhook\"]\n  alert_types: [\"budget_alerts\"]\n",
            "WEBHOOK_URL",
        ),
        ("  alerting: [\"email\"]\n", "SMTP_HOST"),
        (
            "  alerting: [\"slack\"]\n  alert_types: [\"budget_alerts\", \"bogus\"]\n",
            "general_settings.alert_types[1]",
        ),
    ] {
        std::fs::write(
            directory.join("config.yaml"),
            format!("{model}general_settings:\n  master_key: {KEY}\n{general}"),
        )
        .unwrap();
        let ran = crate::support::run_binary(
            &directory,
            &["--config", "config.yaml", "--validate_config"],
            &[],
        );
        assert_eq!(ran.code, Some(1), "{general}: {}", ran.stderr);
        assert!(ran.stderr.contains(expected), "{general}: {}", ran.stderr);
    }
    let _ = std::fs::remove_dir_all(directory);
}
