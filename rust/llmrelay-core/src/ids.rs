//! Identifiers in the shapes LiteLLM generates: response ids, call ids, tool call ids.

use uuid::Uuid;

/// A random UUID, hyphenated (`litellm_call_id`, Anthropic-generated tool ids).
#[must_use]
pub fn uuid() -> String {
    Uuid::new_v4().to_string()
}

/// `chatcmpl-<uuid>`, the id LiteLLM gives responses it builds itself.
#[must_use]
pub fn chat_completion_id() -> String {
    format!("chatcmpl-{}", Uuid::new_v4())
}

/// `cmpl-<uuid>`, the legacy completions' id.
#[must_use]
pub fn text_completion_id() -> String {
    format!("cmpl-{}", Uuid::new_v4())
}

/// `<prefix><32 hex digits>` (`chatcmpl-…` without hyphens, `msg_…`, `resp_…`).
#[must_use]
pub fn hex_id(prefix: &str) -> String {
    let mut buffer = [0_u8; 32];
    let hex = Uuid::new_v4().simple().encode_lower(&mut buffer);
    let mut id = String::with_capacity(prefix.len() + hex.len());
    id.push_str(prefix);
    id.push_str(hex);
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(chat_completion_id().len(), "chatcmpl-".len() + 36);
        assert!(text_completion_id().starts_with("cmpl-"));
        let id = hex_id("msg_");
        assert_eq!(id.len(), 4 + 32);
        assert!(id[4..].bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(uuid(), uuid());
    }
}
