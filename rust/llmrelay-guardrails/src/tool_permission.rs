//! `tool_permission`: ordered allow/deny rules over tool names and types (regexes, whole-name
//! match) and the arguments the model passes (`allowed_param_patterns` by dotted path), checked
//! on the request's tools and on the answer's tool calls; a denial blocks or rewrites, as in LiteLLM.

use regex::Regex;
use serde::Deserialize;
use serde_json::{Map, Value};

use llmrelay_core::types::{ChatResponse, ToolCall};

use crate::config::{ConfigError, GuardrailSpec};
use crate::error::GuardrailError;
use crate::guardrail::{Guardrail, GuardrailFuture, HookContext, HookOutcome, StreamMode, ready};
use crate::info::{Findings, GuardrailStatus};
use crate::payload::RequestPayload;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Allow,
    Deny,
}

impl<'de> Deserialize<'de> for Decision {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        match text.to_ascii_lowercase().as_str() {
            "allow" => Ok(Self::Allow),
            "deny" => Ok(Self::Deny),
            _ => Err(serde::de::Error::custom(format!(
                "unknown decision '{text}', expected allow or deny"
            ))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum OnDisallowed {
    #[default]
    Block,
    Rewrite,
}

impl<'de> Deserialize<'de> for OnDisallowed {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        match text.to_ascii_lowercase().as_str() {
            "block" => Ok(Self::Block),
            "rewrite" => Ok(Self::Rewrite),
            _ => Err(serde::de::Error::custom(format!(
                "unknown on_disallowed_action '{text}', expected block or rewrite"
            ))),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleConfig {
    id: String,
    #[serde(default)]
    tool_name: Option<String>,
    #[serde(default)]
    tool_type: Option<String>,
    decision: Decision,
    #[serde(default)]
    allowed_param_patterns: Option<Map<String, Value>>,
}

#[derive(Debug, Clone, Deserialize)]
struct ToolPermissionOptions {
    #[serde(default)]
    rules: Option<Vec<RuleConfig>>,
    #[serde(default)]
    default_action: Option<Decision>,
    #[serde(default)]
    on_disallowed_action: Option<OnDisallowed>,
    #[serde(flatten)]
    other: Map<String, Value>,
}

struct Rule {
    id: String,
    name: Option<Regex>,
    kind: Option<Regex>,
    decision: Decision,
    params: Vec<(String, Regex)>,
}

/// The tool permission guardrail.
pub(crate) struct ToolPermission {
    rules: Vec<Rule>,
    default_action: Decision,
    on_disallowed: OnDisallowed,
    template: Option<String>,
}

/// `^(?:pattern)$`: LiteLLM matches the whole name (`fullmatch`).
fn whole(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!("^(?:{pattern})$"))
}

fn blank_to_none(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Flattens arguments into `a.b`, `list[]`, `list[].field` paths and their leaf values.
fn argument_paths(value: &Value, path: &str, depth: usize, out: &mut Vec<(String, String)>) {
    if depth > 64 {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let next = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                argument_paths(child, &next, depth + 1, out);
            }
        }
        Value::Array(items) => {
            let next = if path.is_empty() {
                "[]".to_owned()
            } else {
                format!("{path}[]")
            };
            for item in items {
                argument_paths(item, &next, depth + 1, out);
            }
        }
        leaf if !path.is_empty() => {
            let text = match leaf {
                Value::String(text) => text.clone(),
                Value::Bool(true) => "True".to_owned(),
                Value::Bool(false) => "False".to_owned(),
                Value::Null => "None".to_owned(),
                other => other.to_string(),
            };
            out.push((path.to_owned(), text));
        }
        _ => {}
    }
}

impl ToolPermission {
    pub(crate) fn build(
        spec: &GuardrailSpec,
        warnings: &mut Vec<String>,
    ) -> Result<Self, ConfigError> {
        let options: ToolPermissionOptions = spec.parse_options()?;
        for key in options.other.keys() {
            warnings.push(format!(
                "{}: not a tool_permission option; ignored",
                spec.field_path(key)
            ));
        }
        let mut rules = Vec::new();
        for (index, config) in options.rules.unwrap_or_default().into_iter().enumerate() {
            let field = |name: &str| spec.field_path(&format!("rules[{index}].{name}"));
            let tool_name = blank_to_none(config.tool_name);
            let tool_type = blank_to_none(config.tool_type);
            if tool_name.is_none() && tool_type.is_none() {
                return Err(ConfigError::new(
                    field("tool_name"),
                    "Each rule must specify at least a tool_name or tool_type regex",
                ));
            }
            let compile =
                |pattern: &Option<String>, name: &str| -> Result<Option<Regex>, ConfigError> {
                    pattern.as_deref().map(whole).transpose().map_err(|error| {
                        ConfigError::new(
                            field(name),
                            format!("Invalid regex for {name} in rule '{}': {error}", config.id),
                        )
                    })
                };
            let name = compile(&tool_name, "tool_name")?;
            let kind = compile(&tool_type, "tool_type")?;
            let mut params = Vec::new();
            for (path, pattern) in config.allowed_param_patterns.unwrap_or_default() {
                let Value::String(pattern) = pattern else {
                    return Err(ConfigError::new(
                        field(&format!("allowed_param_patterns.{path}")),
                        "expected a regex string",
                    ));
                };
                let compiled = whole(&pattern).map_err(|error| {
                    ConfigError::new(
                        field(&format!("allowed_param_patterns.{path}")),
                        format!(
                            "Invalid regex in allowed_param_patterns for rule '{}': {error}",
                            config.id
                        ),
                    )
                })?;
                params.push((path, compiled));
            }
            rules.push(Rule {
                id: config.id,
                name,
                kind,
                decision: config.decision,
                params,
            });
        }
        Ok(Self {
            rules,
            default_action: options.default_action.unwrap_or(Decision::Deny),
            on_disallowed: options.on_disallowed_action.unwrap_or_default(),
            template: spec.violation_message_template.clone(),
        })
    }

    /// LiteLLM's `render_violation_message`: the template with `{tool_name}`, `{rule_id}` and
    /// `{default_message}` filled in, or the default.
    fn render(&self, default: String, tool_name: &str, rule_id: Option<&str>) -> String {
        match &self.template {
            None => default,
            Some(template) => template
                .replace("{tool_name}", tool_name)
                .replace("{rule_id}", rule_id.unwrap_or("None"))
                .replace("{default_message}", &default),
        }
    }

    fn matches(rule: &Rule, name: Option<&str>, kind: Option<&str>) -> (bool, bool) {
        let name_ok = rule
            .name
            .as_ref()
            .is_none_or(|regex| name.is_some_and(|name| regex.is_match(name)));
        let kind_ok = rule
            .kind
            .as_ref()
            .is_none_or(|regex| kind.is_some_and(|kind| regex.is_match(kind)));
        (name_ok && kind_ok, rule.name.is_some() && name_ok)
    }

    fn verdict(
        &self,
        allowed: bool,
        identifier: &str,
        rule_id: Option<&str>,
    ) -> (bool, Option<String>, String) {
        let word = if allowed { "allowed" } else { "denied" };
        let default = match rule_id {
            Some(id) => format!("Tool '{identifier}' {word} by rule '{id}'"),
            None => format!("Tool '{identifier}' {word} by default action"),
        };
        (
            allowed,
            rule_id.map(str::to_owned),
            self.render(default, identifier, rule_id),
        )
    }

    /// A tool definition of the request (no arguments to check).
    fn check_definition(&self, name: &str, kind: &str) -> (bool, Option<String>, String) {
        for rule in &self.rules {
            if Self::matches(rule, Some(name), Some(kind)).0 {
                return self.verdict(rule.decision == Decision::Allow, name, Some(&rule.id));
            }
        }
        self.verdict(self.default_action == Decision::Allow, name, None)
    }

    /// A tool call of the answer, arguments included.
    fn check_call(&self, call: &ToolCall) -> (bool, Option<String>, String) {
        let name = Some(call.function.name.as_str()).filter(|name| !name.is_empty());
        let kind = Some(call.kind.as_str());
        let identifier = name.unwrap_or(call.kind.as_str());
        let mut last_pattern_failure = None;
        for rule in &self.rules {
            let (matched, check_params) = Self::matches(rule, name, kind);
            if !matched {
                continue;
            }
            if !rule.params.is_empty() && check_params {
                let arguments: Option<Value> = (!call.function.arguments.is_empty())
                    .then(|| serde_json::from_str(&call.function.arguments).ok())
                    .flatten();
                let failure = match &arguments {
                    _ if call.function.arguments.is_empty() => Some("missing arguments"),
                    None => Some("arguments could not be parsed"),
                    Some(Value::Object(map)) if map.is_empty() => {
                        let default = format!(
                            "Tool '{identifier}' is missing arguments required by rule '{}'",
                            rule.id
                        );
                        return (
                            false,
                            Some(rule.id.clone()),
                            self.render(default, identifier, Some(&rule.id)),
                        );
                    }
                    Some(Value::Object(_)) => None,
                    Some(_) => Some("arguments must be a JSON object"),
                };
                if let Some(reason) = failure {
                    let default = format!(
                        "Tool '{identifier}' {reason} required by rule '{}'",
                        rule.id
                    );
                    return (
                        false,
                        Some(rule.id.clone()),
                        self.render(default, identifier, Some(&rule.id)),
                    );
                }
                let mut paths = Vec::new();
                if let Some(arguments) = &arguments {
                    argument_paths(arguments, "", 0, &mut paths);
                }
                let mut failed = None;
                for (path, regex) in &rule.params {
                    let values: Vec<&String> = paths
                        .iter()
                        .filter(|(p, _)| p == path)
                        .map(|(_, v)| v)
                        .collect();
                    if values.is_empty() {
                        failed = Some(format!(
                            "Missing value for path '{path}' required by rule '{}'",
                            rule.id
                        ));
                        break;
                    }
                    if let Some(value) = values.iter().find(|value| !regex.is_match(value)) {
                        let pattern = regex
                            .as_str()
                            .trim_start_matches("^(?:")
                            .trim_end_matches(")$");
                        failed = Some(format!(
                            "Value '{value}' for path '{path}' does not match allowed pattern '{pattern}' for tool '{identifier}'"
                        ));
                        break;
                    }
                }
                if failed.is_some() {
                    last_pattern_failure = failed;
                    continue;
                }
            }
            return self.verdict(rule.decision == Decision::Allow, identifier, Some(&rule.id));
        }
        let allowed = self.default_action == Decision::Allow;
        match last_pattern_failure {
            Some(message) if !allowed => (false, None, self.render(message, identifier, None)),
            _ => self.verdict(allowed, identifier, None),
        }
    }

    fn tool_choice_name(value: Option<&Value>) -> Option<String> {
        match value? {
            Value::String(text) if !matches!(text.as_str(), "auto" | "none" | "required") => {
                Some(text.clone())
            }
            Value::Object(map) if map.get("type").and_then(Value::as_str) == Some("function") => {
                map.get("function")?
                    .get("name")?
                    .as_str()
                    .map(str::to_owned)
            }
            _ => None,
        }
    }
}

impl Guardrail for ToolPermission {
    fn provider(&self) -> &str {
        "tool_permission"
    }

    fn check_request<'a>(
        &'a self,
        request: &'a mut RequestPayload<'_>,
        context: HookContext<'a>,
    ) -> GuardrailFuture<'a> {
        let Some(chat) = request.chat_mut() else {
            return ready(Ok(HookOutcome::default()));
        };
        let mut offered: Vec<(String, String)> = chat
            .tools
            .iter()
            .flatten()
            .filter(|tool| tool.kind == "function")
            .filter_map(|tool| {
                tool.function
                    .as_ref()
                    .map(|function| (function.name.clone(), tool.kind.clone()))
            })
            .collect();
        let legacy: Vec<String> = chat
            .extra
            .get("functions")
            .and_then(Value::as_array)
            .map(|functions| {
                functions
                    .iter()
                    .filter_map(|f| f.get("name")?.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        offered.extend(
            legacy
                .iter()
                .map(|name| (name.clone(), "function".to_owned())),
        );
        let forced = Self::tool_choice_name(chat.tool_choice.as_ref());
        let forced_legacy = Self::tool_choice_name(chat.extra.get("function_call"));
        offered.extend(
            forced
                .iter()
                .chain(forced_legacy.iter())
                .map(|name| (name.clone(), "function".to_owned())),
        );
        let mut denied: Vec<String> = Vec::new();
        for (name, kind) in &offered {
            let (allowed, _, message) = self.check_definition(name, kind);
            if allowed {
                continue;
            }
            if self.on_disallowed == OnDisallowed::Block {
                let mut detail = Map::new();
                detail.insert("error".to_owned(), Value::from("Violated guardrail policy"));
                detail.insert("detection_message".to_owned(), Value::from(message.clone()));
                let findings = Findings {
                    status: GuardrailStatus::GuardrailIntervened,
                    response: Some(Value::from(message)),
                    violation_categories: vec![name.clone()],
                    ..Findings::default()
                };
                return ready(Err(GuardrailError::http_detail(
                    context.guardrail_name,
                    context.hook,
                    detail,
                    findings,
                )));
            }
            denied.push(name.clone());
        }
        if !denied.is_empty() {
            if let Some(tools) = chat.tools.as_mut() {
                tools.retain(|tool| {
                    !(tool.kind == "function"
                        && tool
                            .function
                            .as_ref()
                            .is_some_and(|f| denied.contains(&f.name)))
                });
            }
            if let Some(Value::Array(functions)) = chat.extra.get_mut("functions") {
                functions.retain(|f| {
                    !f.get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|name| denied.iter().any(|d| d == name))
                });
            }
            if forced.is_some_and(|name| denied.contains(&name)) {
                chat.tool_choice = Some(Value::from("none"));
            }
            if forced_legacy.is_some_and(|name| denied.contains(&name)) {
                chat.extra
                    .insert("function_call".to_owned(), Value::from("none"));
            }
        }
        let findings = Findings {
            response: Some(Value::from(if denied.is_empty() {
                "allow"
            } else {
                "rewrite"
            })),
            violation_categories: denied,
            ..Findings::default()
        };
        ready(Ok(HookOutcome::with_findings(findings)))
    }

    fn check_response<'a>(
        &'a self,
        response: &'a mut ChatResponse,
        context: HookContext<'a>,
    ) -> GuardrailFuture<'a> {
        let mut denied_names = Vec::new();
        for choice in &mut response.choices {
            let Some(calls) = choice.message.tool_calls.as_mut() else {
                continue;
            };
            let mut errors = Vec::new();
            let mut kept = Vec::with_capacity(calls.len());
            for call in calls.drain(..) {
                let (allowed, rule_id, message) = self.check_call(&call);
                if allowed {
                    kept.push(call);
                    continue;
                }
                if self.on_disallowed == OnDisallowed::Block {
                    let findings = Findings {
                        status: GuardrailStatus::GuardrailIntervened,
                        response: Some(Value::from(message.clone())),
                        violation_categories: vec![call.function.name.clone()],
                        ..Findings::default()
                    };
                    return ready(Err(GuardrailError::raised(
                        context.guardrail_name,
                        context.hook,
                        &message,
                        true,
                        findings,
                    )));
                }
                let mut error = format!("Permission denied: {message}");
                if let Some(rule_id) = rule_id {
                    error.push_str(&format!(" (Rule: {rule_id})"));
                }
                errors.push(error);
                denied_names.push(call.function.name.clone());
            }
            if errors.is_empty() {
                *calls = kept;
                continue;
            }
            let joined = errors.join("\n");
            choice.message.content = Some(
                match choice.message.content.take().filter(|c| !c.is_empty()) {
                    Some(existing) => format!("{existing}\n\n{joined}"),
                    None => joined,
                },
            );
            if kept.is_empty() {
                choice.message.tool_calls = None;
                if choice.finish_reason.as_deref() == Some("tool_calls") {
                    choice.finish_reason = Some("stop".to_owned());
                }
            } else {
                *calls = kept;
            }
        }
        let findings = Findings {
            response: Some(Value::from(if denied_names.is_empty() {
                "allow"
            } else {
                "rewrite"
            })),
            violation_categories: denied_names,
            ..Findings::default()
        };
        ready(Ok(HookOutcome::with_findings(findings)))
    }

