//! Every provider this build serves, in one place: the dedicated implementations by name, and
//! the OpenAI-compatible services as rows of data (base URL, key and base environment
//! variables, supported parameters, quirks) served by one implementation
//! (`compatible::OpenAiCompatible`).
//!
//! Every row follows LiteLLM 1.104's provider configuration (`get_llm_provider_logic.py`,
//! `llms/<provider>/chat/transformation.py`): the same default base, the same environment
//! variable names in the same order, and the list `get_supported_openai_params` returns.
//! Adding an OpenAI-compatible provider is one row here; a provider with its own wire format
//! is a module plus one entry in [`DEDICATED`].

use crate::compatible::{
    CEREBRAS_PARAMS, DEEPINFRA_PARAMS, FEATHERLESS_PARAMS, FIREWORKS_PARAMS, GROQ_PARAMS,
    MISTRAL_PARAMS, NSCALE_PARAMS, NVIDIA_NIM_PARAMS, OPENAI_LIKE_PARAMS, OpenAiCompatible,
    PERPLEXITY_PARAMS, Quirks, REASONING_PARAMS, SAMBANOVA_PARAMS, XAI_PARAMS, row, with,
};
use crate::provider::Provider;

static OLLAMA_GENERATE: crate::ollama::Ollama = crate::ollama::Ollama {
    api: crate::ollama::Api::Generate,
};
static OLLAMA_CHAT: crate::ollama::Ollama = crate::ollama::Ollama {
    api: crate::ollama::Api::Chat,
};
static COHERE: crate::cohere::Cohere = crate::cohere::Cohere { name: "cohere" };
static COHERE_CHAT: crate::cohere::Cohere = crate::cohere::Cohere {
    name: "cohere_chat",
};

/// Providers with their own implementation, by LiteLLM's name.
static DEDICATED: &[(&str, &dyn Provider)] = &[
    ("openai", &crate::openai::OpenAi),
    ("text-completion-openai", &crate::openai::OpenAiInstruct),
    ("anthropic", &crate::anthropic::Anthropic),
    ("bedrock", &crate::bedrock::Bedrock),
    ("bedrock_converse", &crate::bedrock::Bedrock),
    ("gemini", &crate::gemini::Gemini),
    ("vertex_ai", &crate::gemini::Vertex),
    ("vertex_ai_beta", &crate::gemini::Vertex),
    ("azure", &crate::azure::Azure),
    ("azure_ai", &crate::azure::AzureAi),
    ("ollama", &OLLAMA_GENERATE),
    ("ollama_chat", &OLLAMA_CHAT),
    ("cohere", &COHERE),
    ("cohere_chat", &COHERE_CHAT),
    ("huggingface", &crate::huggingface::HuggingFace),
];

/// The provider serving a name, if this build implements it.
#[must_use]
pub fn lookup(name: &str) -> Option<&'static dyn Provider> {
    DEDICATED
        .iter()
        .find(|(entry, _)| *entry == name)
        .map(|(_, provider)| *provider)
        .or_else(|| {
            COMPATIBLE
                .iter()
                .find(|p| p.name == name)
                .map(|p| p as &dyn Provider)
        })
}

/// Every provider name this build serves: the dedicated ones, then the compatible rows.
#[must_use]
pub fn implemented() -> Vec<&'static str> {
    DEDICATED
        .iter()
        .map(|(name, _)| *name)
        .chain(COMPATIBLE.iter().map(|p| p.name))
        .collect()
}

