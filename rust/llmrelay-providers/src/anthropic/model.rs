//! What a Claude model accepts: the catalog's flags, else the name rules LiteLLM's cost map keeps
//! in `fallback_generalizations` for Claude ids it has no entry for.

use serde_json::Value;

use llmrelay_core::catalog;

/// Used when neither the catalog nor a name rule knows the model (LiteLLM's
/// `DEFAULT_ANTHROPIC_CHAT_MAX_TOKENS`).
pub const DEFAULT_MAX_TOKENS: u64 = 4096;

/// The capabilities translation depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent catalog flags, read one by one"
)]
pub struct ModelCapabilities {
    /// `max_output_tokens` of the catalog entry.
    pub max_output_tokens: Option<u64>,
    /// `thinking` and `reasoning_effort` are accepted.
    pub reasoning: bool,
    /// Claude 4.6+: thinking is `{"type": "adaptive"}` with `output_config.effort`.
    pub adaptive_thinking: bool,
    /// Claude 4.6: also still accepts `{"type": "enabled", "budget_tokens"}`.
    pub legacy_thinking: bool,
    /// `output_format` (structured outputs) instead of the forced-tool emulation of JSON mode.
    pub native_structured_output: bool,
    /// `temperature` other than 1, `top_p` and `top_k` are accepted.
    pub sampling_params: bool,
    /// `tool_choice` `any` / `tool` are accepted.
    pub forced_tool_use: bool,
    /// System turns may stay inside `messages`.
    pub mid_conversation_system: bool,
    /// Rejects `thinking: {"type": "disabled"}`.
    pub thinking_always_on: bool,
    /// `output_config.effort` is accepted.
    pub effort: bool,
    pub xhigh_effort: bool,
    pub max_effort: bool,
    /// The `speed` parameter (fast mode), Anthropic API only.
    pub speed: bool,
}

impl ModelCapabilities {
    /// Capabilities of `model` (the id sent upstream, without the `anthropic/` prefix).
    #[must_use]
    pub fn of(model: &str) -> Self {
        let catalog = catalog::global();
        let entry = catalog.lookup(model, Some("anthropic"));
        let flag = |name: &str| -> Option<bool> {
            entry.and_then(|e| e.raw.get(name)).and_then(Value::as_bool)
        };
        let mapped = entry.is_some();
        // Rules without `fill_missing_for_providers` only apply to unmapped ids.
        let family = !mapped && matches_family_baseline(model);
        let reasoning =
            flag("supports_reasoning").unwrap_or(family) || model.contains("claude-3-7-sonnet");
        let adaptive_thinking =
            flag("supports_adaptive_thinking").unwrap_or_else(|| matches_adaptive_thinking(model));
        let effort_levels = ["low", "minimal", "medium", "high", "xhigh", "max"];
        let effort = flag("supports_output_config") == Some(true)
            || effort_levels
                .iter()
                .any(|level| flag(&format!("supports_{level}_reasoning_effort")) == Some(true));
        Self {
            // LiteLLM reads the default `max_tokens` from the cost map's entries only (the
            // family rule's 64,000 is not consulted there).
            max_output_tokens: entry.and_then(|e| e.max_output_tokens),
            reasoning: reasoning || adaptive_thinking,
            adaptive_thinking,
            legacy_thinking: flag("supports_legacy_thinking")
                .unwrap_or_else(|| matches_legacy_thinking(model)),
            native_structured_output: flag("supports_native_structured_output").unwrap_or(false),
            sampling_params: flag("supports_sampling_params")
                .unwrap_or_else(|| !removed_sampling_params(model)),
            forced_tool_use: flag("supports_forced_tool_use") != Some(false),
            mid_conversation_system: flag("supports_mid_conversation_system")
                .unwrap_or_else(|| matches_mid_conversation_system(model)),
            thinking_always_on: flag("thinking_always_on").unwrap_or(
                !mapped && (model.contains("claude-fable-") || model.contains("claude-mythos-")),
            ),
            effort,
            xhigh_effort: flag("supports_xhigh_reasoning_effort") == Some(true),
            max_effort: flag("supports_max_reasoning_effort") == Some(true),
            speed: catalog
                .get_exact(model)
                .and_then(|e| e.raw.get("supports_speed"))
                .and_then(Value::as_bool)
                == Some(true),
        }
    }

    /// The default `max_tokens` when the caller sets none.
    #[must_use]
    pub fn default_max_tokens(&self) -> u64 {
        self.max_output_tokens.unwrap_or(DEFAULT_MAX_TOKENS)
    }
}

/// For every `claude-<family>-` in the id, what follows the family name.
fn after_family(model: &str) -> impl Iterator<Item = &[u8]> {
    model
        .match_indices("claude-")
        .filter_map(|(start, prefix)| {
            let rest = &model.as_bytes()[start + prefix.len()..];
            let letters = rest.iter().take_while(|b| b.is_ascii_lowercase()).count();
            (letters > 0 && rest.get(letters) == Some(&b'-')).then(|| &rest[letters + 1..])
        })
}

