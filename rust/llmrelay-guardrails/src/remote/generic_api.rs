//! `generic_guardrail_api`: LiteLLM's generic guardrail contract (`POST
//! {api_base}/beta/litellm_basic_guardrail_api`, docs.litellm.ai "Generic Guardrail API"): the
//! texts, structured messages, tools and tool calls go out; `BLOCKED` refuses with the
//! `blocked_reason`, returned `texts` replace the originals.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use llmrelay_core::types::ChatResponse;

use crate::config::{ConfigError, GuardrailSpec};
use crate::error::GuardrailError;
use crate::guardrail::{Guardrail, GuardrailFuture, HookContext, HookOutcome, StreamMode};
use crate::info::{Findings, GuardrailStatus};
use crate::payload::{RequestPayload, collect_response_texts, replace_response_texts};

use super::{RemoteClient, on_remote_error, stream_mode_of, warn_unknown};

const ENDPOINT: &str = "/beta/litellm_basic_guardrail_api";

#[derive(Debug, Deserialize)]
struct GenericOptions {
    #[serde(default)]
    headers: Option<Map<String, Value>>,
    #[serde(default)]
    additional_provider_specific_params: Option<Map<String, Value>>,
    #[serde(default)]
    optional_params: Option<Map<String, Value>>,
}

pub(crate) struct GenericGuardrailApi {
    client: RemoteClient,
    url: String,
    headers: Vec<(String, String)>,
    params: Map<String, Value>,
}

impl GenericGuardrailApi {
    pub(crate) fn build(
        spec: &GuardrailSpec,
        warnings: &mut Vec<String>,
    ) -> Result<Self, ConfigError> {
        warn_unknown(
            spec,
            &[
                "headers",
                "additional_provider_specific_params",
                "optional_params",
                "extra_headers",
            ],
            warnings,
        );
        if spec.options.contains_key("extra_headers") {
            warnings.push(format!(
                "{}: forwarding client request headers is not supported by llmrelay yet; ignored",
                spec.field_path("extra_headers")
            ));
        }
        let options: GenericOptions = spec.parse_options()?;
        let base = spec
            .api_base
            .clone()
            .or_else(|| std::env::var("GENERIC_GUARDRAIL_API_BASE").ok().filter(|base| !base.is_empty()))
            .ok_or_else(|| {
                ConfigError::new(
                    spec.field_path("api_base"),
                    "api_base is required for Generic Guardrail API. Set GENERIC_GUARDRAIL_API_BASE environment variable or pass it in litellm_params",
                )
            })?;
        let url = if base.ends_with(ENDPOINT) {
            base
        } else {
            format!("{}{ENDPOINT}", base.trim_end_matches('/'))
        };
        let mut headers: Vec<(String, String)> = Vec::new();
        for (name, value) in options.headers.unwrap_or_default() {
            let Value::String(value) = value else {
                return Err(ConfigError::new(
                    spec.field_path(&format!("headers.{name}")),
                    "header values must be strings",
                ));
            };
            headers.push((name.to_ascii_lowercase(), value));
        }
        if let Some(key) = spec.api_key.clone() {
            headers.push(("x-api-key".to_owned(), key));
        }
        let mut params = options
            .additional_provider_specific_params
            .unwrap_or_default();
        if let Some(Value::Object(nested)) = options
            .optional_params
            .and_then(|mut o| o.remove("additional_provider_specific_params"))
        {
            params.extend(nested);
        }
        Ok(Self {
            client: RemoteClient::new(spec),
            url,
            headers,
            params,
        })
    }

    async fn call(
        &self,
        body: Value,
        context: HookContext<'_>,
    ) -> Result<Result<Value, HookOutcome>, GuardrailError> {
        match self
            .client
            .post_json(&self.url, &self.headers, body.to_string().as_bytes())
            .await
        {
            Ok(answer) => Ok(Ok(answer)),
            Err(error) => on_remote_error(
                context.spec,
                context.guardrail_name,
                context.hook,
                "Generic Guardrail API",
                &error,
            )
            .map(Err),
        }
    }

