//! LiteLLM's Search API (`search()`, `/v1/search`): one row per search provider (where it lives,
//! its key, its method) and pure request / response translation between LiteLLM's unified
//! Perplexity-style parameters and each provider's wire format, plus the per-query price.

mod cost;
mod providers;
mod query;

use serde_json::{Map, Value};

use llmrelay_core::{Error, ErrorKind, Result};

pub use cost::search_cost;
pub use providers::{request_body, response};

/// The unified parameters every provider maps from (LiteLLM's `_PERPLEXITY_UNIFIED_PARAMS`);
/// the others pass through to the provider as they are.
pub const UNIFIED_PARAMS: &[&str] = &[
    "max_results",
    "search_domain_filter",
    "country",
    "max_tokens_per_page",
];

/// How the provider authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Bearer <key>`.
    Bearer,
    /// The key in a named header.
    Header(&'static str),
    /// The key in the query string (`key=`), Google's way.
    QueryKey,
    /// HTTP Basic with `login:password`.
    Basic,
    /// `Authorization: Bearer <key>` when a key is given, nothing otherwise.
    OptionalBearer,
    /// No authentication.
    None,
}

/// How the endpoint URL is formed from the base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlShape {
    /// `<base>/search` unless the base ends with it.
    AppendSearch,
    /// As [`UrlShape::AppendSearch`], trailing `/` removed first (Serper, SearXNG).
    TrimAppendSearch,
    /// `<base>/v1/search` (a trailing `/v1` folded in), Parallel's.
    AppendV1Search,
    /// The base is the endpoint itself.
    AsIs,
    /// `<base>/` with the query string (DuckDuckGo's root).
    Root,
}

/// One search provider.
#[derive(Debug, Clone, Copy)]
pub struct SearchProvider {
    /// `search_provider=` as LiteLLM spells it.
    pub name: &'static str,
    /// LiteLLM's UI name (`/v1/search/tools`, docs).
    pub display_name: &'static str,
    pub default_api_base: Option<&'static str>,
    /// Environment variables holding the key, first set wins.
    pub key_env: &'static [&'static str],
    /// The environment variable an operator sets to override the base (a trusted host).
    pub base_env: &'static str,
    pub auth: Auth,
    /// `GET` with the parameters in the query string, else `POST` of a JSON body.
    pub get: bool,
    pub url: UrlShape,
    /// The documentation page the wire format follows.
    pub docs: &'static str,
}

