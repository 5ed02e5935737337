//! `bedrock`: Amazon Bedrock's `ApplyGuardrail` (Bedrock API reference "ApplyGuardrail"),
//! signed with SigV4 (or a Bedrock API key) by the Bedrock provider's signer. A blocked verdict
//! is refused with LiteLLM's `Violated guardrail policy` (or answered with the guardrail's
//! message under `disable_exception_on_block`); anonymized text replaces the request or answer
//! with `mask_request_content` / `mask_response_content`.

use std::time::SystemTime;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use llmrelay_core::types::ChatResponse;
use llmrelay_providers::bedrock::auth::{self, BedrockAuth, SIGNING_SERVICE, SigningScope};

use crate::config::{ConfigError, GuardrailSpec};
use crate::error::GuardrailError;
use crate::guardrail::{Guardrail, GuardrailFuture, HookContext, HookOutcome, StreamMode};
use crate::info::{Findings, GuardrailStatus};
use crate::payload::{RequestPayload, TextKind, for_each_response_text};

use super::{RemoteClient, on_remote_error, stream_mode_of, warn_unknown};

/// Path segments keep only unreserved characters (an ARN's `:` and `/` are encoded).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

#[derive(Debug, Deserialize)]
struct BedrockOptions {
    #[serde(rename = "guardrailIdentifier", default)]
    guardrail_identifier: Option<String>,
    #[serde(rename = "guardrailVersion", default)]
    guardrail_version: Option<String>,
    #[serde(default)]
    disable_exception_on_block: Option<bool>,
    #[serde(default)]
    aws_bedrock_runtime_endpoint: Option<String>,
}

const CREDENTIAL_KEYS: [&str; 5] = [
    "aws_region_name",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "aws_profile_name",
];

pub(crate) struct BedrockGuardrail {
    client: RemoteClient,
    identifier: String,
    version: String,
    endpoint: Option<String>,
    api_key: Option<String>,
    credentials: Map<String, Value>,
    disable_exception_on_block: bool,
}

/// Removes what quotes the scanned text (`outputs`, `match`) from a logged answer.
fn redacted(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(key, _)| *key != "outputs" && *key != "match")
                .map(|(key, child)| (key.clone(), redacted(child)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redacted).collect()),
        other => other.clone(),
    }
}

