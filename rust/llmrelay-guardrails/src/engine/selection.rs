//! Which guardrails a call asks for: the request's `guardrails` (body or metadata), the key's and
//! team's `guardrails`, `disable_global_guardrails`, `opted_out_global_guardrails`, and tags.

use serde_json::{Map, Value, json};

use llmrelay_pipeline::call::string_list as strings;

/// A guardrail the request names, with the `extra_body` it passes to it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RequestedGuardrail {
    pub name: String,
    pub extra_body: Option<Map<String, Value>>,
}

/// What the caller and its key/team select. Built by the pipeline from the parsed request and
/// the caller's identity; resolved against the configured guardrails by
/// [`Guardrails::begin_call`](super::Guardrails::begin_call).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Selection {
    /// `guardrails: [...]` of the request body and of its `metadata` / `litellm_metadata`.
    pub requested: Vec<RequestedGuardrail>,
    /// Legacy switches `{"guardrails": {"name": false}}` turning default-on guardrails off.
    pub switched_off: Vec<String>,
    /// The key's `guardrails` (its metadata, as LiteLLM stores them).
    pub key_guardrails: Vec<String>,
    /// The team's `guardrails`.
    pub team_guardrails: Vec<String>,
    /// Key or team `disable_global_guardrails`: default-on guardrails do not run.
    pub disable_global_guardrails: bool,
    /// Key or team `opted_out_global_guardrails`: these default-on guardrails do not run.
    pub opted_out_global_guardrails: Vec<String>,
    /// Request tags (`metadata.tags`), for tag-based modes.
    pub tags: Vec<String>,
}

/// A request whose `guardrails` field cannot be read (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SelectionError {
    pub param: String,
    pub message: String,
}

impl SelectionError {
    /// `{"error": {"message", "type": "invalid_request_error", "param", "code": "400"}}`.
    #[must_use]
    pub fn to_openai_json(&self) -> Value {
        json!({"error": {"message": self.message, "type": "invalid_request_error", "param": self.param, "code": "400"}})
    }
}

fn parse_guardrails(
    value: &Value,
    param: &str,
    selection: &mut Selection,
) -> Result<(), SelectionError> {
    let error = |message: String| SelectionError {
        param: param.to_owned(),
        message,
    };
    match value {
        Value::Null => Ok(()),
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                match item {
                    Value::String(name) => selection.requested.push(RequestedGuardrail {
                        name: name.clone(),
                        extra_body: None,
                    }),
                    Value::Object(map) => {
                        for (name, params) in map {
                            let extra_body = match params.get("extra_body") {
                                None | Some(Value::Null) => None,
                                Some(Value::Object(body)) => Some(body.clone()),
                                Some(_) => {
                                    return Err(error(format!(
                                        "{param}[{index}].{name}.extra_body must be an object"
                                    )));
                                }
                            };
                            selection.requested.push(RequestedGuardrail {
                                name: name.clone(),
                                extra_body,
                            });
                        }
                    }
                    _ => {
                        return Err(error(format!(
                            "{param}[{index}] must be a guardrail name or {{name: {{extra_body: {{...}}}}}}"
                        )));
                    }
                }
            }
            Ok(())
        }
        // LiteLLM's older per-request switches: {"name": true | false}.
        Value::Object(map) => {
            for (name, switch) in map {
                match switch {
                    Value::Bool(true) => selection.requested.push(RequestedGuardrail {
                        name: name.clone(),
                        extra_body: None,
                    }),
                    Value::Bool(false) => selection.switched_off.push(name.clone()),
                    _ => return Err(error(format!("{param}.{name} must be true or false"))),
                }
            }
            Ok(())
        }
        _ => Err(error(format!("{param} must be a list of guardrail names"))),
    }
}

impl Selection {
    /// Reads a request body: `guardrails` at the top level, in `metadata` and in
    /// `litellm_metadata` (all of them count), and `metadata.tags`.
    ///
    /// # Errors
    /// A `guardrails` value that is neither a list nor LiteLLM's `{name: bool}` map.
    pub fn from_request(body: &Map<String, Value>) -> Result<Self, SelectionError> {
        let mut selection = Self::default();
        if let Some(value) = body.get("guardrails") {
            parse_guardrails(value, "guardrails", &mut selection)?;
        }
        for key in ["metadata", "litellm_metadata"] {
            let Some(Value::Object(metadata)) = body.get(key) else {
                continue;
            };
            if let Some(value) = metadata.get("guardrails") {
                parse_guardrails(value, &format!("{key}.guardrails"), &mut selection)?;
            }
            selection.tags.extend(strings(metadata.get("tags")));
        }
        selection.tags.extend(strings(body.get("tags")));
        Ok(selection)
    }

