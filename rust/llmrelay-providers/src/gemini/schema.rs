//! JSON Schema → the OpenAPI 3.0 subset Gemini accepts in `functionDeclarations[].parameters`
//! and `generationConfig.responseSchema` (API reference "Caching"/"Schema":
//! <https://ai.google.dev/api/caching#Schema>; Vertex "Schema":
//! <https://cloud.google.com/vertex-ai/docs/reference/rest/v1/Schema>).
//!
//! Gemini's parser rejects the whole request on the first field it does not know
//! (`Unknown name "$schema"`, `"additionalProperties"`, `"exclusiveMinimum"`, `"$ref"` …), and
//! requires a function's parameters to be an OBJECT (LiteLLM issue #18442, MCP tools with empty
//! or untyped parameter schemas). So references are inlined, `null` unions become `nullable`,
//! type lists become `anyOf`, `const` becomes a one-value `enum`, `enum` stays on strings only,
//! `format` keeps the values Gemini documents, and every other keyword is dropped.

use serde_json::{Map, Value};

use llmrelay_core::types::JsonMap;

/// Keywords of Gemini's `Schema` object kept after the rewrite (`default` and `title` are left
/// out: Vertex rejects them in function declarations).
const KEPT: &[&str] = &[
    "type",
    "format",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "items",
    "minimum",
    "maximum",
];

/// Depth past which references are not expanded further (recursive schemas).
const MAX_REF_DEPTH: usize = 16;

/// Rewrite a tool's `parameters`. `None` when the function takes no arguments: Gemini rejects
/// an OBJECT schema without properties, and a declaration without `parameters` is valid.
#[must_use]
pub fn function_parameters(parameters: Option<&Value>) -> Option<Value> {
    let parameters = parameters?;
    let mut rewritten = rewrite_root(parameters);
    let Value::Object(map) = &mut rewritten else {
        return None;
    };
    let has_properties = map
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| !p.is_empty());
    if !has_properties {
        return None;
    }
    map.insert("type".to_owned(), Value::String("object".to_owned()));
    Some(rewritten)
}

/// Rewrite a `response_format` JSON schema for `responseSchema` (pre-2.0 models), with
/// `propertyOrdering` so the model answers fields in the declared order.
#[must_use]
pub fn response_schema(schema: &Value) -> Value {
    let mut rewritten = rewrite_root(schema);
    add_property_ordering(&mut rewritten);
    rewritten
}

