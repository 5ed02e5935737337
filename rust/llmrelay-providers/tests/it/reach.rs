//! Provider reach over the bundled price map, measured against LiteLLM.
//!
//! `tests/fixtures/litellm/get_llm_provider.json` records LiteLLM 1.104.9's answer to
//! `get_llm_provider(key)` for every chat and embedding model of the map
//! (`scripts/gen_provider_reach_fixture.py`). A price-map provider value is *reached* by LiteLLM
//! when it resolves at least one of that value's models; it is reached by llmrelay when our
//! detection resolves one of them to a provider the registry serves. Every value LiteLLM reaches
//! is either served here or listed in `registry::NOT_SUPPORTED` with the reason.

use std::collections::{BTreeMap, BTreeSet};

use llmrelay_core::detect;
use llmrelay_providers::compatible::OpenAiCompatible;
use llmrelay_providers::registry;
use serde_json::Value;

const PRICE_MAP: &str =
    include_str!("../../../llmrelay-core/data/model_prices_and_context_window.json");
const OBSERVED: &str = include_str!("../fixtures/litellm/get_llm_provider.json");

/// One chat or embedding model of the map, with LiteLLM's answer.
pub(crate) struct MapModel {
    pub key: String,
    /// The map's `litellm_provider`.
    pub provider: String,
    /// `chat` or `embedding`.
    pub mode: String,
    /// LiteLLM's `(model, provider)`, or `None` where it raises.
    pub litellm: Option<(String, String)>,
}

pub(crate) fn map_models() -> Vec<MapModel> {
    let map: serde_json::Map<String, Value> = serde_json::from_str(PRICE_MAP).unwrap();
    let observed: Value = serde_json::from_str(OBSERVED).unwrap();
    let observed = observed["models"].as_object().unwrap();
    let mut out = Vec::new();
    for (key, entry) in &map {
        let mode = entry["mode"].as_str().unwrap_or_default();
        if mode != "chat" && mode != "embedding" {
            continue;
        }
        let answer = observed
            .get(key)
            .unwrap_or_else(|| panic!("{key}: not in the fixture; regenerate it"));
        let litellm = answer.as_array().map(|pair| {
            (
                pair[0].as_str().unwrap().to_owned(),
                pair[1].as_str().unwrap().to_owned(),
            )
        });
        out.push(MapModel {
            key: key.clone(),
            provider: entry["litellm_provider"].as_str().unwrap().to_owned(),
            mode: mode.to_owned(),
            litellm,
        });
    }
    assert_eq!(out.len(), observed.len(), "fixture and map disagree");
    out
}

/// Our answer for a key: the resolved `(model, provider)` when the registry serves it.
pub(crate) fn ours(key: &str) -> Option<(String, String)> {
    let resolved = detect::resolve(key, None, None).ok()?;
    registry::lookup(&resolved.provider)?;
    Some((resolved.model, resolved.provider))
}

pub(crate) struct Reach {
    pub litellm: BTreeSet<String>,
    pub ours: BTreeSet<String>,
    pub models: usize,
    pub agreeing: usize,
    /// Models where our `(model, provider)` differs from LiteLLM's, with both answers.
    pub disagreeing: Vec<(String, String, String)>,
}

pub(crate) fn measure() -> Reach {
    let models = map_models();
    let mut reach = Reach {
        litellm: BTreeSet::new(),
        ours: BTreeSet::new(),
        models: 0,
        agreeing: 0,
        disagreeing: Vec::new(),
    };
    for model in &models {
        let Some(theirs) = &model.litellm else {
            continue;
        };
        reach.litellm.insert(model.provider.clone());
        reach.models += 1;
        let mine = ours(&model.key);
        if mine.is_some() {
            reach.ours.insert(model.provider.clone());
        }
        match detect::resolve(&model.key, None, None) {
            Ok(r) if (&r.model, &r.provider) == (&theirs.0, &theirs.1) => reach.agreeing += 1,
            other => reach.disagreeing.push((
                model.key.clone(),
                format!("{theirs:?}"),
                other.map_or_else(
                    |e| e.message().chars().take(40).collect(),
                    |r| format!("{:?}", (r.model, r.provider)),
                ),
            )),
        }
    }
    reach
}

