//! Each provider's request body (or query parameters) from the unified parameters, and its
//! response as LiteLLM's `SearchResponse` (`{"object": "search", "results": [...]}`).

use serde_json::{Map, Value, json};

use llmrelay_core::{Error, Result};

use super::{Query, SearchCall, UNIFIED_PARAMS};

/// DataForSEO's default `location_code` (LiteLLM's `DEFAULT_DATAFORSEO_LOCATION_CODE`).
const DATAFORSEO_LOCATION_CODE: i64 = 2250;

/// The parameters that are not unified ones, added where the mapped body has no such key.
fn pass_through(body: &mut Map<String, Value>, params: &Map<String, Value>) {
    for (key, value) in params {
        if !UNIFIED_PARAMS.contains(&key.as_str()) && !body.contains_key(key) {
            body.insert(key.clone(), value.clone());
        }
    }
}

fn domains(params: &Map<String, Value>) -> Vec<String> {
    match params.get("search_domain_filter") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(domain)) => vec![domain.clone()],
        _ => Vec::new(),
    }
}

fn country(params: &Map<String, Value>) -> Option<&str> {
    params.get("country").and_then(Value::as_str)
}

/// The body (or, for GET providers, the query parameters) of a search call. `query_key` is
/// Google's key, `engine_id` its `cx`.
#[must_use]
pub fn request_body(call: &SearchCall, query_key: Option<&str>, engine_id: Option<&str>) -> Value {
    let params = &call.params;
    let mut body = Map::new();
    let get = |name: &str| params.get(name).cloned();
    match call.provider.name {
        "perplexity" => {
            body.insert("query".into(), call.query.to_value());
            for name in UNIFIED_PARAMS {
                if let Some(value) = get(name) {
                    body.insert((*name).into(), value);
                }
            }
        }
        "tavily" => {
            body.insert("query".into(), call.query.joined().into());
            if let Some(value) = get("max_results") {
                body.insert("max_results".into(), value);
            }
            if let Some(value) = get("search_domain_filter") {
                body.insert("include_domains".into(), value);
            }
            if let Some(country) = country(params) {
                body.insert("country".into(), country.to_lowercase().into());
            }
            pass_through(&mut body, params);
        }
        "exa_ai" => {
            body.insert("query".into(), call.query.joined().into());
            if let Some(value) = get("max_results") {
                body.insert("numResults".into(), value);
            }
            if let Some(value) = get("search_domain_filter") {
                body.insert("includeDomains".into(), value);
            }
            if let Some(value) = get("country") {
                body.insert("userLocation".into(), value);
            }
            pass_through(&mut body, params);
            // Exa returns page text only when asked.
            body.entry("contents")
                .or_insert_with(|| json!({"text": true}));
        }
        "serper" => {
            let mut q = call.query.joined();
            if let Some(value) = get("max_results") {
                body.insert("num".into(), value);
            }
            if let Some(country) = country(params) {
                body.insert("gl".into(), country.to_lowercase().into());
            }
            let domains = domains(params);
            if params
                .get("search_domain_filter")
                .is_some_and(Value::is_array)
                && !domains.is_empty()
            {
                let clauses: Vec<String> = domains.iter().map(|d| format!("site:{d}")).collect();
                q = format!("({q}) ({})", clauses.join(" OR "));
            }
            let mut ordered = Map::new();
            ordered.insert("q".into(), q.into());
            ordered.extend(body);
            body = ordered;
            pass_through(&mut body, params);
        }
        "brave" => {
            let mut q = call.query.joined();
            let fetch_metadata = !matches!(
                params.get("include_fetch_metadata"),
                Some(Value::Bool(false))
            );
            let domains = domains(params);
            if params
                .get("search_domain_filter")
                .is_some_and(Value::is_array)
                && !domains.is_empty()
            {
                let clauses: Vec<String> = domains.iter().map(|d| format!("site:{d}")).collect();
                q = format!("({q}) AND ({})", clauses.join(" OR "));
            }
            body.insert("q".into(), q.into());
            body.insert("include_fetch_metadata".into(), fetch_metadata.into());
            if let Some(max) = params.get("max_results").and_then(Value::as_u64) {
                body.insert("count".into(), max.min(20).into());
            }
            pass_through(&mut body, params);
        }
        "google_pse" => {
            body.insert("q".into(), call.query.joined().into());
            body.insert("cx".into(), engine_id.unwrap_or_default().into());
            body.insert("key".into(), query_key.unwrap_or_default().into());
            if let Some(max) = params.get("max_results").and_then(Value::as_u64) {
                body.insert("num".into(), max.min(10).into());
            }
            if let Some(first) = domains(params).first() {
                body.insert("siteSearch".into(), first.clone().into());
                body.insert("siteSearchFilter".into(), "i".into());
            }
            if let Some(country) = country(params) {
                body.insert("gl".into(), country.to_uppercase().into());
            }
            let mut rest = params.clone();
            rest.remove("search_engine_id");
            pass_through(&mut body, &rest);
        }
        "searxng" => {
            body.insert("q".into(), call.query.joined().into());
            body.insert("format".into(), "json".into());
            if let Some(country) = country(params) {
                let country = country.to_lowercase();
                let language = match country.as_str() {
                    "us" | "uk" => "en".to_owned(),
                    "jp" => "ja".to_owned(),
                    _ => country,
                };
                body.insert("language".into(), language.into());
            }
            pass_through(&mut body, params);
        }
        "firecrawl" => {
            body.insert("query".into(), call.query.joined().into());
            if let Some(value) = get("max_results") {
                body.insert("limit".into(), value);
            }
            if let Some(value) = get("country") {
                body.insert("country".into(), value);
            }
            pass_through(&mut body, params);
            body.entry("scrapeOptions")
                .or_insert_with(|| json!({"formats": ["markdown"], "onlyMainContent": true}));
        }
        "linkup" => {
            body.insert("q".into(), call.query.joined().into());
            body.insert(
                "depth".into(),
                get("depth").unwrap_or_else(|| "standard".into()),
            );
            body.insert(
                "outputType".into(),
                get("outputType").unwrap_or_else(|| "searchResults".into()),
            );
            if let Some(value) = get("max_results") {
                body.insert("maxResults".into(), value);
            }
            if let Some(value) = get("search_domain_filter") {
                body.insert("includeDomains".into(), value);
            }
            pass_through(&mut body, params);
        }
        "parallel_ai" => return parallel_request(&call.query, params),
        "duckduckgo" => {
            body.insert("q".into(), call.query.joined().into());
            body.insert("format".into(), "json".into());
            if let Some(value) = get("max_results") {
                body.insert("_max_results".into(), value);
            }
            for name in ["pretty", "no_redirect", "no_html", "skip_disambig"] {
                if let Some(value) = get(name) {
                    body.insert(name.into(), value);
                }
            }
        }
        "dataforseo" => {
            let keyword = match &call.query {
                Query::One(text) => text.clone(),
                Query::Many(items) => items.first().cloned().unwrap_or_default(),
            };
            body.insert("keyword".into(), keyword.into());
            if let Some(max) = params.get("max_results").and_then(Value::as_u64) {
                body.insert("depth".into(), max.min(700).into());
            }
            if let Some(value) =
                get("country").filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
            {
                body.insert("location_name".into(), value);
            }
            if let Some(value) = get("search_domain_filter").filter(|v| !is_empty(v)) {
                body.insert("domain".into(), value);
            }
            if !body.contains_key("language_code") && !body.contains_key("language_name") {
                body.insert("language_code".into(), "en".into());
            }
            if !body.contains_key("location_code") && !body.contains_key("location_name") {
                body.insert("location_code".into(), DATAFORSEO_LOCATION_CODE.into());
            }
            pass_through(&mut body, params);
            return Value::Array(vec![Value::Object(body)]);
        }
        _ => {}
    }
    Value::Object(body)
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Array(items) => items.is_empty(),
        Value::String(text) => text.is_empty(),
        Value::Null => true,
        _ => false,
    }
}

