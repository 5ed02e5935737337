//! Scripted responses: exact bodies queued by tests (wire fixtures) and served FIFO to the next matching requests.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// One queued response, served verbatim instead of the emulated one.
///
/// JSON form (`POST /__mock/script`): `{"status": 200, "headers": {..}, "path": "/chat/completions"}` plus
/// exactly one of `"json": <value>`, `"sse": [<value or raw string>, ..]` (with `"done": true` and
/// `"interval_ms": 0`), or `"raw": "<text>"` (with `"content_type"`). No body key means an empty body.
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
    /// `data:` events: strings are sent verbatim, other values as JSON; `done` appends `data: [DONE]`.
    Sse {
        events: Vec<Value>,
        done: bool,
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

    /// A 200 event stream ending with `data: [DONE]`.
    #[must_use]
    pub fn sse(events: Vec<Value>) -> ScriptedResponse {
        ScriptedResponse::new(
            200,
            ScriptedBody::Sse {
                events,
                done: true,
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
    #[serde(default = "default_done")]
    done: bool,
    #[serde(default)]
    interval_ms: u64,
    #[serde(default)]
    raw: Option<String>,
    #[serde(default)]
    content_type: Option<String>,
}

fn default_status() -> u16 {
    200
}

fn default_done() -> bool {
    true
}

impl TryFrom<RawScriptedResponse> for ScriptedResponse {
    type Error = String;

    fn try_from(raw: RawScriptedResponse) -> Result<Self, Self::Error> {
        if !(100..=999).contains(&raw.status) {
            return Err(format!("status {} is not an HTTP status code", raw.status));
        }
        let body = match (raw.json, raw.sse, raw.raw) {
            (Some(json), None, None) => ScriptedBody::Json(json),
            (None, Some(events), None) => ScriptedBody::Sse {
                events,
                done: raw.done,
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
