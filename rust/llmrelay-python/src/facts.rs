//! Tokens, cost, the model catalog and provider detection: LiteLLM's helper functions, served
//! from the engine's single source of each fact.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};
use pythonize::{depythonize, pythonize};
use serde_json::{Map, Value};

use llmrelay_core::{Error, catalog, cost, detect, tokens};

use crate::errors::to_py_err;
use crate::json_err;

// ---------------------------------------------------------------------------------------------

fn json_list(value: Option<&Bound<'_, PyAny>>, name: &str) -> PyResult<Option<Vec<Value>>> {
    let Some(value) = value.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    match depythonize::<Value>(value) {
        Ok(Value::Array(items)) => Ok(Some(items)),
        Ok(_) => Err(to_py_err(
            &Error::bad_request(format!("{name} must be a list")).with_param(name),
        )),
        Err(error) => Err(to_py_err(
            &Error::bad_request(format!("{name}: {error}")).with_param(name),
        )),
    }
}

#[pyfunction]
#[pyo3(signature = (model, messages=None, text=None, tools=None, tool_choice=None, count_response_tokens=false, use_default_image_token_count=false, default_token_count=None))]
#[expect(
    clippy::too_many_arguments,
    reason = "mirrors LiteLLM's token_counter signature"
)]
fn token_counter(
    py: Python<'_>,
    model: &str,
    messages: Option<&Bound<'_, PyAny>>,
    text: Option<&Bound<'_, PyAny>>,
    tools: Option<&Bound<'_, PyAny>>,
    tool_choice: Option<&Bound<'_, PyAny>>,
    count_response_tokens: bool,
    use_default_image_token_count: bool,
    default_token_count: Option<usize>,
) -> PyResult<usize> {
    if let Some(text) = text.filter(|t| !t.is_none()) {
        if let Ok(text) = text.cast::<PyString>() {
            let text = text.to_str()?;
            return Ok(py.detach(|| tokens::count_text_for_model(model, text)));
        }
        let pieces: Vec<String> = text.extract()?;
        return Ok(pieces
            .iter()
            .map(|p| tokens::count_text_for_model(model, p))
            .sum());
    }
    let messages = json_list(messages, "messages")?.unwrap_or_default();
    let tools = json_list(tools, "tools")?;
    let tool_choice = match tool_choice.filter(|t| !t.is_none()) {
        Some(choice) => Some(depythonize::<Value>(choice).map_err(|e| json_err(&e))?),
        None => None,
    };
    let options = tokens::CountOptions {
        count_response_tokens,
        use_default_image_token_count,
        default_token_count,
    };
    tokens::count_messages(
        model,
        &messages,
        tools.as_deref(),
        tool_choice.as_ref(),
        &options,
    )
    .map_err(|e| to_py_err(&Error::bad_request(e.to_string())))
}

fn encoding_named(name: &str) -> PyResult<tokens::Encoding> {
    tokens::Encoding::from_name(name).ok_or_else(|| {
        PyValueError::new_err(format!(
            "unknown encoding {name:?}: use o200k_base or cl100k_base"
        ))
    })
}

/// Token ids of `text` in the named encoding (tiktoken's, with `disallowed_special=()`).
#[pyfunction]
fn encode(encoding: &str, text: &str) -> PyResult<Vec<u32>> {
    Ok(tokens::encode(encoding_named(encoding)?, text))
}

#[pyfunction]
fn decode(encoding: &str, tokens_list: Vec<u32>) -> PyResult<String> {
    tokens::decode(encoding_named(encoding)?, &tokens_list)
        .map_err(|e| to_py_err(&Error::bad_request(e.to_string())))
}

/// The encoding `token_counter` uses for a model.
#[pyfunction]
fn encoding_name(model: &str) -> &'static str {
    tokens::encoding_for_model(model).name()
}

