//! `litellm_params.mode`: one hook, a list of hooks, or a tag map (`{tags: {...}, default: ...}`).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// LiteLLM's `GuardrailEventHooks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventHook {
    PreCall,
    DuringCall,
    PostCall,
    LoggingOnly,
    PreMcpCall,
    DuringMcpCall,
    PostMcpCall,
    RealtimeInputTranscription,
}

impl EventHook {
    pub const ALL: [EventHook; 8] = [
        Self::PreCall,
        Self::DuringCall,
        Self::PostCall,
        Self::LoggingOnly,
        Self::PreMcpCall,
        Self::DuringMcpCall,
        Self::PostMcpCall,
        Self::RealtimeInputTranscription,
    ];

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PreCall => "pre_call",
            Self::DuringCall => "during_call",
            Self::PostCall => "post_call",
            Self::LoggingOnly => "logging_only",
            Self::PreMcpCall => "pre_mcp_call",
            Self::DuringMcpCall => "during_mcp_call",
            Self::PostMcpCall => "post_mcp_call",
            Self::RealtimeInputTranscription => "realtime_input_transcription",
        }
    }

    /// Parses a hook name; LiteLLM lowercases it first.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        let lower = name.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|hook| hook.as_str() == lower)
    }
}

impl fmt::Display for EventHook {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl Serialize for EventHook {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventHook {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::parse(&name).ok_or_else(|| {
            de::Error::custom(format!(
                "unknown guardrail mode '{name}', expected one of: {}",
                Self::ALL.map(Self::as_str).join(", ")
            ))
        })
    }
}

/// When a guardrail runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// `mode: pre_call` or `mode: [pre_call, post_call]`.
    Hooks(Vec<EventHook>),
    /// `mode: {tags: {prod: [pre_call, post_call], dev: logging_only}, default: pre_call}`: a
    /// request tagged with a key runs the hooks of that key; other requests the default.
    Tags {
        tags: BTreeMap<String, Vec<EventHook>>,
        default: Vec<EventHook>,
    },
}

impl Mode {
    /// Every hook this mode can name (the tag map's values and its default).
    #[must_use]
    pub fn hooks(&self) -> Vec<EventHook> {
        let mut all: Vec<EventHook> = match self {
            Self::Hooks(hooks) => hooks.clone(),
            Self::Tags { tags, default } => tags
                .values()
                .flatten()
                .chain(default.iter())
                .copied()
                .collect(),
        };
        all.sort();
        all.dedup();
        all
    }

    /// Whether a request carrying `request_tags` runs this guardrail in `hook`.
    #[must_use]
    pub fn runs_in(&self, hook: EventHook, request_tags: &[String]) -> bool {
        match self {
            Self::Hooks(hooks) => hooks.contains(&hook),
            Self::Tags { tags, default } => {
                let mut matched = false;
                for tag in request_tags {
                    if let Some(hooks) = tags.get(tag) {
                        matched = true;
                        if hooks.contains(&hook) {
                            return true;
                        }
                    }
                }
                !matched && default.contains(&hook)
            }
        }
    }

