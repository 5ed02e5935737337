//! JSON Schemas as Anthropic accepts them: tool `input_schema`
//! (<https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/implement-tool-use>) and the
//! `output_format` schema of structured outputs
//! (<https://docs.anthropic.com/en/docs/build-with-claude/structured-outputs>), which rejects
//! the constraints its decoder cannot enforce.

use serde_json::{Map, Value};

use llmrelay_core::types::JsonMap;
use llmrelay_core::{Error, Result};

/// Keys `input_schema` may carry (the SDK's `InputSchema`); others are rejected upstream.
const INPUT_SCHEMA_KEYS: &[&str] = &[
    "type",
    "properties",
    "additionalProperties",
    "required",
    "$defs",
    "strict",
];

/// Inlining `$ref`s stops past this many bytes of copied schema (a schema bomb).
const MAX_INLINED_BYTES: usize = 10_000_000;

/// Nesting deeper than this is left as is rather than recursed into.
const MAX_DEPTH: usize = 256;

/// An OpenAI function's `parameters` as a tool `input_schema`: an object schema, legacy
/// `definitions` / OpenAPI `components.schemas` refs inlined, unknown keys dropped.
///
/// # Errors
/// A schema whose inlined refs exceed the size budget.
pub fn input_schema(parameters: Option<&Value>) -> Result<Value> {
    let mut schema = match parameters {
        Some(Value::Object(map)) if !map.is_empty() => map.clone(),
        _ => JsonMap::new(),
    };
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        schema.insert("type".to_owned(), Value::from("object"));
    }
    schema
        .entry("properties")
        .or_insert_with(|| Value::Object(JsonMap::new()));
    let has_components = schema
        .get("components")
        .and_then(|c| c.get("schemas"))
        .is_some_and(Value::is_object);
    if schema.contains_key("definitions") || has_components {
        let mut defs = match schema.remove("components") {
            Some(Value::Object(mut components)) => match components.remove("schemas") {
                Some(Value::Object(schemas)) => schemas,
                _ => JsonMap::new(),
            },
            _ => JsonMap::new(),
        };
        if let Some(Value::Object(definitions)) = schema.remove("definitions") {
            defs.extend(definitions);
        }
        let mut value = Value::Object(schema);
        unpack_defs(&mut value, &defs)?;
        schema = match value {
            Value::Object(map) => map,
            _ => JsonMap::new(),
        };
    }
    schema.retain(|key, _| INPUT_SCHEMA_KEYS.contains(&key.as_str()));
    Ok(Value::Object(schema))
}

/// The `response_format` JSON schema as an `output_format` schema: refs inlined, unsupported
/// constraints moved into the description, `oneOf` as `anyOf`, objects closed.
///
/// # Errors
/// A schema whose inlined refs exceed the size budget.
pub fn output_schema(json_schema: &Value) -> Result<Value> {
    let mut schema = json_schema.clone();
    if let Value::Object(map) = &mut schema {
        let definitions = map.remove("definitions");
        let defs = map.remove("$defs").or(definitions);
        if let Some(Value::Object(defs)) = defs {
            if !defs.is_empty() {
                unpack_defs(&mut schema, &defs)?;
            }
        }
    }
    Ok(filter_output_schema(&schema, 0))
}

/// Replace every `$ref` that points into the given or nested `$defs` / `definitions` with a copy
/// of its target, leaving circular and unknown refs as they are.
///
/// # Errors
/// More than [`MAX_INLINED_BYTES`] of copied schema.
pub fn unpack_defs(schema: &mut Value, defs: &JsonMap) -> Result<()> {
    let mut root_defs = defs.clone();
    for key in ["$defs", "definitions"] {
        if let Some(Value::Object(local)) = schema.get(key) {
            root_defs.extend(local.clone());
        }
    }
    let mut budget = MAX_INLINED_BYTES;
    resolve(schema, &root_defs, &mut Vec::new(), &mut budget, 0)
}

