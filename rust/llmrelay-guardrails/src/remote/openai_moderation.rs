//! `openai_moderation`: OpenAI's moderations API (`POST {api_base}/moderations`, API reference
//! "Moderations") on the last block of user messages, or on the answer; a flagged result is
//! refused with LiteLLM's `Violated OpenAI moderation policy`.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use llmrelay_core::types::{ChatResponse, Role};

use crate::config::{ConfigError, EventHook, GuardrailSpec};
use crate::error::GuardrailError;
use crate::guardrail::{Guardrail, GuardrailFuture, HookContext, HookOutcome, StreamMode};
use crate::info::{Findings, GuardrailStatus};
use crate::payload::{RequestPayload, TextKind, collect_response_texts};

use super::{RemoteClient, key_or_env, on_remote_error, stream_mode_of, warn_unknown};

#[derive(Debug, Deserialize)]
struct ModerationResult {
    #[serde(default)]
    flagged: bool,
    #[serde(default)]
    categories: Map<String, Value>,
    #[serde(default)]
    category_scores: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
struct ModerationResponse {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    results: Vec<ModerationResult>,
}

pub(crate) struct OpenAiModeration {
    client: RemoteClient,
    url: String,
    api_key: String,
    model: String,
}

impl OpenAiModeration {
    pub(crate) fn build(
        spec: &GuardrailSpec,
        warnings: &mut Vec<String>,
    ) -> Result<Self, ConfigError> {
        warn_unknown(spec, &["model"], warnings);
        let api_key = key_or_env(spec, "OPENAI_API_KEY").ok_or_else(|| {
            ConfigError::new(
                spec.field_path("api_key"),
                "OpenAI Moderation: api_key is required. Set OPENAI_API_KEY environment variable or pass it in configuration.",
            )
        })?;
        let model = match spec.options.get("model") {
            None | Some(Value::Null) => "omni-moderation-latest".to_owned(),
            Some(Value::String(model)) => model.clone(),
            Some(_) => {
                return Err(ConfigError::new(
                    spec.field_path("model"),
                    "expected a model name",
                ));
            }
        };
        let base = spec
            .api_base
            .clone()
            .unwrap_or_else(|| "https://api.openai.com/v1".to_owned());
        Ok(Self {
            client: RemoteClient::new(spec),
            url: format!("{}/moderations", base.trim_end_matches('/')),
            api_key,
            model,
        })
    }

    async fn moderate(
        &self,
        text: String,
        context: HookContext<'_>,
    ) -> Result<HookOutcome, GuardrailError> {
        if text.trim().is_empty() {
            return Ok(HookOutcome::default());
        }
        let body = json!({"model": self.model, "input": text});
        let headers = [(
            "authorization".to_owned(),
            format!("Bearer {}", self.api_key),
        )];
        let answer = match self
            .client
            .post_json(&self.url, &headers, body.to_string().as_bytes())
            .await
        {
            Ok(answer) => answer,
            Err(super::RemoteError::Status { status, body }) if context.spec.fail_on_error => {
                // LiteLLM raises an HTTPException with the upstream status.
                let mut detail = Map::new();
                detail.insert(
                    "error".to_owned(),
                    Value::from("OpenAI Moderation API request failed"),
                );
                detail.insert("details".to_owned(), Value::from(body));
                let mut error = GuardrailError::http_detail(
                    context.guardrail_name,
                    context.hook,
                    detail,
                    Findings::default(),
                );
                if let GuardrailError::Violation(violation) = &mut error {
                    violation.status = status;
                    violation.findings.status = GuardrailStatus::GuardrailFailedToRespond;
                }
                return Err(error);
            }
            Err(error) => {
                return on_remote_error(
                    context.spec,
                    context.guardrail_name,
                    context.hook,
                    "OpenAI Moderation",
                    &error,
                );
            }
        };
        let parsed: ModerationResponse =
            serde_json::from_value(answer.clone()).map_err(|error| {
                GuardrailError::failure(
                    context.guardrail_name,
                    context.hook,
                    format!("OpenAI Moderation failed: invalid response: {error}"),
                )
            })?;
        let mut findings = Findings {
            response: Some(answer),
            detection_method: Some("openai_moderation".to_owned()),
            ..Findings::default()
        };
        let Some(result) = parsed.results.first().filter(|result| result.flagged) else {
            return Ok(HookOutcome::with_findings(findings));
        };
        let violated: Vec<String> = result
            .categories
            .iter()
            .filter(|(_, hit)| hit.as_bool() == Some(true))
            .map(|(name, _)| name.clone())
            .collect();
        findings.violation_categories.clone_from(&violated);
        findings.status = GuardrailStatus::GuardrailIntervened;
        let _ = parsed.id;
        let mut detail = Map::new();
        detail.insert(
            "error".to_owned(),
            Value::from("Violated OpenAI moderation policy"),
        );
        detail.insert(
            "moderation_result".to_owned(),
            json!({"violated_categories": violated, "category_scores": result.category_scores}),
        );
        Err(GuardrailError::http_detail(
            context.guardrail_name,
            context.hook,
            detail,
            findings,
        ))
    }
}

/// LiteLLM's `get_last_user_message`: the last consecutive block of user messages.
fn last_user_block(request: &mut RequestPayload<'_>) -> String {
    let texts = request.collect_texts(None);
    if request.chat().is_none() {
        return texts
            .into_iter()
            .map(|(_, _, text)| text)
            .collect::<Vec<_>>()
            .join("\n");
    }
    let mut block: Vec<String> = Vec::new();
    let mut in_block = false;
    for (role, kind, text) in texts.into_iter().rev() {
        if role == Some(Role::User) && kind == TextKind::Content {
            in_block = true;
            block.push(text);
        } else if in_block && role != Some(Role::User) {
            break;
        }
    }
    block.reverse();
    block.join("\n")
}

impl Guardrail for OpenAiModeration {
    fn provider(&self) -> &str {
        "openai_moderation"
    }

    fn check_request<'a>(
        &'a self,
        request: &'a mut RequestPayload<'_>,
        context: HookContext<'a>,
    ) -> GuardrailFuture<'a> {
        let text = last_user_block(request);
        Box::pin(self.moderate(text, context))
    }

    fn check_response<'a>(
        &'a self,
        response: &'a mut ChatResponse,
        context: HookContext<'a>,
    ) -> GuardrailFuture<'a> {
        let text = collect_response_texts(response).join("\n");
        Box::pin(async move {
            let hook = if context.hook == EventHook::LoggingOnly {
                EventHook::LoggingOnly
            } else {
                EventHook::PostCall
            };
            self.moderate(text, HookContext { hook, ..context }).await
        })
    }

    fn stream_mode(&self, context: HookContext<'_>) -> StreamMode {
        stream_mode_of(context.spec)
    }
}
