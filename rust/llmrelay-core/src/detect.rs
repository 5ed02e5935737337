//! Provider detection, as LiteLLM's `get_llm_provider`: explicit provider, `provider/model`
//! prefix, a known OpenAI-compatible `api_base` host, the catalog's `litellm_provider`, then
//! name rules; anything else is a clear `BadRequest` naming the model.

use crate::catalog;
use crate::error::{Error, Result};

/// LiteLLM's `provider_list` (the values of its `LlmProviders` enum), sorted for binary search.
pub const PROVIDERS: &[&str] = &[
    "a2a",
    "a2a_agent",
    "ai21",
    "ai21_chat",
    "aiml",
    "aiohttp_openai",
    "amazon_nova",
    "anthropic",
    "anthropic_text",
    "apertis",
    "assemblyai",
    "auto_router",
    "aws_polly",
    "aws_textract",
    "azure",
    "azure_ai",
    "azure_speech",
    "azure_text",
    "baseten",
    "bedrock",
    "bedrock_mantle",
    "black_forest_labs",
    "bytez",
    "cerebras",
    "charity_engine",
    "chatgpt",
    "chutes",
    "clarifai",
    "cloudflare",
    "codestral",
    "cognition",
    "cohere",
    "cohere_chat",
    "cometapi",
    "compactifai",
    "cursor",
    "custom",
    "custom_openai",
    "darkbloom",
    "dashscope",
    "databricks",
    "datarobot",
    "deepgram",
    "deepinfra",
    "deepseek",
    "docker_model_runner",
    "dotprompt",
    "edenai",
    "elevenlabs",
    "empower",
    "fal_ai",
    "featherless_ai",
    "fireworks_ai",
    "friendliai",
    "galadriel",
    "gdc",
    "gemini",
    "gigachat",
    "github",
    "github_copilot",
    "gradient_ai",
    "groq",
    "helicone",
    "heroku",
    "hosted_vllm",
    "huggingface",
    "humanloop",
    "hyperbolic",
    "inception",
    "infinity",
    "jina_ai",
    "lambda_ai",
    "langflow",
    "langfuse",
    "langgraph",
    "lemonade",
    "libertai",
    "litellm_agent",
    "litellm_proxy",
    "llamafile",
    "lm_studio",
    "manus",
    "maritalk",
    "meta",
    "meta_llama",
    "milvus",
    "minimax",
    "mistral",
    "modelscope",
    "mongodb",
    "moonshot",
    "morph",
    "nadir",
    "nano-gpt",
    "nebius",
    "neosantara",
    "nlp_cloud",
    "novita",
    "nscale",
    "nvidia_nim",
    "nvidia_riva",
    "oci",
    "ollama",
    "ollama_chat",
    "oobabooga",
    "openai",
    "openai_like",
    "openrouter",
    "ovhcloud",
    "parasail",
    "perplexity",
    "petals",
    "pg_vector",
    "pinstripes",
    "poe",
    "predibase",
    "publicai",
    "qwen_ai_platform",
    "qwencloud",
    "ragflow",
    "recraft",
    "reducto",
    "replicate",
    "runwayml",
    "s3_vectors",
    "sagemaker",
    "sagemaker_chat",
    "sagemaker_nova",
    "sambanova",
    "sap",
    "scaleway",
    "scx-ai",
    "snowflake",
    "soniox",
    "stability",
    "strands_decider",
    "synthetic",
    "tencent",
    "tensormesh",
    "text-completion-codestral",
    "text-completion-inception",
    "text-completion-openai",
    "together_ai",
    "topaz",
    "transcribe",
    "triton",
    "typesafe",
    "v0",
    "valkey",
    "vercel_ai_gateway",
    "vertex_ai",
    "vertex_ai_beta",
    "vllm",
    "volcengine",
    "voyage",
    "wandb",
    "watsonx",
    "watsonx_text",
    "xai",
    "xiaomi_mimo",
    "xinference",
    "zai",
];

/// LiteLLM's JSON-configured OpenAI-compatible providers (`llms/openai_like/providers.json`)
/// that are not in its `provider_list`: it detects their prefixes all the same.
pub const JSON_PROVIDERS: &[&str] = &[
    "abliteration",
    "aihubmix",
    "crusoe",
    "empiriolabs",
    "gmi",
    "llamagate",
    "sarvam",
    "veniceai",
];