fn resolve(
    node: &mut Value,
    defs: &JsonMap,
    chain: &mut Vec<String>,
    budget: &mut usize,
    depth: usize,
) -> Result<()> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    match node {
        Value::Object(map) => {
            if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
                let name = reference.rsplit('/').next().unwrap_or(reference).to_owned();
                if chain.contains(&name) {
                    return Ok(());
                }
                let Some(target) = defs.get(&name) else {
                    return Ok(());
                };
                let size = serde_json::to_vec(target).map_or(0, |bytes| bytes.len());
                if size > *budget {
                    return Err(Error::bad_request(format!(
                        "unpack_defs: inlined schema exceeded the {MAX_INLINED_BYTES}-byte budget. \
                         Refusing to deep-copy further to prevent schema-bomb resource exhaustion."
                    )));
                }
                *budget -= size;
                let child_defs = with_local_defs(defs, target);
                *node = target.clone();
                chain.push(name);
                let result = resolve(node, &child_defs, chain, budget, depth + 1);
                chain.pop();
                return result;
            }
            let current = with_local_defs(defs, &Value::Object(map.clone()));
            for value in map.values_mut() {
                resolve(value, &current, chain, budget, depth + 1)?;
            }
            Ok(())
        }
        Value::Array(items) => {
            for item in items {
                resolve(item, defs, chain, budget, depth + 1)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn with_local_defs(defs: &JsonMap, node: &Value) -> JsonMap {
    let mut merged = defs.clone();
    for key in ["$defs", "definitions"] {
        if let Some(Value::Object(local)) = node.get(key) {
            merged.extend(local.clone());
        }
    }
    merged
}

/// The constraints structured outputs reject, with the note that replaces each one.
const CONSTRAINT_LABELS: &[(&str, &str)] = &[
    ("minItems", "minimum number of items: {}"),
    ("maxItems", "maximum number of items: {}"),
    ("uniqueItems", "all array items must be unique"),
    ("contains", "array must contain an item matching: {}"),
    ("minContains", "minimum number of matching items: {}"),
    ("maxContains", "maximum number of matching items: {}"),
    ("prefixItems", "leading items must match, in order: {}"),
    ("minimum", "minimum value: {}"),
    ("maximum", "maximum value: {}"),
    ("exclusiveMinimum", "exclusive minimum value: {}"),
    ("exclusiveMaximum", "exclusive maximum value: {}"),
    ("multipleOf", "must be a multiple of {}"),
    ("minLength", "minimum length: {}"),
    ("maxLength", "maximum length: {}"),
    ("minProperties", "minimum number of properties: {}"),
    ("maxProperties", "maximum number of properties: {}"),
    (
        "patternProperties",
        "properties whose names match each pattern must satisfy: {}",
    ),
    ("propertyNames", "property names must satisfy: {}"),
    ("dependentRequired", "dependent required properties: {}"),
    ("dependentSchemas", "dependent schemas: {}"),
    (
        "unevaluatedProperties",
        "unevaluated properties must satisfy: {}",
    ),
    ("if", "conditional (if): {}"),
    ("then", "conditional (then): {}"),
    ("else", "conditional (else): {}"),
    ("not", "must not match: {}"),
];

/// A constraint value as Python's `str.format` renders it in the note (JSON for sub-schemas).
fn note_value(value: &Value) -> String {
    match value {
        Value::Object(_) | Value::Array(_) => super::python_json::dumps(value),
        Value::String(text) => text.clone(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Null => "None".to_owned(),
        Value::Number(number) => number.to_string(),
    }
}

/// An `enum` whose values cannot all have the declared `type` (the type is then dropped).
fn enum_conflicts_with_type(schema: &Map<String, Value>) -> bool {
    let (Some(Value::Array(values)), Some(declared)) = (schema.get("enum"), schema.get("type"))
    else {
        return false;
    };
    let Some(declared) = declared.as_str() else {
        return declared.is_array();
    };
    let check: fn(&Value) -> bool = match declared {
        "null" => Value::is_null,
        "boolean" => Value::is_boolean,
        "integer" => |v| v.is_i64() || v.is_u64(),
        "number" => Value::is_number,
        "string" => Value::is_string,
        "array" => Value::is_array,
        "object" => Value::is_object,
        _ => return false,
    };
    !values.iter().all(check)
}

fn filter_output_schema(schema: &Value, depth: usize) -> Value {
    let Value::Object(schema) = schema else {
        return schema.clone();
    };
    if depth > MAX_DEPTH {
        return Value::Object(schema.clone());
    }
    let notes: Vec<String> = CONSTRAINT_LABELS
        .iter()
        .filter_map(|(field, label)| {
            let value = schema.get(*field)?;
            if value == &Value::Bool(false) {
                return None;
            }
            Some(label.replace("{}", &note_value(value)))
        })
        .collect();
    let mut result = JsonMap::new();
    if !notes.is_empty() {
        let note = format!("Note: {}.", notes.join(", "));
        let description = match schema.get("description").and_then(Value::as_str) {
            Some(existing) if !existing.is_empty() => format!("{existing} {note}"),
            _ => note,
        };
        result.insert("description".to_owned(), Value::from(description));
    }
    let drop_type = enum_conflicts_with_type(schema);
    let recurse_map = |value: &Map<String, Value>| -> Value {
        Value::Object(
            value
                .iter()
                .map(|(k, v)| (k.clone(), filter_output_schema(v, depth + 1)))
                .collect(),
        )
    };
    for (key, value) in schema {
        if CONSTRAINT_LABELS.iter().any(|(field, _)| field == key)
            || (key == "type" && drop_type)
            || (key == "description" && result.contains_key("description"))
        {
            continue;
        }
        match (key.as_str(), value) {
            ("properties" | "$defs", Value::Object(map)) => {
                result.insert(key.clone(), recurse_map(map));
            }
            ("items", Value::Object(_)) => {
                result.insert(key.clone(), filter_output_schema(value, depth + 1));
            }
            ("anyOf" | "oneOf", Value::Array(items)) => {
                let entry = result
                    .entry("anyOf")
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(any_of) = entry {
                    any_of.extend(items.iter().map(|i| filter_output_schema(i, depth + 1)));
                }
            }
            ("allOf", Value::Array(items)) => {
                result.insert(
                    key.clone(),
                    Value::Array(
                        items
                            .iter()
                            .map(|i| filter_output_schema(i, depth + 1))
                            .collect(),
                    ),
                );
            }
            _ => {
                result.insert(key.clone(), value.clone());
            }
        }
    }
    if result.get("type").and_then(Value::as_str) == Some("object") {
        result.insert("additionalProperties".to_owned(), Value::Bool(false));
    }
    Value::Object(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn input_schema_is_an_object_schema_with_known_keys() {
        assert_eq!(
            input_schema(None).unwrap(),
            json!({"type": "object", "properties": {}})
        );
        assert_eq!(
            input_schema(Some(
                &json!({"type": "object", "properties": {"a": {"$ref": "#/definitions/A"}},
                "definitions": {"A": {"type": "string"}}, "title": "x", "strict": true})
            ))
            .unwrap(),
            json!({"type": "object", "properties": {"a": {"type": "string"}}, "strict": true})
        );
    }

    #[test]
    fn output_schema_moves_constraints_into_descriptions() {
        let schema = json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "tags": {"type": "array", "items": {"$ref": "#/$defs/Tag"}, "uniqueItems": false},
                "kind": {"oneOf": [{"type": "string"}, {"type": "null"}]}
            },
            "$defs": {"Tag": {"type": "object", "properties": {"v": {"type": "integer", "minimum": 0}}}}
        });
        assert_eq!(
            output_schema(&schema).unwrap(),
            json!({
                "type": "object",
                "properties": {
                    "name": {"description": "Note: minimum length: 1.", "type": "string"},
                    "tags": {"type": "array", "items": {"type": "object", "properties": {
                        "v": {"description": "Note: minimum value: 0.", "type": "integer"}},
                        "additionalProperties": false}},
                    "kind": {"anyOf": [{"type": "string"}, {"type": "null"}]}
                },
                "additionalProperties": false
            })
        );
    }

    #[test]
    fn circular_refs_are_left_in_place() {
        let mut schema = json!({"$defs": {"N": {"type": "object", "properties": {"next": {"$ref": "#/$defs/N"}}}},
            "properties": {"head": {"$ref": "#/$defs/N"}}});
        unpack_defs(&mut schema, &JsonMap::new()).unwrap();
        assert_eq!(
            schema["properties"]["head"]["properties"]["next"],
            json!({"$ref": "#/$defs/N"})
        );
    }
}