/// Parallel's v1 search: `search_queries` (and `objective` for one query), `mode`, and the
/// unified parameters folded into `advanced_settings`.
fn parallel_request(query: &Query, params: &Map<String, Value>) -> Value {
    let mut params = params.clone();
    let mut body = Map::new();
    match query {
        Query::Many(items) => {
            body.insert("search_queries".into(), query.to_value());
            let _ = items;
        }
        Query::One(text) => {
            body.insert("search_queries".into(), json!([text]));
            body.insert("objective".into(), text.clone().into());
        }
    }
    let mode = params.remove("mode");
    let processor = params.remove("processor");
    let mode = match (mode, processor) {
        (Some(mode), _) if !mode.is_null() => mode,
        (_, Some(Value::String(processor))) => match processor.as_str() {
            "base" => "basic".into(),
            "pro" => "advanced".into(),
            _ => processor.into(),
        },
        (_, Some(other)) if !other.is_null() => other,
        _ => "basic".into(),
    };
    body.insert("mode".into(), mode);
    let mut advanced = Map::new();
    if let Some(value) = params.remove("max_results") {
        advanced.insert("max_results".into(), value);
    }
    if let Some(value) = params.remove("country") {
        advanced.insert("location".into(), value);
    }
    if let Some(value) = params.remove("location") {
        advanced.insert("location".into(), value);
    }
    if let Some(value) = params.remove("max_chars_per_result") {
        advanced.insert(
            "excerpt_settings".into(),
            json!({"max_chars_per_result": value}),
        );
    }
    if let Some(value) = params.remove("fetch_policy") {
        advanced.insert("fetch_policy".into(), value);
    }
    let mut source_policy = Map::new();
    if let Some(value) = params.remove("search_domain_filter") {
        source_policy.insert("include_domains".into(), value);
    }
    for name in ["include_domains", "exclude_domains", "after_date"] {
        if let Some(value) = params.remove(name) {
            source_policy.insert(name.into(), value);
        }
    }
    if !source_policy.is_empty() {
        advanced.insert("source_policy".into(), Value::Object(source_policy));
    }
    if let Some(Value::Object(given)) = params.remove("advanced_settings") {
        advanced.extend(given);
    }
    if !advanced.is_empty() {
        body.insert("advanced_settings".into(), Value::Object(advanced));
    }
    params.remove("max_tokens_per_page");
    for (key, value) in params {
        body.insert(key, value);
    }
    Value::Object(body)
}

