//! What a Gemini model name says about the request it takes (LiteLLM's rules by name).

/// Gemini 3 and newer take `thinkingLevel` instead of `thinkingBudget` and echo function-call
/// ids. Older names are `gemini-1*`, `gemini-2*`, `gemini-exp*`, `gemini-pro*` and
/// `gemini-flash*` (except the moving `gemini-(flash|pro)[-lite]-latest` aliases); Gemma and
/// numeric (tuned) models are not Gemini 3; anything else is taken as newer.
#[must_use]
pub fn is_gemini_3_or_newer(model: &str) -> bool {
    let name = model
        .rsplit('/')
        .next()
        .unwrap_or(model)
        .to_ascii_lowercase();
    if name.is_empty() || name.chars().all(|c| c.is_ascii_digit()) || name.starts_with("gemma-") {
        return false;
    }
    let Some(rest) = name.strip_prefix("gemini-") else {
        return !model.starts_with("gemini/");
    };
    let boundary = |tail: &str| tail.is_empty() || tail.starts_with('-');
    if let Some(tail) = rest.strip_prefix('1').or_else(|| rest.strip_prefix('2')) {
        let tail = match tail.strip_prefix('.') {
            Some(minor) => {
                let digits = minor.chars().take_while(char::is_ascii_digit).count();
                if digits == 0 {
                    return true;
                }
                &minor[digits..]
            }
            None => tail,
        };
        return !boundary(tail);
    }
    if let Some(tail) = rest.strip_prefix("exp") {
        return !boundary(tail);
    }
    for family in ["pro", "flash"] {
        if let Some(tail) = rest.strip_prefix(family) {
            if tail == "-latest" || tail == "-lite-latest" {
                return true;
            }
            return !boundary(tail);
        }
    }
    true
}

/// Gemini 3+ Flash models accept `thinkingLevel: "minimal"`.
#[must_use]
pub fn supports_minimal_thinking_level(model: &str) -> bool {
    is_gemini_3_or_newer(model) && model.to_ascii_lowercase().contains("flash")
}

/// Gemini 2.0+ take a standard JSON Schema in `responseJsonSchema`; older ones only the
/// OpenAPI subset in `responseSchema`.
#[must_use]
pub fn supports_response_json_schema(model: &str) -> bool {
    let lower = model.to_ascii_lowercase();
    lower.match_indices("gemini-").any(|(at, _)| {
        let tail = &lower[at + "gemini-".len()..];
        let digits = tail.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        let major: u32 = tail[..digits].parse().unwrap_or(0);
        let next = tail[digits..].chars().next();
        major >= 2 && matches!(next, Some('.' | '-'))
    })
}

/// `vertex_ai/claude-…` goes to Anthropic's publisher endpoint (`rawPredict`).
#[must_use]
pub fn is_claude(model: &str) -> bool {
    model
        .rsplit('/')
        .next()
        .unwrap_or(model)
        .starts_with("claude")
}

/// Embedding models served by `predict` (Vertex) / `batchEmbedContents` (Gemini API).
#[must_use]
pub fn is_embedding(model: &str) -> bool {
    let name = model.rsplit('/').next().unwrap_or(model);
    name.contains("embedding") || name.starts_with("textembedding")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_by_name() {
        for old in [
            "gemini-2.5-flash",
            "gemini-2.0-flash-001",
            "gemini-1.5-pro",
            "gemini-exp-1206",
            "gemini-pro",
            "gemini-flash-lite",
            "gemma-3-27b-it",
            "1234567890",
        ] {
            assert!(!is_gemini_3_or_newer(old), "{old}");
        }
        for new in [
            "gemini-3-pro-preview",
            "gemini-3-flash-preview",
            "gemini-flash-latest",
            "gemini-flash-lite-latest",
            "gemini-3.1-pro",
        ] {
            assert!(is_gemini_3_or_newer(new), "{new}");
        }
        assert!(supports_minimal_thinking_level("gemini-3-flash-preview"));
        assert!(!supports_minimal_thinking_level("gemini-3-pro-preview"));
        assert!(supports_response_json_schema("gemini-2.5-flash"));
        assert!(supports_response_json_schema("gemini-3-pro-preview"));
        assert!(!supports_response_json_schema("gemini-1.5-pro"));
        assert!(is_claude("claude-sonnet-4-5@20250929"));
        assert!(is_embedding("text-embedding-004"));
        assert!(is_embedding("gemini-embedding-001"));
    }
}
