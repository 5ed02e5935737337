//! Image generation and moderation: deterministic answers in OpenAI's shapes.

use base64::Engine as _;
use serde_json::{Value, json};

use super::error::{invalid_type, missing};
use super::request::request_object;
use crate::faults::ErrorSpec;

/// A 1×1 transparent PNG, the image every `b64_json` answer carries.
const PIXEL_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

/// Follows: API reference "Create image" / "The image generation response"
/// (platform.openai.com/docs/api-reference/images); openai-python `types/images_response.py`.
/// `n` images, as URLs or (`response_format: "b64_json"`) base64 PNGs.
pub(super) fn render_images(body: Option<&Value>, created: u64) -> Result<Vec<u8>, ErrorSpec> {
    let request = request_object(body)?;
    let prompt = match request.get("prompt") {
        None | Some(Value::Null) => return Err(missing("prompt")),
        Some(Value::String(prompt)) => prompt.as_str(),
        Some(other) => return Err(invalid_type("prompt", "a string", other)),
    };
    let count = request
        .get("n")
        .and_then(Value::as_u64)
        .unwrap_or(1)
        .clamp(1, 10);
    let base64 = request.get("response_format").and_then(Value::as_str) == Some("b64_json");
    let data: Vec<Value> = (0..count)
        .map(|index| {
            if base64 {
                json!({"b64_json": base64::engine::general_purpose::STANDARD.encode(PIXEL_PNG),
                       "revised_prompt": prompt})
            } else {
                json!({"url": format!("https://mock.llmrelay.invalid/images/{index}.png"),
                       "revised_prompt": prompt})
            }
        })
        .collect();
    Ok(serde_json::to_vec(&json!({"created": created, "data": data})).unwrap_or_default())
}

/// Words that flag an input, so tests can get both answers.
const FLAGGED_WORDS: &[&str] = &["kill", "hurt", "attack"];

/// Follows: API reference "Create moderation" / "The moderation object"
/// (platform.openai.com/docs/api-reference/moderations); openai-python
/// `types/moderation_create_response.py`. One result per input; an input containing a word of
/// [`FLAGGED_WORDS`] is flagged for violence.
pub(super) fn render_moderation(body: Option<&Value>, id: &str) -> Result<Vec<u8>, ErrorSpec> {
    let request = request_object(body)?;
    let inputs: Vec<String> = match request.get("input") {
        None | Some(Value::Null) => return Err(missing("input")),
        Some(Value::String(text)) => vec![text.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.get("text")
                    .and_then(Value::as_str)
                    .or_else(|| item.as_str())
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect(),
        Some(other) => return Err(invalid_type("input", "a string or an array", other)),
    };
    let model = request
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("omni-moderation-latest");
    let categories = [
        "harassment",
        "harassment/threatening",
        "hate",
        "hate/threatening",
        "illicit",
        "illicit/violent",
        "self-harm",
        "self-harm/intent",
        "self-harm/instructions",
        "sexual",
        "sexual/minors",
        "violence",
        "violence/graphic",
    ];
    let results: Vec<Value> = inputs
        .iter()
        .map(|text| {
            let lower = text.to_lowercase();
            let flagged = FLAGGED_WORDS.iter().any(|word| lower.contains(word));
            let mut flags = serde_json::Map::new();
            let mut scores = serde_json::Map::new();
            let mut applied = serde_json::Map::new();
            for category in categories {
                let hit = flagged && category == "violence";
                flags.insert(category.to_owned(), Value::Bool(hit));
                scores.insert(category.to_owned(), json!(if hit { 0.98 } else { 0.0001 }));
                applied.insert(category.to_owned(), json!(["text"]));
            }
            json!({"flagged": flagged, "categories": flags, "category_scores": scores,
                   "category_applied_input_types": applied})
        })
        .collect();
    Ok(
        serde_json::to_vec(&json!({"id": id, "model": model, "results": results}))
            .unwrap_or_default(),
    )
}