/// Hosts of OpenAI-compatible services, matched against a given `api_base`.
const KNOWN_HOSTS: &[(&str, &str)] = &[
    ("api.openai.com", "openai"),
    ("api.groq.com", "groq"),
    ("api.deepseek.com", "deepseek"),
    ("api.together.xyz", "together_ai"),
    ("integrate.api.nvidia.com", "nvidia_nim"),
    ("api.perplexity.ai", "perplexity"),
    ("api.mistral.ai", "mistral"),
    ("codestral.mistral.ai", "codestral"),
    ("api.endpoints.anyscale.com", "anyscale"),
    ("api.deepinfra.com", "deepinfra"),
    ("api.fireworks.ai", "fireworks_ai"),
    ("openrouter.ai", "openrouter"),
    ("api.x.ai", "xai"),
    ("api.cerebras.ai", "cerebras"),
    ("api.sambanova.ai", "sambanova"),
    ("api.together.ai", "together_ai"),
    ("api.friendli.ai", "friendliai"),
    ("api.galadriel.ai", "galadriel"),
    ("api.featherless.ai", "featherless_ai"),
    ("inference.api.nscale.com", "nscale"),
    ("api.studio.nebius.ai", "nebius"),
    ("api.moonshot.ai", "moonshot"),
    ("api.lambda.ai", "lambda_ai"),
    ("api.llama.com", "meta_llama"),
    ("dashscope-intl.aliyuncs.com", "dashscope"),
    ("platform.publicai.co", "publicai"),
    ("api.synthetic.new", "synthetic"),
    ("api.stima.tech", "apertis"),
    ("nano-gpt.com", "nano-gpt"),
    ("api.poe.com", "poe"),
    ("llm.chutes.ai", "chutes"),
    ("api.v0.dev", "v0"),
    ("api.inceptionlabs.ai", "inception"),
    ("api.hyperbolic.xyz", "hyperbolic"),
    ("ai-gateway.vercel.sh", "vercel_ai_gateway"),
    ("api.inference.wandb.ai", "wandb"),
    ("inference.baseten.co", "baseten"),
    ("api.ai21.com", "ai21_chat"),
    ("pinstripes.io", "pinstripes"),
    ("api.meta.ai", "meta"),
    ("gigachat.devices.sberbank.ru", "gigachat"),
];

#[must_use]
pub fn is_known_provider(name: &str) -> bool {
    PROVIDERS.binary_search(&name).is_ok() || JSON_PROVIDERS.contains(&name)
}

/// A `<region>/` routing prefix of a Bedrock Mantle model id (`bedrock_mantle/us-west-2/…`):
/// LiteLLM sends the id without it and calls that region.
#[must_use]
pub fn model_region<'a>(provider: &str, model: &'a str) -> Option<&'a str> {
    if provider != "bedrock_mantle" {
        return None;
    }
    let model = model.strip_prefix("bedrock_mantle/").unwrap_or(model);
    let (head, rest) = model.split_once('/')?;
    (is_aws_region(head) && !rest.is_empty()).then_some(head)
}

/// `us-east-1`, `us-gov-west-1`, `ap-southeast-2`: lowercase words, then a number.
fn is_aws_region(text: &str) -> bool {
    let mut parts: Vec<&str> = text.split('-').collect();
    let Some(number) = parts.pop() else {
        return false;
    };
    parts.len() >= 2
        && !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
}

/// The outcome of detection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The model id to send upstream (prefix removed).
    pub model: String,
    pub provider: String,
}

/// Map the catalog's provider names onto the provider that serves them (LiteLLM calls the
/// map's `ai21` chat models through `ai21_chat`).
fn serving_provider<'a>(catalog_provider: &'a str, mode: Option<&str>) -> &'a str {
    match catalog_provider {
        "bedrock_converse" => "bedrock",
        "ai21" if mode == Some("chat") => "ai21_chat",
        "fireworks_ai-embedding-models" => "fireworks_ai",
        p if p.starts_with("vertex_ai") => "vertex_ai",
        p => p,
    }
}

fn host_of(api_base: &str) -> Option<&str> {
    let rest = api_base
        .split_once("://")
        .map_or(api_base, |(_, rest)| rest);
    let authority = rest.split('/').next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    Some(host.split(':').next().unwrap_or(host))
}

