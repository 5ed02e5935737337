//! `lakera_v2`: Lakera Guard's `POST /v2/guard` (docs.lakera.ai "Screen content") on the chat's
//! messages. Flagged PII only is masked in place as `[MASKED <TYPE>]` from the payload offsets;
//! any other flag is refused (`on_flagged: block`, LiteLLM's `Violated guardrail policy`) or
//! reported (`monitor`).

use serde::Deserialize;
use serde_json::{Map, Value, json};

use llmrelay_core::types::{ChatResponse, MessageContent, Role};

use crate::config::{ConfigError, GuardrailSpec};
use crate::error::GuardrailError;
use crate::guardrail::{Guardrail, GuardrailFuture, HookContext, HookOutcome, StreamMode};
use crate::info::{Detection, Findings, GuardrailStatus};
use crate::payload::RequestPayload;

use super::{RemoteClient, byte_offset, key_or_env, on_remote_error, stream_mode_of, warn_unknown};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
enum OnFlagged {
    #[default]
    Block,
    Monitor,
    InjectSystemMessage,
}

#[derive(Debug, Deserialize)]
struct LakeraOptions {
    #[serde(default)]
    project_id: Option<String>,
    #[serde(default)]
    payload: Option<bool>,
    #[serde(default)]
    breakdown: Option<bool>,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
    #[serde(default)]
    dev_info: Option<bool>,
    #[serde(default)]
    on_flagged: Option<OnFlagged>,
}

pub(crate) struct LakeraV2 {
    client: RemoteClient,
    url: String,
    api_key: Option<String>,
    options: LakeraOptions,
    on_flagged: OnFlagged,
}

impl LakeraV2 {
    pub(crate) fn build(
        spec: &GuardrailSpec,
        warnings: &mut Vec<String>,
    ) -> Result<Self, ConfigError> {
        warn_unknown(
            spec,
            &[
                "project_id",
                "payload",
                "breakdown",
                "metadata",
                "dev_info",
                "on_flagged",
                "advisory_system_message",
                "category_thresholds",
            ],
            warnings,
        );
        let options: LakeraOptions = spec.parse_options()?;
        let mut on_flagged = options.on_flagged.unwrap_or_default();
        if on_flagged == OnFlagged::InjectSystemMessage {
            warnings.push(format!("{}: inject_system_message is not supported by llmrelay; flagged requests are blocked", spec.field_path("on_flagged")));
            on_flagged = OnFlagged::Block;
        }
        let base = spec
            .api_base
            .clone()
            .or_else(|| {
                std::env::var("LAKERA_API_BASE")
                    .ok()
                    .filter(|value| !value.is_empty())
            })
            .unwrap_or_else(|| "https://api.lakera.ai".to_owned());
        Ok(Self {
            client: RemoteClient::new(spec),
            url: format!("{}/v2/guard", base.trim_end_matches('/')),
            api_key: key_or_env(spec, "LAKERA_API_KEY"),
            options,
            on_flagged,
        })
    }

    /// Calls the API; `messages` are `(role, text)`.
    async fn guard(
        &self,
        messages: &[(String, String)],
        context: HookContext<'_>,
    ) -> Result<Result<Value, HookOutcome>, GuardrailError> {
        let body = json!({
            "messages": messages.iter().map(|(role, content)| json!({"role": role, "content": content})).collect::<Vec<_>>(),
            "project_id": self.options.project_id,
            "payload": self.options.payload.unwrap_or(true),
            "breakdown": self.options.breakdown.unwrap_or(true),
            "metadata": self.options.metadata,
            "dev_info": self.options.dev_info.unwrap_or(true),
        });
        let headers: Vec<(String, String)> = self
            .api_key
            .iter()
            .map(|key| ("authorization".to_owned(), format!("Bearer {key}")))
            .collect();
        match self
            .client
            .post_json(&self.url, &headers, body.to_string().as_bytes())
            .await
        {
            Ok(answer) => Ok(Ok(answer)),
            Err(error) => on_remote_error(
                context.spec,
                context.guardrail_name,
                context.hook,
                "Lakera AI v2",
                &error,
            )
            .map(Err),
        }
    }

    fn refusal(answer: &Value, context: HookContext<'_>, mut findings: Findings) -> GuardrailError {
        findings.status = GuardrailStatus::GuardrailIntervened;
        let mut detail = Map::new();
        detail.insert("error".to_owned(), Value::from("Violated guardrail policy"));
        detail.insert("lakera_guardrail_response".to_owned(), answer.clone());
        GuardrailError::http_detail(context.guardrail_name, context.hook, detail, findings)
    }
}