/// `(prompt_cost, completion_cost, breakdown dict)` in USD.
#[pyfunction]
#[pyo3(signature = (model, prompt_tokens=0, completion_tokens=0, cache_read_tokens=0, cache_creation_tokens=0, reasoning_tokens=0, custom_llm_provider=None, service_tier=None, input_cost_per_token=None, output_cost_per_token=None))]
#[expect(
    clippy::too_many_arguments,
    reason = "mirrors LiteLLM's cost_per_token signature"
)]
fn cost_per_token<'py>(
    py: Python<'py>,
    model: &str,
    prompt_tokens: u64,
    completion_tokens: u64,
    cache_read_tokens: u64,
    cache_creation_tokens: u64,
    reasoning_tokens: u64,
    custom_llm_provider: Option<&str>,
    service_tier: Option<&str>,
    input_cost_per_token: Option<f64>,
    output_cost_per_token: Option<f64>,
) -> PyResult<Bound<'py, PyTuple>> {
    let tokens = cost::TokenCounts {
        prompt_tokens,
        completion_tokens,
        cache_read_tokens,
        cache_creation_tokens,
        reasoning_tokens,
    };
    let overrides = cost::PriceOverrides {
        input_cost_per_token: input_cost_per_token.and_then(catalog::decimal_from_f64),
        output_cost_per_token: output_cost_per_token.and_then(catalog::decimal_from_f64),
    };
    let provider = custom_llm_provider.map(str::to_owned).or_else(|| {
        // Bare names resolve through detection, as LiteLLM's get_llm_provider.
        detect::resolve(model, None, None).ok().map(|r| r.provider)
    });
    let breakdown = cost::for_model(model, provider.as_deref(), tokens, overrides, service_tier)
        .map_err(|e| to_py_err(&e))?;
    let details = PyDict::new(py);
    details.set_item("input_cost", cost::to_f64(breakdown.input_cost))?;
    details.set_item("output_cost", cost::to_f64(breakdown.output_cost))?;
    details.set_item("cache_read_cost", cost::to_f64(breakdown.cache_read_cost))?;
    details.set_item(
        "cache_creation_cost",
        cost::to_f64(breakdown.cache_creation_cost),
    )?;
    details.set_item("reasoning_cost", cost::to_f64(breakdown.reasoning_cost))?;
    details.set_item("total_cost", cost::to_f64(breakdown.total()))?;
    PyTuple::new(
        py,
        [
            cost::to_f64(breakdown.prompt_cost())
                .into_pyobject(py)?
                .into_any(),
            cost::to_f64(breakdown.completion_cost())
                .into_pyobject(py)?
                .into_any(),
            details.into_any(),
        ],
    )
}

/// The catalog entry of a model (raw fields plus `key`), or `None`.
#[pyfunction]
#[pyo3(signature = (model, custom_llm_provider=None))]
fn model_info<'py>(
    py: Python<'py>,
    model: &str,
    custom_llm_provider: Option<&str>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let catalog = catalog::global();
    let Some(entry) = catalog.lookup(model, custom_llm_provider) else {
        return Ok(None);
    };
    let mut raw = entry.raw.clone();
    raw.insert("key".to_owned(), Value::String(entry.key.clone()));
    pythonize(py, &raw).map(Some).map_err(|e| json_err(&e))
}

/// The text of the cost map in use (bundled, or the override file).
#[pyfunction]
fn model_cost_map_text() -> PyResult<String> {
    for name in ["LLMRELAY_MODEL_COST_MAP", "LITELLM_MODEL_COST_MAP_URL"] {
        if let Ok(path) = std::env::var(name) {
            let path = path.strip_prefix("file://").unwrap_or(&path).to_owned();
            if std::path::Path::new(&path).is_file() {
                return std::fs::read_to_string(&path)
                    .map_err(|e| PyValueError::new_err(format!("cannot read {path}: {e}")));
            }
        }
    }
    Ok(catalog::BUNDLED_MAP.to_owned())
}

/// Merge entries into the catalog; returns the keys added or updated.
#[pyfunction]
#[pyo3(signature = (entries, custom_llm_provider=None))]
fn register_model(
    entries: &Bound<'_, PyDict>,
    custom_llm_provider: Option<&str>,
) -> PyResult<Vec<String>> {
    let map: Map<String, Value> = depythonize(entries.as_any()).map_err(|e| json_err(&e))?;
    Ok(catalog::register(map, custom_llm_provider))
}

/// Replace the catalog from a JSON file; returns the entry count.
#[pyfunction]
fn load_model_cost_map(path: &str) -> PyResult<usize> {
    catalog::load_file(path).map_err(|e| to_py_err(&e))
}

/// `(model, provider)` as LiteLLM's `get_llm_provider` resolves them.
#[pyfunction]
#[pyo3(signature = (model, custom_llm_provider=None, api_base=None))]
fn get_llm_provider(
    model: &str,
    custom_llm_provider: Option<&str>,
    api_base: Option<&str>,
) -> PyResult<(String, String)> {
    detect::resolve(model, custom_llm_provider, api_base)
        .map(|r| (r.model, r.provider))
        .map_err(|e| to_py_err(&e))
}