/// Resolve the provider of a call.
///
/// # Errors
/// `BadRequest` when no rule identifies the provider.
pub fn resolve(
    model: &str,
    custom_llm_provider: Option<&str>,
    api_base: Option<&str>,
) -> Result<Resolved> {
    if model.is_empty() {
        return Err(Error::bad_request("model is required").with_param("model"));
    }
    if let Some(provider) = custom_llm_provider.filter(|p| !p.is_empty()) {
        let stripped = model
            .strip_prefix(provider)
            .and_then(|rest| rest.strip_prefix('/'))
            .unwrap_or(model);
        return Ok(Resolved {
            model: stripped.to_owned(),
            provider: provider.to_owned(),
        });
    }
    if let Some((prefix, rest)) = model.split_once('/') {
        if is_known_provider(prefix) && !rest.is_empty() {
            let provider = match prefix {
                // LiteLLM switches cohere chat models to the chat API.
                "cohere" if rest.starts_with("command-r") || rest.starts_with("command-a") => {
                    "cohere_chat"
                }
                p => p,
            };
            // `bedrock/converse/<id>` names the Converse route explicitly; the id is the same.
            let rest = match provider {
                "bedrock" => rest.strip_prefix("converse/").unwrap_or(rest),
                "bedrock_mantle" => match model_region(provider, rest) {
                    Some(region) => &rest[region.len() + 1..],
                    None => rest,
                },
                _ => rest,
            };
            // LiteLLM calls `ai21/<chat model>` through `ai21_chat`.
            let provider = match provider {
                "ai21"
                    if catalog::global()
                        .get_exact(rest)
                        .is_some_and(|e| e.mode.as_deref() == Some("chat")) =>
                {
                    "ai21_chat"
                }
                p => p,
            };
            return Ok(Resolved {
                model: rest.to_owned(),
                provider: provider.to_owned(),
            });
        }
    }
    if let Some(host) = api_base.and_then(host_of) {
        if let Some((_, provider)) = KNOWN_HOSTS.iter().find(|(h, _)| *h == host) {
            return Ok(Resolved {
                model: model.to_owned(),
                provider: (*provider).to_owned(),
            });
        }
    }
    let catalog = catalog::global();
    if let Some(entry) = catalog.get_exact(model) {
        if !entry.provider.is_empty() {
            return Ok(Resolved {
                model: model.to_owned(),
                provider: serving_provider(&entry.provider, entry.mode.as_deref()).to_owned(),
            });
        }
    }
    if model.starts_with("ft:gpt-") || model.starts_with("gpt-image") || model.starts_with("dall-e")
    {
        return Ok(Resolved {
            model: model.to_owned(),
            provider: "openai".to_owned(),
        });
    }
    if is_bedrock_claude_id(model) {
        return Ok(Resolved {
            model: model.to_owned(),
            provider: "bedrock".to_owned(),
        });
    }
    if is_claude_family_name(model) {
        return Ok(Resolved {
            model: model.to_owned(),
            provider: "anthropic".to_owned(),
        });
    }
    Err(Error::bad_request(format!(
        "LLM Provider NOT provided. Pass in the LLM provider you are trying to call. You passed model={model}\n Pass model as E.g. For 'Huggingface' inference endpoints pass in `completion(model='huggingface/starcoder',..)` Learn more: https://docs.litellm.ai/docs/providers"
    ))
    .with_param("model"))
}

/// `anthropic.claude-…` or a cross-region id such as `us.anthropic.claude-…`.
fn is_bedrock_claude_id(model: &str) -> bool {
    if model.starts_with("anthropic.claude-") {
        return true;
    }
    model.split_once('.').is_some_and(|(region, rest)| {
        !region.is_empty()
            && region.chars().all(|c| c.is_ascii_lowercase() || c == '-')
            && rest.starts_with("anthropic.claude-")
    })
}

