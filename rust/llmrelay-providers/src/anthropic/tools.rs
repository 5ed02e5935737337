//! OpenAI tools and `tool_choice` → Anthropic tools
//! (<https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/implement-tool-use>): function
//! tools become custom tools with a sanitized name and input schema; hosted tools (web search,
//! bash, code execution, …) and tools already in Anthropic's shape pass through; MCP tools become
//! `mcp_servers`.

use std::collections::HashMap;

use serde_json::{Value, json};

use llmrelay_core::types::{ChatRequest, Tool};
use llmrelay_core::{Error, Result};

use super::request::unsupported;
use super::schema;
use super::types::{AnthropicCustomTool, AnthropicTool, AnthropicToolChoice};

/// `web_search_options.search_context_size` → `max_uses` of the web search tool.
const WEB_SEARCH_MAX_USES: &[(&str, u64)] = &[("low", 1), ("medium", 5), ("high", 10)];

/// Hosted tools are passed through by these `type` prefixes.
const HOSTED_TOOL_PREFIXES: &[&str] = &[
    "web_search",
    "bash",
    "text_editor",
    "code_execution",
    "web_fetch",
    "memory",
    "tool_search_tool",
];

/// Tool names must match `^[a-zA-Z0-9_-]{1,128}$`.
fn basic_sanitized_tool_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(128)
        .collect()
}

/// Per-request tool-name maps: `forward[original] = sanitized` for rewritten names only, and
/// its inverse. Collisions get `_2`, `_3`, … suffixes; names already valid keep priority.
#[must_use]
pub fn tool_name_maps(names: &[String]) -> (HashMap<String, String>, HashMap<String, String>) {
    let mut used: Vec<String> = names
        .iter()
        .filter(|n| !n.is_empty() && basic_sanitized_tool_name(n) == **n)
        .cloned()
        .collect();
    let mut forward: HashMap<String, String> = HashMap::new();
    for original in names.iter().filter(|n| !n.is_empty()) {
        let candidate = basic_sanitized_tool_name(original);
        if candidate == *original || forward.contains_key(original) {
            continue;
        }
        let mut unique = candidate.clone();
        let mut n = 1;
        while used.contains(&unique) {
            n += 1;
            let suffix = format!("_{n}");
            let head: String = candidate.chars().take(128 - suffix.len()).collect();
            unique = format!("{head}{suffix}");
        }
        used.push(unique.clone());
        forward.insert(original.clone(), unique);
    }
    let reverse = forward
        .iter()
        .map(|(k, v)| (v.clone(), k.clone()))
        .collect();
    (forward, reverse)
}

/// Names of the request's tools that become Anthropic custom tools.
fn custom_tool_names(tools: &[Tool]) -> Vec<String> {
    let mut names = Vec::new();
    for tool in tools {
        if tool.extra.contains_key("input_schema") {
            continue;
        }
        match tool.kind.as_str() {
            "function" | "custom" => {
                if let Some(function) = &tool.function {
                    names.push(function.name.clone());
                }
            }
            "namespace" => {
                for nested in tool
                    .extra
                    .get("tools")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if nested.get("input_schema").is_some() {
                        continue;
                    }
                    let name = nested
                        .get("function")
                        .and_then(|f| f.get("name"))
                        .or_else(|| nested.get("name"))
                        .and_then(Value::as_str);
                    names.extend(name.map(str::to_owned));
                }
            }
            _ => {}
        }
    }
    names
}

/// `sanitized → original` for the tool names this request rewrote (responses map them back).
#[must_use]
pub fn tool_name_reverse_map(request: &ChatRequest) -> HashMap<String, String> {
    let names = request
        .tools
        .as_deref()
        .map(custom_tool_names)
        .unwrap_or_default();
    tool_name_maps(&names).1
}

/// `tool_choice` (+ `parallel_tool_calls`) → Anthropic's `tool_choice`.
pub(super) fn map_tool_choice(
    choice: Option<&Value>,
    parallel: Option<bool>,
) -> Option<AnthropicToolChoice> {
    let mut mapped = match choice {
        Some(Value::String(s)) => match s.as_str() {
            "auto" => Some(AnthropicToolChoice::of_kind("auto")),
            "required" => Some(AnthropicToolChoice::of_kind("any")),
            "none" => Some(AnthropicToolChoice::of_kind("none")),
            _ => None,
        },
        Some(Value::Object(map)) if map.contains_key("type") && !map.contains_key("function") => {
            match map.get("type").and_then(Value::as_str) {
                Some("auto") => Some(AnthropicToolChoice::of_kind("auto")),
                Some("required" | "any") => Some(AnthropicToolChoice::of_kind("any")),
                Some("none") => Some(AnthropicToolChoice::of_kind("none")),
                _ => None,
            }
        }
        Some(Value::Object(map)) => map
            .get("function")
            .and_then(|f| f.get("name"))
            .and_then(Value::as_str)
            .map(|name| AnthropicToolChoice {
                kind: "tool".to_owned(),
                name: Some(name.to_owned()),
                disable_parallel_tool_use: None,
            }),
        _ => None,
    };
    if let Some(parallel) = parallel {
        if choice.and_then(Value::as_str) != Some("none") {
            let choice = mapped.get_or_insert_with(|| AnthropicToolChoice::of_kind("auto"));
            choice.disable_parallel_tool_use = Some(!parallel);
        }
    }
    mapped
}

