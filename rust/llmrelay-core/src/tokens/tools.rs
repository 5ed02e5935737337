//! Tool definitions in OpenAI's function-signature format, as LiteLLM counts them.

use serde_json::{Map, Value};

use super::*;

pub(super) fn format_function_definitions(tools: &[Value]) -> Result<String, TokenError> {
    let mut lines = vec!["namespace functions {".to_owned(), String::new()];
    for tool in tools.iter().filter_map(Value::as_object) {
        let (name, description, parameters) = match tool.get("function") {
            Some(Value::Object(function)) => (
                function.get("name"),
                function.get("description"),
                function.get("parameters"),
            ),
            // An Anthropic tool: name, description and input_schema at the top level.
            _ => (
                tool.get("name"),
                tool.get("description"),
                [tool.get("input_schema"), tool.get("parameters")]
                    .into_iter()
                    .flatten()
                    .find(|parameters| is_truthy(parameters)),
            ),
        };
        let Some(name) = name.filter(|name| is_truthy(name)) else {
            continue;
        };
        let name = python_str(name);
        if let Some(description) = description.filter(|description| is_truthy(description)) {
            lines.push(format!("// {}", python_str(description)));
        }
        let parameters = parameters.and_then(Value::as_object);
        match parameters.and_then(|parameters| parameters.get("properties")) {
            Some(Value::Object(properties)) if !properties.is_empty() => {
                lines.push(format!("type {name} = (_: {{"));
                if let Some(parameters) = parameters {
                    lines.push(format_object_parameters(parameters, 0)?);
                }
                lines.push("}) => any;".to_owned());
            }
            Some(properties) if is_truthy(properties) => {
                return Err(invalid(format!(
                    "tool {name}: 'properties' of type {} is not an object",
                    python_type_name(properties)
                )));
            }
            _ => lines.push(format!("type {name} = () => any;")),
        }
        lines.push(String::new());
    }
    lines.push("} // namespace functions".to_owned());
    Ok(lines.join("\n"))
}

pub(super) fn format_object_parameters(
    parameters: &Map<String, Value>,
    indent: usize,
) -> Result<String, TokenError> {
    let properties = match parameters.get("properties") {
        Some(Value::Object(properties)) if !properties.is_empty() => properties,
        Some(properties) if is_truthy(properties) => {
            return Err(invalid(format!(
                "'properties' of type {} is not an object",
                python_type_name(properties)
            )));
        }
        _ => return Ok(String::new()),
    };
    let required = parameters
        .get("required")
        .filter(|required| is_truthy(required));
    let padding = " ".repeat(indent);
    let mut lines = Vec::with_capacity(properties.len());
    for (key, property) in properties {
        let Value::Object(property) = property else {
            return Err(invalid(format!(
                "property {key} of type {} is not an object",
                python_type_name(property)
            )));
        };
        if let Some(description) = property
            .get("description")
            .filter(|description| is_truthy(description))
        {
            lines.push(format!("{padding}// {}", python_str(description)));
        }
        let is_required = match required {
            Some(required) => python_contains(required, key)?,
            None => false,
        };
        let question = if is_required { "" } else { "?" };
        lines.push(format!(
            "{padding}{key}{question}: {},",
            format_type(property, indent)?
        ));
    }
    Ok(lines.join("\n"))
}

pub(super) fn format_type(
    property: &Map<String, Value>,
    indent: usize,
) -> Result<String, TokenError> {
    Ok(match property.get("type").and_then(Value::as_str) {
        Some("string") => match property.get("enum") {
            Some(values) => format_enum(values)?,
            None => "string".to_owned(),
        },
        Some("array") => {
            let Some(Value::Object(items)) = property.get("items") else {
                return Err(invalid("array property needs an 'items' object"));
            };
            format!("{}[]", format_type(items, indent)?)
        }
        Some("object") => format!(
            "{{\n{}\n}}",
            format_object_parameters(property, indent + 2)?
        ),
        Some("integer" | "number") => match property.get("enum") {
            Some(values) => format_enum(values)?,
            None => "number".to_owned(),
        },
        Some("boolean") => "boolean".to_owned(),
        Some("null") => "null".to_owned(),
        _ => "any".to_owned(),
    })
}

/// `" | ".join(f'"{value}"' for value in values)`.
pub(super) fn format_enum(values: &Value) -> Result<String, TokenError> {
    let quoted = |text: &str| format!("\"{text}\"");
    let items: Vec<String> = match values {
        Value::Array(values) => values
            .iter()
            .map(|value| quoted(&python_str(value)))
            .collect(),
        Value::String(text) => text
            .chars()
            .map(|character| quoted(character.encode_utf8(&mut [0; 4])))
            .collect(),
        Value::Object(map) => map.keys().map(|key| quoted(key)).collect(),
        other => {
            return Err(invalid(format!(
                "enum of type {} is not iterable",
                python_type_name(other)
            )));
        }
    };
    Ok(items.join(" | "))
}

// Images: OpenAI's tile formula as LiteLLM computes it.