    fn request_body(&self, input_type: &str, texts: &[String], context: HookContext<'_>) -> Value {
        let metadata = &context.call.metadata;
        let mut params = self.params.clone();
        if let Some(extra) = context.call.extra_body(context.guardrail_name) {
            params.extend(extra.clone());
        }
        json!({
            "input_type": input_type,
            "litellm_call_id": metadata.litellm_call_id,
            "litellm_trace_id": metadata.litellm_trace_id,
            "texts": texts,
            "images": null,
            "tools": null,
            "tool_calls": null,
            "structured_messages": null,
            "request_data": metadata.user_api_key,
            "request_headers": null,
            "litellm_version": null,
            "additional_provider_specific_params": params,
            "model": null,
        })
    }

    /// `Ok(Some(texts))` replaces the texts; `Err` refuses.
    fn verdict(
        answer: &Value,
        context: HookContext<'_>,
        findings: &mut Findings,
    ) -> Result<Option<Vec<String>>, GuardrailError> {
        let action = answer
            .get("action")
            .and_then(Value::as_str)
            .unwrap_or("NONE");
        findings.guardrail_action = Some(action.to_owned());
        findings.response =
            Some(json!({"action": action, "blocked_reason": answer.get("blocked_reason")}));
        if action == "BLOCKED" {
            let reason = answer
                .get("blocked_reason")
                .and_then(Value::as_str)
                .unwrap_or("Content violates policy");
            findings.status = GuardrailStatus::GuardrailIntervened;
            return Err(GuardrailError::raised(
                context.guardrail_name,
                context.hook,
                reason,
                false,
                std::mem::take(findings),
            ));
        }
        Ok(answer.get("texts").and_then(Value::as_array).map(|texts| {
            texts
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        }))
    }
}

impl Guardrail for GenericGuardrailApi {
    fn provider(&self) -> &str {
        "generic_guardrail_api"
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
            let mut body = self.request_body("request", &texts, context);
            body["model"] = Value::from(request.model());
            if let Some(chat) = request.chat() {
                body["structured_messages"] =
                    serde_json::to_value(&chat.messages).unwrap_or(Value::Null);
                if let Some(tools) = &chat.tools {
                    body["tools"] = serde_json::to_value(tools).unwrap_or(Value::Null);
                }
                let images: Vec<Value> = chat
                    .messages
                    .iter()
                    .filter_map(|message| match &message.content {
                        Some(llmrelay_core::types::MessageContent::Parts(parts)) => Some(parts),
                        _ => None,
                    })
                    .flatten()
                    .filter_map(|part| {
                        part.image_url
                            .as_ref()
                            .map(|image| Value::from(image.url.clone()))
                    })
                    .collect();
                if !images.is_empty() {
                    body["images"] = Value::Array(images);
                }
            }
            let answer = match self.call(body, context).await? {
                Ok(answer) => answer,
                Err(outcome) => return Ok(outcome),
            };
            let mut findings = Findings::default();
            if let Some(new_texts) = Self::verdict(&answer, context, &mut findings)? {
                if new_texts.len() == texts.len() && new_texts != texts {
                    request.replace_texts(roles, &new_texts);
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
            let texts = collect_response_texts(response);
            let mut body = self.request_body("response", &texts, context);
            body["model"] = Value::from(response.model.clone());
            let calls: Vec<Value> = response
                .choices
                .iter()
                .filter_map(|choice| choice.message.tool_calls.as_ref())
                .flatten()
                .filter_map(|call| serde_json::to_value(call).ok())
                .collect();
            if !calls.is_empty() {
                body["tool_calls"] = Value::Array(calls);
            }
            let answer = match self.call(body, context).await? {
                Ok(answer) => answer,
                Err(outcome) => return Ok(outcome),
            };
            let mut findings = Findings::default();
            if let Some(new_texts) = Self::verdict(&answer, context, &mut findings)? {
                if new_texts.len() == texts.len() {
                    replace_response_texts(response, &new_texts);
                }
            }
            Ok(HookOutcome::with_findings(findings))
        })
    }

    fn stream_mode(&self, context: HookContext<'_>) -> StreamMode {
        stream_mode_of(context.spec)
    }
}
