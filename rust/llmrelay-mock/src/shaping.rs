//! Dialect-independent answer shaping: token estimates, even splits for streams, placeholder values from schemas.

use std::borrow::Cow;

use serde_json::{Map, Value};

/// Tokens from a character count: about four characters per token.
pub(crate) fn estimate_tokens(characters: usize) -> u64 {
    u64::try_from(characters.div_ceil(4)).unwrap_or(u64::MAX)
}

/// `text` cut at byte `end` (a character boundary), without copying borrowed text.
pub(crate) fn cut(text: Cow<'_, str>, end: usize) -> Cow<'_, str> {
    match text {
        Cow::Borrowed(text) => Cow::Borrowed(&text[..end]),
        Cow::Owned(mut text) => {
            text.truncate(end);
            Cow::Owned(text)
        }
    }
}

/// The byte index after the first `characters` characters of `text` (its length when shorter).
pub(crate) fn char_boundary(text: &str, characters: usize) -> usize {
    text.char_indices()
        .nth(characters)
        .map_or(text.len(), |(index, _)| index)
}

/// Splits `text` into at most `parts` pieces of about equal length, on character boundaries.
pub(crate) fn split_even(text: &str, parts: usize) -> Vec<&str> {
    if text.is_empty() {
        return Vec::new();
    }
    if text.is_ascii() {
        let parts = parts.clamp(1, text.len());
        return (0..parts)
            .map(|part| &text[part * text.len() / parts..(part + 1) * text.len() / parts])
            .collect();
    }
    let mut boundaries: Vec<usize> = text.char_indices().map(|(index, _)| index).collect();
    let characters = boundaries.len();
    boundaries.push(text.len());
    let parts = parts.clamp(1, characters);
    (0..parts)
        .map(|part| {
            &text
                [boundaries[part * characters / parts]..boundaries[(part + 1) * characters / parts]]
        })
        .collect()
}

/// A JSON object with a placeholder for each property of a JSON schema.
pub(crate) fn mock_input(schema: Option<&Value>) -> Map<String, Value> {
    let mut object = Map::new();
    if let Some(Value::Object(properties)) = schema.and_then(|schema| schema.get("properties")) {
        for (name, property) in properties {
            object.insert(name.clone(), mock_value(property));
        }
    }
    object
}

/// [`mock_input`] as a compact JSON string.
pub(crate) fn mock_object(schema: Option<&Value>) -> String {
    Value::Object(mock_input(schema)).to_string()
}

/// `"mock"` for strings, `1` for numbers, `true` for booleans, the first value of an `enum`, else `null`.
pub(crate) fn mock_value(property: &Value) -> Value {
    if let Some(first) = property
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|values| values.first())
    {
        return first.clone();
    }
    let kind = match property.get("type") {
        Some(Value::String(kind)) => Some(kind.as_str()),
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|kind| *kind != "null"),
        _ => None,
    };
    match kind {
        Some("string") => Value::from("mock"),
        Some("number" | "integer") => Value::from(1),
        Some("boolean") => Value::Bool(true),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn split_even_covers_text_on_char_boundaries() {
        assert_eq!(split_even("abcdefgh", 4), vec!["ab", "cd", "ef", "gh"]);
        assert_eq!(split_even("abc", 8), vec!["a", "b", "c"]);
        assert_eq!(split_even("", 3), Vec::<&str>::new());
        let pieces = split_even("héllo wörld", 3);
        assert_eq!(pieces.len(), 3);
        assert_eq!(pieces.concat(), "héllo wörld");
    }

    #[test]
    fn mock_object_fills_properties_by_type() {
        let schema = json!({"type": "object", "properties": {
            "location": {"type": "string"},
            "days": {"type": "integer"},
            "celsius": {"type": "boolean"},
            "unit": {"type": "string", "enum": ["c", "f"]},
            "tags": {"type": "array"},
            "maybe": {"type": ["null", "number"]}
        }});
        let object: Value = serde_json::from_str(&mock_object(Some(&schema))).unwrap();
        assert_eq!(
            object,
            json!({"location": "mock", "days": 1, "celsius": true, "unit": "c", "tags": null, "maybe": 1})
        );
        assert_eq!(mock_object(None), "{}");
    }

    #[test]
    fn char_boundary_counts_characters() {
        assert_eq!(char_boundary("héllo", 2), 3);
        assert_eq!(char_boundary("abc", 10), 3);
    }
}