fn tool_value(tool: &Tool) -> Value {
    serde_json::to_value(tool).unwrap_or(Value::Null)
}

/// A tool already in Anthropic's shape: its fields as given (the canonical type adds a default
/// `"type": "function"` that must not reach Anthropic).
fn anthropic_shaped_tool(tool: &Tool) -> Value {
    let mut value = tool.extra.clone();
    if tool.kind != "function" {
        value.insert("type".to_owned(), Value::from(tool.kind.clone()));
    }
    if let Some(function) = &tool.function {
        value.insert(
            "function".to_owned(),
            serde_json::to_value(function).unwrap_or(Value::Null),
        );
    }
    Value::Object(value)
}

/// OpenAI tools → Anthropic tools, plus the MCP servers among them.
pub(super) fn map_tools(tools: &[Tool]) -> Result<(Vec<AnthropicTool>, Vec<Value>)> {
    let mut mapped = Vec::with_capacity(tools.len());
    let mut servers = Vec::new();
    for tool in tools {
        if tool.kind == "namespace" {
            for nested in tool
                .extra
                .get("tools")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if nested.get("input_schema").is_some() {
                    mapped.push(AnthropicTool::Raw(nested.clone()));
                    continue;
                }
                let wrapped = if nested.get("function").is_none() && nested.get("name").is_some() {
                    let mut function = nested.as_object().cloned().unwrap_or_default();
                    function.remove("type");
                    json!({"type": nested.get("type").cloned().unwrap_or_else(|| Value::from("function")), "function": function})
                } else if nested.get("function").is_some() {
                    nested.clone()
                } else {
                    continue;
                };
                let nested: Tool = serde_json::from_value(wrapped)?;
                let (tool, server) = map_tool(&nested)?;
                mapped.extend(tool);
                servers.extend(server);
            }
            continue;
        }
        if tool.extra.contains_key("input_schema") {
            mapped.push(AnthropicTool::Raw(anthropic_shaped_tool(tool)));
            continue;
        }
        let (tool, server) = map_tool(tool)?;
        mapped.extend(tool);
        servers.extend(server);
    }
    Ok((mapped, servers))
}

fn bool_field(tool: &Tool, key: &str, message: &str) -> Result<Option<bool>> {
    let value = tool.extra.get(key).filter(|v| !v.is_null()).or_else(|| {
        tool.function
            .as_ref()
            .and_then(|f| f.extra.get(key))
            .filter(|v| !v.is_null())
    });
    match value {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(unsupported(message.to_owned())),
    }
}