/// Rewrite a whole schema document: its `$defs` / `definitions` are the reference targets.
#[must_use]
pub fn rewrite_root(schema: &Value) -> Value {
    let mut defs = JsonMap::new();
    if let Value::Object(map) = schema {
        for key in ["$defs", "definitions"] {
            if let Some(Value::Object(found)) = map.get(key) {
                defs.extend(found.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
    }
    rewrite(schema, &defs, 0)
}

fn resolve_ref<'a>(reference: &str, defs: &'a JsonMap) -> Option<&'a Value> {
    let name = reference
        .strip_prefix("#/$defs/")
        .or_else(|| reference.strip_prefix("#/definitions/"))?;
    defs.get(name)
}

fn rewrite(schema: &Value, defs: &JsonMap, depth: usize) -> Value {
    let Value::Object(map) = schema else {
        // `true` / `{}`-like schemas accept anything; Gemini needs a type.
        return object_schema();
    };
    if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
        let mut target = match resolve_ref(reference, defs) {
            Some(target) if depth < MAX_REF_DEPTH => rewrite(target, defs, depth + 1),
            _ => object_schema(),
        };
        // Sibling keywords of `$ref` (a description) annotate the inlined schema.
        if let (Value::Object(target), Some(Value::String(description))) =
            (&mut target, map.get("description"))
        {
            target.insert("description".to_owned(), Value::String(description.clone()));
        }
        return target;
    }
    let mut out = Map::new();
    let mut nullable = map
        .get("nullable")
        .and_then(Value::as_bool)
        .unwrap_or(false);

    // `type` may be a list (`["string", "null"]`).
    let mut types: Vec<String> = match map.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    if types.iter().any(|t| t == "null") {
        nullable = true;
        types.retain(|t| t != "null");
    }

    // Unions: `anyOf` / `oneOf`, with `null` members turned into `nullable`.
    let union = map
        .get("anyOf")
        .or_else(|| map.get("oneOf"))
        .and_then(Value::as_array);
    if let Some(members) = union {
        let mut kept: Vec<Value> = Vec::with_capacity(members.len());
        for member in members {
            if member.get("type").and_then(Value::as_str) == Some("null") {
                nullable = true;
            } else {
                kept.push(rewrite(member, defs, depth));
            }
        }
        if kept.len() == 1 {
            if let Some(Value::Object(single)) = kept.pop() {
                out.extend(single);
            }
        } else if !kept.is_empty() {
            out.insert("anyOf".to_owned(), Value::Array(kept));
        }
    }
    if let Some(Value::Array(all)) = map.get("allOf") {
        for member in all {
            if let Value::Object(part) = rewrite(member, defs, depth) {
                merge_into(&mut out, part);
            }
        }
    }

    if types.len() > 1 {
        let members = types
            .iter()
            .map(|t| {
                let mut member = Map::new();
                member.insert("type".to_owned(), Value::String(t.clone()));
                Value::Object(member)
            })
            .collect();
        out.insert("anyOf".to_owned(), Value::Array(members));
    } else if let Some(single) = types.pop() {
        out.insert("type".to_owned(), Value::String(single));
    }

    for (key, value) in map {
        match key.as_str() {
            "type" | "anyOf" | "oneOf" | "allOf" | "nullable" | "$ref" => {}
            "properties" => {
                if let Value::Object(properties) = value {
                    let rewritten: Map<String, Value> = properties
                        .iter()
                        .map(|(name, property)| (name.clone(), rewrite(property, defs, depth)))
                        .collect();
                    out.insert("properties".to_owned(), Value::Object(rewritten));
                }
            }
            "items" => {
                let items = match value {
                    Value::Object(items) if items.is_empty() => object_schema(),
                    Value::Array(tuple) => tuple
                        .first()
                        .map_or_else(object_schema, |first| rewrite(first, defs, depth)),
                    other => rewrite(other, defs, depth),
                };
                out.insert("items".to_owned(), items);
            }
            "const" if value.is_string() => {
                out.insert("enum".to_owned(), Value::Array(vec![value.clone()]));
                out.entry("type".to_owned())
                    .or_insert_with(|| Value::String("string".to_owned()));
            }
            "examples" => {
                if let Some(first) = value.as_array().and_then(|e| e.first()) {
                    out.entry("example".to_owned())
                        .or_insert_with(|| first.clone());
                }
            }
            k if KEPT.contains(&k) => {
                out.insert(key.clone(), value.clone());
            }
            _ => {}
        }
    }
    if nullable {
        out.insert("nullable".to_owned(), Value::Bool(true));
    }
    if !out.contains_key("type") && !out.contains_key("anyOf") {
        if out.contains_key("properties") {
            out.insert("type".to_owned(), Value::String("object".to_owned()));
        } else if out.contains_key("items") {
            out.insert("type".to_owned(), Value::String("array".to_owned()));
        } else if out.contains_key("enum") {
            out.insert("type".to_owned(), Value::String("string".to_owned()));
        }
    }
    fix_enum(&mut out);
    fix_format(&mut out);
    fix_required(&mut out);
    Value::Object(out)
}

fn object_schema() -> Value {
    let mut map = Map::new();
    map.insert("type".to_owned(), Value::String("object".to_owned()));
    Value::Object(map)
}

fn merge_into(out: &mut Map<String, Value>, part: Map<String, Value>) {
    for (key, value) in part {
        match (key.as_str(), out.get_mut(&key), value) {
            ("properties", Some(Value::Object(existing)), Value::Object(more)) => {
                existing.extend(more);
            }
            ("required", Some(Value::Array(existing)), Value::Array(more)) => {
                for name in more {
                    if !existing.contains(&name) {
                        existing.push(name);
                    }
                }
            }
            (_, _, value) => {
                out.insert(key, value);
            }
        }
    }
}

/// Gemini takes `enum` on strings only, and rejects empty strings in it.
fn fix_enum(out: &mut Map<String, Value>) {
    let Some(values) = out.get("enum").and_then(Value::as_array) else {
        return;
    };
    let is_string_type = out.get("type").and_then(Value::as_str) == Some("string");
    if !is_string_type || !values.iter().all(Value::is_string) {
        out.remove("enum");
        return;
    }
    let kept: Vec<Value> = values
        .iter()
        .filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
        .cloned()
        .collect();
    if kept.is_empty() {
        out.remove("enum");
    } else {
        out.insert("enum".to_owned(), Value::Array(kept));
    }
}