fn text(value: &Value, name: &str) -> String {
    value
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn optional_text(value: &Value, name: &str) -> Value {
    match value.get(name) {
        Some(Value::String(text)) => Value::String(text.clone()),
        _ => Value::Null,
    }
}

fn result(title: String, url: String, snippet: String, date: Value, last_updated: Value) -> Value {
    json!({
        "title": title,
        "url": url,
        "snippet": snippet,
        "date": date,
        "last_updated": last_updated,
    })
}

fn items<'a>(value: &'a Value, name: &str) -> &'a [Value] {
    value
        .get(name)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The provider's response as LiteLLM's `SearchResponse` JSON; `params` are the call's
/// parameters as sent (Brave and DuckDuckGo read their limits back from them).
///
/// # Errors
/// A body that is not JSON.
pub fn response(call: &SearchCall, sent: &Value, body: &[u8]) -> Result<Value> {
    let parsed: Value = serde_json::from_slice(body).map_err(|e| {
        Error::new(
            llmrelay_core::ErrorKind::Api,
            format!(
                "{} returned a search response that is not JSON: {e}",
                call.provider.name
            ),
        )
        .with_provider(call.provider.name)
    })?;
    let mut extra = Map::new();
    let results: Vec<Value> = match call.provider.name {
        "perplexity" => items(&parsed, "results")
            .iter()
            .map(|r| {
                result(
                    text(r, "title"),
                    text(r, "url"),
                    text(r, "snippet"),
                    optional_text(r, "date"),
                    optional_text(r, "last_updated"),
                )
            })
            .collect(),
        "tavily" => items(&parsed, "results")
            .iter()
            .map(|r| {
                result(
                    text(r, "title"),
                    text(r, "url"),
                    text(r, "content"),
                    Value::Null,
                    Value::Null,
                )
            })
            .collect(),
        "exa_ai" => items(&parsed, "results")
            .iter()
            .map(|r| {
                result(
                    text(r, "title"),
                    text(r, "url"),
                    text(r, "text"),
                    optional_text(r, "publishedDate"),
                    Value::Null,
                )
            })
            .collect(),
        "serper" => items(&parsed, "organic")
            .iter()
            .map(|r| {
                result(
                    text(r, "title"),
                    text(r, "link"),
                    text(r, "snippet"),
                    optional_text(r, "date"),
                    Value::Null,
                )
            })
            .collect(),
        "google_pse" => items(&parsed, "items")
            .iter()
            .map(|r| {
                result(
                    text(r, "title"),
                    text(r, "link"),
                    text(r, "snippet"),
                    Value::Null,
                    Value::Null,
                )
            })
            .collect(),
        "searxng" => items(&parsed, "results")
            .iter()
            .map(|r| {
                let date = match optional_text(r, "publishedDate") {
                    Value::Null => optional_text(r, "pubdate"),
                    date => date,
                };
                result(
                    text(r, "title"),
                    text(r, "url"),
                    text(r, "content"),
                    date,
                    Value::Null,
                )
            })
            .collect(),
        "brave" => brave_results(&parsed, sent),
        "firecrawl" => firecrawl_results(&parsed),
        "linkup" => items(&parsed, "results")
            .iter()
            .filter_map(
                |r| match r.get("type").and_then(Value::as_str).unwrap_or("text") {
                    "text" => Some(result(
                        text(r, "name"),
                        text(r, "url"),
                        text(r, "content"),
                        Value::Null,
                        Value::Null,
                    )),
                    "image" => {
                        let title = r
                            .get("name")
                            .and_then(Value::as_str)
                            .map_or_else(|| text(r, "url"), str::to_owned);
                        Some(result(
                            title,
                            text(r, "url"),
                            text(r, "content"),
                            Value::Null,
                            Value::Null,
                        ))
                    }
                    _ => None,
                },
            )
            .collect(),
        "parallel_ai" => {
            for (from, to) in [
                ("search_id", "search_id"),
                ("session_id", "session_id"),
                ("usage", "parallel_usage"),
                ("warnings", "warnings"),
            ] {
                if let Some(value) = parsed.get(from).filter(|v| !v.is_null()) {
                    extra.insert(to.into(), value.clone());
                }
            }
            items(&parsed, "results")
                .iter()
                .map(|r| {
                    let excerpts: Vec<String> = items(r, "excerpts")
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect();
                    let mut one = result(
                        text(r, "title"),
                        text(r, "url"),
                        excerpts.join(" ... "),
                        optional_text(r, "publish_date"),
                        Value::Null,
                    );
                    one["excerpts"] = json!(excerpts);
                    one
                })
                .collect()
        }
        "duckduckgo" => duckduckgo_results(&parsed, sent),
        "dataforseo" => dataforseo_results(&parsed),
        _ => Vec::new(),
    };
    let mut out = Map::new();
    out.insert("object".into(), "search".into());
    out.insert("results".into(), Value::Array(results));
    out.extend(extra);
    Ok(Value::Object(out))
}