    fn stream_mode(&self, _context: HookContext<'_>) -> StreamMode {
        StreamMode::HoldToolCalls
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::GuardrailsConfig;
    use serde_json::json;

    fn build(options: Value) -> Result<ToolPermission, ConfigError> {
        let mut params = json!({"guardrail": "tool_permission", "mode": ["pre_call", "post_call"]});
        if let (Value::Object(params), Value::Object(options)) = (&mut params, options) {
            params.extend(options);
        }
        let spec = GuardrailsConfig::from_sections(
            Some(&json!([{"guardrail_name": "tp", "litellm_params": params}])),
            None,
        )
        .unwrap()
        .guardrails
        .remove(0);
        ToolPermission::build(&spec, &mut Vec::new())
    }

    fn call(name: &str, arguments: &str) -> ToolCall {
        serde_json::from_value(json!({"id": "c1", "type": "function", "function": {"name": name, "arguments": arguments}})).unwrap()
    }

    #[test]
    fn rules_decide_in_order_with_argument_patterns() {
        let guard = build(json!({
            "rules": [
                {"id": "read_only_fs", "tool_name": "read_file", "decision": "allow", "allowed_param_patterns": {"path": "/tmp/.*"}},
                {"id": "getters", "tool_name": "get_.*", "decision": "ALLOW"},
                {"id": "no_shell", "tool_name": "run_shell", "decision": "deny"}
            ],
            "default_action": "deny"
        }))
        .unwrap();
        assert!(guard.check_call(&call("get_weather", "{}")).0);
        assert!(guard.check_call(&call("get_weather_x", "{}")).0);
        let (allowed, rule, message) = guard.check_call(&call("run_shell", "{\"cmd\": \"ls\"}"));
        assert!(!allowed);
        assert_eq!(rule.as_deref(), Some("no_shell"));
        assert_eq!(message, "Tool 'run_shell' denied by rule 'no_shell'");
        assert!(
            guard
                .check_call(&call("read_file", "{\"path\": \"/tmp/a.txt\"}"))
                .0
        );
        let (allowed, _, message) =
            guard.check_call(&call("read_file", "{\"path\": \"/etc/passwd\"}"));
        assert!(!allowed);
        assert_eq!(
            message,
            "Value '/etc/passwd' for path 'path' does not match allowed pattern '/tmp/.*' for tool 'read_file'"
        );
        let (_, _, message) = guard.check_call(&call("read_file", "not json"));
        assert_eq!(
            message,
            "Tool 'read_file' arguments could not be parsed required by rule 'read_only_fs'"
        );
        let (_, _, message) = guard.check_call(&call("delete_all", "{}"));
        assert_eq!(message, "Tool 'delete_all' denied by default action");
    }

    #[test]
    fn nested_paths_and_templates() {
        let mut paths = Vec::new();
        argument_paths(
            &json!({"a": {"b": 1}, "list": [{"x": "y"}, {"x": "z"}]}),
            "",
            0,
            &mut paths,
        );
        assert!(paths.contains(&("a.b".to_owned(), "1".to_owned())));
        assert!(paths.contains(&("list[].x".to_owned(), "z".to_owned())));
        let mut params = json!({"guardrail": "tool_permission", "mode": "pre_call", "violation_message_template": "No {tool_name} ({rule_id}): {default_message}"});
        let spec = GuardrailsConfig::from_sections(
            Some(&json!([{"guardrail_name": "tp", "litellm_params": params.take()}])),
            None,
        )
        .unwrap()
        .guardrails
        .remove(0);
        let guard = ToolPermission::build(&spec, &mut Vec::new()).unwrap();
        assert_eq!(
            guard.check_definition("x", "function").2,
            "No x (None): Tool 'x' denied by default action"
        );
    }

    #[test]
    fn config_errors() {
        let error = build(json!({"rules": [{"id": "r", "decision": "allow"}]}))
            .err()
            .unwrap();
        assert_eq!(
            error.path,
            "guardrails[0].litellm_params.rules[0].tool_name"
        );
        let error = build(json!({"rules": [{"id": "r", "tool_name": "(", "decision": "allow"}]}))
            .err()
            .unwrap();
        assert!(
            error
                .message
                .starts_with("Invalid regex for tool_name in rule 'r'")
        );
        let error = build(json!({"rules": [{"id": "r", "tool_name": "x", "decision": "maybe"}]}))
            .err()
            .unwrap();
        assert_eq!(error.path, "guardrails[0].litellm_params.rules[0].decision");
        let error = build(json!({"on_disallowed_action": "explode"}))
            .err()
            .unwrap();
        assert_eq!(
            error.path,
            "guardrails[0].litellm_params.on_disallowed_action"
        );
    }
}
