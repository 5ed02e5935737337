//! Query strings for the GET providers, written as Python's `urllib.parse.urlencode` writes them
//! (LiteLLM builds them so): `quote_plus` escaping, `True`/`False` for booleans, lists repeated
//! (`doseq`) or written as Python's `str()` of the list.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};

/// What `quote_plus` leaves alone besides letters and digits (space becomes `+` separately).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~')
    .remove(b' ');

fn quote_plus(text: &str) -> String {
    utf8_percent_encode(text, UNRESERVED)
        .to_string()
        .replace(' ', "+")
}

/// Python's `str()` of a JSON value.
fn python_str(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => python_repr(other),
    }
}

fn python_repr(value: &Value) -> String {
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(number) => number.to_string(),
        Value::String(text) => format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'")),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(python_repr).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(map) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("'{k}': {}", python_repr(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

/// `urlencode(params, doseq=doseq)`.
#[must_use]
pub fn urlencode(params: &Map<String, Value>, doseq: bool) -> String {
    let mut pairs = Vec::with_capacity(params.len());
    for (key, value) in params {
        match value {
            Value::Array(items) if doseq => {
                for item in items {
                    pairs.push(format!(
                        "{}={}",
                        quote_plus(key),
                        quote_plus(&python_str(item))
                    ));
                }
            }
            other => pairs.push(format!(
                "{}={}",
                quote_plus(key),
                quote_plus(&python_str(other))
            )),
        }
    }
    pairs.join("&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn encodes_as_python_does() {
        let params = json!({"q": "a b/c&d", "flag": true, "n": 3, "list": ["x", "y"]});
        let Value::Object(params) = params else {
            unreachable!()
        };
        assert_eq!(
            urlencode(&params, true),
            "q=a+b%2Fc%26d&flag=True&n=3&list=x&list=y"
        );
        assert_eq!(
            urlencode(&params, false),
            "q=a+b%2Fc%26d&flag=True&n=3&list=%5B%27x%27%2C+%27y%27%5D"
        );
    }
}
