//! Embeddings: deterministic unit vectors per input, as floats or base64.

use base64::Engine as _;
use serde::Serialize;
use serde_json::Value;

use super::error::{invalid_type, invalid_value, missing};
use super::request::{estimate_tokens, is_token_list, request_object, required_model};
use crate::exchange::Exchange;
use crate::faults::ErrorSpec;

/// Upper bound for `dimensions`, to keep a typo from allocating gigabytes.
pub(super) const MAX_EMBEDDING_DIMENSIONS: u64 = 65_536;

pub(super) enum EmbeddingInput<'a> {
    Text(&'a str),
    Tokens(&'a [Value]),
}

#[derive(Serialize)]
pub(super) struct EmbeddingList<'a> {
    object: &'static str,
    data: Vec<EmbeddingData>,
    model: &'a str,
    usage: EmbeddingUsage,
}

#[derive(Serialize)]
pub(super) struct EmbeddingData {
    object: &'static str,
    index: usize,
    embedding: EmbeddingVector,
}

#[derive(Serialize)]
#[serde(untagged)]
pub(super) enum EmbeddingVector {
    Float(Vec<f32>),
    /// Little-endian `f32`s, base64-encoded.
    Base64(String),
}

#[derive(Serialize)]
pub(super) struct EmbeddingUsage {
    prompt_tokens: u64,
    total_tokens: u64,
}

/// An embeddings `list` with one deterministic unit vector per input.
/// Follows: API reference "Embeddings" / "The embedding object"; openai-python
/// `types/create_embedding_response.py` (`CreateEmbeddingResponse`, `Usage`) and `types/embedding.py`.
pub(super) fn render_embeddings(
    body: Option<&Value>,
    exchange: &Exchange,
) -> Result<Vec<u8>, ErrorSpec> {
    let request = request_object(body)?;
    let model = required_model(request)?;
    let inputs = embedding_inputs(request.get("input"))?;
    let dimensions = match request.get("dimensions") {
        None | Some(Value::Null) => exchange.embedding_dim(),
        Some(value) => match value.as_u64() {
            Some(dimensions @ 1..=MAX_EMBEDDING_DIMENSIONS) => {
                usize::try_from(dimensions).unwrap_or(1)
            }
            Some(_) => {
                return Err(invalid_value(
                    "dimensions",
                    "expected an integer of at least 1.",
                ));
            }
            None => return Err(invalid_type("dimensions", "an integer", value)),
        },
    };
    let base64 = match request.get("encoding_format").and_then(Value::as_str) {
        None | Some("float") => false,
        Some("base64") => true,
        Some(_) => {
            return Err(invalid_value(
                "encoding_format",
                "supported values are: 'float' and 'base64'.",
            ));
        }
    };
    let mut prompt_tokens = 0_u64;
    let data = inputs
        .iter()
        .enumerate()
        .map(|(index, input)| {
            let (seed, tokens) = match input {
                EmbeddingInput::Text(text) => (
                    fnv1a(FNV_OFFSET, text.as_bytes()),
                    estimate_tokens(text.chars().count()),
                ),
                EmbeddingInput::Tokens(tokens) => (
                    tokens
                        .iter()
                        .filter_map(Value::as_u64)
                        .fold(FNV_OFFSET, |hash, token| fnv1a(hash, &token.to_le_bytes())),
                    u64::try_from(tokens.len()).unwrap_or(u64::MAX),
                ),
            };
            prompt_tokens += tokens;
            let vector = mock_embedding(seed, dimensions);
            let embedding = if base64 {
                let bytes: Vec<u8> = vector
                    .iter()
                    .flat_map(|value| value.to_le_bytes())
                    .collect();
                EmbeddingVector::Base64(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                EmbeddingVector::Float(vector)
            };
            EmbeddingData {
                object: "embedding",
                index,
                embedding,
            }
        })
        .collect();
    let prompt_tokens = exchange.prompt_tokens().unwrap_or(prompt_tokens.max(1));
    let list = EmbeddingList {
        object: "list",
        data,
        model,
        usage: EmbeddingUsage {
            prompt_tokens,
            total_tokens: prompt_tokens,
        },
    };
    Ok(serde_json::to_vec(&list).unwrap_or_default())
}

/// `input`: a string, a list of strings, a list of tokens, or a list of token lists.
pub(super) fn embedding_inputs(
    input: Option<&Value>,
) -> Result<Vec<EmbeddingInput<'_>>, ErrorSpec> {
    let invalid = || {
        ErrorSpec::invalid_request(
            "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
            Some("input"),
            None,
        )
    };
    match input {
        None | Some(Value::Null) => Err(missing("input")),
        Some(Value::String(text)) => Ok(vec![EmbeddingInput::Text(text)]),
        Some(Value::Array(items)) if items.is_empty() => Err(invalid()),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => Ok(items
            .iter()
            .filter_map(Value::as_str)
            .map(EmbeddingInput::Text)
            .collect()),
        Some(Value::Array(items)) if items.iter().all(Value::is_u64) => {
            Ok(vec![EmbeddingInput::Tokens(items)])
        }
        Some(Value::Array(items)) if items.iter().all(is_token_list) => Ok(items
            .iter()
            .filter_map(Value::as_array)
            .map(|tokens| EmbeddingInput::Tokens(tokens))
            .collect()),
        Some(_) => Err(invalid()),
    }
}

pub(crate) const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

pub(crate) fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// A unit-length vector derived from `seed` with splitmix64: the same input always embeds the same way.
pub(crate) fn mock_embedding(seed: u64, dimensions: usize) -> Vec<f32> {
    let mut state = seed;
    let mut vector: Vec<f32> = (0..dimensions)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut mixed = state;
            mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            mixed ^= mixed >> 31;
            // 16 random bits mapped onto [-1, 1).
            let unit = f32::from(u16::try_from(mixed >> 48).unwrap_or(0)) / 65_536.0;
            unit.mul_add(2.0, -1.0)
        })
        .collect();
    let norm = vector.iter().map(|value| value * value).sum::<f32>().sqrt();
    if norm > 0.0 {
        for value in &mut vector {
            *value /= norm;
        }
    }
    vector
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeddings_are_deterministic_unit_vectors() {
        let first = mock_embedding(fnv1a(FNV_OFFSET, b"hello"), 16);
        let again = mock_embedding(fnv1a(FNV_OFFSET, b"hello"), 16);
        let other = mock_embedding(fnv1a(FNV_OFFSET, b"world"), 16);
        assert_eq!(first, again);
        assert_ne!(first, other);
        let norm: f32 = first.iter().map(|value| value * value).sum();
        assert!((norm - 1.0).abs() < 1e-4);
    }
}
