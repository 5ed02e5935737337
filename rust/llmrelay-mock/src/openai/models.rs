//! Models: the listed model ids and their objects.

use serde::Serialize;

/// Models listed by `GET /v1/models`: (id, created, owned_by).
pub(super) const MODELS: &[(&str, u64, &str)] = &[
    ("gpt-4o", 1_715_367_049, "system"),
    ("gpt-4o-mini", 1_721_172_741, "system"),
    ("gpt-4.1", 1_744_316_542, "system"),
    ("gpt-4.1-mini", 1_744_318_173, "system"),
    ("gpt-3.5-turbo", 1_677_610_602, "openai"),
    ("gpt-3.5-turbo-instruct", 1_692_901_427, "system"),
    ("text-embedding-3-small", 1_705_948_997, "system"),
    ("text-embedding-3-large", 1_705_953_180, "system"),
    ("text-embedding-ada-002", 1_671_217_299, "openai-internal"),
];

#[derive(Serialize)]
pub(super) struct Model<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    owned_by: &'a str,
}

#[derive(Serialize)]
pub(super) struct ModelList<'a> {
    object: &'static str,
    data: Vec<Model<'a>>,
}

pub(super) fn model(
    &(id, created, owned_by): &(&'static str, u64, &'static str),
) -> Model<'static> {
    Model {
        id,
        object: "model",
        created,
        owned_by,
    }
}

/// Follows: API reference "Models" / "List models"; openai-python `types/model.py` (`Model`).
pub(super) fn render_model_list() -> Vec<u8> {
    let list = ModelList {
        object: "list",
        data: MODELS.iter().map(model).collect(),
    };
    serde_json::to_vec(&list).unwrap_or_default()
}

/// Follows: API reference "Models" / "Retrieve model"; openai-python `types/model.py` (`Model`).
pub(super) fn render_model(id: &str) -> Option<Vec<u8>> {
    let entry = MODELS.iter().find(|(candidate, _, _)| *candidate == id)?;
    serde_json::to_vec(&model(entry)).ok()
}
