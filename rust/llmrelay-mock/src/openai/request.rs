//! Reading OpenAI requests: validation of common fields, token estimates and the shaping of mock answers.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::error::{invalid_json, invalid_type, invalid_value, missing};
use crate::faults::ErrorSpec;
pub(super) use crate::shaping::{cut, estimate_tokens, mock_object, split_even};

pub(super) fn request_object(body: Option<&Value>) -> Result<&Map<String, Value>, ErrorSpec> {
    match body {
        None => Err(invalid_json()),
        Some(Value::Object(object)) => Ok(object),
        Some(other) => Err(invalid_type("body", "an object", other)),
    }
}

pub(super) fn required_model(request: &Map<String, Value>) -> Result<&str, ErrorSpec> {
    match request.get("model") {
        None | Some(Value::Null) => Err(missing("model")),
        Some(Value::String(model)) => Ok(model),
        Some(other) => Err(invalid_type("model", "a string", other)),
    }
}

/// `n`: how many choices to generate (1 when absent).
pub(super) fn choice_count(request: &Map<String, Value>) -> Result<usize, ErrorSpec> {
    match request.get("n") {
        None | Some(Value::Null) => Ok(1),
        Some(value) => match value.as_u64() {
            Some(count @ 1..=128) => Ok(usize::try_from(count).unwrap_or(1)),
            Some(_) => Err(invalid_value("n", "expected an integer between 1 and 128.")),
            None => Err(invalid_type("n", "an integer", value)),
        },
    }
}

pub(super) fn is_streaming(request: &Map<String, Value>) -> bool {
    request.get("stream").and_then(Value::as_bool) == Some(true)
}

pub(super) fn includes_stream_usage(request: &Map<String, Value>) -> bool {
    request
        .get("stream_options")
        .and_then(|options| options.get("include_usage"))
        .and_then(Value::as_bool)
        == Some(true)
}

/// `stop`: a string or a list of strings.
pub(crate) fn stop_sequences(request: &Map<String, Value>) -> Vec<&str> {
    match request.get("stop") {
        Some(Value::String(stop)) => vec![stop.as_str()],
        Some(Value::Array(stops)) => stops.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Characters of text in chat messages (string contents and `text` parts).
pub(crate) fn message_characters(messages: &[Value]) -> usize {
    messages
        .iter()
        .map(|message| match message.get("content") {
            Some(Value::String(text)) => text.chars().count(),
            Some(Value::Array(parts)) => parts
                .iter()
                .filter_map(|part| part.get("text").and_then(Value::as_str))
                .map(|text| text.chars().count())
                .sum(),
            _ => 0,
        })
        .sum()
}

/// Shapes the answer text like the model would: cut at the first stop sequence, then at `max_tokens`.
/// Returns the text, the finish reason and the completion tokens of one choice.
pub(crate) fn shape_text<'a>(
    content: Cow<'a, str>,
    stops: &[&str],
    max_tokens: Option<u64>,
    configured_completion_tokens: Option<u64>,
) -> (Cow<'a, str>, &'static str, u64) {
    let stop_at = stops
        .iter()
        .filter(|stop| !stop.is_empty())
        .filter_map(|stop| content.find(stop))
        .min();
    let content = match stop_at {
        Some(end) => cut(content, end),
        None => content,
    };
    let tokens =
        configured_completion_tokens.unwrap_or_else(|| estimate_tokens(content.chars().count()));
    match max_tokens {
        Some(limit) if limit < tokens => {
            let keep_characters = usize::try_from(limit.saturating_mul(4)).unwrap_or(usize::MAX);
            let end = content
                .char_indices()
                .nth(keep_characters)
                .map_or(content.len(), |(index, _)| index);
            (cut(content, end), "length", limit)
        }
        _ => (content, "stop", tokens),
    }
}

/// A list of token ids.
pub(super) fn is_token_list(value: &Value) -> bool {
    value
        .as_array()
        .is_some_and(|tokens| tokens.iter().all(Value::is_u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_text_applies_stop_then_max_tokens() {
        let (text, finish, tokens) =
            shape_text(Cow::Borrowed("hello world. bye"), &["."], None, None);
        assert_eq!((text.as_ref(), finish, tokens), ("hello world", "stop", 3));
        let (text, finish, tokens) = shape_text(Cow::Borrowed("abcdefghijkl"), &[], Some(2), None);
        assert_eq!((text.as_ref(), finish, tokens), ("abcdefgh", "length", 2));
        let (text, finish, tokens) = shape_text(Cow::Borrowed("abc"), &[], Some(100), Some(7));
        assert_eq!((text.as_ref(), finish, tokens), ("abc", "stop", 7));
    }
}