/// `claude-<word>-<n>[-.<n>][-<yyyymmdd>]`, LiteLLM's rule for future Claude names.
fn is_claude_family_name(model: &str) -> bool {
    let Some(rest) = model.strip_prefix("claude-") else {
        return false;
    };
    let mut parts = rest.split('-');
    let Some(family) = parts.next() else {
        return false;
    };
    if family.is_empty() || !family.chars().all(|c| c.is_ascii_lowercase()) {
        return false;
    }
    let Some(version) = parts.next() else {
        return false;
    };
    let version_ok = {
        let mut pieces = version.split('.');
        let major = pieces.next().unwrap_or("");
        let minor = pieces.next();
        !major.is_empty()
            && major.chars().all(|c| c.is_ascii_digit())
            && minor.is_none_or(|m| !m.is_empty() && m.chars().all(|c| c.is_ascii_digit()))
            && pieces.next().is_none()
    };
    if !version_ok {
        return false;
    }
    let remaining: Vec<&str> = parts.collect();
    match remaining.as_slice() {
        [] => true,
        [one] if one.len() == 8 && one.chars().all(|c| c.is_ascii_digit()) => true,
        [one]
            if one.chars().all(|c| c.is_ascii_digit())
                && !one.is_empty()
                && version.chars().all(|c| c.is_ascii_digit()) =>
        {
            true
        }
        [minor, date] => {
            minor.chars().all(|c| c.is_ascii_digit())
                && date.len() == 8
                && date.chars().all(|c| c.is_ascii_digit())
        }
        _ => false,
    }
}

/// LiteLLM's `LlmProviders` enum (1.104) in its declaration order: `provider_list`, and the
/// Python enum built from it. A member's name is its value upper-cased with `-` and `.` as `_`,
/// except [`PROVIDER_ENUM_NAMES`]. [`PROVIDERS`] holds the same values sorted.
pub const PROVIDER_ORDER: &[&str] = &[
    "openai",
    "chatgpt",
    "openai_like",
    "jina_ai",
    "xai",
    "zai",
    "custom_openai",
    "text-completion-openai",
    "cohere",
    "cohere_chat",
    "clarifai",
    "anthropic",
    "anthropic_text",
    "bytez",
    "replicate",
    "reducto",
    "aws_textract",
    "runwayml",
    "aws_polly",
    "transcribe",
    "huggingface",
    "together_ai",
    "openrouter",
    "datarobot",
    "vertex_ai",
    "vertex_ai_beta",
    "gemini",
    "ai21",
    "baseten",
    "black_forest_labs",
    "azure",
    "azure_text",
    "azure_ai",
    "sagemaker",
    "sagemaker_chat",
    "sagemaker_nova",
    "bedrock",
    "vllm",
    "nlp_cloud",
    "petals",
    "oobabooga",
    "ollama",
    "ollama_chat",
    "deepinfra",
    "perplexity",
    "mistral",
    "milvus",
    "groq",
    "a2a",
    "gigachat",
    "nvidia_nim",
    "nvidia_riva",
    "soniox",
    "cerebras",
    "nadir",
    "ai21_chat",
    "volcengine",
    "codestral",
    "text-completion-codestral",
    "dashscope",
    "qwencloud",
    "qwen_ai_platform",
    "modelscope",
    "moonshot",
    "publicai",
    "v0",
    "morph",
    "lambda_ai",
    "inception",
    "text-completion-inception",
    "deepseek",
    "sambanova",
    "maritalk",
    "voyage",
    "cloudflare",
    "xinference",
    "fireworks_ai",
    "friendliai",
    "featherless_ai",
    "watsonx",
    "watsonx_text",
    "triton",
    "predibase",
    "databricks",
    "empower",
    "github",
    "ragflow",
    "compactifai",
    "docker_model_runner",
    "custom",
    "litellm_proxy",
    "hosted_vllm",
    "tencent",
    "llamafile",
    "lm_studio",
    "galadriel",
    "nebius",
    "infinity",
    "deepgram",
    "elevenlabs",
    "novita",
    "aiohttp_openai",
    "langfuse",
    "humanloop",
    "topaz",
    "sap",
    "assemblyai",
    "azure_speech",
    "charity_engine",
    "github_copilot",
    "snowflake",
    "gradient_ai",
    "meta_llama",
    "nscale",
    "pg_vector",
    "s3_vectors",
    "valkey",
    "mongodb",
    "helicone",
    "hyperbolic",
    "recraft",
    "fal_ai",
    "stability",
    "heroku",
    "aiml",
    "cometapi",
    "oci",
    "auto_router",
    "vercel_ai_gateway",
    "edenai",
    "dotprompt",
    "manus",
    "wandb",
    "ovhcloud",
    "scaleway",
    "lemonade",
    "amazon_nova",
    "a2a_agent",
    "langgraph",
    "langflow",
    "minimax",
    "synthetic",
    "apertis",
    "nano-gpt",
    "poe",
    "chutes",
    "neosantara",
    "parasail",
    "xiaomi_mimo",
    "tensormesh",
    "libertai",
    "pinstripes",
    "cognition",
    "scx-ai",
    "darkbloom",
    "meta",
    "litellm_agent",
    "cursor",
    "bedrock_mantle",
    "gdc",
    // In LiteLLM 1.104.9's list (price-map providers); placed last.
    "strands_decider",
    "typesafe",
];