/// The `format` values Gemini documents per type: `enum` and `date-time` for strings,
/// `float` / `double` for numbers, `int32` / `int64` for integers.
fn fix_format(out: &mut Map<String, Value>) {
    let Some(format) = out.get("format").and_then(Value::as_str) else {
        out.remove("format");
        return;
    };
    let allowed = match out.get("type").and_then(Value::as_str) {
        Some("string") => matches!(format, "enum" | "date-time"),
        Some("number") => matches!(format, "float" | "double"),
        Some("integer") => matches!(format, "int32" | "int64"),
        _ => false,
    };
    if !allowed {
        out.remove("format");
    }
}

/// `required` may only name declared properties.
fn fix_required(out: &mut Map<String, Value>) {
    let Some(Value::Array(required)) = out.get("required") else {
        return;
    };
    let declared = out.get("properties").and_then(Value::as_object);
    let kept: Vec<Value> = required
        .iter()
        .filter(|name| {
            name.as_str()
                .is_some_and(|n| declared.is_some_and(|p| p.contains_key(n)))
        })
        .cloned()
        .collect();
    if kept.is_empty() {
        out.remove("required");
    } else {
        out.insert("required".to_owned(), Value::Array(kept));
    }
}

fn add_property_ordering(schema: &mut Value) {
    let Value::Object(map) = schema else {
        return;
    };
    if let Some(Value::Object(properties)) = map.get_mut("properties") {
        for property in properties.values_mut() {
            add_property_ordering(property);
        }
        let order: Vec<Value> = properties.keys().cloned().map(Value::String).collect();
        if !order.is_empty() {
            map.insert("propertyOrdering".to_owned(), Value::Array(order));
        }
    }
    if let Some(items) = map.get_mut("items") {
        add_property_ordering(items);
    }
    if let Some(Value::Array(members)) = map.get_mut("anyOf") {
        for member in members {
            add_property_ordering(member);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fixture(name: &str) -> Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/gemini")
            .join(name);
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// Every keyword left anywhere in a rewritten schema is one Gemini knows.
    fn assert_only_gemini_keywords(schema: &Value, at: &str) {
        let Value::Object(map) = schema else {
            panic!("{at}: not an object: {schema}");
        };
        for (key, value) in map {
            assert!(KEPT.contains(&key.as_str()), "{at}: kept `{key}`");
            match key.as_str() {
                "properties" => {
                    for (name, property) in value.as_object().unwrap() {
                        assert_only_gemini_keywords(property, &format!("{at}.{name}"));
                    }
                }
                "items" => assert_only_gemini_keywords(value, &format!("{at}[]")),
                "anyOf" => {
                    for member in value.as_array().unwrap() {
                        assert_only_gemini_keywords(member, &format!("{at}|"));
                    }
                }
                _ => {}
            }
        }
    }

    #[test]
    fn schema_cases_rewrite_as_recorded() {
        let cases = fixture("schema_cases.json");
        for case in cases["cases"].as_array().unwrap() {
            let name = case["name"].as_str().unwrap();
            let actual = match case["kind"].as_str() {
                Some("response") => Some(response_schema(&case["input"])),
                _ => function_parameters(Some(&case["input"])),
            };
            let expected = if case["expected"].is_null() {
                None
            } else {
                Some(case["expected"].clone())
            };
            assert_eq!(actual, expected, "{name}");
            if let Some(actual) = &actual {
                assert_only_gemini_keywords(actual, name);
            }
        }
    }

    #[test]
    fn recursive_references_terminate() {
        let schema = json!({
            "type": "object",
            "properties": {"node": {"$ref": "#/$defs/Node"}},
            "$defs": {"Node": {"type": "object", "properties": {
                "child": {"$ref": "#/$defs/Node"}, "name": {"type": "string"}}}}
        });
        let out = function_parameters(Some(&schema)).unwrap();
        assert_eq!(
            out["properties"]["node"]["properties"]["name"]["type"],
            "string"
        );
        assert_only_gemini_keywords(&out, "root");
    }
}
