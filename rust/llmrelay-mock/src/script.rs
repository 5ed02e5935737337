//! Scripted responses: exact bodies queued by tests (wire fixtures) and served FIFO to the next matching requests.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// One queued response, served verbatim instead of the emulated one.
///
/// JSON form (`POST /__mock/script`): `{"status": 200, "headers": {..}, "path": "/chat/completions"}` plus
/// exactly one of `"json": <value>`, `"sse": [<item>, ..]` (with `"done"` and `"interval_ms": 0`), or
/// `"raw": "<text>"` (with `"content_type"`). No body key means an empty body.
///
/// An `sse` item is a raw string (sent after `data: `), an object `{"event": "<name>", "data": <value>}`
/// (sent as `event: <name>` then `data: <value>`, the framing of Anthropic streams), or any other value
/// (sent as `data: <JSON>`). `done` appends `data: [DONE]`; it defaults to true unless an item names an
/// event, since streams with named events (Anthropic's) end without it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawScriptedResponse")]
pub struct ScriptedResponse {
    pub status: u16,
    /// Sent after the standard headers, replacing any of the same name.
    pub headers: BTreeMap<String, String>,
    pub body: ScriptedBody,
    /// Only requests whose path ends with this are served (`None` = any route).
    pub path: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ScriptedBody {
    /// A whole JSON body (`application/json`).
    Json(Value),
    /// SSE events (see [`ScriptedResponse`] for the item forms); `done` appends `data: [DONE]`.
    Sse {
        events: Vec<Value>,
        done: bool,
        interval_ms: u64,
    },
    /// AWS event-stream frames (Bedrock's ConverseStream): items `{"event": <type>, "data": <json>}`
    /// or `{"exception": <type>, "data": <json>}`, each encoded as one CRC-checked message.
    AwsEventStream {
        events: Vec<Value>,
        interval_ms: u64,
    },
    /// Any body text, e.g. a recorded `.sse` fixture or a broken payload.
    Raw {
        body: String,
        content_type: Option<String>,
    },
}

impl ScriptedResponse {
    #[must_use]
    pub fn json(status: u16, body: Value) -> ScriptedResponse {
        ScriptedResponse::new(status, ScriptedBody::Json(body))
    }

    /// A 200 event stream; it ends with `data: [DONE]` unless an item names an event (Anthropic framing).
    #[must_use]
    pub fn sse(events: Vec<Value>) -> ScriptedResponse {
        let done = !events.iter().any(|event| named_event(event).is_some());
        ScriptedResponse::new(
            200,
            ScriptedBody::Sse {
                events,
                done,
                interval_ms: 0,
            },
        )
    }

    #[must_use]
    pub fn raw(
        status: u16,
        body: impl Into<String>,
        content_type: Option<&str>,
    ) -> ScriptedResponse {
        ScriptedResponse::new(
            status,
            ScriptedBody::Raw {
                body: body.into(),
                content_type: content_type.map(str::to_owned),
            },
        )
    }

    #[must_use]
    pub fn new(status: u16, body: ScriptedBody) -> ScriptedResponse {
        ScriptedResponse {
            status,
            headers: BTreeMap::new(),
            body,
            path: None,
        }
    }