/// Every search provider, in LiteLLM's `SearchProviders` order.
pub const PROVIDERS: &[SearchProvider] = &[
    SearchProvider {
        name: "perplexity",
        display_name: "Perplexity",
        default_api_base: Some("https://api.perplexity.ai"),
        key_env: &["PERPLEXITYAI_API_KEY"],
        base_env: "PERPLEXITY_API_BASE",
        auth: Auth::Bearer,
        get: false,
        url: UrlShape::AppendSearch,
        docs: "https://docs.perplexity.ai/api-reference/search-post",
    },
    SearchProvider {
        name: "tavily",
        display_name: "Tavily",
        default_api_base: Some("https://api.tavily.com"),
        key_env: &["TAVILY_API_KEY"],
        base_env: "TAVILY_API_BASE",
        auth: Auth::Bearer,
        get: false,
        url: UrlShape::AppendSearch,
        docs: "https://docs.tavily.com/api-reference/endpoint/search",
    },
    SearchProvider {
        name: "parallel_ai",
        display_name: "Parallel AI",
        default_api_base: Some("https://api.parallel.ai"),
        key_env: &["PARALLEL_AI_API_KEY", "PARALLEL_API_KEY"],
        base_env: "PARALLEL_AI_API_BASE",
        auth: Auth::Header("x-api-key"),
        get: false,
        url: UrlShape::AppendV1Search,
        docs: "https://docs.parallel.ai/api-reference/search",
    },
    SearchProvider {
        name: "exa_ai",
        display_name: "Exa AI",
        default_api_base: Some("https://api.exa.ai"),
        key_env: &["EXA_API_KEY"],
        base_env: "EXA_API_BASE",
        auth: Auth::Header("x-api-key"),
        get: false,
        url: UrlShape::AppendSearch,
        docs: "https://docs.exa.ai/reference/search",
    },
    SearchProvider {
        name: "brave",
        display_name: "Brave Search",
        default_api_base: Some("https://api.search.brave.com/res/v1/web/search"),
        key_env: &["BRAVE_API_KEY"],
        base_env: "BRAVE_API_BASE",
        auth: Auth::Header("X-Subscription-Token"),
        get: true,
        url: UrlShape::AsIs,
        docs: "https://api-dashboard.search.brave.com/app/documentation/web-search/query",
    },
    SearchProvider {
        name: "google_pse",
        display_name: "Google PSE",
        default_api_base: Some("https://www.googleapis.com/customsearch/v1"),
        key_env: &["GOOGLE_PSE_API_KEY"],
        base_env: "GOOGLE_PSE_API_BASE",
        auth: Auth::QueryKey,
        get: true,
        url: UrlShape::AsIs,
        docs: "https://developers.google.com/custom-search/v1/reference/rest/v1/cse/list",
    },
    SearchProvider {
        name: "dataforseo",
        display_name: "DataForSEO",
        default_api_base: Some("https://api.dataforseo.com/v3/serp/google/organic/live/advanced"),
        key_env: &[],
        base_env: "DATAFORSEO_API_BASE",
        auth: Auth::Basic,
        get: false,
        url: UrlShape::AsIs,
        docs: "https://docs.dataforseo.com/v3/serp/google/organic/live/advanced/",
    },
    SearchProvider {
        name: "firecrawl",
        display_name: "Firecrawl",
        default_api_base: Some("https://api.firecrawl.dev/v2"),
        key_env: &["FIRECRAWL_API_KEY"],
        base_env: "FIRECRAWL_API_BASE",
        auth: Auth::Bearer,
        get: false,
        url: UrlShape::AppendSearch,
        docs: "https://docs.firecrawl.dev/api-reference/endpoint/search",
    },
    SearchProvider {
        name: "searxng",
        display_name: "SearXNG",
        default_api_base: None,
        key_env: &["SEARXNG_API_KEY"],
        base_env: "SEARXNG_API_BASE",
        auth: Auth::OptionalBearer,
        get: true,
        url: UrlShape::TrimAppendSearch,
        docs: "https://docs.searxng.org/dev/search_api.html",
    },
    SearchProvider {
        name: "linkup",
        display_name: "Linkup",
        default_api_base: Some("https://api.linkup.so/v1"),
        key_env: &["LINKUP_API_KEY"],
        base_env: "LINKUP_API_BASE",
        auth: Auth::Bearer,
        get: false,
        url: UrlShape::AppendSearch,
        docs: "https://docs.linkup.so/pages/documentation/endpoints/search/overview",
    },
    SearchProvider {
        name: "duckduckgo",
        display_name: "DuckDuckGo",
        default_api_base: Some("https://api.duckduckgo.com"),
        key_env: &[],
        base_env: "DUCKDUCKGO_API_BASE",
        auth: Auth::None,
        get: true,
        url: UrlShape::Root,
        docs: "https://duckduckgo.com/api",
    },
    SearchProvider {
        name: "serper",
        display_name: "Serper",
        default_api_base: Some("https://google.serper.dev"),
        key_env: &["SERPER_API_KEY"],
        base_env: "SERPER_API_BASE",
        auth: Auth::Header("X-API-KEY"),
        get: false,
        url: UrlShape::TrimAppendSearch,
        docs: "https://serper.dev/playground",
    },
];

/// LiteLLM's search providers this build does not translate yet, for the error message.
const NOT_BUILT: &[&str] = &[
    "fastcrw",
    "searchapi",
    "you_com",
    "apiserpent",
    "tinyfish",
    "agentcore",
    "nimble",
    "bing_grounding",
];