#[test]
fn price_map_reach() {
    let reach = measure();
    let missing: Vec<_> = reach.litellm.difference(&reach.ours).cloned().collect();
    println!(
        "providers reached: {} of the {} LiteLLM reaches; get_llm_provider agrees on {} of {} models; not reached: {missing:?}",
        reach.ours.len(),
        reach.litellm.len(),
        reach.agreeing,
        reach.models,
    );
    for (key, theirs, mine) in &reach.disagreeing {
        println!("  {key}: LiteLLM {theirs}, llmrelay {mine}");
    }
    // Every value LiteLLM reaches is served, or documented as not supported (and only those).
    let unsupported: BTreeMap<_, _> = registry::NOT_SUPPORTED.iter().copied().collect();
    for name in &missing {
        assert!(
            unsupported.contains_key(name.as_str()),
            "{name}: LiteLLM reaches it; serve it or list it in registry::NOT_SUPPORTED"
        );
    }
    for name in unsupported.keys() {
        assert!(
            !reach.ours.contains(*name),
            "{name}: served, yet listed as not supported"
        );
    }
    // docs/providers/index.md states both figures; a stale sentence fails here.
    let docs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/providers/index.md"),
    )
    .unwrap();
    let docs = docs.split_whitespace().collect::<Vec<_>>().join(" ");
    for stated in [
        format!(
            "**Price-map reach: {} of the {} providers**",
            reach.ours.len(),
            reach.litellm.len()
        ),
        format!(
            "**agree on {} of those {} models**",
            reach.agreeing, reach.models
        ),
    ] {
        assert!(
            docs.contains(&stated),
            "docs/providers/index.md does not state {stated}"
        );
    }
    // Issue 20's target is 95 % of LiteLLM's reach; this floor is the reach built so far, so a
    // provider that stops resolving fails here.
    assert!(reach.ours.len() >= 87, "reach fell below 87 providers");
    assert!(
        reach.agreeing * 100 >= reach.models * 98,
        "get_llm_provider below 98 % agreement"
    );
}

/// The path of a base URL (`https://host/api/paas/v4` → `/api/paas/v4`).
fn path_of(base: &str) -> &str {
    let rest = base.split_once("://").map_or(base, |(_, rest)| rest);
    rest.find('/')
        .map_or("", |i| rest[i..].trim_end_matches('/'))
}

/// The base path a row is called under: its default base's, its template's, or (for a provider
/// whose base is the caller's deployment) the documented form of that base.
fn base_path(row: &OpenAiCompatible) -> &'static str {
    if let Some(base) = row.default_base {
        return path_of(base);
    }
    if let Some(template) = row.template_base {
        return path_of(template.template);
    }
    match row.name {
        // `https://<workspace>.cloud.databricks.com/serving-endpoints`
        "databricks" => "/serving-endpoints",
        // `https://us.inference.heroku.com` (the chat path carries `/v1`)
        "heroku" => "",
        _ => "/v1",
    }
}

/// One model per price-map provider value we serve, chat first, then embedding.
fn walk_targets() -> BTreeMap<String, (MapModel, String, String)> {
    let mut targets: BTreeMap<String, (MapModel, String, String)> = BTreeMap::new();
    for model in map_models() {
        if model.litellm.is_none() {
            continue;
        }
        let Some((upstream_model, provider)) = ours(&model.key) else {
            continue;
        };
        let better = match targets.get(&model.provider) {
            None => true,
            Some((held, _, _)) => held.mode != "chat" && model.mode == "chat",
        };
        if better {
            targets.insert(model.provider.clone(), (model, upstream_model, provider));
        }
    }
    targets
}

/// Every price-map provider served by an OpenAI-compatible row, called end to end through the
/// mock with the row's own base path: the mock answers only a request on the right path with
/// `Authorization: Bearer <key>`, and the body carries the upstream model id.
#[tokio::test]
async fn price_map_walk_compatible_rows() {
    let server = crate::server().await;
    let state = server.state();
    let mut walked = Vec::new();
    for (value, (model, upstream_model, provider)) in walk_targets() {
        let Some(row) = registry::COMPATIBLE.iter().find(|r| r.name == provider) else {
            continue;
        };
        let base = base_path(row);
        let key = format!("sk-walk-{provider}");
        let mut params = serde_json::Map::new();
        params.insert("model".into(), model.key.clone().into());
        params.insert(
            "api_base".into(),
            format!("{}{base}", server.base_url()).into(),
        );
        params.insert("api_key".into(), key.clone().into());
        params.insert("num_retries".into(), 0.into());
        state.clear_requests();
        let path = if model.mode == "chat" {
            params.insert(
                "messages".into(),
                serde_json::json!([{"role": "user", "content": "hi"}]),
            );
            let outcome = crate::chat_call(params).await;
            let Ok(llmrelay_providers::engine::ChatOutcome::Whole(result)) = outcome else {
                panic!("{value} ({}): {:?}", model.key, outcome.err());
            };
            assert_eq!(
                result.response.choices[0].message.content.as_deref(),
                Some(llmrelay_mock::DEFAULT_CONTENT),
                "{value}"
            );
            format!("{base}{}", row.chat_path)
        } else {
            params.insert("input".into(), serde_json::json!(["hi"]));
            let result = crate::embedding_call(params)
                .await
                .unwrap_or_else(|e| panic!("{value} ({}): {e:?}", model.key));
            assert!(!result.response.data.is_empty(), "{value}");
            format!("{base}/embeddings")
        };
        let requests = state.requests();
        let [request] = requests.as_slice() else {
            panic!(
                "{value}: expected one upstream request, got {}",
                requests.len()
            );
        };
        assert_eq!(request.path, path, "{value}: path");
        assert_eq!(
            request.headers.get("authorization").map(String::as_str),
            Some(format!("Bearer {key}").as_str()),
            "{value}: auth"
        );
        if let Some(header) = row.key_header {
            assert_eq!(request.headers.get(header), Some(&key), "{value}: {header}");
        }
        assert_eq!(
            request.body["model"],
            upstream_model.as_str(),
            "{value}: model"
        );
        walked.push(value);
    }
    println!(
        "walked {} price-map providers through compatible rows: {walked:?}",
        walked.len()
    );
    assert!(walked.len() >= 59, "{walked:?}");
}