/// LiteLLM's `provider_list`, in its enum's order.
#[pyfunction]
fn provider_list() -> Vec<&'static str> {
    detect::PROVIDER_ORDER.to_vec()
}

/// The `LlmProviders` members, `(name, value)`, in order.
#[pyfunction]
fn provider_members() -> Vec<(String, &'static str)> {
    detect::PROVIDER_ORDER
        .iter()
        .map(|value| {
            let name = detect::PROVIDER_ENUM_NAMES
                .iter()
                .find(|(v, _)| v == value)
                .map_or_else(
                    || value.to_ascii_uppercase().replace(['-', '.'], "_"),
                    |(_, name)| (*name).to_owned(),
                );
            (name, *value)
        })
        .collect()
}

/// The `CallTypes` members, `(name, value)`, in order.
#[pyfunction]
fn call_type_members() -> Vec<(&'static str, &'static str)> {
    llmrelay_core::kind::LITELLM_CALL_TYPES.to_vec()
}

/// The fields of LiteLLM's `ModelInfo`, in order.
#[pyfunction]
fn model_info_keys() -> Vec<&'static str> {
    catalog::MODEL_INFO_KEYS.to_vec()
}

/// OpenAI's own chat parameters (LiteLLM's `OpenAIConfig` list): what a provider whose
/// `supported_openai_params` is `None` accepts — the generic OpenAI-compatible list plus `user`.
#[pyfunction]
fn openai_chat_params() -> Vec<&'static str> {
    let mut params = llmrelay_providers::compatible::OPENAI_LIKE_PARAMS.to_vec();
    params.push("user");
    params
}

/// The OpenAI parameters a provider accepts for a model (`None`: all of them; unknown provider:
/// `None` too, the facade decides).
#[pyfunction]
fn supported_openai_params(model: &str, provider: &str) -> Option<Vec<&'static str>> {
    llmrelay_providers::registry::lookup(provider)?.supported_openai_params(model)
}

#[pyfunction]
fn implemented_providers() -> Vec<&'static str> {
    llmrelay_providers::registry::implemented()
}

/// A provider's endpoint facts: default base URL, key variables, base variables, key required.
type ProviderEndpoint = (Option<String>, Vec<&'static str>, Vec<&'static str>, bool);

/// Where a provider is reached when the call does not say: `(default_api_base,
/// api_key_env, api_base_env, requires_api_key)`; `None` for a provider this build does not serve.
#[pyfunction]
fn provider_endpoint(provider: &str) -> Option<ProviderEndpoint> {
    let found = llmrelay_providers::registry::lookup(provider)?;
    Some((
        found.default_api_base().map(str::to_owned),
        found.api_key_env().to_vec(),
        found.api_base_env().to_vec(),
        found.requires_api_key(),
    ))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(token_counter, m)?)?;
    m.add_function(wrap_pyfunction!(encode, m)?)?;
    m.add_function(wrap_pyfunction!(decode, m)?)?;
    m.add_function(wrap_pyfunction!(encoding_name, m)?)?;
    m.add_function(wrap_pyfunction!(cost_per_token, m)?)?;
    m.add_function(wrap_pyfunction!(model_info, m)?)?;
    m.add_function(wrap_pyfunction!(model_cost_map_text, m)?)?;
    m.add_function(wrap_pyfunction!(register_model, m)?)?;
    m.add_function(wrap_pyfunction!(load_model_cost_map, m)?)?;
    m.add_function(wrap_pyfunction!(get_llm_provider, m)?)?;
    m.add_function(wrap_pyfunction!(provider_list, m)?)?;
    m.add_function(wrap_pyfunction!(provider_members, m)?)?;
    m.add_function(wrap_pyfunction!(call_type_members, m)?)?;
    m.add_function(wrap_pyfunction!(model_info_keys, m)?)?;
    m.add_function(wrap_pyfunction!(openai_chat_params, m)?)?;
    m.add_function(wrap_pyfunction!(implemented_providers, m)?)?;
    m.add_function(wrap_pyfunction!(supported_openai_params, m)?)?;
    m.add_function(wrap_pyfunction!(provider_endpoint, m)?)?;
    Ok(())
}