/// The provider named `name`.
///
/// # Errors
/// `BadRequest` naming the supported providers.
pub fn lookup(name: &str) -> Result<&'static SearchProvider> {
    if let Some(provider) = PROVIDERS.iter().find(|p| p.name == name) {
        return Ok(provider);
    }
    let names: Vec<&str> = PROVIDERS.iter().map(|p| p.name).collect();
    let why = if NOT_BUILT.contains(&name) {
        "is a LiteLLM search provider llmrelay does not support yet"
    } else {
        "is not a search provider"
    };
    Err(Error::bad_request(format!(
        "search_provider '{name}' {why}. Supported: {}",
        names.join(", ")
    ))
    .with_param("search_provider"))
}

/// A search call's query: one string or several.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    One(String),
    Many(Vec<String>),
}

impl Query {
    /// Read `query` from a call's parameters.
    ///
    /// # Errors
    /// `BadRequest` when it is missing or not a string / list of strings.
    pub fn parse(value: Option<&Value>) -> Result<Self> {
        let invalid = || {
            Error::bad_request("query is required: a string or a list of strings")
                .with_param("query")
        };
        match value {
            Some(Value::String(text)) => Ok(Self::One(text.clone())),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .map(Self::Many)
                .ok_or_else(|| {
                    Error::bad_request("All items in query list must be strings")
                        .with_param("query")
                }),
            _ => Err(invalid()),
        }
    }

    /// The query as one string (providers that take a single query join a list with spaces).
    #[must_use]
    pub fn joined(&self) -> String {
        match self {
            Self::One(text) => text.clone(),
            Self::Many(items) => items.join(" "),
        }
    }

    #[must_use]
    pub fn to_value(&self) -> Value {
        match self {
            Self::One(text) => Value::String(text.clone()),
            Self::Many(items) => Value::Array(items.iter().cloned().map(Value::String).collect()),
        }
    }
}

/// A parsed search call: the query and the optional parameters (the unified ones and any
/// provider-specific ones), as LiteLLM's `optional_params`.
#[derive(Debug, Clone)]
pub struct SearchCall {
    pub provider: &'static SearchProvider,
    pub query: Query,
    pub params: Map<String, Value>,
}

/// Keys of a search call's body that are not provider parameters.
const CALL_KEYS: &[&str] = &["query", "search_provider", "model", "search_tool_name"];

impl SearchCall {
    /// From a search call's body (the options already split off).
    ///
    /// # Errors
    /// An unknown provider, a missing query, or a unified parameter of the wrong type.
    pub fn parse(body: &Map<String, Value>) -> Result<Self> {
        let provider = match body.get("search_provider") {
            Some(Value::String(name)) if !name.is_empty() => lookup(name)?,
            _ => {
                return Err(Error::bad_request(
                    "search_provider is required: a string such as 'tavily' or 'exa_ai'",
                )
                .with_param("search_provider"));
            }
        };
        let query = Query::parse(body.get("query"))?;
        let mut params = Map::new();
        for (key, value) in body {
            if CALL_KEYS.contains(&key.as_str()) || value.is_null() {
                continue;
            }
            params.insert(key.clone(), value.clone());
        }
        check_unified(&params)?;
        Ok(Self {
            provider,
            query,
            params,
        })
    }
}

fn check_unified(params: &Map<String, Value>) -> Result<()> {
    let wrong = |name: &str, what: &str| {
        Err(Error::bad_request(format!("{name} must be {what}")).with_param(name))
    };
    if let Some(value) = params.get("max_results") {
        if value.as_u64().is_none_or(|n| n == 0) {
            return wrong("max_results", "a positive integer");
        }
    }
    if let Some(value) = params.get("max_tokens_per_page") {
        if value.as_u64().is_none_or(|n| n == 0) {
            return wrong("max_tokens_per_page", "a positive integer");
        }
    }
    if let Some(value) = params.get("country") {
        if !value.is_string() {
            return wrong("country", "a country code string such as 'US'");
        }
    }
    if let Some(value) = params.get("search_domain_filter") {
        let ok = value.is_string()
            || value
                .as_array()
                .is_some_and(|items| items.iter().all(Value::is_string));
        if !ok {
            return wrong("search_domain_filter", "a list of domain strings");
        }
    }
    Ok(())
}

