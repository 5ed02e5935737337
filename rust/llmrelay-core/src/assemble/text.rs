//! [`TextAssembler`]: `text_completion` chunks into a whole `text_completion`.

use super::{CountTokens, Header, set_string, usage_is_reported};
use crate::types::{JsonMap, TextChoice, TextCompletionResponse, Usage};

#[derive(Debug, Clone)]
struct TextChoiceState {
    index: u32,
    text: String,
    finish_reason: Option<String>,
}

/// Builds a [`TextCompletionResponse`] from `text_completion` chunks pushed in stream order.
#[derive(Debug, Clone, Default)]
pub struct TextAssembler {
    header: Option<Header>,
    system_fingerprint: Option<String>,
    choices: Vec<TextChoiceState>,
    usage: Option<Usage>,
}

impl TextAssembler {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether no chunk was pushed yet.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.header.is_none()
    }

    /// Whether some chunk reported usage (see [`usage_is_reported`]).
    #[must_use]
    pub const fn has_usage(&self) -> bool {
        self.usage.is_some()
    }

    /// Adds the next chunk of the stream.
    pub fn push(&mut self, chunk: &TextCompletionResponse) {
        if self.header.is_none() {
            self.header = Some(Header::new(&chunk.id, chunk.created, &chunk.model));
        }
        if self.system_fingerprint.is_none() {
            self.system_fingerprint
                .clone_from(&chunk.system_fingerprint);
        }
        for choice in &chunk.choices {
            let position = match self.choices.iter().position(|c| c.index == choice.index) {
                Some(position) => position,
                None => {
                    self.choices.push(TextChoiceState {
                        index: choice.index,
                        text: String::new(),
                        finish_reason: None,
                    });
                    self.choices.len() - 1
                }
            };
            let state = &mut self.choices[position];
            state.text.push_str(&choice.text);
            if let Some(reason) = &choice.finish_reason {
                set_string(&mut state.finish_reason, reason);
            }
        }
        if let Some(usage) = chunk.usage.as_ref().filter(|u| usage_is_reported(u)) {
            self.usage = Some(usage.clone());
        }
    }

    /// The whole response, `None` when no chunk was pushed. Without reported usage, `counter`
    /// counts the prompt and the joined texts; without a counter usage is zero.
    #[must_use]
    pub fn finish(self, counter: Option<&mut dyn CountTokens>) -> Option<TextCompletionResponse> {
        let header = self.header?;
        let mut states = self.choices;
        if states.is_empty() {
            states.push(TextChoiceState {
                index: 0,
                text: String::new(),
                finish_reason: None,
            });
        }
        states.sort_by_key(|state| state.index);
        let usage = match (self.usage, counter) {
            (Some(usage), _) => usage,
            (None, Some(counter)) => {
                let text: String = states.iter().map(|s| s.text.as_str()).collect();
                let (prompt, completion) = counter.count_usage(&header.model, &text);
                Usage::new(prompt, completion)
            }
            (None, None) => Usage::default(),
        };
        let choices = states
            .into_iter()
            .map(|state| TextChoice {
                index: state.index,
                text: state.text,
                logprobs: None,
                finish_reason: Some(match state.finish_reason {
                    Some(reason) if !reason.is_empty() => reason,
                    _ => "stop".to_owned(),
                }),
            })
            .collect();
        Some(TextCompletionResponse {
            id: header.id,
            object: "text_completion".to_owned(),
            created: header.created,
            model: header.model,
            system_fingerprint: self.system_fingerprint,
            choices,
            usage: Some(usage),
            extra: JsonMap::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assemble::test_support::WordCounter;
    use serde_json::{Value, json};

    fn text_chunk(body: Value) -> TextCompletionResponse {
        let mut object = json!({"id": "cmpl-1", "object": "text_completion", "created": 7,
            "model": "gpt-3.5-turbo-instruct"});
        if let (Value::Object(object), Value::Object(body)) = (&mut object, body) {
            object.extend(body);
        }
        serde_json::from_value(object).unwrap()
    }

    fn assemble_text(
        chunks: &[TextCompletionResponse],
        counter: Option<&mut dyn CountTokens>,
    ) -> TextCompletionResponse {
        let mut assembler = TextAssembler::new();
        for chunk in chunks {
            assembler.push(chunk);
        }
        assembler.finish(counter).unwrap()
    }

    #[test]
    fn text_completions_join_per_index_and_count() {
        let zero = json!({"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0});
        let chunks = [
            text_chunk(json!({"choices": [{"index": 0, "text": "hel"}], "usage": zero})),
            text_chunk(
                json!({"choices": [{"index": 1, "text": "B"}, {"index": 0, "text": "lo "}], "usage": zero}),
            ),
            text_chunk(json!({"choices": [{"index": 0, "text": "world"}]})),
            text_chunk(
                json!({"choices": [{"index": 0, "text": "", "finish_reason": "length"}, {"index": 1, "text": ""}]}),
            ),
        ];
        let mut counter = WordCounter {
            with_messages: true,
            ..WordCounter::default()
        };
        let mut assembler = TextAssembler::new();
        for chunk in &chunks {
            assembler.push(chunk);
        }
        // Zero placeholders are not usage.
        assert!(!assembler.has_usage());
        let response = assembler.finish(Some(&mut counter)).unwrap();
        assert_eq!(
            serde_json::to_value(&response).unwrap(),
            json!({
                "id": "cmpl-1", "object": "text_completion", "created": 7,
                "model": "gpt-3.5-turbo-instruct",
                "choices": [
                    {"index": 0, "text": "hello world", "logprobs": null, "finish_reason": "length"},
                    {"index": 1, "text": "B", "logprobs": null, "finish_reason": "stop"}
                ],
                "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}
            })
        );
        assert_eq!(counter.calls, [("usage", "hello worldB".to_owned())]);
        assert_eq!(counter.models, ["gpt-3.5-turbo-instruct"]);
        // Without a counter the usage is zero.
        assert_eq!(assemble_text(&chunks, None).usage, Some(Usage::default()));
    }

    #[test]
    fn text_completion_reported_usage_wins() {
        let chunks = [
            text_chunk(json!({"choices": [{"index": 0, "text": "hi"}]})),
            text_chunk(
                json!({"choices": [], "usage": {"prompt_tokens": 4, "completion_tokens": 1, "total_tokens": 5}}),
            ),
            text_chunk(
                json!({"choices": [], "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}),
            ),
        ];
        let mut counter = WordCounter::default();
        let response = assemble_text(&chunks, Some(&mut counter));
        assert_eq!(response.usage.unwrap().total_tokens, 5);
        assert!(counter.calls.is_empty());
        assert_eq!(response.choices[0].finish_reason.as_deref(), Some("stop"));
    }
}
