//! Python's `str()`, `repr()`, truthiness and `json.dumps` on JSON values: LiteLLM counts the
//! text Python would produce.

use std::borrow::Cow;

use serde_json::Value;

use super::*;

/// Python's `bool(value)`.
pub(super) fn is_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(flag) => *flag,
        Value::Number(number) => number.as_f64().is_some_and(|number| number != 0.0),
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}

pub(super) fn python_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(number) if number.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Python's `key in container`.
pub(super) fn python_contains(container: &Value, key: &str) -> Result<bool, TokenError> {
    match container {
        Value::Array(items) => Ok(items.iter().any(|item| item.as_str() == Some(key))),
        Value::String(text) => Ok(text.contains(key)),
        Value::Object(map) => Ok(map.contains_key(key)),
        other => Err(invalid(format!(
            "argument of type '{}' is not iterable",
            python_type_name(other)
        ))),
    }
}

/// Python's `str.strip()`.
pub(super) fn python_strip(text: &str) -> &str {
    text.trim_matches(|character: char| {
        character.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&character)
    })
}

/// Python's `str(value)` of the JSON value as `json.loads` gives it.
pub(super) fn python_str(value: &Value) -> Cow<'_, str> {
    match value {
        Value::String(text) => Cow::Borrowed(text),
        other => {
            let mut text = String::new();
            write_python_repr(&mut text, other);
            Cow::Owned(text)
        }
    }
}

pub(super) fn write_python_repr(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(number) => write_python_number(out, number),
        Value::String(text) => write_python_string_repr(out, text),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                write_python_repr(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (index, (key, item)) in map.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                write_python_string_repr(out, key);
                out.push_str(": ");
                write_python_repr(out, item);
            }
            out.push('}');
        }
    }
}

pub(super) fn write_python_number(out: &mut String, number: &serde_json::Number) {
    if let Some(integer) = number.as_i64() {
        out.push_str(&integer.to_string());
    } else if let Some(integer) = number.as_u64() {
        out.push_str(&integer.to_string());
    } else if let Some(float) = number.as_f64() {
        write_python_float(out, float);
    }
}

/// Python's `repr(float)`: the shortest digits that round-trip, positional for decimal
/// exponents in -4..16, scientific (`1e+16`, `1.5e-05`) otherwise.
pub(super) fn write_python_float(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str("nan");
        return;
    }
    if value.is_sign_negative() {
        out.push('-');
    }
    if value.is_infinite() {
        out.push_str("inf");
        return;
    }
    let scientific = format!("{:e}", value.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if (-4..16).contains(&exponent) {
        if let Ok(exponent) = usize::try_from(exponent) {
            let integer_digits = exponent + 1;
            if digits.len() <= integer_digits {
                out.push_str(&digits);
                out.push_str(&"0".repeat(integer_digits - digits.len()));
                out.push_str(".0");
            } else {
                let (integer, fraction) = digits.split_at(integer_digits);
                out.push_str(integer);
                out.push('.');
                out.push_str(fraction);
            }
        } else {
            out.push_str("0.");
            out.push_str(&"0".repeat(exponent.unsigned_abs() as usize - 1));
            out.push_str(&digits);
        }
    } else {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push('e');
        out.push(if exponent < 0 { '-' } else { '+' });
        let exponent = exponent.unsigned_abs();
        if exponent < 10 {
            out.push('0');
        }
        out.push_str(&exponent.to_string());
    }
}

/// Python's `repr(str)`: single quotes unless the text holds a single quote and no double one.
pub(super) fn write_python_string_repr(out: &mut String, text: &str) {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for character in text.chars() {
        match character {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            _ if character == quote => {
                out.push('\\');
                out.push(character);
            }
            ' '..='~' => out.push(character),
            _ if !character.is_ascii() && is_python_printable(character) => out.push(character),
            _ => {
                let code = u32::from(character);
                if code <= 0xFF {
                    push_hex_escape(out, 'x', code, 2);
                } else if code <= 0xFFFF {
                    push_hex_escape(out, 'u', code, 4);
                } else {
                    push_hex_escape(out, 'U', code, 8);
                }
            }
        }
    }
    out.push(quote);
}

/// `\\{kind}` and `code` as `digits` lowercase hex digits.
pub(super) fn push_hex_escape(out: &mut String, kind: char, code: u32, digits: u32) {
    out.push('\\');
    out.push(kind);
    for position in (0..digits).rev() {
        let nibble = (code >> (4 * position)) & 0xF;
        out.push(char::from_digit(nibble, 16).unwrap_or('0'));
    }
}

/// Python's `str.isprintable()` for one non-ASCII character: false for controls, separators
/// other than the space, format characters, private use and noncharacters. (Unassigned code
/// points, which Python also escapes, are printed as they are.)
pub(super) fn is_python_printable(character: char) -> bool {
    !matches!(
        u32::from(character),
        0x80..=0xA0
            | 0xAD
            | 0x600..=0x605
            | 0x61C
            | 0x6DD
            | 0x70F
            | 0x890..=0x891
            | 0x8E2
            | 0x1680
            | 0x180E
            | 0x2000..=0x200F
            | 0x2028..=0x202F
            | 0x205F..=0x2064
            | 0x2066..=0x206F
            | 0x3000
            | 0xD800..=0xF8FF
            | 0xFDD0..=0xFDEF
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0xFFFE..=0xFFFF
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
            | 0xF_0000..=0x10_FFFF
    )
}

/// Python's `json.dumps(value, separators=(",", ":"))`: compact, non-ASCII escaped.
pub(super) fn write_python_json(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
        Value::Number(number) => write_python_number(out, number),
        Value::String(text) => write_python_json_string(out, text),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_python_json(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (index, (key, item)) in map.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_python_json_string(out, key);
                out.push(':');
                write_python_json(out, item);
            }
            out.push('}');
        }
    }
}

pub(super) fn write_python_json_string(out: &mut String, text: &str) {
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(character),
            _ => {
                let mut units = [0_u16; 2];
                for unit in character.encode_utf16(&mut units) {
                    push_hex_escape(out, 'u', u32::from(*unit), 4);
                }
            }
        }
    }
    out.push('"');
}