/// The credentials a call goes with.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// The caller's `api_key=` (for DataForSEO, `login:password`).
    pub api_key: Option<String>,
    /// The caller's `api_base=`.
    pub api_base: Option<String>,
    /// Google PSE's engine id (`search_engine_id=`).
    pub search_engine_id: Option<String>,
}

/// A request ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHttpRequest {
    pub get: bool,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// The JSON body of a POST (empty for a GET).
    pub body: Vec<u8>,
}

/// Looks up environment variables; tests pass their own.
pub trait Environment {
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|value| !value.is_empty())
    }
}

fn host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    rest[..end].to_ascii_lowercase()
}

/// Refuse to send a key the server holds (an environment variable) to a host the caller chose:
/// only the provider's default host and the operator's own base override are trusted.
fn check_trusted_base(
    provider: &SearchProvider,
    caller_base: Option<&str>,
    credential_name: &str,
    env: &dyn Environment,
) -> Result<()> {
    let Some(caller_base) = caller_base else {
        return Ok(());
    };
    let candidate = host(caller_base);
    let trusted = [
        provider.default_api_base.map(str::to_owned),
        env.var(provider.base_env),
    ];
    if !candidate.is_empty() && trusted.iter().flatten().any(|base| host(base) == candidate) {
        return Ok(());
    }
    Err(Error::bad_request(format!(
        "Refusing to send the server-configured {credential_name} to the caller-supplied \
         api_base '{caller_base}'. Pass an explicit api_key when overriding api_base for this \
         search provider."
    ))
    .with_param("api_base"))
}

fn missing(what: &str, hint: &str) -> Error {
    Error::new(
        ErrorKind::Authentication,
        format!("{what} is not set. Set `{what}` environment variable{hint}."),
    )
}

/// The key the call goes with: the caller's, else the server's when the host is trusted.
fn resolve_key(
    provider: &SearchProvider,
    credentials: &Credentials,
    env: &dyn Environment,
) -> Result<Option<String>> {
    if let Some(key) = credentials.api_key.clone().filter(|k| !k.is_empty()) {
        return Ok(Some(key));
    }
    let Some(server_key) = provider.key_env.iter().find_map(|name| env.var(name)) else {
        return Ok(None);
    };
    check_trusted_base(
        provider,
        credentials.api_base.as_deref(),
        provider.key_env.first().copied().unwrap_or("API key"),
        env,
    )?;
    Ok(Some(server_key))
}

fn endpoint_url(provider: &SearchProvider, base: &str) -> String {
    match provider.url {
        UrlShape::AppendSearch => {
            if base.ends_with("/search") {
                base.to_owned()
            } else {
                format!("{base}/search")
            }
        }
        UrlShape::TrimAppendSearch => {
            let base = base.trim_end_matches('/');
            if base.ends_with("/search") {
                base.to_owned()
            } else {
                format!("{base}/search")
            }
        }
        UrlShape::AppendV1Search => {
            let base = base.trim_end_matches('/');
            if base.ends_with("/v1/search") {
                base.to_owned()
            } else {
                format!("{}/v1/search", base.strip_suffix("/v1").unwrap_or(base))
            }
        }
        UrlShape::AsIs => base.to_owned(),
        UrlShape::Root => format!("{base}/"),
    }
}