/// Every `action` in the assessments, with the policy item's name or type.
fn assessment_actions(answer: &Value) -> Vec<(String, String)> {
    let mut actions = Vec::new();
    fn walk(value: &Value, out: &mut Vec<(String, String)>) {
        match value {
            Value::Object(map) => {
                if let Some(action) = map.get("action").and_then(Value::as_str) {
                    let label = map
                        .get("name")
                        .or_else(|| map.get("type"))
                        .and_then(Value::as_str)
                        .unwrap_or("word")
                        .to_owned();
                    out.push((action.to_owned(), label));
                }
                for child in map.values() {
                    walk(child, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, out)),
            _ => {}
        }
    }
    for assessment in answer
        .get("assessments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        walk(assessment, &mut actions);
    }
    actions
}

impl BedrockGuardrail {
    pub(crate) fn build(
        spec: &GuardrailSpec,
        warnings: &mut Vec<String>,
    ) -> Result<Self, ConfigError> {
        let mut known = vec![
            "guardrailIdentifier",
            "guardrailVersion",
            "disable_exception_on_block",
            "aws_bedrock_runtime_endpoint",
        ];
        known.extend(CREDENTIAL_KEYS);
        warn_unknown(spec, &known, warnings);
        let options: BedrockOptions = spec.parse_options()?;
        let identifier = options
            .guardrail_identifier
            .filter(|id| !id.is_empty())
            .ok_or_else(|| {
                ConfigError::new(
                    spec.field_path("guardrailIdentifier"),
                    "the Bedrock guardrail needs guardrailIdentifier",
                )
            })?;
        let version = options
            .guardrail_version
            .filter(|version| !version.is_empty())
            .ok_or_else(|| {
                ConfigError::new(
                    spec.field_path("guardrailVersion"),
                    "the Bedrock guardrail needs guardrailVersion (a number or DRAFT)",
                )
            })?;
        let credentials: Map<String, Value> = CREDENTIAL_KEYS
            .iter()
            .filter_map(|key| {
                spec.options
                    .get(*key)
                    .map(|value| ((*key).to_owned(), value.clone()))
            })
            .collect();
        auth::region(&credentials).map_err(|error| {
            ConfigError::new(spec.field_path("aws_region_name"), error.message())
        })?;
        Ok(Self {
            client: RemoteClient::new(spec),
            identifier,
            version,
            endpoint: options
                .aws_bedrock_runtime_endpoint
                .or_else(|| spec.api_base.clone()),
            api_key: spec.api_key.clone(),
            credentials,
            disable_exception_on_block: options.disable_exception_on_block.unwrap_or(false),
        })
    }

    async fn apply(
        &self,
        source: &str,
        texts: &[String],
        context: HookContext<'_>,
    ) -> Result<Result<Value, HookOutcome>, GuardrailError> {
        let failure = |message: String| {
            GuardrailError::failure(
                context.guardrail_name,
                context.hook,
                format!("Bedrock guardrail failed: {message}"),
            )
        };
        let region =
            auth::region(&self.credentials).map_err(|error| failure(error.message().to_owned()))?;
        let endpoint = self
            .endpoint
            .clone()
            .unwrap_or_else(|| format!("https://bedrock-runtime.{region}.amazonaws.com"));
        let url = format!(
            "{}/guardrail/{}/version/{}/apply",
            endpoint.trim_end_matches('/'),
            utf8_percent_encode(&self.identifier, SEGMENT),
            utf8_percent_encode(&self.version, SEGMENT)
        );
        let body = json!({
            "source": source,
            "content": texts.iter().map(|text| json!({"text": {"text": text}})).collect::<Vec<_>>(),
        })
        .to_string();
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        match auth::resolve(self.api_key.as_deref(), &self.credentials)
            .map_err(|error| failure(error.message().to_owned()))?
        {
            BedrockAuth::Bearer(token) => {
                headers.push(("authorization".to_owned(), format!("Bearer {token}")))
            }
            BedrockAuth::SigV4(credentials) => {
                let scope = SigningScope {
                    region: &region,
                    service: SIGNING_SERVICE,
                    time: SystemTime::now(),
                };
                let signed = auth::signature_headers(
                    "POST",
                    &url,
                    &headers,
                    body.as_bytes(),
                    &credentials,
                    scope,
                )
                .map_err(|error| failure(error.message().to_owned()))?;
                headers.extend(signed);
            }
        }
        match self.client.post_json(&url, &headers, body.as_bytes()).await {
            Ok(answer) => Ok(Ok(answer)),
            Err(error) => on_remote_error(
                context.spec,
                context.guardrail_name,
                context.hook,
                "Bedrock guardrail",
                &error,
            )
            .map(Err),
        }
    }

    /// Interprets an answer: `Ok(None)` passes, `Ok(Some(texts))` masks, `Err` refuses.
    fn verdict(
        &self,
        answer: &Value,
        context: HookContext<'_>,
        findings: &mut Findings,
    ) -> Result<Verdict, GuardrailError> {
        let action = answer
            .get("action")
            .and_then(Value::as_str)
            .unwrap_or("NONE");
        findings.guardrail_action = Some(action.to_owned());
        findings.response = Some(redacted(answer));
        if action != "GUARDRAIL_INTERVENED" {
            return Ok(Verdict::Pass);
        }
        let actions = assessment_actions(answer);
        let outputs: Vec<String> = answer
            .get("outputs")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| item.get("text").and_then(Value::as_str))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        for (verdict, label) in &actions {
            if verdict == "ANONYMIZED" {
                *findings
                    .masked_entity_count
                    .entry(label.clone())
                    .or_insert(0) += 1;
            }
            if !findings.violation_categories.contains(label) {
                findings.violation_categories.push(label.clone());
            }
        }
        if !actions.iter().any(|(verdict, _)| verdict == "BLOCKED") {
            return Ok(Verdict::Mask(outputs));
        }
        let message = outputs.concat();
        if self.disable_exception_on_block {
            findings.status = GuardrailStatus::GuardrailIntervened;
            return Ok(Verdict::Respond(message));
        }
        findings.status = GuardrailStatus::GuardrailIntervened;
        let mut detail = Map::new();
        detail.insert("error".to_owned(), Value::from("Violated guardrail policy"));
        detail.insert(
            "bedrock_guardrail_response".to_owned(),
            Value::from(message),
        );
        detail.insert(
            "guardrailIdentifier".to_owned(),
            Value::from(self.identifier.clone()),
        );
        detail.insert(
            "guardrailVersion".to_owned(),
            Value::from(self.version.clone()),
        );
        Err(GuardrailError::http_detail(
            context.guardrail_name,
            context.hook,
            detail,
            std::mem::take(findings),
        ))
    }
}

