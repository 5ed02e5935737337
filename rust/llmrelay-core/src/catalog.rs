//! The model catalog: LiteLLM's public price and context-window map, bundled, overridable, extensible.
//!
//! The bundled JSON is parsed once, on first use. `LLMRELAY_MODEL_COST_MAP` (or LiteLLM's
//! `LITELLM_MODEL_COST_MAP_URL` when it names a local file) replaces it at run time, and
//! `register` merges entries in, as `litellm.register_model` does.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, LazyLock, RwLock};

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind, Result};

/// The bundled map (LiteLLM's `model_prices_and_context_window.json`, MIT).
pub static BUNDLED_MAP: &str = include_str!("../data/model_prices_and_context_window.json");

/// Keys of the map that describe the schema or rules rather than a model.
const NON_MODEL_KEYS: &[&str] = &["sample_spec", "fallback_generalizations"];

/// Prices of one model, exact decimals in USD.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prices {
    pub input_cost_per_token: Option<Decimal>,
    pub output_cost_per_token: Option<Decimal>,
    pub cache_read_input_token_cost: Option<Decimal>,
    pub cache_creation_input_token_cost: Option<Decimal>,
    pub output_cost_per_reasoning_token: Option<Decimal>,
    /// `(threshold, input, output, cache_read)` for the `*_above_<N>k_tokens` tiers, ascending.
    pub tiers: Vec<PriceTier>,
    /// `_priority` / `_flex` / `_batches` variants: `(suffix, input, output, cache_read)`.
    pub service_tiers: Vec<(String, Prices)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PriceTier {
    pub above_tokens: u64,
    pub input_cost_per_token: Option<Decimal>,
    pub output_cost_per_token: Option<Decimal>,
    pub cache_read_input_token_cost: Option<Decimal>,
}

/// One entry of the catalog.
#[derive(Debug, Clone)]
pub struct ModelEntry {
    pub key: String,
    pub provider: String,
    pub mode: Option<String>,
    pub max_input_tokens: Option<u64>,
    pub max_output_tokens: Option<u64>,
    pub prices: Prices,
    /// The entry as the map has it, for `get_model_info`.
    pub raw: Map<String, Value>,
}

impl ModelEntry {
    fn from_json(key: &str, raw: Map<String, Value>) -> Self {
        let provider = raw
            .get("litellm_provider")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let mode = raw.get("mode").and_then(Value::as_str).map(str::to_owned);
        let max_input_tokens = raw.get("max_input_tokens").and_then(Value::as_u64);
        let max_output_tokens = raw
            .get("max_output_tokens")
            .and_then(Value::as_u64)
            .or_else(|| raw.get("max_tokens").and_then(Value::as_u64));
        let prices = Prices::from_json(&raw, "");
        Self {
            key: key.to_owned(),
            provider,
            mode,
            max_input_tokens,
            max_output_tokens,
            prices,
            raw,
        }
    }

    #[must_use]
    pub fn flag(&self, name: &str) -> bool {
        self.raw.get(name).and_then(Value::as_bool).unwrap_or(false)
    }
}

/// Exact decimal from a JSON number, through its shortest decimal text.
#[must_use]
pub fn decimal_from_json(value: &Value) -> Option<Decimal> {
    match value {
        Value::Number(number) => {
            if let Some(i) = number.as_i64() {
                return Some(Decimal::from(i));
            }
            let float = number.as_f64()?;
            if !float.is_finite() {
                return None;
            }
            Decimal::from_str(&format!("{float}")).ok()
        }
        Value::String(text) => Decimal::from_str(text)
            .or_else(|_| Decimal::from_scientific(text))
            .ok(),
        _ => None,
    }
}

/// Exact decimal from a float given by a caller (custom pricing).
#[must_use]
pub fn decimal_from_f64(value: f64) -> Option<Decimal> {
    if value.is_finite() {
        Decimal::from_str(&format!("{value}")).ok()
    } else {
        None
    }
}