/// Build the HTTP request of a search call: credentials resolved (with the trusted-host rule),
/// the unified parameters mapped, the URL formed.
///
/// # Errors
/// A missing key or base, a server key refused for the caller's host, a parameter the
/// provider cannot take.
pub fn build_request(
    call: &SearchCall,
    credentials: &Credentials,
    extra_headers: &[(String, String)],
    env: &dyn Environment,
) -> Result<SearchHttpRequest> {
    let provider = call.provider;
    let mut headers: Vec<(String, String)> = extra_headers.to_vec();
    let mut set = |name: &str, value: String| {
        headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case(name));
        headers.push((name.to_owned(), value));
    };
    let mut query_key = None;
    match provider.auth {
        Auth::Bearer | Auth::Header(_) | Auth::QueryKey => {
            let key = resolve_key(provider, credentials, env)?.ok_or_else(|| {
                missing(provider.key_env.first().copied().unwrap_or("API key"), "")
            })?;
            match provider.auth {
                Auth::Bearer => set("Authorization", format!("Bearer {key}")),
                Auth::Header(name) => set(name, key),
                _ => query_key = Some(key),
            }
        }
        Auth::OptionalBearer => {
            if let Some(key) = resolve_key(provider, credentials, env)? {
                set("Authorization", format!("Bearer {key}"));
            }
        }
        Auth::Basic => {
            let (login, password) = dataforseo_login(provider, credentials, env)?;
            use base64::Engine as _;
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{login}:{password}"));
            set("Authorization", format!("Basic {encoded}"));
        }
        Auth::None => {}
    }
    if provider.name == "brave" {
        set("Accept", "application/json".to_owned());
    }
    let base = credentials
        .api_base
        .clone()
        .or_else(|| env.var(provider.base_env))
        .or_else(|| provider.default_api_base.map(str::to_owned))
        .ok_or_else(|| {
            Error::bad_request(format!(
                "{0} is not set. Please set the `{0}` environment variable or pass `api_base` \
                 parameter. Example: os.environ['{0}'] = 'https://your-searxng-instance.com'",
                provider.base_env
            ))
            .with_param("api_base")
        })?;
    let url = endpoint_url(provider, &base);
    let engine_id = if provider.name == "google_pse" {
        Some(
            credentials
                .search_engine_id
                .clone()
                .filter(|id| !id.is_empty())
                .or_else(|| env.var("GOOGLE_PSE_ENGINE_ID"))
                .ok_or_else(|| {
                    missing(
                        "GOOGLE_PSE_ENGINE_ID",
                        " or pass `search_engine_id` parameter",
                    )
                    .with_kind(ErrorKind::BadRequest)
                    .with_param("search_engine_id")
                })?,
        )
    } else {
        None
    };
    let body = providers::request_body(call, query_key.as_deref(), engine_id.as_deref());
    if provider.get {
        let Value::Object(params) = &body else {
            return Err(Error::bad_request("a GET search takes query parameters"));
        };
        let doseq = matches!(provider.name, "brave" | "duckduckgo");
        let query_string = query::urlencode(params, doseq);
        return Ok(SearchHttpRequest {
            get: true,
            url: format!("{url}?{query_string}"),
            headers,
            body: Vec::new(),
        });
    }
    set("Content-Type", "application/json".to_owned());
    let body = serde_json::to_vec(&body).map_err(|e| Error::bad_request(e.to_string()))?;
    Ok(SearchHttpRequest {
        get: false,
        url,
        headers,
        body,
    })
}

fn dataforseo_login(
    provider: &SearchProvider,
    credentials: &Credentials,
    env: &dyn Environment,
) -> Result<(String, String)> {
    if let Some((login, password)) = credentials
        .api_key
        .as_deref()
        .and_then(|key| key.split_once(':'))
    {
        return Ok((login.to_owned(), password.to_owned()));
    }
    let login = env.var("DATAFORSEO_LOGIN");
    let password = env.var("DATAFORSEO_PASSWORD");
    if login.is_some() && password.is_some() {
        check_trusted_base(
            provider,
            credentials.api_base.as_deref(),
            "DATAFORSEO_LOGIN",
            env,
        )?;
    }
    let hint = " or pass credentials in api_key parameter";
    let login = login.ok_or_else(|| missing("DATAFORSEO_LOGIN", hint))?;
    let password = password.ok_or_else(|| missing("DATAFORSEO_PASSWORD", hint))?;
    Ok((login, password))
}