/// How the walk calls one price-map provider served by a dedicated implementation.
struct Dedicated {
    /// The map's `litellm_provider`.
    value: &'static str,
    /// A chat or embedding model of the map with that provider.
    model: &'static str,
    /// Appended to the mock's URL to form `api_base`.
    base_suffix: &'static str,
    /// The upstream path the call must take.
    path: &'static str,
    /// The credential header, and what its value starts with.
    auth: Option<(&'static str, &'static str)>,
}

const DEDICATED: &[Dedicated] = &[
    Dedicated {
        value: "openai",
        model: "gpt-4o-mini",
        base_suffix: "/v1",
        path: "/v1/chat/completions",
        auth: Some(("authorization", "Bearer sk-walk")),
    },
    Dedicated {
        value: "anthropic",
        model: "claude-haiku-4-5",
        base_suffix: "",
        path: "/v1/messages",
        auth: Some(("x-api-key", "sk-walk")),
    },
    Dedicated {
        value: "azure",
        model: "azure/gpt-4o-mini",
        base_suffix: "",
        path: "/openai/deployments/gpt-4o-mini/chat/completions",
        auth: Some(("api-key", "sk-walk")),
    },
    Dedicated {
        value: "azure_ai",
        model: "azure_ai/gpt-oss-120b",
        base_suffix: "/v1",
        path: "/v1/chat/completions",
        // A `/v1` endpoint takes the key as a bearer token.
        auth: Some(("authorization", "Bearer sk-walk")),
    },
    Dedicated {
        value: "bedrock",
        model: "anthropic.claude-3-5-sonnet-20240620-v1:0",
        base_suffix: "",
        path: "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse",
        auth: Some(("authorization", "AWS4-HMAC-SHA256 ")),
    },
    Dedicated {
        value: "bedrock_converse",
        model: "us.writer.palmyra-x4-v1:0",
        base_suffix: "",
        path: "/model/us.writer.palmyra-x4-v1%3A0/converse",
        auth: Some(("authorization", "AWS4-HMAC-SHA256 ")),
    },
    Dedicated {
        value: "gemini",
        model: "gemini/gemini-2.5-flash",
        base_suffix: "",
        path: "/v1beta/models/gemini-2.5-flash:generateContent",
        auth: Some(("x-goog-api-key", "sk-walk")),
    },
    Dedicated {
        value: "vertex_ai-language-models",
        model: "gemini-2.5-flash",
        base_suffix: "",
        path: "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent",
        auth: Some(("authorization", "Bearer ")),
    },
    Dedicated {
        value: "ollama",
        model: "ollama/llama3",
        base_suffix: "",
        path: "/api/generate",
        auth: None,
    },
    Dedicated {
        value: "cohere",
        model: "cohere/embed-v4.0",
        base_suffix: "",
        path: "/v2/embed",
        auth: Some(("authorization", "Bearer sk-walk")),
    },
    Dedicated {
        value: "cohere_chat",
        model: "command-a-03-2025",
        base_suffix: "",
        path: "/v2/chat",
        auth: Some(("authorization", "Bearer sk-walk")),
    },
    Dedicated {
        value: "nlp_cloud",
        model: "chatdolphin",
        base_suffix: "/v1/gpu/",
        path: "/v1/gpu/chatdolphin/generation",
        auth: Some(("authorization", "Token sk-walk")),
    },
    Dedicated {
        value: "watsonx",
        model: "watsonx/ibm/granite-3-8b-instruct",
        base_suffix: "",
        path: "/ml/v1/text/chat",
        // The walk passes a bearer `token=`; the IAM exchange has its own test (watsonx.rs).
        auth: Some(("authorization", "Bearer wx-walk")),
    },
    Dedicated {
        value: "snowflake",
        model: "snowflake/llama3.1-70b",
        base_suffix: "",
        path: "/api/v2/cortex/v1/chat/completions",
        auth: Some(("authorization", "Bearer sk-walk")),
    },
    Dedicated {
        value: "gigachat",
        model: "gigachat/GigaChat-2",
        base_suffix: "/gigachat/api/v1",
        path: "/gigachat/api/v1/chat/completions",
        // The walk passes a ready access token; the OAuth exchange has its own test.
        auth: Some(("authorization", "Bearer giga-walk")),
    },
    Dedicated {
        value: "sagemaker",
        model: "sagemaker/meta-textgeneration-llama-2-13b-f",
        base_suffix: "",
        path: "/endpoints/meta-textgeneration-llama-2-13b-f/invocations",
        auth: Some(("authorization", "AWS4-HMAC-SHA256 ")),
    },
];