impl Prices {
    fn from_json(raw: &Map<String, Value>, suffix: &str) -> Self {
        let get = |name: &str| {
            raw.get(&format!("{name}{suffix}"))
                .and_then(decimal_from_json)
        };
        let mut tiers = Vec::new();
        let mut service_tiers = Vec::new();
        if suffix.is_empty() {
            for (key, value) in raw {
                let Some(rest) = key.strip_prefix("input_cost_per_token_above_") else {
                    continue;
                };
                let Some(number) = rest.strip_suffix("k_tokens") else {
                    continue;
                };
                let Ok(thousands) = number.parse::<u64>() else {
                    continue;
                };
                let tier_key = |name: &str| {
                    raw.get(&format!("{name}_above_{thousands}k_tokens"))
                        .and_then(decimal_from_json)
                };
                tiers.push(PriceTier {
                    above_tokens: thousands * 1000,
                    input_cost_per_token: decimal_from_json(value),
                    output_cost_per_token: tier_key("output_cost_per_token"),
                    cache_read_input_token_cost: tier_key("cache_read_input_token_cost"),
                });
            }
            tiers.sort_by_key(|t| t.above_tokens);
            for tier_suffix in ["_priority", "_flex", "_batches"] {
                if raw.contains_key(&format!("input_cost_per_token{tier_suffix}"))
                    || raw.contains_key(&format!("output_cost_per_token{tier_suffix}"))
                {
                    service_tiers.push((
                        tier_suffix.trim_start_matches('_').to_owned(),
                        Self::from_json(raw, tier_suffix),
                    ));
                }
            }
        }
        Self {
            input_cost_per_token: get("input_cost_per_token"),
            output_cost_per_token: get("output_cost_per_token"),
            cache_read_input_token_cost: get("cache_read_input_token_cost"),
            cache_creation_input_token_cost: get("cache_creation_input_token_cost"),
            output_cost_per_reasoning_token: get("output_cost_per_reasoning_token"),
            tiers,
            service_tiers,
        }
    }
}

/// All known models.
#[derive(Debug, Default)]
pub struct ModelCatalog {
    entries: HashMap<String, Arc<ModelEntry>>,
    /// Lower-cased key → key, for case-insensitive lookups.
    folded: HashMap<String, String>,
}

impl ModelCatalog {
    /// Parse a cost map (the JSON object LiteLLM's map is).
    ///
    /// # Errors
    /// When the text is not a JSON object.
    pub fn from_json(text: &str) -> Result<Self> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| Error::bad_request(format!("model cost map is not valid JSON: {e}")))?;
        let Value::Object(map) = value else {
            return Err(Error::bad_request("model cost map must be a JSON object"));
        };
        let mut catalog = Self::default();
        catalog.merge(map, None);
        Ok(catalog)
    }

    /// Merge entries in; a given provider fills `litellm_provider` where an entry lacks it.
    pub fn merge(&mut self, map: Map<String, Value>, provider: Option<&str>) -> Vec<String> {
        let mut added = Vec::with_capacity(map.len());
        for (key, value) in map {
            if NON_MODEL_KEYS.contains(&key.as_str()) {
                continue;
            }
            let Value::Object(mut raw) = value else {
                continue;
            };
            if let Some(existing) = self.entries.get(&key) {
                // register_model merges fields into an existing entry.
                let mut merged = existing.raw.clone();
                merged.append(&mut raw);
                raw = merged;
            }
            if let Some(provider) = provider {
                raw.entry("litellm_provider")
                    .or_insert_with(|| Value::String(provider.to_owned()));
            }
            let entry = ModelEntry::from_json(&key, raw);
            self.folded.insert(key.to_lowercase(), key.clone());
            self.entries.insert(key.clone(), Arc::new(entry));
            added.push(key);
        }
        added
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    #[must_use]
    pub fn get_exact(&self, key: &str) -> Option<&Arc<ModelEntry>> {
        self.entries.get(key)
    }

    pub fn entries(&self) -> impl Iterator<Item = &Arc<ModelEntry>> {
        self.entries.values()
    }

    /// Find a model as LiteLLM's `get_model_info` does: the name as given, then with the
    /// provider prefix added or removed, then case-insensitively.
    #[must_use]
    pub fn lookup(&self, model: &str, provider: Option<&str>) -> Option<&Arc<ModelEntry>> {
        let matches_provider = |entry: &ModelEntry| match provider {
            None => true,
            Some(p) => provider_matches(&entry.provider, p),
        };
        let stripped = match (provider, model.split_once('/')) {
            (Some(p), Some((prefix, rest))) if prefix == p => Some(rest),
            _ => None,
        };
        let mut candidates: Vec<std::borrow::Cow<'_, str>> = Vec::with_capacity(4);
        candidates.push(model.into());
        if let Some(p) = provider {
            candidates.push(format!("{p}/{model}").into());
        }
        if let Some(rest) = stripped {
            candidates.push(rest.into());
        }
        for candidate in &candidates {
            if let Some(entry) = self.entries.get(candidate.as_ref()) {
                if matches_provider(entry) {
                    return Some(entry);
                }
            }
        }
        for candidate in &candidates {
            if let Some(key) = self.folded.get(&candidate.to_lowercase()) {
                if let Some(entry) = self.entries.get(key) {
                    if matches_provider(entry) {
                        return Some(entry);
                    }
                }
            }
        }
        // A name with the provider prefix may be keyed under another provider family alias.
        if provider.is_some() {
            for candidate in &candidates {
                if let Some(entry) = self.entries.get(candidate.as_ref()) {
                    return Some(entry);
                }
            }
        }
        None
    }
}