/// The error of a failed search response: classified by status, the provider named.
#[must_use]
pub fn error(provider: &SearchProvider, status: u16, body: &[u8]) -> Error {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let message = parsed
        .as_ref()
        .and_then(|value| {
            value
                .pointer("/error/message")
                .or_else(|| value.get("error"))
                .or_else(|| value.get("message"))
                .or_else(|| value.get("detail"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_owned());
    Error::from_upstream(status, message, parsed).with_provider(provider.name)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;

    pub struct FakeEnvironment(pub HashMap<&'static str, &'static str>);

    impl Environment for FakeEnvironment {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).map(|v| (*v).to_owned())
        }
    }

    pub fn env(pairs: &[(&'static str, &'static str)]) -> FakeEnvironment {
        FakeEnvironment(pairs.iter().copied().collect())
    }

    pub fn call(value: Value) -> SearchCall {
        match value {
            Value::Object(map) => SearchCall::parse(&map).unwrap(),
            _ => panic!("not an object"),
        }
    }

    fn header<'a>(request: &'a SearchHttpRequest, name: &str) -> Option<&'a str> {
        request
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn unknown_and_missing_providers_are_bad_requests() {
        let error = SearchCall::parse(
            json!({"query": "q", "search_provider": "nope"})
                .as_object()
                .unwrap(),
        )
        .unwrap_err();
        assert_eq!(error.status_code(), 400);
        assert!(error.message().contains("Supported: perplexity, tavily"));
        let error = SearchCall::parse(json!({"query": "q"}).as_object().unwrap()).unwrap_err();
        assert_eq!(error.inner().param.as_deref(), Some("search_provider"));
        let error = SearchCall::parse(
            json!({"query": 3, "search_provider": "tavily"})
                .as_object()
                .unwrap(),
        )
        .unwrap_err();
        assert_eq!(error.inner().param.as_deref(), Some("query"));
        let error = SearchCall::parse(
            json!({"query": "q", "search_provider": "tavily", "max_results": "ten"})
                .as_object()
                .unwrap(),
        )
        .unwrap_err();
        assert_eq!(error.inner().param.as_deref(), Some("max_results"));
        let error = lookup("you_com").unwrap_err();
        assert!(error.message().contains("does not support yet"));
    }

    #[test]
    fn a_server_key_is_not_sent_to_a_caller_host() {
        let call = call(json!({"query": "q", "search_provider": "tavily"}));
        let environment = env(&[("TAVILY_API_KEY", "server-key")]);
        let caller_base = Credentials {
            api_base: Some("http://evil.example".into()),
            ..Credentials::default()
        };
        let error = build_request(&call, &caller_base, &[], &environment).unwrap_err();
        assert_eq!(error.status_code(), 400);
        assert!(
            error
                .message()
                .contains("Refusing to send the server-configured TAVILY_API_KEY")
        );
        // The caller's own key may go anywhere.
        let own_key = Credentials {
            api_key: Some("mine".into()),
            ..caller_base.clone()
        };
        let request = build_request(&call, &own_key, &[], &environment).unwrap();
        assert_eq!(request.url, "http://evil.example/search");
        assert_eq!(header(&request, "authorization"), Some("Bearer mine"));
        // The provider's host and the operator's override are trusted.
        let default_host = Credentials {
            api_base: Some("https://api.tavily.com/".into()),
            ..Credentials::default()
        };
        assert!(build_request(&call, &default_host, &[], &environment).is_ok());
        let operator = env(&[
            ("TAVILY_API_KEY", "server-key"),
            ("TAVILY_API_BASE", "http://127.0.0.1:9000"),
        ]);
        let operator_host = Credentials {
            api_base: Some("http://127.0.0.1:9000/other".into()),
            ..Credentials::default()
        };
        let request = build_request(&call, &operator_host, &[], &operator).unwrap();
        assert_eq!(header(&request, "authorization"), Some("Bearer server-key"));
        // DataForSEO's login pair follows the same rule.
        let call = super::tests::call(json!({"query": "q", "search_provider": "dataforseo"}));
        let logins = env(&[("DATAFORSEO_LOGIN", "l"), ("DATAFORSEO_PASSWORD", "p")]);
        assert!(build_request(&call, &caller_base, &[], &logins).is_err());
        let request = build_request(&call, &Credentials::default(), &[], &logins).unwrap();
        assert_eq!(header(&request, "authorization"), Some("Basic bDpw"));
    }

    #[test]
    fn missing_keys_name_the_variable() {
        let call = call(json!({"query": "q", "search_provider": "exa_ai"}));
        let error = build_request(&call, &Credentials::default(), &[], &env(&[])).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Authentication);
        assert!(error.message().contains("EXA_API_KEY is not set"));
        let searxng = super::tests::call(json!({"query": "q", "search_provider": "searxng"}));
        let error = build_request(&searxng, &Credentials::default(), &[], &env(&[])).unwrap_err();
        assert!(error.message().contains("SEARXNG_API_BASE is not set"));
        let pse = super::tests::call(json!({"query": "q", "search_provider": "google_pse"}));
        let error = build_request(
            &pse,
            &Credentials::default(),
            &[],
            &env(&[("GOOGLE_PSE_API_KEY", "k")]),
        )
        .unwrap_err();
        assert!(error.message().contains("GOOGLE_PSE_ENGINE_ID"));
        // DuckDuckGo needs nothing.
        let ddg = super::tests::call(json!({"query": "q", "search_provider": "duckduckgo"}));
        let request = build_request(&ddg, &Credentials::default(), &[], &env(&[])).unwrap();
        assert_eq!(request.url, "https://api.duckduckgo.com/?q=q&format=json");
    }

    #[test]
    fn urls_follow_each_base_shape() {
        let cases = [
            ("perplexity", "http://h", "http://h/search"),
            ("serper", "http://h/", "http://h/search"),
            ("parallel_ai", "http://h/v1/", "http://h/v1/search"),
            ("parallel_ai", "http://h", "http://h/v1/search"),
            ("firecrawl", "http://h/v2/search", "http://h/v2/search"),
            ("dataforseo", "http://h/x", "http://h/x"),
        ];
        for (name, base, expected) in cases {
            let provider = lookup(name).unwrap();
            assert_eq!(endpoint_url(provider, base), expected, "{name}");
        }
    }

    #[test]
    fn extra_headers_go_along_and_auth_wins() {
        let call = call(json!({"query": "q", "search_provider": "serper"}));
        let credentials = Credentials {
            api_key: Some("k".into()),
            ..Credentials::default()
        };
        let extra = vec![
            ("x-trace".to_owned(), "1".to_owned()),
            ("x-api-key".to_owned(), "spoofed".to_owned()),
        ];
        let request = build_request(&call, &credentials, &extra, &env(&[])).unwrap();
        assert_eq!(header(&request, "x-trace"), Some("1"));
        assert_eq!(header(&request, "X-API-KEY"), Some("k"));
        assert_eq!(request.url, "https://google.serper.dev/search");
    }

    #[test]
    fn errors_are_classified_by_status() {
        let provider = lookup("tavily").unwrap();
        let error = error(provider, 401, br#"{"detail": {"error": "Unauthorized"}}"#);
        assert_eq!(error.kind(), ErrorKind::Authentication);
        let error = super::error(provider, 429, br#"{"error": "slow down"}"#);
        assert_eq!(error.kind(), ErrorKind::RateLimit);
        assert!(error.message().contains("slow down"));
    }
}