/// The price-map providers served by dedicated implementations, one model each, through the
/// mock: the path, the credential header and a parsed answer.
#[tokio::test]
async fn price_map_walk_dedicated_providers() {
    let server = crate::server().await;
    let state = server.state();
    let account = crate::gemini::service_account(
        &server,
        "walk@llmrelay-test-project.iam.gserviceaccount.com",
    );
    let models = map_models();
    for walk in DEDICATED {
        let model = models
            .iter()
            .find(|m| m.key == walk.model)
            .unwrap_or_else(|| panic!("{}: not a chat/embedding model of the map", walk.model));
        assert_eq!(model.provider, walk.value, "{}", walk.model);
        assert!(ours(walk.model).is_some(), "{}: not served", walk.model);
        let mut params = serde_json::json!({
            "model": walk.model,
            "api_base": format!("{}{}", server.base_url(), walk.base_suffix),
            "api_key": "sk-walk",
            "api_version": "2024-10-21",
            "aws_access_key_id": llmrelay_mock::DEFAULT_AWS_ACCESS_KEY_ID,
            "aws_secret_access_key": llmrelay_mock::DEFAULT_AWS_SECRET_ACCESS_KEY,
            "aws_region_name": "us-east-1",
            "num_retries": 0,
        });
        if walk.value.starts_with("vertex_ai") {
            params["vertex_project"] = "p".into();
            params["vertex_location"] = "us-central1".into();
            params["vertex_credentials"] = account.clone();
            params.as_object_mut().unwrap().remove("api_key");
        }
        if walk.value == "gigachat" {
            params["gigachat_access_token"] = "giga-walk".into();
        }
        if walk.value == "watsonx" {
            params["project_id"] = "p-walk".into();
            params["token"] = "wx-walk".into();
        }
        if walk.value.starts_with("bedrock") {
            // An `api_key` is a Bedrock API key (bearer); the walk signs with SigV4 instead.
            params.as_object_mut().unwrap().remove("api_key");
        }
        let serde_json::Value::Object(mut params) = params else {
            unreachable!()
        };
        state.clear_requests();
        if model.mode == "chat" {
            params.insert(
                "messages".into(),
                serde_json::json!([{"role": "user", "content": "hi"}]),
            );
            let outcome = crate::chat_call(params).await;
            let Ok(llmrelay_providers::engine::ChatOutcome::Whole(result)) = outcome else {
                panic!("{}: {:?}", walk.value, outcome.err());
            };
            let content = result.response.choices[0].message.content.clone();
            assert!(
                content.is_some_and(|c| c.starts_with("This is a mock")),
                "{}",
                walk.value
            );
        } else {
            params.insert("input".into(), serde_json::json!(["hi"]));
            let result = crate::embedding_call(params)
                .await
                .unwrap_or_else(|e| panic!("{}: {e:?}", walk.value));
            assert!(!result.response.data.is_empty(), "{}", walk.value);
        }
        let requests = state.requests();
        let request = requests
            .iter()
            .find(|r| r.path == walk.path)
            .unwrap_or_else(|| {
                let paths: Vec<_> = requests.iter().map(|r| r.path.as_str()).collect();
                panic!("{}: no request on {}; got {paths:?}", walk.value, walk.path)
            });
        if let Some((header, prefix)) = walk.auth {
            let value = request.headers.get(header).map_or("", String::as_str);
            assert!(
                value.starts_with(prefix),
                "{}: {header}: {value}",
                walk.value
            );
        }
    }
}
