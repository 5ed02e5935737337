//! Input tokens: the estimate behind `usage` and `count_tokens`, and prompt caching by prefix.
//!
//! Tokens are estimated like the OpenAI mock's (characters / 4, rounded up) over the prompt in the order
//! Anthropic caches it: `tools`, then `system`, then `messages`. Each `cache_control` marks a breakpoint; a
//! prefix is identified by a hash of everything up to and including its breakpoint (without the
//! `cache_control` markers themselves), so moving a breakpoint later still reads the earlier prefix.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashSet, VecDeque};
use std::hash::{Hash, Hasher};

use serde::Serialize;
use serde_json::Value;

use super::request::MessagesRequest;
use crate::exchange::Exchange;
use crate::shaping::estimate_tokens;

/// Prefix hashes of cache writes seen by the server, oldest forgotten first.
#[derive(Debug, Default)]
pub(crate) struct PromptCache {
    seen: HashSet<u64>,
    order: VecDeque<u64>,
}

impl PromptCache {
    /// Enough for any test suite; a load test with unique prompts just cycles through it.
    const LIMIT: usize = 4096;

    /// The position of the longest prefix already cached, then remembers every prefix (a cache write).
    pub(crate) fn read_then_write(&mut self, prefixes: &[u64]) -> Option<usize> {
        let hit = prefixes.iter().rposition(|hash| self.seen.contains(hash));
        for &hash in prefixes {
            if self.seen.insert(hash) {
                self.order.push_back(hash);
            }
        }
        while self.order.len() > Self::LIMIT {
            if let Some(oldest) = self.order.pop_front() {
                self.seen.remove(&oldest);
            }
        }
        hit
    }

    pub(crate) fn clear(&mut self) {
        self.seen.clear();
        self.order.clear();
    }
}

/// A `cache_control` breakpoint: the prompt characters up to and including it and the hash of that prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Breakpoint {
    characters: usize,
    hash: u64,
    one_hour: bool,
}

/// The prompt's characters and its cache breakpoints, in caching order.
#[derive(Debug)]
pub(super) struct PromptCount {
    characters: usize,
    breakpoints: Vec<Breakpoint>,
}

impl PromptCount {
    pub(super) fn new(request: &MessagesRequest<'_>) -> PromptCount {
        let mut walker = Walker {
            hasher: DefaultHasher::new(),
            characters: 0,
            breakpoints: Vec::new(),
        };
        request.model.hash(&mut walker.hasher);
        for tool in request.tools {
            walker.part(tool, tool_characters(tool));
        }
        match request.system {
            Some(Value::String(system)) => walker.text(system),
            Some(Value::Array(blocks)) => {
                for block in blocks {
                    walker.part(block, block_characters(block));
                }
            }
            _ => {}
        }
        for message in request.messages {
            let role = message.get("role").and_then(Value::as_str).unwrap_or("");
            role.hash(&mut walker.hasher);
            match message.get("content") {
                Some(Value::String(text)) => walker.text(text),
                Some(Value::Array(blocks)) => {
                    for block in blocks {
                        walker.part(block, block_characters(block));
                    }
                }
                _ => {}
            }
        }
        PromptCount {
            characters: walker.characters,
            breakpoints: walker.breakpoints,
        }
    }

    /// The whole prompt's tokens (at least 1), as `count_tokens` reports them.
    pub(super) fn total_tokens(&self) -> u64 {
        estimate_tokens(self.characters).max(1)
    }

    pub(super) fn prefix_hashes(&self) -> Vec<u64> {
        self.breakpoints
            .iter()
            .map(|breakpoint| breakpoint.hash)
            .collect()
    }

    /// Splits the prompt into uncached, cache-read and cache-written tokens.
    ///
    /// `cache_hit` is the position of the longest breakpoint already cached (from
    /// [`PromptCache::read_then_write`]); everything after it up to the last breakpoint is written, by TTL.
    pub(super) fn usage(&self, cache_hit: Option<usize>, overrides: UsageOverrides) -> InputUsage {
        let total = self.total_tokens();
        let read = cache_hit.map_or(0, |hit| {
            estimate_tokens(self.breakpoints[hit].characters).min(total)
        });
        let mut cached = read;
        let (mut five_minutes, mut one_hour) = (0, 0);
        let written = cache_hit.map_or(&self.breakpoints[..], |hit| &self.breakpoints[hit + 1..]);
        for breakpoint in written {
            let through = estimate_tokens(breakpoint.characters).min(total);
            let segment = through.saturating_sub(cached);
            cached = cached.max(through);
            if breakpoint.one_hour {
                one_hour += segment;
            } else {
                five_minutes += segment;
            }
        }
        let mut usage = InputUsage {
            input_tokens: total.saturating_sub(cached),
            cache_creation_input_tokens: five_minutes + one_hour,
            cache_read_input_tokens: read,
            cache_creation: CacheCreation {
                ephemeral_5m_input_tokens: five_minutes,
                ephemeral_1h_input_tokens: one_hour,
            },
        };
        if let Some(tokens) = overrides.input_tokens {
            usage.input_tokens = tokens;
        }
        if let Some(tokens) = overrides.cache_read_input_tokens {
            usage.cache_read_input_tokens = tokens;
        }
        if let Some(tokens) = overrides.cache_creation_input_tokens {
            usage.cache_creation_input_tokens = tokens;
            usage.cache_creation = CacheCreation {
                ephemeral_5m_input_tokens: tokens,
                ephemeral_1h_input_tokens: 0,
            };
        }
        usage
    }
}