/// Provider names in the map that count as one family (`text-completion-openai` is `openai`'s).
#[must_use]
pub fn provider_matches(entry_provider: &str, provider: &str) -> bool {
    if entry_provider == provider {
        return true;
    }
    fn family(p: &str) -> &str {
        match p {
            "text-completion-openai" | "openai" | "custom_openai" => "openai",
            "cohere_chat" | "cohere" => "cohere",
            "bedrock_converse" | "bedrock" => "bedrock",
            "ollama_chat" | "ollama" => "ollama",
            p if p.starts_with("vertex_ai") => "vertex_ai",
            p => p,
        }
    }
    family(entry_provider) == family(provider)
}

static CATALOG: LazyLock<RwLock<Arc<ModelCatalog>>> = LazyLock::new(|| {
    let catalog =
        load_initial().unwrap_or_else(|_| ModelCatalog::from_json(BUNDLED_MAP).unwrap_or_default());
    RwLock::new(Arc::new(catalog))
});

fn override_path() -> Option<String> {
    if let Ok(path) = std::env::var("LLMRELAY_MODEL_COST_MAP") {
        if !path.is_empty() {
            return Some(path);
        }
    }
    let url = std::env::var("LITELLM_MODEL_COST_MAP_URL").ok()?;
    if let Some(path) = url.strip_prefix("file://") {
        return Some(path.to_owned());
    }
    std::path::Path::new(&url).is_file().then_some(url)
}

fn load_initial() -> Result<ModelCatalog> {
    match override_path() {
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                Error::new(
                    ErrorKind::BadRequest,
                    format!("cannot read model cost map {path}: {e}"),
                )
            })?;
            ModelCatalog::from_json(&text)
        }
        None => ModelCatalog::from_json(BUNDLED_MAP),
    }
}

/// The process-wide catalog (a cheap snapshot; registration swaps in a new one).
#[must_use]
pub fn global() -> Arc<ModelCatalog> {
    match CATALOG.read() {
        Ok(guard) => Arc::clone(&guard),
        Err(poisoned) => Arc::clone(&poisoned.into_inner()),
    }
}

/// Merge entries into the global catalog, as `litellm.register_model` does.
pub fn register(map: Map<String, Value>, provider: Option<&str>) -> Vec<String> {
    let mut guard = match CATALOG.write() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    };
    let mut next = ModelCatalog {
        entries: guard.entries.clone(),
        folded: guard.folded.clone(),
    };
    let added = next.merge(map, provider);
    *guard = Arc::new(next);
    added
}

/// Replace the global catalog from a file (the run-time override).
///
/// # Errors
/// When the file cannot be read or is not a JSON object.
pub fn load_file(path: &str) -> Result<usize> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::bad_request(format!("cannot read model cost map {path}: {e}")))?;
    let catalog = ModelCatalog::from_json(&text)?;
    let count = catalog.len();
    let mut guard = match CATALOG.write() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    };
    *guard = Arc::new(catalog);
    Ok(count)
}