    /// The value as LiteLLM reports it in `guardrail_mode` / `/guardrails/list`.
    #[must_use]
    pub fn to_value(&self) -> Value {
        fn hooks_value(hooks: &[EventHook]) -> Value {
            match hooks {
                [one] => Value::from(one.as_str()),
                many => Value::Array(many.iter().map(|h| Value::from(h.as_str())).collect()),
            }
        }
        match self {
            Self::Hooks(hooks) => hooks_value(hooks),
            Self::Tags { tags, default } => {
                let tags: serde_json::Map<String, Value> = tags
                    .iter()
                    .map(|(tag, hooks)| (tag.clone(), hooks_value(hooks)))
                    .collect();
                serde_json::json!({
                    "tags": tags,
                    "default": if default.is_empty() { Value::Null } else { hooks_value(default) },
                })
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(EventHook),
    Many(Vec<EventHook>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<EventHook> {
        match self {
            Self::One(hook) => vec![hook],
            Self::Many(hooks) => hooks,
        }
    }
}

impl<'de> Deserialize<'de> for Mode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let hooks_of =
            |value: &Value| -> Result<Vec<EventHook>, D::Error> {
                match value {
                    Value::String(name) => EventHook::parse(name)
                        .map(|hook| vec![hook])
                        .ok_or_else(|| {
                            de::Error::custom(format!(
                                "unknown guardrail mode '{name}', expected one of: {}",
                                EventHook::ALL.map(EventHook::as_str).join(", ")
                            ))
                        }),
                    Value::Array(_) => serde_json::from_value::<OneOrMany>(value.clone())
                        .map(OneOrMany::into_vec)
                        .map_err(de::Error::custom),
                    other => Err(de::Error::custom(format!(
                        "expected a mode name or a list of mode names, got {other}"
                    ))),
                }
            };
        match &value {
            Value::Object(object) => {
                for key in object.keys() {
                    if key != "tags" && key != "default" {
                        return Err(de::Error::custom(format!(
                            "unknown field '{key}' in a tag-based mode, expected 'tags' and 'default'"
                        )));
                    }
                }
                let Some(Value::Object(tag_map)) = object.get("tags") else {
                    return Err(de::Error::custom(
                        "a tag-based mode needs 'tags': a map from request tag to mode(s)",
                    ));
                };
                let mut tags = BTreeMap::new();
                for (tag, hooks) in tag_map {
                    tags.insert(tag.clone(), hooks_of(hooks)?);
                }
                let default = match object.get("default") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(other) => hooks_of(other)?,
                };
                Ok(Self::Tags { tags, default })
            }
            other => {
                let hooks = hooks_of(other)?;
                if hooks.is_empty() {
                    return Err(de::Error::custom("mode must name at least one hook"));
                }
                Ok(Self::Hooks(hooks))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn modes_parse_in_every_form() {
        let one: Mode = serde_json::from_value(json!("PRE_CALL")).unwrap();
        assert_eq!(one, Mode::Hooks(vec![EventHook::PreCall]));
        let many: Mode = serde_json::from_value(json!(["pre_call", "post_call"])).unwrap();
        assert!(many.runs_in(EventHook::PostCall, &[]));
        assert!(!many.runs_in(EventHook::DuringCall, &[]));
        let tagged: Mode = serde_json::from_value(json!({
            "tags": {"prod": ["pre_call", "post_call"], "dev": "logging_only"},
            "default": "pre_call"
        }))
        .unwrap();
        assert!(tagged.runs_in(EventHook::PostCall, &["prod".to_owned()]));
        assert!(!tagged.runs_in(EventHook::PreCall, &["dev".to_owned()]));
        assert!(tagged.runs_in(EventHook::LoggingOnly, &["dev".to_owned()]));
        assert!(tagged.runs_in(EventHook::PreCall, &["other".to_owned()]));
        assert!(!tagged.runs_in(EventHook::PostCall, &[]));
        assert_eq!(
            tagged.hooks(),
            vec![
                EventHook::PreCall,
                EventHook::PostCall,
                EventHook::LoggingOnly
            ]
        );
        assert_eq!(tagged.to_value()["tags"]["dev"], "logging_only");
    }

    #[test]
    fn bad_modes_are_named() {
        let error = serde_json::from_value::<Mode>(json!("before_call")).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("unknown guardrail mode 'before_call'")
        );
        let error = serde_json::from_value::<Mode>(json!({"default": "pre_call"})).unwrap_err();
        assert!(error.to_string().contains("needs 'tags'"));
        assert!(serde_json::from_value::<Mode>(json!([])).is_err());
        assert!(serde_json::from_value::<Mode>(json!(3)).is_err());
    }
}
