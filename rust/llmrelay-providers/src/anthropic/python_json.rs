//! JSON text as Python's `json.dumps` writes it (`", "` and `": "` separators, non-ASCII escaped),
//! which is how LiteLLM renders tool-call arguments parsed from Anthropic's `input` objects.

use std::io;

use serde::Serialize;
use serde_json::Value;
use serde_json::ser::Formatter;

struct PythonFormatter;

impl Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    /// `ensure_ascii=True`: everything outside printable ASCII becomes `\uXXXX` (UTF-16 units).
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (index, ch) in fragment.char_indices() {
            if (' '..='~').contains(&ch) {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[start..index])?;
            let mut units = [0u16; 2];
            for unit in ch.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            start = index + ch.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// `json.dumps(value)`.
#[must_use]
pub fn dumps(value: &Value) -> String {
    let mut out = Vec::with_capacity(64);
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
    if value.serialize(&mut serializer).is_err() {
        return value.to_string();
    }
    String::from_utf8(out).unwrap_or_else(|_| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_python_json_dumps() {
        // Expected strings produced by CPython 3.11 `json.dumps`.
        assert_eq!(
            dumps(&json!({"city": "Paris", "n": 1.5, "tags": ["a", "b"], "o": {}})),
            r#"{"city": "Paris", "n": 1.5, "tags": ["a", "b"], "o": {}}"#
        );
        assert_eq!(
            dumps(&json!({"q": "café 🎉\n\u{7f}\"\\"})),
            r#"{"q": "caf\u00e9 \ud83c\udf89\n\u007f\"\\"}"#
        );
        assert_eq!(dumps(&json!([])), "[]");
        assert_eq!(dumps(&json!(null)), "null");
    }
}