/// Every OpenAI-compatible provider this build serves.
pub static COMPATIBLE: &[OpenAiCompatible] = &[
    row("custom_openai", None, &[], &[], false),
    row("openai_like", None, &[], &[], false),
    with(
        row(
            "hosted_vllm",
            None,
            &["HOSTED_VLLM_API_KEY"],
            &["HOSTED_VLLM_API_BASE"],
            false,
        ),
        REASONING_PARAMS,
        Quirks::NONE,
    ),
    with(
        row("vllm", None, &["VLLM_API_KEY"], &["VLLM_API_BASE"], false),
        REASONING_PARAMS,
        Quirks::NONE,
    ),
    row(
        "lm_studio",
        Some("http://localhost:1234/v1"),
        &["LM_STUDIO_API_KEY"],
        &["LM_STUDIO_API_BASE"],
        false,
    ),
    row(
        "litellm_proxy",
        None,
        &["LITELLM_PROXY_API_KEY"],
        &["LITELLM_PROXY_API_BASE"],
        false,
    ),
    row(
        "llamafile",
        Some("http://127.0.0.1:8080/v1"),
        &["LLAMAFILE_API_KEY"],
        &["LLAMAFILE_API_BASE"],
        false,
    ),
    with(
        row(
            "groq",
            Some("https://api.groq.com/openai/v1"),
            &["GROQ_API_KEY"],
            &["GROQ_API_BASE"],
            true,
        ),
        GROQ_PARAMS,
        Quirks::MAX_TOKENS,
    ),
    with(
        row(
            "mistral",
            Some("https://api.mistral.ai/v1"),
            &["MISTRAL_AZURE_API_KEY", "MISTRAL_API_KEY"],
            &["MISTRAL_AZURE_API_BASE"],
            true,
        ),
        MISTRAL_PARAMS,
        Quirks {
            max_tokens_only: true,
            required_tool_choice_is_any: true,
            model_prefix: None,
        },
    ),
    with(
        row(
            "codestral",
            Some("https://codestral.mistral.ai/v1"),
            &["CODESTRAL_API_KEY"],
            &["CODESTRAL_API_BASE"],
            true,
        ),
        MISTRAL_PARAMS,
        Quirks {
            max_tokens_only: true,
            required_tool_choice_is_any: true,
            model_prefix: None,
        },
    ),
    with(
        row(
            "deepseek",
            Some("https://api.deepseek.com/beta"),
            &["DEEPSEEK_API_KEY"],
            &["DEEPSEEK_API_BASE"],
            true,
        ),
        REASONING_PARAMS,
        Quirks::NONE,
    ),
    row(
        "together_ai",
        Some("https://api.together.ai/v1"),
        &[
            "TOGETHER_API_KEY",
            "TOGETHER_AI_API_KEY",
            "TOGETHERAI_API_KEY",
            "TOGETHER_AI_TOKEN",
        ],
        &["TOGETHER_AI_API_BASE"],
        true,
    ),
    with(
        row(
            "fireworks_ai",
            Some("https://api.fireworks.ai/inference/v1"),
            &[
                "FIREWORKS_API_KEY",
                "FIREWORKS_AI_API_KEY",
                "FIREWORKSAI_API_KEY",
            ],
            &["FIREWORKS_API_BASE"],
            true,
        ),
        FIREWORKS_PARAMS,
        Quirks {
            max_tokens_only: true,
            required_tool_choice_is_any: false,
            model_prefix: Some("accounts/fireworks/models/"),
        },
    ),
    row(
        "openrouter",
        Some("https://openrouter.ai/api/v1"),
        &["OPENROUTER_API_KEY", "OR_API_KEY"],
        &["OPENROUTER_API_BASE"],
        true,
    ),
    with(
        row(
            "xai",
            Some("https://api.x.ai/v1"),
            &["XAI_API_KEY"],
            &["XAI_API_BASE"],
            true,
        ),
        XAI_PARAMS,
        Quirks::MAX_TOKENS,
    ),
    with(
        row(
            "perplexity",
            Some("https://api.perplexity.ai"),
            &["PERPLEXITYAI_API_KEY", "PERPLEXITY_API_KEY"],
            &["PERPLEXITY_API_BASE"],
            true,
        ),
        PERPLEXITY_PARAMS,
        Quirks::NONE,
    ),
    with(
        row(
            "deepinfra",
            Some("https://api.deepinfra.com/v1/openai"),
            &["DEEPINFRA_API_KEY"],
            &["DEEPINFRA_API_BASE"],
            true,
        ),
        DEEPINFRA_PARAMS,
        Quirks::NONE,
    ),
    with(
        row(
            "cerebras",
            Some("https://api.cerebras.ai/v1"),
            &["CEREBRAS_API_KEY"],
            &["CEREBRAS_API_BASE"],
            true,
        ),
        CEREBRAS_PARAMS,
        Quirks::MAX_TOKENS,
    ),
    with(
        row(
            "sambanova",
            Some("https://api.sambanova.ai/v1"),
            &["SAMBANOVA_API_KEY"],
            &["SAMBANOVA_API_BASE"],
            true,
        ),
        SAMBANOVA_PARAMS,
        Quirks::MAX_TOKENS,
    ),
    with(
        row(
            "nvidia_nim",
            Some("https://integrate.api.nvidia.com/v1"),
            &["NVIDIA_NIM_API_KEY"],
            &["NVIDIA_NIM_API_BASE"],
            true,
        ),
        NVIDIA_NIM_PARAMS,
        Quirks::MAX_TOKENS,
    ),
    with(
        row(
            "github",
            Some("https://models.inference.ai.azure.com"),
            &["GITHUB_API_KEY"],
            &["GITHUB_API_BASE"],
            true,
        ),
        OPENAI_LIKE_PARAMS,
        Quirks::MAX_TOKENS,
    ),
    with(
        row(
            "nebius",
            Some("https://api.studio.nebius.ai/v1"),
            &["NEBIUS_API_KEY"],
            &["NEBIUS_API_BASE"],
            true,
        ),
        OPENAI_LIKE_PARAMS,
        Quirks::MAX_TOKENS,
    ),
    row(
        "novita",
        Some("https://api.novita.ai/v3/openai"),
        &["NOVITA_API_KEY"],
        &["NOVITA_API_BASE"],
        true,
    ),
    with(
        row(
            "friendliai",
            Some("https://api.friendli.ai/serverless/v1"),
            &["FRIENDLIAI_API_KEY", "FRIENDLI_TOKEN"],
            &["FRIENDLI_API_BASE"],
            true,
        ),
        OPENAI_LIKE_PARAMS,
        Quirks::MAX_TOKENS,
    ),
    with(
        row(
            "galadriel",
            Some("https://api.galadriel.com/v1"),
            &["GALADRIEL_API_KEY"],
            &["GALADRIEL_API_BASE"],
            true,
        ),
        OPENAI_LIKE_PARAMS,
        Quirks::MAX_TOKENS,
    ),
    with(
        row(
            "featherless_ai",
            Some("https://api.featherless.ai/v1"),
            &["FEATHERLESS_AI_API_KEY", "FEATHERLESS_API_KEY"],
            &["FEATHERLESS_AI_API_BASE", "FEATHERLESS_API_BASE"],
            true,
        ),
        FEATHERLESS_PARAMS,
        Quirks::MAX_TOKENS,
    ),
    with(
        row(
            "lambda_ai",
            Some("https://api.lambda.ai/v1"),
            &["LAMBDA_API_KEY"],
            &["LAMBDA_API_BASE"],
            true,
        ),
        OPENAI_LIKE_PARAMS,
        Quirks::MAX_TOKENS,
    ),
    with(
        row(
            "moonshot",
            Some("https://api.moonshot.ai/v1"),
            &["MOONSHOT_API_KEY"],
            &["MOONSHOT_API_BASE"],
            true,
        ),
        OPENAI_LIKE_PARAMS,
        Quirks::MAX_TOKENS,
    ),
    with(
        row(
            "nscale",
            Some("https://inference.api.nscale.com/v1"),
            &["NSCALE_API_KEY"],
            &["NSCALE_API_BASE"],
            true,
        ),
        NSCALE_PARAMS,
        Quirks::NONE,
    ),
    with(
        row(
            "wandb",
            Some("https://api.inference.wandb.ai/v1"),
            &["WANDB_API_KEY"],
            &["WANDB_API_BASE"],
            true,
        ),
        OPENAI_LIKE_PARAMS,
        Quirks::MAX_TOKENS,
    ),
];
