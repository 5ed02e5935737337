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
    AI21_PARAMS, BASETEN_PARAMS, CEREBRAS_PARAMS, DATABRICKS_PARAMS, DEEPINFRA_PARAMS,
    FEATHERLESS_PARAMS, FIREWORKS_PARAMS, GRADIENT_AI_PARAMS, GROQ_PARAMS, HYPERBOLIC_PARAMS,
    INCEPTION_PARAMS, MINIMAX_PARAMS, MISTRAL_PARAMS, MORPH_PARAMS, NSCALE_PARAMS,
    NVIDIA_NIM_PARAMS, OPENAI_LIKE_PARAMS, OpenAiCompatible, PERPLEXITY_PARAMS, Quirks,
    REASONING_EFFORT_PARAMS, REASONING_PARAMS, SAMBANOVA_PARAMS, Serves, TENCENT_PARAMS,
    TemplateBase, V0_PARAMS, VOLCENGINE_PARAMS, XAI_PARAMS, ZAI_PARAMS, row,
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
    ("nlp_cloud", &crate::nlp_cloud::NlpCloud),
    ("watsonx", &crate::watsonx::Watsonx),
    ("snowflake", &crate::snowflake::Snowflake),
    ("gigachat", &crate::gigachat::GigaChat),
    ("sagemaker", &crate::sagemaker::Sagemaker),
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
    row("custom_openai", None, &[], &[], false)
        .doc("https://docs.litellm.ai/docs/providers/openai_compatible"),
    row("openai_like", None, &[], &[], false)
        .doc("https://docs.litellm.ai/docs/providers/openai_compatible"),
    row(
        "hosted_vllm",
        None,
        &["HOSTED_VLLM_API_KEY"],
        &["HOSTED_VLLM_API_BASE"],
        false,
    )
    .params(REASONING_PARAMS)
    .doc("https://docs.litellm.ai/docs/providers/vllm"),
    row("vllm", None, &["VLLM_API_KEY"], &["VLLM_API_BASE"], false)
        .params(REASONING_PARAMS)
        .doc("https://docs.litellm.ai/docs/providers/vllm"),
    row(
        "lm_studio",
        Some("http://localhost:1234/v1"),
        &["LM_STUDIO_API_KEY"],
        &["LM_STUDIO_API_BASE"],
        false,
    )
    .doc("https://docs.litellm.ai/docs/providers/lm_studio"),
    row(
        "litellm_proxy",
        None,
        &["LITELLM_PROXY_API_KEY"],
        &["LITELLM_PROXY_API_BASE"],
        false,
    )
    .doc("https://docs.litellm.ai/docs/providers/litellm_proxy"),
    row(
        "llamafile",
        Some("http://127.0.0.1:8080/v1"),
        &["LLAMAFILE_API_KEY"],
        &["LLAMAFILE_API_BASE"],
        false,
    )
    .doc("https://docs.litellm.ai/docs/providers/llamafile"),
    row(
        "groq",
        Some("https://api.groq.com/openai/v1"),
        &["GROQ_API_KEY"],
        &["GROQ_API_BASE"],
        true,
    )
    .params(GROQ_PARAMS)
    .quirks(Quirks::MAX_TOKENS)
    .doc("https://console.groq.com/docs/api-reference"),
    row(
        "mistral",
        Some("https://api.mistral.ai/v1"),
        &["MISTRAL_AZURE_API_KEY", "MISTRAL_API_KEY"],
        &["MISTRAL_AZURE_API_BASE"],
        true,
    )
    .params(MISTRAL_PARAMS)
    .quirks(Quirks {
        max_tokens_only: true,
        required_tool_choice_is_any: true,
        ..Quirks::NONE
    })
    .doc("https://docs.mistral.ai/api/"),
    row(
        "codestral",
        Some("https://codestral.mistral.ai/v1"),
        &["CODESTRAL_API_KEY"],
        &["CODESTRAL_API_BASE"],
        true,
    )
    .params(MISTRAL_PARAMS)
    .quirks(Quirks {
        max_tokens_only: true,
        required_tool_choice_is_any: true,
        ..Quirks::NONE
    })
    .doc("https://docs.litellm.ai/docs/providers/codestral"),
    row(
        "deepseek",
        Some("https://api.deepseek.com/beta"),
        &["DEEPSEEK_API_KEY"],
        &["DEEPSEEK_API_BASE"],
        true,
    )
    .params(REASONING_PARAMS)
    .doc("https://api-docs.deepseek.com/"),
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
    )
    .doc("https://docs.together.ai/reference/chat-completions-1"),
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
    )
    .params(FIREWORKS_PARAMS)
    .quirks(Quirks {
        max_tokens_only: true,
        model_prefix: Some("accounts/fireworks/models/"),
        ..Quirks::NONE
    })
    .doc("https://docs.fireworks.ai/api-reference/post-chatcompletions"),
    row(
        "openrouter",
        Some("https://openrouter.ai/api/v1"),
        &["OPENROUTER_API_KEY", "OR_API_KEY"],
        &["OPENROUTER_API_BASE"],
        true,
    )
    .doc("https://openrouter.ai/docs/api-reference/chat-completion"),
    row(
        "xai",
        Some("https://api.x.ai/v1"),
        &["XAI_API_KEY"],
        &["XAI_API_BASE"],
        true,
    )
    .params(XAI_PARAMS)
    .quirks(Quirks::MAX_TOKENS)
    .doc("https://docs.x.ai/docs/api-reference"),
    row(
        "perplexity",
        Some("https://api.perplexity.ai"),
        &["PERPLEXITYAI_API_KEY", "PERPLEXITY_API_KEY"],
        &["PERPLEXITY_API_BASE"],
        true,
    )
    .params(PERPLEXITY_PARAMS)
    .doc("https://docs.perplexity.ai/api-reference/chat-completions-post"),
    row(
        "deepinfra",
        Some("https://api.deepinfra.com/v1/openai"),
        &["DEEPINFRA_API_KEY"],
        &["DEEPINFRA_API_BASE"],
        true,
    )
    .params(DEEPINFRA_PARAMS)
    .doc("https://deepinfra.com/docs/openai_api"),
    row(
        "cerebras",
        Some("https://api.cerebras.ai/v1"),
        &["CEREBRAS_API_KEY"],
        &["CEREBRAS_API_BASE"],
        true,
    )
    .params(CEREBRAS_PARAMS)
    .quirks(Quirks::MAX_TOKENS)
    .doc("https://inference-docs.cerebras.ai/api-reference/chat-completions"),
    row(
        "sambanova",
        Some("https://api.sambanova.ai/v1"),
        &["SAMBANOVA_API_KEY"],
        &["SAMBANOVA_API_BASE"],
        true,
    )
    .params(SAMBANOVA_PARAMS)
    .quirks(Quirks::MAX_TOKENS)
    .doc("https://docs.litellm.ai/docs/providers/sambanova"),
    row(
        "nvidia_nim",
        Some("https://integrate.api.nvidia.com/v1"),
        &["NVIDIA_NIM_API_KEY"],
        &["NVIDIA_NIM_API_BASE"],
        true,
    )
    .params(NVIDIA_NIM_PARAMS)
    .quirks(Quirks::MAX_TOKENS)
    .doc("https://docs.litellm.ai/docs/providers/nvidia_nim"),
    row(
        "github",
        Some("https://models.inference.ai.azure.com"),
        &["GITHUB_API_KEY"],
        &["GITHUB_API_BASE"],
        true,
    )
    .params(OPENAI_LIKE_PARAMS)
    .quirks(Quirks::MAX_TOKENS)
    .doc("https://docs.litellm.ai/docs/providers/github"),
    row(
        "nebius",
        Some("https://api.studio.nebius.ai/v1"),
        &["NEBIUS_API_KEY"],
        &["NEBIUS_API_BASE"],
        true,
    )
    .params(OPENAI_LIKE_PARAMS)
    .quirks(Quirks::MAX_TOKENS)
    .doc("https://docs.litellm.ai/docs/providers/nebius"),
    row(
        "novita",
        Some("https://api.novita.ai/v3/openai"),
        &["NOVITA_API_KEY"],
        &["NOVITA_API_BASE"],
        true,
    )
    .doc("https://docs.litellm.ai/docs/providers/novita"),
    row(
        "friendliai",
        Some("https://api.friendli.ai/serverless/v1"),
        &["FRIENDLIAI_API_KEY", "FRIENDLI_TOKEN"],
        &["FRIENDLI_API_BASE"],
        true,
    )
    .params(OPENAI_LIKE_PARAMS)
    .quirks(Quirks::MAX_TOKENS)
    .doc("https://docs.litellm.ai/docs/providers/friendliai"),
    row(
        "galadriel",
        Some("https://api.galadriel.com/v1"),
        &["GALADRIEL_API_KEY"],
        &["GALADRIEL_API_BASE"],
        true,
    )
    .params(OPENAI_LIKE_PARAMS)
    .quirks(Quirks::MAX_TOKENS)
    .doc("https://docs.litellm.ai/docs/providers/galadriel"),
    row(
        "featherless_ai",
        Some("https://api.featherless.ai/v1"),
        &["FEATHERLESS_AI_API_KEY", "FEATHERLESS_API_KEY"],
        &["FEATHERLESS_AI_API_BASE", "FEATHERLESS_API_BASE"],
        true,
    )
    .params(FEATHERLESS_PARAMS)
    .quirks(Quirks::MAX_TOKENS)
    .doc("https://docs.litellm.ai/docs/providers/featherless_ai"),
    row(
        "lambda_ai",
        Some("https://api.lambda.ai/v1"),
        &["LAMBDA_API_KEY"],
        &["LAMBDA_API_BASE"],
        true,
    )
    .params(OPENAI_LIKE_PARAMS)
    .quirks(Quirks::MAX_TOKENS)
    .doc("https://docs.litellm.ai/docs/providers/lambda_ai"),
    row(
        "moonshot",
        Some("https://api.moonshot.ai/v1"),
        &["MOONSHOT_API_KEY"],
        &["MOONSHOT_API_BASE"],
        true,
    )
    .params(OPENAI_LIKE_PARAMS)
    .quirks(Quirks::MAX_TOKENS)
    .doc("https://docs.litellm.ai/docs/providers/moonshot"),
    row(
        "nscale",
        Some("https://inference.api.nscale.com/v1"),
        &["NSCALE_API_KEY"],
        &["NSCALE_API_BASE"],
        true,
    )
    .params(NSCALE_PARAMS)
    .doc("https://docs.litellm.ai/docs/providers/nscale"),
    row(
        "wandb",
        Some("https://api.inference.wandb.ai/v1"),
        &["WANDB_API_KEY"],
        &["WANDB_API_BASE"],
        true,
    )
    .params(OPENAI_LIKE_PARAMS)
    .quirks(Quirks::MAX_TOKENS)
    .doc("https://docs.litellm.ai/docs/providers/wandb_inference"),
    row(
        "ai21_chat",
        Some("https://api.ai21.com/studio/v1"),
        &["AI21_API_KEY"],
        &["AI21_API_BASE"],
        true,
    )
    .params(AI21_PARAMS)
    .doc("LiteLLM 1.104.9 litellm/llms/ai21/chat/transformation.py"),
    row(
        "baseten",
        Some("https://inference.baseten.co/v1"),
        &["BASETEN_API_KEY"],
        &[],
        true,
    )
    .params(BASETEN_PARAMS)
    .doc("LiteLLM 1.104.9 litellm/llms/baseten/chat.py"),
    row(
        "bedrock_mantle",
        None,
        &["BEDROCK_MANTLE_API_KEY", "AWS_BEARER_TOKEN_BEDROCK"],
        &["BEDROCK_MANTLE_API_BASE"],
        true,
    )
    .params(REASONING_EFFORT_PARAMS)
    .doc("LiteLLM 1.104.9 litellm/llms/bedrock_mantle/chat/transformation.py")
    .template_base(TemplateBase {
        template: "https://bedrock-mantle.{value}.api.aws/v1",
        credential: Some("aws_region_name"),
        env: &["BEDROCK_MANTLE_REGION", "AWS_REGION_NAME", "AWS_REGION"],
        default: Some("us-east-1"),
    }),
    row("cloudflare", None, &["CLOUDFLARE_API_KEY"], &[], true)
        .doc("LiteLLM 1.104.9 litellm/llms/cloudflare/chat/transformation.py")
        .serves(Serves::CHAT)
        .template_base(TemplateBase {
            template: "https://api.cloudflare.com/client/v4/accounts/{value}/ai/v1",
            credential: None,
            env: &["CLOUDFLARE_ACCOUNT_ID"],
            default: None,
        }),
    row(
        "dashscope",
        Some("https://dashscope.aliyuncs.com/compatible-mode/v1"),
        &["DASHSCOPE_API_KEY"],
        &["DASHSCOPE_API_BASE"],
        true,
    )
    .params(REASONING_EFFORT_PARAMS)
    .doc("https://docs.litellm.ai/docs/providers/dashscope"),
    row(
        "qwencloud",
        Some("https://dashscope-intl.aliyuncs.com/compatible-mode/v1"),
        &["QWENCLOUD_API_KEY", "DASHSCOPE_API_KEY"],
        &["QWENCLOUD_API_BASE"],
        true,
    )
    .params(REASONING_EFFORT_PARAMS)
    .doc("LiteLLM 1.104.9 litellm/llms/dashscope/qwencloud.py"),
    row(
        "qwen_ai_platform",
        Some("https://dashscope.aliyuncs.com/compatible-mode/v1"),
        &["QWEN_AI_PLATFORM_API_KEY", "DASHSCOPE_API_KEY"],
        &["QWEN_AI_PLATFORM_API_BASE"],
        true,
    )
    .params(REASONING_EFFORT_PARAMS)
    .doc("LiteLLM 1.104.9 litellm/llms/dashscope/qwen_ai_platform.py"),
    row(
        "databricks",
        None,
        &["DATABRICKS_API_KEY"],
        &["DATABRICKS_API_BASE"],
        true,
    )
    .params(DATABRICKS_PARAMS)
    .doc("LiteLLM 1.104.9 litellm/llms/databricks/chat/transformation.py"),
    row(
        "gradient_ai",
        Some("https://inference.do-ai.run/v1"),
        &["GRADIENT_AI_API_KEY"],
        &[],
        true,
    )
    .params(GRADIENT_AI_PARAMS)
    .doc("LiteLLM 1.104.9 litellm/llms/gradient_ai/chat/transformation.py")
    .serves(Serves::CHAT),
    row(
        "heroku",
        None,
        &["HEROKU_API_KEY"],
        &["HEROKU_API_BASE"],
        true,
    )
    .params(OPENAI_LIKE_PARAMS)
    .doc("https://docs.litellm.ai/docs/providers/heroku")
    .chat_path("/v1/chat/completions")
    .serves(Serves::CHAT),
    row(
        "hyperbolic",
        Some("https://api.hyperbolic.xyz/v1"),
        &["HYPERBOLIC_API_KEY"],
        &["HYPERBOLIC_API_BASE"],
        true,
    )
    .params(HYPERBOLIC_PARAMS)
    .quirks(Quirks::MAX_TOKENS)
    .doc("https://docs.litellm.ai/docs/providers/hyperbolic"),
    row(
        "inception",
        Some("https://api.inceptionlabs.ai/v1"),
        &["INCEPTION_API_KEY"],
        &["INCEPTION_API_BASE"],
        true,
    )
    .params(INCEPTION_PARAMS)
    .doc("LiteLLM 1.104.9 litellm/llms/inception/chat/transformation.py"),
    row(
        "lemonade",
        Some("http://localhost:8000/api/v1"),
        &["LEMONADE_API_KEY"],
        &["LEMONADE_API_BASE"],
        false,
    )
    .doc("LiteLLM 1.104.9 litellm/llms/lemonade/chat/transformation.py")
    .placeholder_key("lemonade"),
    row(
        "meta_llama",
        Some("https://api.llama.com/compat/v1"),
        &["LLAMA_API_KEY"],
        &["LLAMA_API_BASE"],
        true,
    )
    .doc("LiteLLM 1.104.9 litellm/llms/meta_llama/chat/transformation.py"),
    row(
        "minimax",
        Some("https://api.minimax.io/v1"),
        &["MINIMAX_API_KEY"],
        &["MINIMAX_API_BASE"],
        true,
    )
    .params(MINIMAX_PARAMS)
    .doc("LiteLLM 1.104.9 litellm/llms/minimax/chat/transformation.py"),
    row(
        "morph",
        Some("https://api.morphllm.com/v1"),
        &["MORPH_API_KEY"],
        &["MORPH_API_BASE"],
        true,
    )
    .params(MORPH_PARAMS)
    .doc("LiteLLM 1.104.9 litellm/llms/morph/chat/transformation.py")
    .serves(Serves::CHAT),
    row(
        "ovhcloud",
        Some("https://oai.endpoints.kepler.ai.cloud.ovh.net/v1"),
        &["OVHCLOUD_API_KEY"],
        &[],
        true,
    )
    .doc("LiteLLM 1.104.9 litellm/llms/ovhcloud/chat/transformation.py"),
    row(
        "tencent",
        Some("https://tokenhub-intl.tencentcloudmaas.com/v1"),
        &["TENCENT_API_KEY"],
        &["TENCENT_API_BASE"],
        true,
    )
    .params(TENCENT_PARAMS)
    .doc("LiteLLM 1.104.9 litellm/llms/tencent/chat/transformation.py"),
    row(
        "v0",
        Some("https://api.v0.dev/v1"),
        &["V0_API_KEY"],
        &["V0_API_BASE"],
        true,
    )
    .params(V0_PARAMS)
    .doc("LiteLLM 1.104.9 litellm/llms/v0/chat/transformation.py")
    .serves(Serves::CHAT),
    row(
        "vercel_ai_gateway",
        Some("https://ai-gateway.vercel.sh/v1"),
        &["VERCEL_AI_GATEWAY_API_KEY", "VERCEL_OIDC_TOKEN"],
        &["VERCEL_AI_GATEWAY_API_BASE"],
        true,
    )
    .doc("https://docs.litellm.ai/docs/providers/vercel_ai_gateway"),
    row(
        "volcengine",
        Some("https://ark.cn-beijing.volces.com/api/v3"),
        &["VOLCENGINE_API_KEY"],
        &["VOLCENGINE_API_BASE"],
        true,
    )
    .params(VOLCENGINE_PARAMS)
    .doc("https://docs.litellm.ai/docs/providers/volcano"),
    row(
        "zai",
        Some("https://api.z.ai/api/paas/v4"),
        &["ZAI_API_KEY"],
        &["ZAI_API_BASE"],
        true,
    )
    .params(ZAI_PARAMS)
    .doc("https://docs.litellm.ai/docs/providers/zai"),
    row(
        "voyage",
        Some("https://api.voyageai.com/v1"),
        &["VOYAGE_API_KEY", "VOYAGE_AI_API_KEY", "VOYAGE_AI_TOKEN"],
        &[],
        true,
    )
    .params(&["encoding_format", "dimensions"])
    .doc("https://docs.voyageai.com/reference/embeddings-api")
    .serves(Serves::EMBEDDINGS)
    .dimensions_as("output_dimension"),
    row(
        "jina_ai",
        Some("https://api.jina.ai/v1"),
        &["JINA_AI_API_KEY", "JINA_API_KEY", "JINA_AI_TOKEN"],
        &["JINA_AI_API_BASE"],
        true,
    )
    .params(&["dimensions"])
    .doc("https://jina.ai/embeddings/ (the Embeddings API; LiteLLM 1.104 litellm/llms/jina_ai/embedding/transformation.py)")
    .serves(Serves::EMBEDDINGS),
    // LiteLLM's JSON-configured OpenAI-compatible providers.
    row(
        "abliteration",
        Some("https://api.abliteration.ai/v1"),
        &["ABLITERATION_API_KEY"],
        &[],
        true,
    )
    .doc("LiteLLM 1.104.9 litellm/llms/openai_like/providers.json")
    .json_provider()
    .serves(Serves::CHAT),
    row(
        "aihubmix",
        Some("https://aihubmix.com/v1"),
        &["AIHUBMIX_API_KEY"],
        &["AIHUBMIX_API_BASE"],
        true,
    )
    .doc("LiteLLM 1.104.9 litellm/llms/openai_like/providers.json")
    .json_provider()
    .serves(Serves::CHAT),
    row(
        "apertis",
        Some("https://api.stima.tech/v1"),
        &["STIMA_API_KEY"],
        &[],
        true,
    )
    .quirks(Quirks {
        max_tokens_only: true,
        ..Quirks::NONE
    })
    .doc("LiteLLM 1.104.9 litellm/llms/openai_like/providers.json")
    .json_provider()
    .serves(Serves::CHAT),
    row(
        "assemblyai",
        Some("https://llm-gateway.assemblyai.com/v1"),
        &["ASSEMBLYAI_API_KEY"],
        &[],
        true,
    )
    .doc("LiteLLM 1.104.9 litellm/llms/openai_like/providers.json")
    .json_provider()
    .serves(Serves::CHAT),
    row(
        "charity_engine",
        Some("https://api.charityengine.services/remotejobs/v2/inference"),
        &["CHARITY_ENGINE_API_KEY"],
        &[],
        true,
    )
    .quirks(Quirks {
        max_tokens_only: true,
        ..Quirks::NONE
    })
    .doc("LiteLLM 1.104.9 litellm/llms/openai_like/providers.json")
    .json_provider()
    .serves(Serves::CHAT),
    row(
        "chutes",
        Some("https://llm.chutes.ai/v1/"),
        &["CHUTES_API_KEY"],
        &[],
        true,
    )
    .quirks(Quirks {
        max_tokens_only: true,
        ..Quirks::NONE
    })
    .doc("LiteLLM 1.104.9 litellm/llms/openai_like/providers.json")
    .json_provider()
    .serves(Serves::CHAT),
    row(
        "cognition",
        Some("https://api.cognition.ai/v1"),
        &["COGNITION_API_KEY"],
        &["COGNITION_API_BASE"],
        true,
    )
    .doc("LiteLLM 1.104.9 litellm/llms/openai_like/providers.json")
    .json_provider()
    .serves(Serves::CHAT),
    row(
        "crusoe",
        Some("https://managed-inference-api-proxy.crusoecloud.com/v1"),
        &["CRUSOE_API_KEY"],
        &["CRUSOE_API_BASE"],
        true,
    )
    .quirks(Quirks {
        max_tokens_only: true,
        ..Quirks::NONE
    })
    .doc("LiteLLM 1.104.9 litellm/llms/openai_like/providers.json")
    .json_provider()
    .serves(Serves::CHAT),
    row(
        "darkbloom",
        Some("https://api.darkbloom.dev/v1"),
        &["DARKBLOOM_API_KEY"],
        &["DARKBLOOM_API_BASE"],
        true,
    )
    .quirks(Quirks {
        max_tokens_only: true,
        ..Quirks::NONE
    })
    .doc("LiteLLM 1.104.9 litellm/llms/openai_like/providers.json")
    .json_provider()
    .serves(Serves::CHAT),
    row(
        "empiriolabs",
        Some("https://api.empiriolabs.ai/v1"),
        &["EMPIRIOLABS_API_KEY"],
        &["EMPIRIOLABS_API_BASE"],
        true,
    )
    .quirks(Quirks {
        max_tokens_only: true,
        ..Quirks::NONE
    })
    .doc("LiteLLM 1.104.9 litellm/llms/openai_like/providers.json")
    .json_provider()
    .serves(Serves::CHAT),
    row(
        "gmi",
        Some("https://api.gmi-serving.com/v1"),
        &["GMI_API_KEY"],
        &[],
        true,
    )
    .doc("LiteLLM 1.104.9 litellm/llms/openai_like/providers.json")
    .json_provider()
    .serves(Serves::CHAT),
    row(
        "helicone",
        Some("https://ai-gateway.helicone.ai/"),
        &["HELICONE_API_KEY"],
        &[],
        true,
    )
    .doc("LiteLLM 1.104.9 litellm/llms/openai_like/providers.json")
    .json_provider()
    .serves(Serves::CHAT),
    row(
        "libertai",
        Some("https://api.libertai.io/v1"),
        &["LIBERTAI_API_KEY"],
        &["LIBERTAI_API_BASE"],
        true,
    )
    .quirks(Quirks {
        max_tokens_only: true,
        ..Quirks::NONE
    })
    .doc("LiteLLM 1.104.9 litellm/llms/openai_like/providers.json")
    .json_provider()
    .serves(Serves::CHAT),
    row(
        "llamagate",
        Some("https://api.llamagate.dev/v1"),
        &["LLAMAGATE_API_KEY"],
        &[],
        true,
    )
    .quirks(Quirks {
        max_tokens_only: true,
        ..Quirks::NONE
    })
    .doc("LiteLLM 1.104.9 litellm/llms/openai_like/providers.json")
    .json_provider()
    .serves(Serves::CHAT),
    row(
        "meta",
        Some("https://api.meta.ai/v1"),
        &["META_API_KEY"],
        &["META_API_BASE"],
        true,
    )
    .doc("LiteLLM 1.104.9 litellm/llms/openai_like/providers.json")
    .json_provider()
    .serves(Serves::CHAT),
    row(
        "nano-gpt",
        Some("https://nano-gpt.com/api/v1"),
        &["NANOGPT_API_KEY"],
        &[],
        true,
    )
    .quirks(Quirks {
        max_tokens_only: true,
        ..Quirks::NONE
    })
    .doc("LiteLLM 1.104.9 litellm/llms/openai_like/providers.json")
    .json_provider()
    .serves(Serves::CHAT),
    row(
        "neosantara",
        Some("https://api.neosantara.xyz/v1"),
        &["NEOSANTARA_API_KEY"],
        &["NEOSANTARA_API_BASE"],
        true,
    )
    .quirks(Quirks {
        max_tokens_only: true,
        ..Quirks::NONE
    })
    .doc("LiteLLM 1.104.9 litellm/llms/openai_like/providers.json")
    .json_provider()
    .serves(Serves::CHAT),
    row(
        "parasail",
        Some("https://api.parasail.io/v1"),
        &["PARASAIL_API_KEY"],
        &["PARASAIL_API_BASE"],
        true,
    )
    .quirks(Quirks {
        store_false: true,
        ..Quirks::NONE
    })
    .doc("LiteLLM 1.104.9 litellm/llms/openai_like/providers.json")
    .json_provider()
    .serves(Serves::CHAT),
    row(
        "pinstripes",
        Some("https://pinstripes.io/v1"),
        &["PINSTRIPES_API_KEY"],
        &["PINSTRIPES_API_BASE"],
        true,
    )
    .quirks(Quirks {
        max_tokens_only: true,
        ..Quirks::NONE
    })
    .doc("LiteLLM 1.104.9 litellm/llms/openai_like/providers.json")
    .json_provider()
    .serves(Serves::CHAT_EMBEDDINGS),
    row(
        "poe",
        Some("https://api.poe.com/v1"),
        &["POE_API_KEY"],
        &[],
        true,
    )
    .quirks(Quirks {
        max_tokens_only: true,
        ..Quirks::NONE
    })
    .doc("LiteLLM 1.104.9 litellm/llms/openai_like/providers.json")
    .json_provider()
    .serves(Serves::CHAT),
    row(
        "publicai",
        Some("https://api.publicai.co/v1"),
        &["PUBLICAI_API_KEY"],
        &["PUBLICAI_API_BASE"],
        true,
    )
    .quirks(Quirks {
        max_tokens_only: true,
        content_list_to_string: true,
        ..Quirks::NONE
    })
    .doc("LiteLLM 1.104.9 litellm/llms/openai_like/providers.json")
    .json_provider()
    .serves(Serves::CHAT),
    row(
        "sarvam",
        Some("https://api.sarvam.ai/v1"),
        &["SARVAM_API_KEY"],
        &[],
        true,
    )
    .quirks(Quirks {
        max_tokens_only: true,
        ..Quirks::NONE
    })
    .doc("LiteLLM 1.104.9 litellm/llms/openai_like/providers.json")
    .json_provider()
    .serves(Serves::CHAT)
    .key_header("api-subscription-key"),
    row(
        "scaleway",
        Some("https://api.scaleway.ai/v1"),
        &["SCW_SECRET_KEY"],
        &[],
        true,
    )
    .doc("LiteLLM 1.104.9 litellm/llms/openai_like/providers.json")
    .json_provider()
    .serves(Serves::CHAT),
    row(
        "scx-ai",
        Some("https://api.scx.ai/v1"),
        &["SCX_API_KEY"],
        &["SCX_API_BASE"],
        true,
    )
    .quirks(Quirks {
        max_tokens_only: true,
        temperature_max: Some(1.99),
        ..Quirks::NONE
    })
    .doc("LiteLLM 1.104.9 litellm/llms/openai_like/providers.json")
    .json_provider()
    .serves(Serves::CHAT),
    row(
        "synthetic",
        Some("https://api.synthetic.new/openai/v1"),
        &["SYNTHETIC_API_KEY"],
        &[],
        true,
    )
    .quirks(Quirks {
        max_tokens_only: true,
        ..Quirks::NONE
    })
    .doc("LiteLLM 1.104.9 litellm/llms/openai_like/providers.json")
    .json_provider()
    .serves(Serves::CHAT),
    row(
        "tensormesh",
        Some("https://serverless.tensormesh.ai/v1"),
        &["TENSORMESH_INFERENCE_API_KEY"],
        &["TENSORMESH_SERVERLESS_BASE_URL"],
        true,
    )
    .quirks(Quirks {
        max_tokens_only: true,
        ..Quirks::NONE
    })
    .doc("LiteLLM 1.104.9 litellm/llms/openai_like/providers.json")
    .json_provider()
    .serves(Serves::CHAT),
    row(
        "veniceai",
        Some("https://api.venice.ai/api/v1"),
        &["VENICE_AI_API_KEY"],
        &[],
        true,
    )
    .doc("LiteLLM 1.104.9 litellm/llms/openai_like/providers.json")
    .json_provider()
    .serves(Serves::CHAT),
    row(
        "xiaomi_mimo",
        Some("https://api.xiaomimimo.com/v1"),
        &["XIAOMI_MIMO_API_KEY"],
        &[],
        true,
    )
    .quirks(Quirks {
        max_tokens_only: true,
        ..Quirks::NONE
    })
    .doc("LiteLLM 1.104.9 litellm/llms/openai_like/providers.json")
    .json_provider()
    .serves(Serves::CHAT),
];

/// Price-map providers LiteLLM 1.104 reaches (for the map's chat and embedding models) that this
/// build does not serve yet, with the reason. `tests/it/reach.rs` keeps the list exact.
pub static NOT_SUPPORTED: &[(&str, &str)] = &[
    (
        "fal_ai",
        "its one chat model is a fal.run queue endpoint with its own request shape; not built yet",
    ),
    (
        "oci",
        "Oracle OCI Generative AI needs OCI request signing and its own chat format; not built yet",
    ),
    (
        "replicate",
        "Replicate's predictions API (create, then poll or stream); not built yet",
    ),
];
