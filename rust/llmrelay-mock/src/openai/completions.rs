//! Legacy completions (`text_completion`): plan, whole and streamed renderings.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::Value;

use super::SYSTEM_FINGERPRINT;
use super::error::{invalid_type, invalid_value, missing};
use super::request::{
    choice_count, estimate_tokens, includes_stream_usage, is_streaming, is_token_list,
    request_object, required_model, shape_text, split_even, stop_sequences,
};
use crate::exchange::Exchange;
use crate::faults::ErrorSpec;
use crate::sse::{SseEvents, SseWriter};

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub(super) struct TextUsage {
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
}

pub(super) struct CompletionPlan<'a> {
    model: &'a str,
    /// prompts × n
    choices: usize,
    text: Cow<'a, str>,
    finish_reason: &'static str,
    usage: TextUsage,
    pub(super) stream: bool,
    include_usage: bool,
}

impl<'a> CompletionPlan<'a> {
    pub(super) fn new(
        body: Option<&'a Value>,
        exchange: &'a Exchange,
    ) -> Result<CompletionPlan<'a>, ErrorSpec> {
        let request = request_object(body)?;
        let model = required_model(request)?;
        // `prompt`: a string, a list of strings, a list of tokens, or a list of token lists.
        let (prompts, prompt_tokens) = match request.get("prompt") {
            None | Some(Value::Null) => return Err(missing("prompt")),
            Some(Value::String(prompt)) => (1, estimate_tokens(prompt.chars().count())),
            Some(Value::Array(items)) if items.is_empty() => {
                return Err(invalid_value("prompt", "expected a non-empty array."));
            }
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => (
                items.len(),
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|prompt| estimate_tokens(prompt.chars().count()))
                    .sum(),
            ),
            Some(Value::Array(items)) if items.iter().all(Value::is_u64) => {
                (1, u64::try_from(items.len()).unwrap_or(u64::MAX))
            }
            Some(Value::Array(items)) if items.iter().all(is_token_list) => (
                items.len(),
                items
                    .iter()
                    .filter_map(Value::as_array)
                    .map(|tokens| u64::try_from(tokens.len()).unwrap_or(u64::MAX))
                    .sum(),
            ),
            Some(other) => {
                return Err(invalid_type(
                    "prompt",
                    "a string, an array of strings, an array of tokens or an array of token arrays",
                    other,
                ));
            }
        };
        let choices = prompts * choice_count(request)?;
        let (text, finish_reason, tokens) = shape_text(
            Cow::Borrowed(exchange.content()),
            &stop_sequences(request),
            request.get("max_tokens").and_then(Value::as_u64),
            exchange.completion_tokens(),
        );
        let prompt_tokens = exchange.prompt_tokens().unwrap_or(prompt_tokens.max(1));
        let completion_tokens = tokens.saturating_mul(u64::try_from(choices).unwrap_or(1));
        Ok(CompletionPlan {
            model,
            choices,
            text,
            finish_reason,
            usage: TextUsage {
                prompt_tokens,
                completion_tokens,
                total_tokens: prompt_tokens + completion_tokens,
            },
            stream: is_streaming(request),
            include_usage: includes_stream_usage(request),
        })
    }
}

#[derive(Serialize)]
pub(super) struct TextCompletion<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: Vec<TextChoice<'a>>,
    usage: &'a TextUsage,
    system_fingerprint: &'static str,
}

#[derive(Serialize)]
pub(super) struct TextChoice<'a> {
    text: &'a str,
    index: usize,
    logprobs: Option<()>,
    finish_reason: Option<&'static str>,
}

/// A whole `text_completion` object.
/// Follows: API reference "Completions" / "The completion object"; openai-python `types/completion.py`
/// (`Completion`) and `types/completion_choice.py` (`CompletionChoice`).
pub(super) fn render_completion(plan: &CompletionPlan<'_>, id: &str, created: u64) -> Vec<u8> {
    let completion = TextCompletion {
        id,
        object: "text_completion",
        created,
        model: plan.model,
        choices: (0..plan.choices)
            .map(|index| TextChoice {
                text: &plan.text,
                index,
                logprobs: None,
                finish_reason: Some(plan.finish_reason),
            })
            .collect(),
        usage: &plan.usage,
        system_fingerprint: SYSTEM_FINGERPRINT,
    };
    serde_json::to_vec(&completion).unwrap_or_default()
}

#[derive(Serialize)]
pub(super) struct TextCompletionChunk<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    choices: &'a [TextChoice<'a>],
    model: &'a str,
    system_fingerprint: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<Option<&'a TextUsage>>,
}

/// A streamed legacy completion: `text_completion` chunks, a finish chunk per choice, usage, `[DONE]`.
/// Follows: API reference "Completions" (stream); openai-python `types/completion.py` (`Completion` is also
/// the chunk type of a completions stream).
pub(super) fn render_completion_stream(
    plan: &CompletionPlan<'_>,
    id: &str,
    created: u64,
    chunk_count: usize,
) -> SseEvents {
    let mut writer = SseWriter::with_capacity(300 * (chunk_count + 2) * plan.choices);
    let usage = plan.include_usage.then_some(None);
    let chunk =
        |writer: &mut SseWriter, choices: &[TextChoice<'_>], usage: Option<Option<&TextUsage>>| {
            writer.json(&TextCompletionChunk {
                id,
                object: "text_completion",
                created,
                choices,
                model: plan.model,
                system_fingerprint: SYSTEM_FINGERPRINT,
                usage,
            });
        };
    for piece in split_even(&plan.text, chunk_count) {
        for index in 0..plan.choices {
            let choice = [TextChoice {
                text: piece,
                index,
                logprobs: None,
                finish_reason: None,
            }];
            chunk(&mut writer, &choice, usage);
        }
    }
    for index in 0..plan.choices {
        let choice = [TextChoice {
            text: "",
            index,
            logprobs: None,
            finish_reason: Some(plan.finish_reason),
        }];
        chunk(&mut writer, &choice, usage);
    }
    if plan.include_usage {
        chunk(&mut writer, &[], Some(Some(&plan.usage)));
    }
    writer.done();
    writer.finish()
}
