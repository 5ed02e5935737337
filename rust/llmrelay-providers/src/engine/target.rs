//! Where a call goes: the provider, the upstream model id and the endpoint (base URL, key,
//! version, organization), resolved from the call's options, the environment and defaults.

use llmrelay_core::{Error, ErrorKind, Result, detect};

use crate::options::CallOptions;
use crate::provider::{Endpoint, Provider};
use crate::registry;

/// Everything resolved about where a call goes.
pub struct Target {
    pub provider: &'static dyn Provider,
    pub provider_name: String,
    /// The model id sent upstream (provider prefix removed).
    pub model: String,
    pub endpoint: Endpoint,
}

fn env_first(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
}

/// Resolve `model` with the call's options.
///
/// # Errors
/// An unknown provider, a missing `api_base` where the provider has no default, or a missing
/// key for a provider that needs one.
pub fn resolve(model: &str, options: &CallOptions) -> Result<Target> {
    let resolved = detect::resolve(
        model,
        options.custom_llm_provider.as_deref(),
        options.api_base.as_deref(),
    )?;
    let provider = registry::lookup(&resolved.provider).ok_or_else(|| {
        Error::bad_request(format!(
            "llmrelay does not support provider '{}' yet (model={model}). Supported: {}",
            resolved.provider,
            registry::implemented().join(", ")
        ))
        .with_provider(&resolved.provider)
        .with_model(model)
    })?;
    // A region routing prefix of the model id (`bedrock_mantle/us-west-2/…`) places the call
    // unless the call names a region itself.
    let mut credentials = options.credentials.clone();
    if let Some(region) = detect::model_region(&resolved.provider, model) {
        credentials
            .entry("aws_region_name")
            .or_insert_with(|| region.into());
    }
    let api_base = options
        .api_base
        .clone()
        .or_else(|| env_first(provider.api_base_env()))
        .or_else(|| provider.derived_api_base(&credentials))
        .or_else(|| provider.default_api_base().map(str::to_owned))
        .ok_or_else(|| {
            Error::bad_request(format!(
                "api_base is required for provider '{}': pass api_base= or set {}",
                resolved.provider,
                provider.api_base_env().join(" / ")
            ))
            .with_provider(&resolved.provider)
            .with_model(model)
        })?;
    let api_key = options
        .api_key
        .clone()
        .or_else(|| env_first(provider.api_key_env()));
    if api_key.is_none() && provider.requires_api_key() && options.api_base.is_none() {
        return Err(Error::new(
            ErrorKind::Authentication,
            format!(
                "Missing API key for provider '{}': pass api_key= or set {}",
                resolved.provider,
                provider.api_key_env().join(" / ")
            ),
        )
        .with_provider(&resolved.provider)
        .with_model(model));
    }
    // The OpenAI organization header belongs to the official API only.
    let organization = options.organization.clone().or_else(|| {
        (resolved.provider == "openai").then(|| env_first(&["OPENAI_ORGANIZATION"]))?
    });
    Ok(Target {
        provider,
        provider_name: resolved.provider,
        model: resolved.model,
        endpoint: Endpoint {
            api_base,
            api_key,
            api_version: options.api_version.clone(),
            organization,
            extra_headers: options.extra_headers.clone(),
            drop_params: options.drop_params,
            credentials,
        },
    })
}