/// Detector types Lakera flagged.
fn detected(answer: &Value) -> Vec<String> {
    answer
        .get("breakdown")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter(|item| item.get("detected").and_then(Value::as_bool) == Some(true))
                .filter_map(|item| {
                    item.get("detector_type")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The logged answer: without `payload`, which quotes the detected text.
fn logged(answer: &Value) -> Value {
    let mut copy = answer.clone();
    if let Value::Object(map) = &mut copy {
        map.remove("payload");
    }
    copy
}

impl Guardrail for LakeraV2 {
    fn provider(&self) -> &str {
        "lakera_v2"
    }

    fn check_request<'a>(
        &'a self,
        request: &'a mut RequestPayload<'_>,
        context: HookContext<'a>,
    ) -> GuardrailFuture<'a> {
        Box::pin(async move {
            // One Lakera message per chat message with text; `index` maps back to the request.
            let mut messages = Vec::new();
            let mut origin = Vec::new();
            match request.chat() {
                Some(chat) => {
                    for (index, message) in chat.messages.iter().enumerate() {
                        let Some(content) = &message.content else {
                            continue;
                        };
                        let text = content.text().into_owned();
                        if text.is_empty() {
                            continue;
                        }
                        messages.push((message.role.as_str().to_owned(), text));
                        origin.push(
                            Some(index).filter(|_| matches!(content, MessageContent::Text(_))),
                        );
                    }
                }
                None => {
                    for (_, _, text) in request.collect_texts(None) {
                        messages.push(("user".to_owned(), text));
                        origin.push(None);
                    }
                }
            }
            if messages.is_empty() {
                return Ok(HookOutcome::default());
            }
            let answer = match self.guard(&messages, context).await? {
                Ok(answer) => answer,
                Err(outcome) => return Ok(outcome),
            };
            let mut findings = Findings {
                response: Some(logged(&answer)),
                detection_method: Some("lakera".to_owned()),
                ..Findings::default()
            };
            if answer.get("flagged").and_then(Value::as_bool) != Some(true) {
                return Ok(HookOutcome::with_findings(findings));
            }
            let types = detected(&answer);
            findings.violation_categories.clone_from(&types);
            let only_pii = !types.is_empty() && types.iter().all(|kind| kind.starts_with("pii/"));
            let payload = answer
                .get("payload")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let maskable = only_pii && !payload.is_empty() && request.chat().is_some();
            if maskable {
                // Masks per message, from the end so earlier offsets stay valid.
                let mut by_message: Vec<Vec<(usize, usize, String)>> =
                    vec![Vec::new(); messages.len()];
                for item in &payload {
                    let (Some(id), Some(start), Some(end)) = (
                        item.get("message_id")
                            .and_then(Value::as_u64)
                            .and_then(|v| usize::try_from(v).ok()),
                        item.get("start")
                            .and_then(Value::as_u64)
                            .and_then(|v| usize::try_from(v).ok()),
                        item.get("end")
                            .and_then(Value::as_u64)
                            .and_then(|v| usize::try_from(v).ok()),
                    ) else {
                        continue;
                    };
                    let kind = item
                        .get("detector_type")
                        .and_then(Value::as_str)
                        .unwrap_or("pii");
                    let label = kind.rsplit('/').next().unwrap_or("pii").to_uppercase();
                    if let Some(list) = by_message.get_mut(id) {
                        list.push((start, end, label));
                    }
                }
                if let Some(chat) = request.chat_mut() {
                    for (position, mut spans) in by_message.into_iter().enumerate() {
                        let Some(Some(index)) = origin.get(position) else {
                            continue;
                        };
                        let Some(Some(MessageContent::Text(text))) =
                            chat.messages.get_mut(*index).map(|m| m.content.as_mut())
                        else {
                            continue;
                        };
                        spans.sort_by_key(|span| std::cmp::Reverse(span.0));
                        for (start, end, label) in spans {
                            let (start, end) = (byte_offset(text, start), byte_offset(text, end));
                            if start < end && end <= text.len() {
                                text.replace_range(start..end, &format!("[MASKED {label}]"));
                                findings.record(Detection {
                                    entity_type: label,
                                    start,
                                    end,
                                    score: 1.0,
                                    action: "MASK".to_owned(),
                                });
                            }
                        }
                    }
                }
                return Ok(HookOutcome::with_findings(findings));
            }
            if self.on_flagged == OnFlagged::Monitor {
                findings.status = GuardrailStatus::GuardrailFlagged;
                return Ok(HookOutcome::with_findings(findings));
            }
            Err(Self::refusal(&answer, context, findings))
        })
    }

    fn check_response<'a>(
        &'a self,
        response: &'a mut ChatResponse,
        context: HookContext<'a>,
    ) -> GuardrailFuture<'a> {
        Box::pin(async move {
            let mut messages: Vec<(String, String)> = context
                .request
                .map(|request| {
                    request
                        .messages
                        .iter()
                        .filter_map(|m| {
                            m.content
                                .as_ref()
                                .map(|c| (m.role.as_str().to_owned(), c.text().into_owned()))
                        })
                        .filter(|(_, text)| !text.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            for choice in &response.choices {
                if let Some(content) = choice.message.content.as_ref().filter(|c| !c.is_empty()) {
                    messages.push((Role::Assistant.as_str().to_owned(), content.clone()));
                }
            }
            if messages.is_empty() {
                return Ok(HookOutcome::default());
            }
            let answer = match self.guard(&messages, context).await? {
                Ok(answer) => answer,
                Err(outcome) => return Ok(outcome),
            };
            let mut findings = Findings {
                response: Some(logged(&answer)),
                detection_method: Some("lakera".to_owned()),
                ..Findings::default()
            };
            if answer.get("flagged").and_then(Value::as_bool) != Some(true) {
                return Ok(HookOutcome::with_findings(findings));
            }
            findings.violation_categories = detected(&answer);
            if self.on_flagged == OnFlagged::Monitor {
                findings.status = GuardrailStatus::GuardrailFlagged;
                return Ok(HookOutcome::with_findings(findings));
            }
            Err(Self::refusal(&answer, context, findings))
        })
    }

    fn stream_mode(&self, context: HookContext<'_>) -> StreamMode {
        stream_mode_of(context.spec)
    }
}