/// The fields of LiteLLM's `ModelInfo` (1.104), in its order: `get_model_info` returns every
/// one, unset ones as `None`.
pub const MODEL_INFO_KEYS: &[&str] = &[
    "key",
    "max_tokens",
    "max_input_tokens",
    "max_output_tokens",
    "input_cost_per_token",
    "input_cost_per_token_flex",
    "input_cost_per_token_priority",
    "input_cost_per_token_ultrafast",
    "cache_creation_input_token_cost",
    "cache_creation_input_token_cost_above_200k_tokens",
    "cache_creation_input_token_cost_above_272k_tokens",
    "cache_creation_input_token_cost_above_272k_tokens_priority",
    "cache_creation_input_token_cost_above_272k_tokens_flex",
    "cache_creation_input_token_cost_flex",
    "cache_creation_input_token_cost_priority",
    "cache_creation_input_token_cost_ultrafast",
    "cache_read_input_token_cost",
    "cache_read_input_audio_token_cost",
    "prompt_cache_min_tokens",
    "cache_read_input_token_cost_above_200k_tokens",
    "cache_read_input_token_cost_above_200k_tokens_priority",
    "cache_read_input_token_cost_above_272k_tokens",
    "cache_read_input_token_cost_above_272k_tokens_priority",
    "cache_read_input_token_cost_above_272k_tokens_flex",
    "cache_read_input_token_cost_above_512k_tokens",
    "cache_read_input_token_cost_flex",
    "cache_read_input_token_cost_priority",
    "cache_read_input_token_cost_ultrafast",
    "cache_read_input_token_cost_batches",
    "cache_read_input_token_cost_above_272k_tokens_batches",
    "cache_creation_input_token_cost_batches",
    "cache_creation_input_token_cost_above_200k_tokens_batches",
    "cache_creation_input_token_cost_above_272k_tokens_batches",
    "cache_creation_input_token_cost_above_1hr",
    "off_peak_pricing",
    "input_cost_per_character",
    "input_cost_per_token_above_128k_tokens",
    "input_cost_per_token_above_200k_tokens",
    "input_cost_per_token_above_200k_tokens_priority",
    "input_cost_per_token_above_272k_tokens",
    "input_cost_per_token_above_272k_tokens_priority",
    "input_cost_per_token_above_272k_tokens_flex",
    "input_cost_per_token_above_512k_tokens",
    "input_cost_per_query",
    "input_cost_per_second",
    "input_cost_per_audio_token",
    "input_cost_per_image_token",
    "input_cost_per_video_token",
    "input_cost_per_audio_token_batches",
    "input_cost_per_image_token_batches",
    "input_cost_per_image",
    "input_cost_per_audio_per_second",
    "input_cost_per_video_per_second",
    "input_cost_per_token_batches",
    "input_cost_per_video_token_batches",
    "input_cost_per_token_above_272k_tokens_batches",
    "output_cost_per_token_batches",
    "output_cost_per_token_above_272k_tokens_batches",
    "output_cost_per_token",
    "output_cost_per_token_flex",
    "output_cost_per_token_priority",
    "output_cost_per_token_ultrafast",
    "regional_processing_uplift_multiplier_eu",
    "regional_processing_uplift_multiplier_us",
    "regional_endpoint_uplift_multiplier",
    "output_cost_per_audio_token",
    "output_cost_per_character",
    "output_cost_per_reasoning_token",
    "output_cost_per_reasoning_token_flex",
    "output_cost_per_reasoning_token_priority",
    "output_cost_per_token_above_128k_tokens",
    "output_cost_per_character_above_128k_tokens",
    "output_cost_per_token_above_200k_tokens",
    "output_cost_per_token_above_200k_tokens_priority",
    "output_cost_per_token_above_272k_tokens",
    "output_cost_per_token_above_272k_tokens_priority",
    "output_cost_per_token_above_272k_tokens_flex",
    "output_cost_per_token_above_512k_tokens",
    "output_cost_per_second",
    "output_cost_per_second_1080p",
    "output_cost_per_second_480p",
    "output_cost_per_second_720p",
    "output_cost_per_second_768p",
    "output_cost_per_second_2k",
    "output_cost_per_second_4k",
    "output_cost_per_video_per_second",
    "output_cost_per_image",
    "output_cost_per_pixel",
    "output_cost_per_image_token",
    "output_cost_per_video_token",
    "output_vector_size",
    "citation_cost_per_token",
    "tiered_pricing",
    "litellm_provider",
    "mode",
    "supported_endpoints",
    "supports_system_messages",
    "supports_response_schema",
    "supports_vision",
    "supports_function_calling",
    "supports_parallel_function_calling",
    "supports_tool_choice",
    "supports_assistant_prefill",
    "supports_prompt_caching",
    "supports_prompt_cache_breakpoint",
    "supports_thinking_cache_preservation",
    "supports_audio_input",
    "supports_audio_output",
    "supports_pdf_input",
    "supports_embedding_image_input",
    "supports_native_streaming",
    "supports_native_structured_output",
    "supports_web_search",
    "supports_url_context",
    "supports_reasoning",
    "supports_adaptive_thinking",
    "supports_legacy_thinking",
    "thinking_always_on",
    "supports_tool_search",
    "supports_mid_conversation_system",
    "supports_anthropic_thinking_payload",
    "supports_anthropic_compaction",
    "supports_none_reasoning_effort",
    "supports_minimal_reasoning_effort",
    "supports_low_reasoning_effort",
    "supports_xhigh_reasoning_effort",
    "supports_max_reasoning_effort",
    "reasoning_effort_levels",
    "default_reasoning_effort",
    "bedrock_output_config_effort_ceiling",
    "bedrock_converse_supports_strict_tools",
    "supports_computer_use",
    "search_context_cost_per_query",
    "web_search_billing_unit",
    "google_maps_grounding_cost_per_query",
    "tpm",
    "rpm",
    "ocr_cost_per_page",
    "ocr_cost_per_page_batches",
    "ocr_cost_per_credit",
    "annotation_cost_per_page",
    "annotation_cost_per_page_batches",
    "provider_specific_entry",
    "uses_embed_content",
    "supports_image_size",
    "supported_audio_formats",
    "vertex_ai_audio_api",
    "supported_openai_params",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_map_parses() {
        let catalog = ModelCatalog::from_json(BUNDLED_MAP).unwrap();
        assert!(catalog.len() > 4000);
        let entry = catalog.lookup("gpt-4o", None).unwrap();
        assert_eq!(entry.provider, "openai");
        assert_eq!(
            entry.prices.input_cost_per_token,
            Some(Decimal::from_str("0.0000025").unwrap())
        );
        assert_eq!(entry.max_input_tokens, Some(128_000));
        assert!(catalog.get_exact("sample_spec").is_none());
    }

    #[test]
    fn lookup_with_prefix_and_case() {
        let catalog = ModelCatalog::from_json(BUNDLED_MAP).unwrap();
        assert_eq!(
            catalog.lookup("openai/gpt-4o", Some("openai")).unwrap().key,
            "gpt-4o"
        );
        assert_eq!(catalog.lookup("GPT-4o", None).unwrap().key, "gpt-4o");
        assert_eq!(
            catalog.lookup("gpt-4o", Some("openai")).unwrap().key,
            "gpt-4o"
        );
        assert!(catalog.lookup("no-such-model-xyz", None).is_none());
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(
            decimal_from_json(&serde_json::json!(1.25e-06)).unwrap(),
            Decimal::from_str("0.00000125").unwrap()
        );
        assert_eq!(
            decimal_from_json(&serde_json::json!(3)).unwrap(),
            Decimal::from(3)
        );
    }

    #[test]
    fn merge_adds_and_updates() {
        let mut catalog = ModelCatalog::from_json(
            r#"{"m": {"litellm_provider": "openai", "input_cost_per_token": 1e-6}}"#,
        )
        .unwrap();
        let added = catalog.merge(
            serde_json::from_str(
                r#"{"m": {"output_cost_per_token": 2e-6}, "n": {"mode": "chat"}}"#,
            )
            .unwrap(),
            Some("custom"),
        );
        assert_eq!(added.len(), 2);
        let m = catalog.get_exact("m").unwrap();
        assert_eq!(m.provider, "openai");
        assert!(m.prices.input_cost_per_token.is_some());
        assert!(m.prices.output_cost_per_token.is_some());
        assert_eq!(catalog.get_exact("n").unwrap().provider, "custom");
    }

    #[test]
    fn tiers_are_read() {
        let catalog = ModelCatalog::from_json(
            r#"{"g": {"litellm_provider": "gemini", "input_cost_per_token": 1e-6, "input_cost_per_token_above_200k_tokens": 2e-6, "output_cost_per_token_above_200k_tokens": 4e-6, "input_cost_per_token_priority": 3e-6}}"#,
        )
        .unwrap();
        let prices = &catalog.get_exact("g").unwrap().prices;
        assert_eq!(prices.tiers.len(), 1);
        assert_eq!(prices.tiers[0].above_tokens, 200_000);
        assert_eq!(prices.service_tiers[0].0, "priority");
    }
}
