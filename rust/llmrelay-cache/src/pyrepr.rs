//! Python's `str()` of JSON values: LiteLLM builds its cache key from `str(value)` of each
//! parameter, so the key's text must be what Python prints (`{'role': 'user'}`, `True`,
//! `None`, `1e-05`).

use std::fmt::Write as _;

use serde_json::{Number, Value};

/// `str(value)`: a top-level string is itself; everything else is its `repr`.
pub fn python_str(value: &Value, out: &mut String) {
    match value {
        Value::String(text) => out.push_str(text),
        other => python_repr(other, out),
    }
}

/// `repr(value)` of the Python object JSON decodes to (dicts keep their order).
pub fn python_repr(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(number) => number_repr(number, out),
        Value::String(text) => string_repr(text, out),
        Value::Array(items) => {
            out.push('[');
            for (at, item) in items.iter().enumerate() {
                if at > 0 {
                    out.push_str(", ");
                }
                python_repr(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (at, (key, item)) in map.iter().enumerate() {
                if at > 0 {
                    out.push_str(", ");
                }
                string_repr(key, out);
                out.push_str(": ");
                python_repr(item, out);
            }
            out.push('}');
        }
    }
}

fn number_repr(number: &Number, out: &mut String) {
    if let Some(int) = number.as_i64() {
        let _ = write!(out, "{int}");
    } else if let Some(int) = number.as_u64() {
        let _ = write!(out, "{int}");
    } else if let Some(float) = number.as_f64() {
        float_repr(float, out);
    }
}

/// `repr(float)`: the shortest digits that round-trip, fixed notation for exponents in
/// -4..16, else `d.ddde±XX`.
pub fn float_repr(value: f64, out: &mut String) {
    if value.is_nan() {
        out.push_str("nan");
        return;
    }
    if value.is_infinite() {
        out.push_str(if value > 0.0 { "inf" } else { "-inf" });
        return;
    }
    if value == 0.0 {
        out.push_str(if value.is_sign_negative() {
            "-0.0"
        } else {
            "0.0"
        });
        return;
    }
    // Rust's `{:e}` prints the shortest round-trip digits: "1.2345e-5", "1e16".
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .unwrap_or((scientific.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if negative {
        out.push('-');
    }
    if (-4..16).contains(&exponent) {
        let point = exponent + 1; // digits before the decimal point
        if point <= 0 {
            out.push_str("0.");
            for _ in 0..(-point) {
                out.push('0');
            }
            out.push_str(&digits);
        } else {
            let point = usize::try_from(point).unwrap_or(0);
            if digits.len() <= point {
                out.push_str(&digits);
                for _ in digits.len()..point {
                    out.push('0');
                }
                out.push_str(".0");
            } else {
                out.push_str(&digits[..point]);
                out.push('.');
                out.push_str(&digits[point..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let sign = if exponent < 0 { '-' } else { '+' };
        let _ = write!(out, "e{sign}{:02}", exponent.unsigned_abs());
    }
}

/// `repr(str)`: single quotes unless the text has a `'` and no `"`; backslash, the quote,
/// `\n`, `\r`, `\t` escaped; characters Python does not print as they are (controls, the
/// separators, format characters) as `\xNN`, `\uNNNN` or `\UNNNNNNNN`.
pub fn string_repr(text: &str, out: &mut String) {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_printable(c) => out.push(c),
            c => {
                let code = u32::from(c);
                let _ = if code <= 0xff {
                    write!(out, "\\x{code:02x}")
                } else if code <= 0xffff {
                    write!(out, "\\u{code:04x}")
                } else {
                    write!(out, "\\U{code:08x}")
                };
            }
        }
    }
    out.push(quote);
}

/// Python's `str.isprintable()` for one character: not a control (Cc), format (Cf),
/// separator other than the space (Zs, Zl, Zp), or private-use (Co) character. Unassigned
/// code points (Cn), which Python also escapes, are printed as they are.
fn is_printable(c: char) -> bool {
    let code = u32::from(c);
    if code < 0x20 || (0x7f..=0xa0).contains(&code) {
        return false;
    }
    if code < 0xad {
        return true;
    }
    !matches!(
        code,
        0xad
            | 0x600..=0x605
            | 0x61c
            | 0x6dd
            | 0x70f
            | 0x890..=0x891
            | 0x8e2
            | 0x1680
            | 0x180e
            | 0x2000..=0x200f
            | 0x2028..=0x202f
            | 0x205f..=0x2064
            | 0x2066..=0x206f
            | 0x3000
            | 0xd800..=0xf8ff
            | 0xfeff
            | 0xfff9..=0xfffb
            | 0x110bd
            | 0x110cd
            | 0x13430..=0x1343f
            | 0x1bca0..=0x1bca3
            | 0x1d173..=0x1d17a
            | 0xe0001
            | 0xe0020..=0xe007f
            | 0xf0000..=0x10ffff
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn repr(value: &Value) -> String {
        let mut out = String::new();
        python_repr(value, &mut out);
        out
    }

    fn float(value: f64) -> String {
        let mut out = String::new();
        float_repr(value, &mut out);
        out
    }

    #[test]
    fn containers_and_scalars_print_as_python_does() {
        assert_eq!(
            repr(&json!([{"role": "user", "content": "hi"}, null, true, false, 3])),
            "[{'role': 'user', 'content': 'hi'}, None, True, False, 3]"
        );
        assert_eq!(repr(&json!({})), "{}");
        assert_eq!(repr(&json!([])), "[]");
    }

    #[test]
    fn strings_pick_quotes_and_escape_as_python_does() {
        assert_eq!(repr(&json!("it's")), "\"it's\"");
        assert_eq!(repr(&json!("say \"hi\"")), "'say \"hi\"'");
        assert_eq!(repr(&json!("both ' and \"")), "'both \\' and \"'");
        assert_eq!(repr(&json!("a\nb\tc\\d")), "'a\\nb\\tc\\\\d'");
        assert_eq!(repr(&json!("\u{1}\u{7f}\u{a0}")), "'\\x01\\x7f\\xa0'");
        assert_eq!(repr(&json!("zero\u{200b}width")), "'zero\\u200bwidth'");
        assert_eq!(repr(&json!("héllo 日本 🎉")), "'héllo 日本 🎉'");
        let mut top = String::new();
        python_str(&json!("plain 'text'"), &mut top);
        assert_eq!(top, "plain 'text'");
    }

    #[test]
    fn floats_print_as_python_repr() {
        for (value, expected) in [
            (0.7, "0.7"),
            (1.0, "1.0"),
            (-2.5, "-2.5"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (123_456.0, "123456.0"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.2345e20, "1.2345e+20"),
            (0.1 + 0.2, "0.30000000000000004"),
            (-0.0, "-0.0"),
        ] {
            assert_eq!(float(value), expected, "{value}");
        }
    }
}