fn digit_at(bytes: &[u8], index: usize) -> bool {
    bytes.get(index).is_some_and(u8::is_ascii_digit)
}

fn in_range(bytes: &[u8], index: usize, low: u8, high: u8) -> bool {
    bytes.get(index).is_some_and(|b| (low..=high).contains(b))
}

fn version_separator(bytes: &[u8], index: usize) -> bool {
    matches!(bytes.get(index), Some(b'-' | b'.' | b'_'))
}

/// `claude-<family>-<digits>`: the `claude-family-baseline` rule.
fn matches_family_baseline(model: &str) -> bool {
    after_family(model).any(|rest| digit_at(rest, 0))
}

/// `4.<minor>` with the minor in `first..=9` or two digits `10..=99`, not followed by a digit.
fn four_point(rest: &[u8], first: u8) -> bool {
    rest.first() == Some(&b'4')
        && version_separator(rest, 1)
        && ((in_range(rest, 2, first, b'9') && !digit_at(rest, 3))
            || (in_range(rest, 2, b'1', b'9') && digit_at(rest, 3) && !digit_at(rest, 4)))
}

/// A single-digit major of 5 or more.
fn major_five_plus(rest: &[u8]) -> bool {
    in_range(rest, 0, b'5', b'9') && !digit_at(rest, 1)
}

/// Claude 4.6+ (`claude-adaptive-thinking`).
fn matches_adaptive_thinking(model: &str) -> bool {
    after_family(model).any(|rest| four_point(rest, b'6') || major_five_plus(rest))
}

/// Claude 4.6 exactly (`claude-legacy-thinking`).
fn matches_legacy_thinking(model: &str) -> bool {
    after_family(model).any(|rest| {
        rest.first() == Some(&b'4')
            && version_separator(rest, 1)
            && rest.get(2) == Some(&b'6')
            && !digit_at(rest, 3)
    })
}

/// Claude 4.8+ (`claude-mid-conversation-system`).
fn matches_mid_conversation_system(model: &str) -> bool {
    after_family(model).any(|rest| four_point(rest, b'8') || major_five_plus(rest))
}

/// The families that removed `temperature`/`top_p`/`top_k` (LiteLLM's name fallback for ids
/// whose catalog entry has no `supports_sampling_params`).
fn removed_sampling_params(model: &str) -> bool {
    let lower = model.to_ascii_lowercase();
    ["fable", "opus-4-7", "opus_4_7", "opus-4.7", "opus_4.7"]
        .iter()
        .chain(&["opus-4-8", "opus_4_8", "opus-4.8", "opus_4.8"])
        .any(|needle| lower.contains(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_rules_follow_the_cost_map_patterns() {
        assert!(matches_family_baseline("claude-future-9"));
        assert!(!matches_family_baseline("claude-3-7-sonnet-20250219"));
        assert!(matches_adaptive_thinking("claude-sonnet-4-6"));
        assert!(matches_adaptive_thinking("claude-opus-4.7"));
        assert!(matches_adaptive_thinking("claude-newfamily-5"));
        assert!(matches_adaptive_thinking("claude-opus-4-10"));
        assert!(!matches_adaptive_thinking("claude-sonnet-4-5"));
        assert!(!matches_adaptive_thinking("claude-opus-4-20250514"));
        assert!(!matches_adaptive_thinking("claude-x-55"));
        assert!(matches_legacy_thinking("claude-sonnet-4-6-20260101"));
        assert!(!matches_legacy_thinking("claude-sonnet-4-60"));
        assert!(matches_mid_conversation_system("claude-opus-4-8"));
        assert!(!matches_mid_conversation_system("claude-opus-4-7"));
    }

    #[test]
    fn catalog_flags_win() {
        let sonnet = ModelCapabilities::of("claude-sonnet-4-5");
        assert_eq!(sonnet.max_output_tokens, Some(64_000));
        assert!(sonnet.reasoning && sonnet.native_structured_output && sonnet.sampling_params);
        assert!(!sonnet.adaptive_thinking && !sonnet.mid_conversation_system);
        let opus = ModelCapabilities::of("claude-opus-4-7");
        assert!(opus.adaptive_thinking && !opus.legacy_thinking && !opus.sampling_params);
        let old = ModelCapabilities::of("claude-3-7-sonnet-20250219");
        assert_eq!(old.default_max_tokens(), DEFAULT_MAX_TOKENS);
        assert!(old.reasoning && !old.native_structured_output);
        let future = ModelCapabilities::of("claude-future-9");
        assert_eq!(future.default_max_tokens(), DEFAULT_MAX_TOKENS);
        assert!(future.adaptive_thinking && future.mid_conversation_system);
    }
}