/// Brave's sections, in the order LiteLLM reads them.
const BRAVE_SECTIONS: &[&str] = &["web", "discussions", "faqs", "faq", "news", "videos"];

fn brave_results(parsed: &Value, sent: &Value) -> Vec<Value> {
    let requested: Vec<String> = sent
        .get("result_filter")
        .and_then(Value::as_str)
        .map(|filter| {
            filter
                .split(',')
                .map(|part| part.trim().to_lowercase())
                .filter(|part| BRAVE_SECTIONS.contains(&part.as_str()))
                .collect()
        })
        .unwrap_or_default();
    let sections: Vec<&str> = if requested.is_empty() {
        BRAVE_SECTIONS.to_vec()
    } else {
        requested.iter().map(String::as_str).collect()
    };
    let limit = sent
        .get("count")
        .and_then(Value::as_u64)
        .unwrap_or(20)
        .clamp(1, 20);
    let limit = usize::try_from(limit).unwrap_or(20);
    let mut results = Vec::new();
    for section in sections {
        let Some(entries) = parsed
            .pointer(&format!("/{section}/results"))
            .and_then(Value::as_array)
        else {
            continue;
        };
        for entry in entries {
            if results.len() >= limit {
                break;
            }
            let age = entry
                .get("page_age")
                .filter(|v| !is_falsy(v))
                .or_else(|| entry.get("age"));
            let date = age
                .and_then(date::to_ymd)
                .map_or(Value::Null, Value::String);
            let last_updated = entry
                .get("fetched_content_timestamp")
                .and_then(date::to_ymd)
                .map_or(Value::Null, Value::String);
            results.push(result(
                text(entry, "title"),
                text(entry, "url"),
                text(entry, "description"),
                date,
                last_updated,
            ));
        }
    }
    results
}

fn is_falsy(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.is_empty(),
        Value::Number(number) => number.as_f64() == Some(0.0),
        Value::Bool(flag) => !flag,
        _ => false,
    }
}