    #[must_use]
    pub fn with_header(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> ScriptedResponse {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// Serve this only to a request whose path ends with `path`.
    #[must_use]
    pub fn with_path(mut self, path: impl Into<String>) -> ScriptedResponse {
        self.path = Some(path.into());
        self
    }

    pub(crate) fn matches_path(&self, path: &str) -> bool {
        self.path
            .as_deref()
            .is_none_or(|wanted| path.ends_with(wanted))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScriptedResponse {
    #[serde(default = "default_status")]
    status: u16,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    json: Option<Value>,
    #[serde(default)]
    sse: Option<Vec<Value>>,
    #[serde(default)]
    done: Option<bool>,
    #[serde(default)]
    interval_ms: u64,
    #[serde(default)]
    raw: Option<String>,
    #[serde(default)]
    aws_event_stream: Option<Vec<Value>>,
    #[serde(default)]
    content_type: Option<String>,
}

fn default_status() -> u16 {
    200
}

/// An `sse` item of the form `{"event": "<name>", "data": <value>}`: the event name and its data.
pub(crate) fn named_event(item: &Value) -> Option<(&str, &Value)> {
    let Value::Object(fields) = item else {
        return None;
    };
    if fields.len() != 2 {
        return None;
    }
    Some((fields.get("event")?.as_str()?, fields.get("data")?))
}

impl TryFrom<RawScriptedResponse> for ScriptedResponse {
    type Error = String;

    fn try_from(raw: RawScriptedResponse) -> Result<Self, Self::Error> {
        if !(100..=999).contains(&raw.status) {
            return Err(format!("status {} is not an HTTP status code", raw.status));
        }
        if let Some(events) = raw.aws_event_stream {
            if raw.json.is_some() || raw.sse.is_some() || raw.raw.is_some() {
                return Err(
                    "a script takes only one of `json`, `sse`, `raw` and `aws_event_stream`"
                        .to_owned(),
                );
            }
            return Ok(ScriptedResponse {
                status: raw.status,
                headers: raw.headers,
                body: ScriptedBody::AwsEventStream {
                    events,
                    interval_ms: raw.interval_ms,
                },
                path: raw.path,
            });
        }
        let body = match (raw.json, raw.sse, raw.raw) {
            (Some(json), None, None) => ScriptedBody::Json(json),
            (None, Some(events), None) => ScriptedBody::Sse {
                done: raw
                    .done
                    .unwrap_or_else(|| !events.iter().any(|event| named_event(event).is_some())),
                events,
                interval_ms: raw.interval_ms,
            },
            (None, None, Some(body)) => ScriptedBody::Raw {
                body,
                content_type: raw.content_type,
            },
            (None, None, None) => ScriptedBody::Raw {
                body: String::new(),
                content_type: raw.content_type,
            },
            _ => return Err("a script takes only one of `json`, `sse` and `raw`".to_owned()),
        };
        Ok(ScriptedResponse {
            status: raw.status,
            headers: raw.headers,
            body,
            path: raw.path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_body_kind() {
        let json: ScriptedResponse =
            serde_json::from_value(serde_json::json!({"json": {"a": 1}})).unwrap();
        assert_eq!(
            json,
            ScriptedResponse::json(200, serde_json::json!({"a": 1}))
        );
        let sse: ScriptedResponse = serde_json::from_value(
            serde_json::json!({"sse": [{"a": 1}, "raw"], "done": false, "interval_ms": 3}),
        )
        .unwrap();
        assert_eq!(
            sse.body,
            ScriptedBody::Sse {
                events: vec![serde_json::json!({"a": 1}), serde_json::json!("raw")],
                done: false,
                interval_ms: 3
            }
        );
        let raw: ScriptedResponse = serde_json::from_value(
            serde_json::json!({"status": 502, "raw": "<html>", "content_type": "text/html", "path": "/chat/completions"}),
        )
        .unwrap();
        assert_eq!(raw.status, 502);
        assert!(raw.matches_path("/v1/chat/completions"));
        assert!(!raw.matches_path("/v1/embeddings"));
    }

    #[test]
    fn named_sse_items_default_to_no_done() {
        let named: ScriptedResponse = serde_json::from_value(serde_json::json!({"sse": [
            {"event": "message_stop", "data": {"type": "message_stop"}},
            {"event": "x", "data": 1, "extra": true}
        ]}))
        .unwrap();
        let ScriptedBody::Sse { events, done, .. } = &named.body else {
            panic!("not sse");
        };
        assert!(!done);
        assert_eq!(
            named_event(&events[0]),
            Some(("message_stop", &serde_json::json!({"type": "message_stop"})))
        );
        assert_eq!(named_event(&events[1]), None);
        assert_eq!(
            ScriptedResponse::sse(vec![serde_json::json!({"a": 1})]).body,
            ScriptedBody::Sse {
                events: vec![serde_json::json!({"a": 1})],
                done: true,
                interval_ms: 0
            }
        );
        let forced: ScriptedResponse = serde_json::from_value(
            serde_json::json!({"sse": [{"event": "ping", "data": {}}], "done": true}),
        )
        .unwrap();
        assert!(matches!(forced.body, ScriptedBody::Sse { done: true, .. }));
    }

    #[test]
    fn rejects_two_bodies_and_unknown_fields() {
        assert!(
            serde_json::from_value::<ScriptedResponse>(serde_json::json!({"json": {}, "raw": ""}))
                .is_err()
        );
        assert!(
            serde_json::from_value::<ScriptedResponse>(serde_json::json!({"jsn": {}})).is_err()
        );
    }
}