/// `usage` fields forced by headers or the config; each replaces only its own field.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct UsageOverrides {
    /// `x-mock-prompt-tokens` (or the configured prompt tokens): `input_tokens`.
    pub input_tokens: Option<u64>,
    /// `x-mock-cache-read-tokens`.
    pub cache_read_input_tokens: Option<u64>,
    /// `x-mock-cache-creation-tokens` (reported as 5-minute cache writes).
    pub cache_creation_input_tokens: Option<u64>,
}

impl UsageOverrides {
    pub(super) fn of(exchange: &Exchange) -> UsageOverrides {
        UsageOverrides {
            input_tokens: exchange.prompt_tokens(),
            cache_read_input_tokens: exchange.controls.cache_read_tokens,
            cache_creation_input_tokens: exchange.controls.cache_creation_tokens,
        }
    }
}

/// The input side of `usage`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct InputUsage {
    pub input_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
    pub cache_creation: CacheCreation,
}

/// Follows: anthropic-sdk-python `types/cache_creation.py`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(super) struct CacheCreation {
    pub ephemeral_5m_input_tokens: u64,
    pub ephemeral_1h_input_tokens: u64,
}

struct Walker {
    hasher: DefaultHasher,
    characters: usize,
    breakpoints: Vec<Breakpoint>,
}

impl Walker {
    fn text(&mut self, text: &str) {
        self.characters += text.chars().count();
        text.hash(&mut self.hasher);
    }

    /// A tool, system block or content block: counted, hashed, and a breakpoint when it has `cache_control`.
    fn part(&mut self, part: &Value, characters: usize) {
        self.characters += characters;
        hash_without_cache_control(part, &mut self.hasher);
        if let Some(cache_control) = part.get("cache_control").filter(|value| value.is_object()) {
            self.breakpoints.push(Breakpoint {
                characters: self.characters,
                hash: self.hasher.clone().finish(),
                one_hour: cache_control.get("ttl").and_then(Value::as_str) == Some("1h"),
            });
        }
    }
}

fn hash_without_cache_control(value: &Value, hasher: &mut DefaultHasher) {
    match value {
        Value::Null => 0_u8.hash(hasher),
        Value::Bool(flag) => (1_u8, flag).hash(hasher),
        Value::Number(number) => (2_u8, number.to_string()).hash(hasher),
        Value::String(text) => (3_u8, text).hash(hasher),
        Value::Array(items) => {
            (4_u8, items.len()).hash(hasher);
            for item in items {
                hash_without_cache_control(item, hasher);
            }
        }
        Value::Object(fields) => {
            5_u8.hash(hasher);
            for (name, field) in fields {
                if name != "cache_control" {
                    name.hash(hasher);
                    hash_without_cache_control(field, hasher);
                }
            }
        }
    }
}

fn characters(value: Option<&Value>) -> usize {
    value
        .and_then(Value::as_str)
        .map_or(0, |text| text.chars().count())
}

/// A tool definition: its name, description and input schema (server tools: the name).
fn tool_characters(tool: &Value) -> usize {
    characters(tool.get("name"))
        + characters(tool.get("description"))
        + tool
            .get("input_schema")
            .map_or(0, |schema| schema.to_string().chars().count())
}