fn firecrawl_results(parsed: &Value) -> Vec<Value> {
    let snippet = |r: &Value, fallback: &str| {
        r.get("markdown")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map_or_else(|| text(r, fallback), str::to_owned)
    };
    match parsed.get("data") {
        Some(Value::Array(entries)) => entries
            .iter()
            .map(|r| {
                result(
                    text(r, "title"),
                    text(r, "url"),
                    snippet(r, "description"),
                    Value::Null,
                    Value::Null,
                )
            })
            .collect(),
        Some(data @ Value::Object(_)) => {
            let web = items(data, "web").iter().map(|r| {
                result(
                    text(r, "title"),
                    text(r, "url"),
                    snippet(r, "description"),
                    Value::Null,
                    Value::Null,
                )
            });
            let news = items(data, "news").iter().map(|r| {
                result(
                    text(r, "title"),
                    text(r, "url"),
                    snippet(r, "snippet"),
                    optional_text(r, "date"),
                    Value::Null,
                )
            });
            web.chain(news).collect()
        }
        _ => Vec::new(),
    }
}

fn duckduckgo_topic(topic: &Value) -> Option<Value> {
    let text = topic.get("Text").and_then(Value::as_str)?;
    let url = topic.get("FirstURL").and_then(Value::as_str)?;
    let (title, snippet) = match text.split_once(" - ") {
        Some((title, snippet)) => (title.to_owned(), snippet.to_owned()),
        None if text.chars().count() > 50 => (
            format!("{}...", text.chars().take(50).collect::<String>()),
            text.to_owned(),
        ),
        None => (text.to_owned(), text.to_owned()),
    };
    Some(result(
        title,
        url.to_owned(),
        snippet,
        Value::Null,
        Value::Null,
    ))
}

fn duckduckgo_results(parsed: &Value, sent: &Value) -> Vec<Value> {
    let limit = sent
        .get("_max_results")
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok());
    let full = |results: &Vec<Value>| limit.is_some_and(|limit| results.len() >= limit);
    let mut results = Vec::new();
    let abstract_url = text(parsed, "AbstractURL");
    let abstract_text = text(parsed, "AbstractText");
    if !abstract_url.is_empty() && !abstract_text.is_empty() {
        results.push(result(
            text(parsed, "Heading"),
            abstract_url,
            abstract_text,
            Value::Null,
            Value::Null,
        ));
    }
    for topic in items(parsed, "RelatedTopics") {
        if full(&results) {
            break;
        }
        if topic.get("FirstURL").is_some() && topic.get("Text").is_some() {
            results.extend(duckduckgo_topic(topic));
        } else if let Some(nested) = topic.get("Topics").and_then(Value::as_array) {
            for inner in nested {
                if full(&results) {
                    break;
                }
                results.extend(duckduckgo_topic(inner));
            }
        }
    }
    results
}

fn dataforseo_results(parsed: &Value) -> Vec<Value> {
    let Some(task) = parsed.pointer("/tasks/0") else {
        return Vec::new();
    };
    if task.get("status_code").and_then(Value::as_i64) != Some(20000) {
        return Vec::new();
    }
    let Some(first) = task.pointer("/result/0") else {
        return Vec::new();
    };
    items(first, "items")
        .iter()
        .filter(|item| item.get("type").and_then(Value::as_str) == Some("organic"))
        .map(|item| {
            result(
                text(item, "title"),
                text(item, "url"),
                text(item, "description"),
                Value::Null,
                Value::Null,
            )
        })
        .collect()
}

/// Brave's dates (`page_age`, `age`, `fetched_content_timestamp`) as `YYYY-MM-DD`.
mod date {
    use serde_json::Value;