/// The `LlmProviders` members whose name is not derived from the value: `(value, name)`.
pub const PROVIDER_ENUM_NAMES: &[(&str, &str)] = &[
    ("sap", "SAP_GENERATIVE_AI_HUB"),
    ("meta_llama", "LLAMA"),
    ("nano-gpt", "NANOGPT"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(model: &str) -> String {
        resolve(model, None, None).unwrap().provider
    }

    #[test]
    fn the_ordered_provider_list_is_the_sorted_one() {
        let mut ordered = PROVIDER_ORDER.to_vec();
        ordered.sort_unstable();
        assert_eq!(ordered, PROVIDERS);
        for (value, _) in PROVIDER_ENUM_NAMES {
            assert!(PROVIDERS.contains(value), "{value}");
        }
    }

    #[test]
    fn provider_list_is_sorted() {
        assert!(PROVIDERS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn detection_matches_litellm_observations() {
        assert_eq!(provider("gpt-4o"), "openai");
        assert_eq!(provider("o3"), "openai");
        assert_eq!(provider("text-embedding-3-small"), "openai");
        assert_eq!(provider("gpt-3.5-turbo-instruct"), "text-completion-openai");
        assert_eq!(provider("claude-sonnet-4-5"), "anthropic");
        assert_eq!(provider("claude-future-9"), "anthropic");
        assert_eq!(
            provider("us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
            "bedrock"
        );
        assert_eq!(provider("ft:gpt-4o-mini:org::abc"), "openai");
        for (model, id) in [
            (
                "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0",
                "anthropic.claude-3-5-sonnet-20240620-v1:0",
            ),
            (
                "bedrock/converse/us.anthropic.claude-3-5-sonnet-20240620-v1:0",
                "us.anthropic.claude-3-5-sonnet-20240620-v1:0",
            ),
            (
                "anthropic.claude-3-5-sonnet-20240620-v1:0",
                "anthropic.claude-3-5-sonnet-20240620-v1:0",
            ),
            (
                "amazon.titan-embed-text-v2:0",
                "amazon.titan-embed-text-v2:0",
            ),
        ] {
            let resolved = resolve(model, None, None).unwrap();
            assert_eq!(
                (resolved.provider.as_str(), resolved.model.as_str()),
                ("bedrock", id),
                "{model}"
            );
        }
        for unknown in ["mistral-large-latest", "llama3", "my-model"] {
            let error = resolve(unknown, None, None).unwrap_err();
            assert!(
                error.message().contains("LLM Provider NOT provided"),
                "{unknown}"
            );
            assert!(error.message().contains(unknown));
        }
    }

    #[test]
    fn prefix_and_explicit_provider() {
        let r = resolve("openai/my-model", None, Some("http://localhost:8000/v1")).unwrap();
        assert_eq!(
            (r.model.as_str(), r.provider.as_str()),
            ("my-model", "openai")
        );
        let r = resolve("my-model", Some("hosted_vllm"), None).unwrap();
        assert_eq!(
            (r.model.as_str(), r.provider.as_str()),
            ("my-model", "hosted_vllm")
        );
        let r = resolve("groq/llama-3.1-8b-instant", None, None).unwrap();
        assert_eq!(r.provider, "groq");
        let r = resolve("cohere/command-r", None, None).unwrap();
        assert_eq!(r.provider, "cohere_chat");
        // An unknown prefix stays part of the model name.
        assert!(resolve("nosuch/model", None, None).is_err());
    }

    #[test]
    fn api_base_host() {
        let r = resolve("llama3-8b", None, Some("https://api.groq.com/openai/v1")).unwrap();
        assert_eq!(r.provider, "groq");
        let r = resolve("m", None, Some("https://api.studio.nebius.ai/v1")).unwrap();
        assert_eq!(r.provider, "nebius");
        assert_eq!(host_of("http://user@localhost:8000/v1"), Some("localhost"));
    }
}