fn map_tool(tool: &Tool) -> Result<(Option<AnthropicTool>, Option<Value>)> {
    let kind = tool.kind.as_str();
    let function_extra = |key: &str| {
        tool.function
            .as_ref()
            .and_then(|f| f.extra.get(key))
            .filter(|v| !v.is_null())
    };
    let tool_extra = |key: &str| tool.extra.get(key).filter(|v| !v.is_null());
    match kind {
        "function" | "custom" => {
            let function = tool.function.as_ref().ok_or_else(|| {
                Error::bad_request("AnthropicException - a function tool needs a 'function'")
                    .with_param("tools")
            })?;
            let allowed_callers =
                match tool_extra("allowed_callers").or_else(|| function_extra("allowed_callers")) {
                    None => None,
                    Some(Value::Array(items)) if items.iter().all(Value::is_string) => Some(
                        items
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect(),
                    ),
                    Some(_) => {
                        return Err(Error::bad_request(
                            "allowed_callers must be a list of strings",
                        ));
                    }
                };
            let custom = AnthropicCustomTool {
                name: function.name.clone(),
                input_schema: schema::input_schema(function.parameters.as_ref())?,
                kind: Some("custom"),
                eager_input_streaming: bool_field(
                    tool,
                    "eager_input_streaming",
                    "eager_input_streaming must be a boolean",
                )?,
                description: function.description.clone(),
                cache_control: tool_extra("cache_control").cloned().or_else(|| {
                    function_extra("cache_control")
                        .filter(|v| v.is_object())
                        .cloned()
                }),
                defer_loading: match tool_extra("defer_loading")
                    .or_else(|| function_extra("defer_loading"))
                {
                    None => None,
                    Some(Value::Bool(b)) => Some(*b),
                    Some(_) => return Err(Error::bad_request("defer_loading must be a boolean")),
                },
                allowed_callers,
                input_examples: tool_extra("input_examples")
                    .or_else(|| function_extra("input_examples"))
                    .and_then(Value::as_array)
                    .cloned(),
            };
            Ok((Some(AnthropicTool::Custom(custom)), None))
        }
        computer if computer.starts_with("computer_") => {
            let parameters = tool
                .function
                .as_ref()
                .and_then(|f| f.parameters.as_ref())
                .ok_or_else(|| Error::bad_request("Missing required parameter: parameters"))?;
            let (Some(width), Some(height)) = (
                parameters.get("display_width_px").filter(|v| !v.is_null()),
                parameters.get("display_height_px").filter(|v| !v.is_null()),
            ) else {
                return Err(Error::bad_request(
                    "Missing required parameter: display_width_px or display_height_px",
                ));
            };
            let name = tool
                .function
                .as_ref()
                .map_or("computer", |f| f.name.as_str());
            let mut value = json!({"type": computer, "name": name, "display_width_px": width, "display_height_px": height});
            if let Some(number) = parameters.get("display_number").filter(|v| !v.is_null()) {
                value["display_number"] = number.clone();
            }
            if let Some(cache_control) = tool_extra("cache_control").cloned().or_else(|| {
                function_extra("cache_control")
                    .filter(|v| v.is_object())
                    .cloned()
            }) {
                value["cache_control"] = cache_control;
            }
            Ok((Some(AnthropicTool::Raw(value)), None))
        }
        hosted if HOSTED_TOOL_PREFIXES.iter().any(|p| hosted.starts_with(p)) => {
            let name = tool_extra("name")
                .and_then(Value::as_str)
                .or_else(|| tool.function.as_ref().map(|f| f.name.as_str()))
                .ok_or_else(|| Error::bad_request("Missing required parameter: name"))?;
            let mut value = serde_json::Map::new();
            value.insert("type".to_owned(), Value::from(hosted));
            value.insert("name".to_owned(), Value::from(name));
            for (key, field) in tool_value(tool).as_object().into_iter().flatten() {
                if key != "type" && key != "name" {
                    value.insert(key.clone(), field.clone());
                }
            }
            Ok((Some(AnthropicTool::Raw(Value::Object(value))), None))
        }
        "url" => Ok((None, Some(tool_value(tool)))),
        "mcp" => {
            let mut server = json!({
                "type": "url",
                "url": tool_extra("server_url").cloned().unwrap_or(Value::Null),
                "name": tool_extra("server_label").cloned().unwrap_or(Value::Null),
            });
            if let Some(allowed) = tool_extra("allowed_tools") {
                server["tool_configuration"] = json!({"allowed_tools": allowed});
            }
            if let Some(token) = tool_extra("headers")
                .and_then(|h| h.get("Authorization"))
                .and_then(Value::as_str)
            {
                server["authorization_token"] = Value::from(token.replace("Bearer ", ""));
            }
            Ok((None, Some(server)))
        }
        other => {
            Err(Error::bad_request(format!("Unsupported tool type: {other}")).with_param("tools"))
        }
    }
}

/// `web_search_options` → Anthropic's hosted web search tool.
pub(super) fn web_search_tool(options: &serde_json::Map<String, Value>) -> Value {
    let mut tool = json!({"type": "web_search_20250305", "name": "web_search"});
    if let Some(location) = options.get("user_location").filter(|v| !v.is_null()) {
        let mut approximate = serde_json::Map::new();
        approximate.insert("type".to_owned(), Value::from("approximate"));
        if let Some(Value::Object(fields)) = location.get("approximate") {
            for key in ["city", "region", "country", "timezone"] {
                if let Some(value) = fields.get(key) {
                    approximate.insert(key.to_owned(), value.clone());
                }
            }
            tool["user_location"] = Value::Object(approximate);
        }
    }
    if let Some(size) = options.get("search_context_size").and_then(Value::as_str) {
        if let Some((_, uses)) = WEB_SEARCH_MAX_USES.iter().find(|(name, _)| *name == size) {
            tool["max_uses"] = Value::from(*uses);
        }
    }
    tool
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_names_are_sanitized_without_collisions() {
        let (forward, reverse) =
            tool_name_maps(&["a.b".to_owned(), "a_b".to_owned(), "ok".to_owned()]);
        assert_eq!(forward["a.b"], "a_b_2");
        assert_eq!(reverse["a_b_2"], "a.b");
        assert!(!forward.contains_key("ok"));
    }

    #[test]
    fn tool_choice_mapping() {
        let none = map_tool_choice(Some(&json!("none")), Some(false)).unwrap();
        assert_eq!(none, AnthropicToolChoice::of_kind("none"));
        let auto = map_tool_choice(None, Some(false)).unwrap();
        assert_eq!(auto.disable_parallel_tool_use, Some(true));
        let named = map_tool_choice(
            Some(&json!({"type": "function", "function": {"name": "f"}})),
            None,
        )
        .unwrap();
        assert_eq!(named.name.as_deref(), Some("f"));
    }
}