    const MONTHS: &[&str] = &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];

    fn civil_from_days(days: i64) -> (i64, u32, u32) {
        // Howard Hinnant's days-to-civil algorithm.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
        let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
        let year = yoe + era * 400 + i64::from(month <= 2);
        (year, month, day)
    }

    fn valid(year: i64, month: u32, day: u32) -> Option<String> {
        ((1..=12).contains(&month) && (1..=31).contains(&day) && (1..=9999).contains(&year))
            .then(|| format!("{year:04}-{month:02}-{day:02}"))
    }

    fn month_number(word: &str) -> Option<u32> {
        let word = word.to_ascii_lowercase();
        let prefix = word.get(..3)?;
        MONTHS
            .iter()
            .position(|m| *m == prefix)
            .and_then(|i| u32::try_from(i + 1).ok())
    }

    /// A date in the forms the API uses: a Unix timestamp (seconds or milliseconds), an ISO
    /// date or date-time, `Month D, YYYY` or `D Month YYYY`. Relative ages ("2 days ago") and
    /// anything else give `None`.
    pub fn to_ymd(value: &Value) -> Option<String> {
        let text = match value {
            Value::String(text) => text.trim().to_owned(),
            Value::Number(number) => number.to_string(),
            _ => return None,
        };
        if text.is_empty() {
            return None;
        }
        if let Ok(mut seconds) = text.parse::<f64>() {
            if seconds.abs() > 1e11 {
                seconds /= 1000.0;
            }
            #[expect(clippy::cast_possible_truncation, reason = "a day count fits an i64")]
            let days = (seconds / 86_400.0).floor() as i64;
            let (year, month, day) = civil_from_days(days);
            return valid(year, month, day);
        }
        let bytes = text.as_bytes();
        if bytes.len() >= 8
            && bytes[..4].iter().all(u8::is_ascii_digit)
            && matches!(bytes[4], b'-' | b'/')
        {
            let mut parts = text[5..].splitn(2, ['-', '/']);
            let month = parts.next()?.parse().ok()?;
            let rest = parts.next()?;
            let day_digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            return valid(text[..4].parse().ok()?, month, day_digits.parse().ok()?);
        }
        let words: Vec<&str> = text
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|w| !w.is_empty())
            .collect();
        match words.as_slice() {
            [month, day, year, ..] if month_number(month).is_some() => {
                valid(year.parse().ok()?, month_number(month)?, day.parse().ok()?)
            }
            [day, month, year, ..] if month_number(month).is_some() => {
                valid(year.parse().ok()?, month_number(month)?, day.parse().ok()?)
            }
            _ => None,
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use serde_json::json;

        #[test]
        fn dates() {
            assert_eq!(
                to_ymd(&json!("2024-05-01T10:00:00")).as_deref(),
                Some("2024-05-01")
            );
            assert_eq!(to_ymd(&json!("May 1, 2024")).as_deref(), Some("2024-05-01"));
            assert_eq!(
                to_ymd(&json!("3 August 2023")).as_deref(),
                Some("2023-08-03")
            );
            assert_eq!(to_ymd(&json!(1_700_000_000)).as_deref(), Some("2023-11-14"));
            assert_eq!(
                to_ymd(&json!("1700000000000")).as_deref(),
                Some("2023-11-14")
            );
            assert_eq!(to_ymd(&json!("2 days ago")), None);
            assert_eq!(to_ymd(&json!("")), None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::tests::{call, env};
    use crate::search::{Credentials, build_request};

    macro_rules! fixture {
        ($name:literal) => {
            include_str!(concat!("../../tests/fixtures/search/", $name, ".json")).as_bytes()
        };
    }

    fn body_of(value: Value) -> Value {
        let call = call(value);
        let credentials = Credentials {
            api_key: Some("k".into()),
            search_engine_id: Some("cx1".into()),
            ..Credentials::default()
        };
        let request = build_request(&call, &credentials, &[], &env(&[])).unwrap();
        if request.get {
            Value::String(request.url)
        } else {
            serde_json::from_slice(&request.body).unwrap()
        }
    }

    fn parse(value: Value, body: &[u8]) -> Value {
        let call = call(value);
        let sent = request_body(&call, None, None);
        response(&call, &sent, body).unwrap()
    }

    fn unified(provider: &str) -> Value {
        json!({
            "query": "rust release", "search_provider": provider, "max_results": 5,
            "search_domain_filter": ["rust-lang.org", "github.com"], "country": "US",
            "max_tokens_per_page": 512, "extra_flag": true
        })
    }

    #[test]
    fn perplexity_sends_the_unified_spec_as_is() {
        assert_eq!(
            body_of(
                json!({"query": ["a", "b"], "search_provider": "perplexity", "max_results": 3})
            ),
            json!({"query": ["a", "b"], "max_results": 3})
        );
        let parsed = parse(
            json!({"query": "q", "search_provider": "perplexity"}),
            fixture!("perplexity"),
        );
        assert_eq!(parsed["object"], "search");
        assert_eq!(parsed["results"][0]["date"], "2024-07-25");
        assert_eq!(parsed["results"][0]["last_updated"], "2024-07-26");
        assert_eq!(parsed["results"][1]["date"], Value::Null);
    }

    #[test]
    fn tavily_maps_domains_and_lowercases_the_country() {
        assert_eq!(
            body_of(unified("tavily")),
            json!({"query": "rust release", "max_results": 5,
                   "include_domains": ["rust-lang.org", "github.com"], "country": "us",
                   "extra_flag": true})
        );
        let parsed = parse(unified("tavily"), fixture!("tavily"));
        assert_eq!(parsed["results"][0]["snippet"], "The Rust team is happy");
    }

    #[test]
    fn exa_renames_and_asks_for_text() {
        assert_eq!(
            body_of(unified("exa_ai")),
            json!({"query": "rust release", "numResults": 5,
                   "includeDomains": ["rust-lang.org", "github.com"], "userLocation": "US",
                   "extra_flag": true, "contents": {"text": true}})
        );
        let parsed = parse(unified("exa_ai"), fixture!("exa_ai"));
        assert_eq!(parsed["results"][0]["date"], "2024-07-25T00:00:00.000Z");
        assert_eq!(parsed["results"][0]["snippet"], "The Rust team is happy");
    }

    #[test]
    fn serper_puts_domains_in_the_query() {
        assert_eq!(
            body_of(unified("serper")),
            json!({"q": "(rust release) (site:rust-lang.org OR site:github.com)", "num": 5,
                   "gl": "us", "extra_flag": true})
        );
        let parsed = parse(unified("serper"), fixture!("serper"));
        assert_eq!(parsed["results"][0]["url"], "https://blog.rust-lang.org/");
        assert_eq!(parsed["results"][0]["date"], "Jul 25, 2024");
        assert_eq!(parsed["results"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn brave_is_a_get_with_capped_count_and_dates() {
        assert_eq!(
            body_of(
                json!({"query": "rust", "search_provider": "brave", "max_results": 50,
                           "search_domain_filter": ["a.org"], "country": "US"})
            ),
            json!(
                "https://api.search.brave.com/res/v1/web/search?q=%28rust%29+AND+%28site%3Aa.org%29&include_fetch_metadata=True&count=20"
            )
        );
        let parsed = parse(
            json!({"query": "q", "search_provider": "brave"}),
            fixture!("brave"),
        );
        let results = parsed["results"].as_array().unwrap();
        assert_eq!(results.len(), 3);
        assert_eq!(results[0]["date"], "2024-07-25");
        assert_eq!(results[0]["last_updated"], "2024-07-25");
        assert_eq!(results[1]["date"], Value::Null);
        assert_eq!(results[2]["title"], "News item");
        let limited = parse(
            json!({"query": "q", "search_provider": "brave", "max_results": 1, "result_filter": "news"}),
            fixture!("brave"),
        );
        assert_eq!(limited["results"].as_array().unwrap().len(), 1);
        assert_eq!(limited["results"][0]["date"], "2024-08-03");
    }

    #[test]
    fn google_pse_sends_key_and_engine_in_the_query() {
        assert_eq!(
            body_of(
                json!({"query": "rust", "search_provider": "google_pse", "max_results": 50,
                           "search_domain_filter": ["a.org", "b.org"], "country": "de",
                           "search_engine_id": "ignored-here"})
            ),
            json!(
                "https://www.googleapis.com/customsearch/v1?q=rust&cx=cx1&key=k&num=10&siteSearch=a.org&siteSearchFilter=i&gl=DE"
            )
        );
        let parsed = parse(
            json!({"query": "q", "search_provider": "google_pse"}),
            fixture!("google_pse"),
        );
        assert_eq!(parsed["results"][0]["url"], "https://blog.rust-lang.org/");
    }

    #[test]
    fn searxng_maps_the_country_to_a_language() {
        let call = call(
            json!({"query": "rust", "search_provider": "searxng", "country": "JP", "pageno": 2}),
        );
        let credentials = Credentials {
            api_base: Some("http://searx.local/".into()),
            ..Credentials::default()
        };
        let request = build_request(&call, &credentials, &[], &env(&[])).unwrap();
        assert!(request.get);
        assert_eq!(
            request.url,
            "http://searx.local/search?q=rust&format=json&language=ja&pageno=2"
        );
        assert!(request.headers.iter().all(|(n, _)| n != "Authorization"));
        let parsed = parse(
            json!({"query": "q", "search_provider": "searxng"}),
            fixture!("searxng"),
        );
        assert_eq!(parsed["results"][0]["date"], "2024-07-25T00:00:00");
        assert_eq!(parsed["results"][1]["date"], "2024-07-20");
    }

    #[test]
    fn firecrawl_reads_both_response_versions() {
        assert_eq!(
            body_of(unified("firecrawl")),
            json!({"query": "rust release", "limit": 5, "country": "US", "extra_flag": true,
                   "scrapeOptions": {"formats": ["markdown"], "onlyMainContent": true}})
        );
        let parsed = parse(unified("firecrawl"), fixture!("firecrawl"));
        let results = parsed["results"].as_array().unwrap();
        assert_eq!(results.len(), 3);
        assert_eq!(results[0]["snippet"], "# Rust 1.80\nThe Rust team is happy");
        assert_eq!(results[1]["snippet"], "plain description");
        assert_eq!(results[2]["date"], "3 months ago");
        let v1 = parse(unified("firecrawl"), fixture!("firecrawl_v1"));
        assert_eq!(v1["results"][0]["snippet"], "The Rust team is happy");
    }

    #[test]
    fn linkup_defaults_depth_and_output_type() {
        assert_eq!(
            body_of(unified("linkup")),
            json!({"q": "rust release", "depth": "standard", "outputType": "searchResults",
                   "maxResults": 5, "includeDomains": ["rust-lang.org", "github.com"],
                   "extra_flag": true})
        );
        let parsed = parse(unified("linkup"), fixture!("linkup"));
        let results = parsed["results"].as_array().unwrap();
        assert_eq!(results.len(), 2);
        assert_eq!(results[1]["title"], "https://img.example/logo.png");
    }

    #[test]
    fn parallel_folds_params_into_advanced_settings() {
        assert_eq!(
            body_of(unified("parallel_ai")),
            json!({"search_queries": ["rust release"], "objective": "rust release", "mode": "basic",
                   "advanced_settings": {"max_results": 5, "location": "US",
                       "source_policy": {"include_domains": ["rust-lang.org", "github.com"]}},
                   "extra_flag": true})
        );
        assert_eq!(
            body_of(
                json!({"query": ["a", "b"], "search_provider": "parallel_ai", "processor": "pro"})
            ),
            json!({"search_queries": ["a", "b"], "mode": "advanced"})
        );
        let parsed = parse(unified("parallel_ai"), fixture!("parallel_ai"));
        assert_eq!(
            parsed["results"][0]["snippet"],
            "The Rust team ... is happy"
        );
        assert_eq!(
            parsed["results"][0]["excerpts"],
            json!(["The Rust team", "is happy"])
        );
        assert_eq!(parsed["search_id"], "search_e749586f");
        assert_eq!(parsed["parallel_usage"][1]["count"], 5);
        assert!(parsed.get("warnings").is_none());
    }

    #[test]
    fn duckduckgo_reads_the_abstract_and_topics() {
        assert_eq!(
            body_of(
                json!({"query": "rust lang", "search_provider": "duckduckgo", "max_results": 2, "no_html": 1, "other": "x"})
            ),
            json!("https://api.duckduckgo.com/?q=rust+lang&format=json&_max_results=2&no_html=1")
        );
        let parsed = parse(
            json!({"query": "q", "search_provider": "duckduckgo"}),
            fixture!("duckduckgo"),
        );
        let results = parsed["results"].as_array().unwrap();
        assert_eq!(results.len(), 3);
        assert_eq!(results[0]["title"], "Rust (programming language)");
        assert_eq!(results[1]["title"], "Cargo");
        assert_eq!(results[1]["snippet"], "The Rust package manager");
        assert_eq!(
            results[2]["title"],
            "Rustup installs the Rust toolchain on many platfor..."
        );
        let limited = parse(
            json!({"query": "q", "search_provider": "duckduckgo", "max_results": 2}),
            fixture!("duckduckgo"),
        );
        assert_eq!(limited["results"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn dataforseo_sends_one_task() {
        let call = call(
            json!({"query": ["first", "second"], "search_provider": "dataforseo",
                               "max_results": 900, "country": "United States"}),
        );
        let credentials = Credentials {
            api_key: Some("login:pass".into()),
            ..Credentials::default()
        };
        let request = build_request(&call, &credentials, &[], &env(&[])).unwrap();
        let sent: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(
            sent,
            json!([{"keyword": "first", "depth": 700, "location_name": "United States",
                    "language_code": "en"}])
        );
        let parsed = parse(
            json!({"query": "q", "search_provider": "dataforseo"}),
            fixture!("dataforseo"),
        );
        let results = parsed["results"].as_array().unwrap();
        assert_eq!(results.len(), 1);
        assert_eq!(results[0]["snippet"], "The Rust team is happy");
    }

    #[test]
    fn a_body_that_is_not_json_is_an_api_error() {
        let call = call(json!({"query": "q", "search_provider": "tavily"}));
        let error = response(&call, &Value::Null, b"<html>").unwrap_err();
        assert_eq!(error.kind(), llmrelay_core::ErrorKind::Api);
    }
}