enum Verdict {
    Pass,
    Mask(Vec<String>),
    Respond(String),
}

impl Guardrail for BedrockGuardrail {
    fn provider(&self) -> &str {
        "bedrock"
    }

    fn check_request<'a>(
        &'a self,
        request: &'a mut RequestPayload<'_>,
        context: HookContext<'a>,
    ) -> GuardrailFuture<'a> {
        Box::pin(async move {
            let roles = context.spec.roles.as_deref();
            let texts: Vec<String> = request
                .collect_texts(roles)
                .into_iter()
                .map(|(_, _, text)| text)
                .collect();
            let sent: Vec<String> = texts
                .iter()
                .filter(|text| !text.is_empty())
                .cloned()
                .collect();
            if sent.is_empty() {
                return Ok(HookOutcome::default());
            }
            let answer = match self.apply("INPUT", &sent, context).await? {
                Ok(answer) => answer,
                Err(outcome) => return Ok(outcome),
            };
            let mut findings = Findings::default();
            match self.verdict(&answer, context, &mut findings)? {
                Verdict::Pass => {}
                Verdict::Respond(text) => {
                    return Ok(HookOutcome {
                        findings,
                        respond: Some(text),
                    });
                }
                Verdict::Mask(outputs) => {
                    if context.spec.mask_request_content && outputs.len() == sent.len() {
                        let mut masked = outputs.into_iter();
                        let replaced: Vec<String> = texts
                            .iter()
                            .map(|text| {
                                if text.is_empty() {
                                    String::new()
                                } else {
                                    masked.next().unwrap_or_default()
                                }
                            })
                            .collect();
                        request.replace_texts(roles, &replaced);
                    }
                }
            }
            Ok(HookOutcome::with_findings(findings))
        })
    }

    fn check_response<'a>(
        &'a self,
        response: &'a mut ChatResponse,
        context: HookContext<'a>,
    ) -> GuardrailFuture<'a> {
        Box::pin(async move {
            let mut sent = Vec::new();
            let _ = for_each_response_text::<()>(response, &mut |slot| {
                if slot.kind == TextKind::Content && !slot.text.is_empty() {
                    sent.push(slot.text.clone());
                }
                Ok(())
            });
            if sent.is_empty() {
                return Ok(HookOutcome::default());
            }
            let answer = match self.apply("OUTPUT", &sent, context).await? {
                Ok(answer) => answer,
                Err(outcome) => return Ok(outcome),
            };
            let mut findings = Findings::default();
            match self.verdict(&answer, context, &mut findings)? {
                Verdict::Pass => {}
                Verdict::Respond(text) => {
                    for choice in &mut response.choices {
                        choice.message.content = Some(text.clone());
                        choice.message.tool_calls = None;
                    }
                }
                Verdict::Mask(outputs) => {
                    if context.spec.mask_response_content && outputs.len() == sent.len() {
                        let mut masked = outputs.into_iter();
                        let _ = for_each_response_text::<()>(response, &mut |slot| {
                            if slot.kind == TextKind::Content && !slot.text.is_empty() {
                                if let Some(text) = masked.next() {
                                    *slot.text = text;
                                }
                            }
                            Ok(())
                        });
                    }
                }
            }
            Ok(HookOutcome::with_findings(findings))
        })
    }

    fn stream_mode(&self, context: HookContext<'_>) -> StreamMode {
        stream_mode_of(context.spec)
    }
}