    /// Adds the admin settings of the caller's key and team (their `metadata` as LiteLLM stores
    /// it): `guardrails`, `disable_global_guardrails`, `opted_out_global_guardrails`. Key
    /// settings win over team settings, as in LiteLLM.
    #[must_use]
    pub fn with_admin_metadata(
        mut self,
        key: Option<&Map<String, Value>>,
        team: Option<&Map<String, Value>>,
    ) -> Self {
        if let Some(team) = team {
            self.team_guardrails = strings(team.get("guardrails"));
        }
        if let Some(key) = key {
            self.key_guardrails = strings(key.get("guardrails"));
        }
        let flag = |map: Option<&Map<String, Value>>| {
            map.and_then(|m| m.get("disable_global_guardrails"))
                .and_then(Value::as_bool)
        };
        self.disable_global_guardrails = flag(key).or_else(|| flag(team)).unwrap_or(false);
        let key_opted = key
            .and_then(|m| m.get("opted_out_global_guardrails"))
            .filter(|v| v.is_array());
        let team_opted = team
            .and_then(|m| m.get("opted_out_global_guardrails"))
            .filter(|v| v.is_array());
        if let Some(value) = key_opted.or(team_opted) {
            self.opted_out_global_guardrails = strings(Some(value));
        }
        self
    }

    /// Whether a guardrail (or its legacy group) is asked for by the request, key or team.
    pub(crate) fn names(&self, name: &str, group: Option<&str>) -> bool {
        let matches =
            |candidate: &str| candidate == name || group.is_some_and(|group| group == candidate);
        self.requested
            .iter()
            .any(|requested| matches(&requested.name))
            || self
                .key_guardrails
                .iter()
                .any(|candidate| matches(candidate))
            || self
                .team_guardrails
                .iter()
                .any(|candidate| matches(candidate))
    }

    /// Whether a default-on guardrail was turned off for this call.
    pub(crate) fn turns_off(&self, name: &str, group: Option<&str>) -> bool {
        let matches =
            |candidate: &String| candidate == name || group.is_some_and(|group| group == candidate);
        self.disable_global_guardrails
            || self.opted_out_global_guardrails.iter().any(matches)
            || self.switched_off.iter().any(matches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn requests_name_guardrails_in_every_place() {
        let selection = Selection::from_request(&body(json!({
            "guardrails": ["a", {"b": {"extra_body": {"threshold": 0.2}}}],
            "metadata": {"guardrails": ["c"], "tags": ["prod"]},
            "litellm_metadata": {"guardrails": {"d": true, "e": false}}
        })))
        .unwrap();
        let names: Vec<&str> = selection
            .requested
            .iter()
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(names, ["a", "b", "c", "d"]);
        assert_eq!(
            selection.requested[1].extra_body.as_ref().unwrap()["threshold"],
            0.2
        );
        assert_eq!(selection.switched_off, ["e"]);
        assert_eq!(selection.tags, ["prod"]);
        assert!(selection.turns_off("e", None));
    }

    #[test]
    fn bad_values_are_400s() {
        let error = Selection::from_request(&body(json!({"guardrails": "pii"}))).unwrap_err();
        assert_eq!(error.param, "guardrails");
        assert_eq!(error.to_openai_json()["error"]["code"], "400");
        let error =
            Selection::from_request(&body(json!({"metadata": {"guardrails": [3]}}))).unwrap_err();
        assert_eq!(
            error.message,
            "metadata.guardrails[0] must be a guardrail name or {name: {extra_body: {...}}}"
        );
    }

    #[test]
    fn admin_metadata_key_wins() {
        let key = body(json!({"guardrails": ["k"], "disable_global_guardrails": false}));
        let team = body(
            json!({"guardrails": ["t"], "disable_global_guardrails": true, "opted_out_global_guardrails": ["g"]}),
        );
        let selection = Selection::default().with_admin_metadata(Some(&key), Some(&team));
        assert!(!selection.disable_global_guardrails);
        assert!(selection.names("k", None) && selection.names("t", None));
        assert!(selection.turns_off("g", None));
        assert!(selection.names("x", Some("t")));
    }
}