/// The text a content block puts in the prompt; images and other binary sources count nothing.
fn block_characters(block: &Value) -> usize {
    match block.get("type").and_then(Value::as_str) {
        Some("text") => characters(block.get("text")),
        Some("thinking") => characters(block.get("thinking")),
        Some("tool_use") => {
            characters(block.get("name"))
                + block
                    .get("input")
                    .map_or(0, |input| input.to_string().chars().count())
        }
        Some("tool_result") => match block.get("content") {
            Some(Value::String(text)) => text.chars().count(),
            Some(Value::Array(parts)) => parts.iter().map(block_characters).sum(),
            _ => 0,
        },
        Some("document") => {
            let source = block.get("source");
            if source
                .and_then(|source| source.get("type"))
                .and_then(Value::as_str)
                == Some("text")
            {
                characters(source.and_then(|source| source.get("data")))
            } else {
                0
            }
        }
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anthropic::request::Endpoint;
    use serde_json::json;

    fn count(body: &Value) -> PromptCount {
        PromptCount::new(&MessagesRequest::parse(Some(body), Endpoint::Messages, "").unwrap())
    }

    #[test]
    fn estimates_tools_system_and_messages() {
        let body = json!({"model": "m", "max_tokens": 10,
            "system": "12345678",
            "messages": [{"role": "user", "content": [{"type": "text", "text": "abcd"}]}]});
        assert_eq!(count(&body).total_tokens(), 3);
        let empty =
            json!({"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": ""}]});
        assert_eq!(count(&empty).total_tokens(), 1);
    }

    #[test]
    fn cache_writes_then_reads_the_prefix() {
        let long = "x".repeat(400);
        let body = json!({"model": "m", "max_tokens": 10,
            "system": [{"type": "text", "text": long, "cache_control": {"type": "ephemeral"}}],
            "messages": [{"role": "user", "content": "abcdefgh"}]});
        let prompt = count(&body);
        let mut cache = PromptCache::default();
        let controls = UsageOverrides::default();
        let first = prompt.usage(cache.read_then_write(&prompt.prefix_hashes()), controls);
        assert_eq!(
            (
                first.input_tokens,
                first.cache_creation_input_tokens,
                first.cache_read_input_tokens
            ),
            (2, 100, 0)
        );
        assert_eq!(first.cache_creation.ephemeral_5m_input_tokens, 100);
        let second = prompt.usage(cache.read_then_write(&prompt.prefix_hashes()), controls);
        assert_eq!(
            (
                second.input_tokens,
                second.cache_creation_input_tokens,
                second.cache_read_input_tokens
            ),
            (2, 0, 100)
        );
        // A later breakpoint with a one-hour TTL reads the old prefix and writes the new segment.
        let extended = json!({"model": "m", "max_tokens": 10,
            "system": [{"type": "text", "text": long}],
            "messages": [{"role": "user", "content": [
                {"type": "text", "text": "abcdefgh", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]}]});
        let extended = count(&extended);
        assert_ne!(extended.prefix_hashes(), prompt.prefix_hashes());
        let third = extended.usage(cache.read_then_write(&extended.prefix_hashes()), controls);
        assert_eq!(third.cache_read_input_tokens, 0);
        assert_eq!(third.cache_creation.ephemeral_1h_input_tokens, 102);
        cache.clear();
        assert_eq!(cache.read_then_write(&prompt.prefix_hashes()), None);
    }

    #[test]
    fn moving_the_breakpoint_later_keeps_the_earlier_prefix_readable() {
        let marked = json!({"model": "m", "max_tokens": 10,
            "system": [{"type": "text", "text": "s".repeat(40), "cache_control": {"type": "ephemeral"}}],
            "messages": [{"role": "user", "content": "q"}]});
        let later = json!({"model": "m", "max_tokens": 10,
            "system": [{"type": "text", "text": "s".repeat(40), "cache_control": {"type": "ephemeral"}}],
            "messages": [{"role": "user", "content": [
                {"type": "text", "text": "q".repeat(40), "cache_control": {"type": "ephemeral"}}]}]});
        let mut cache = PromptCache::default();
        let controls = UsageOverrides::default();
        let first = count(&marked);
        first.usage(cache.read_then_write(&first.prefix_hashes()), controls);
        let second = count(&later);
        let usage = second.usage(cache.read_then_write(&second.prefix_hashes()), controls);
        assert_eq!(
            (
                usage.input_tokens,
                usage.cache_read_input_tokens,
                usage.cache_creation_input_tokens
            ),
            (0, 10, 10)
        );
    }

    #[test]
    fn controls_force_usage_fields() {
        let body = json!({"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "abcd"}]});
        let overrides = UsageOverrides {
            input_tokens: Some(7),
            cache_read_input_tokens: Some(30),
            cache_creation_input_tokens: Some(5),
        };
        let usage = count(&body).usage(None, overrides);
        assert_eq!(
            (
                usage.input_tokens,
                usage.cache_read_input_tokens,
                usage.cache_creation_input_tokens
            ),
            (7, 30, 5)
        );
        assert_eq!(usage.cache_creation.ephemeral_5m_input_tokens, 5);
    }
}
