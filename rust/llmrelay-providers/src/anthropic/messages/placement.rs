//! System messages after the leading run: kept in `messages` for models that accept system
//! turns there (right after a user turn, followed by an assistant turn or the end), else turned
//! into user turns prefixed with an operator note. Either way no later message moves an earlier
//! one, so a replayed conversation keeps a byte-identical prefix for the prompt cache.

use serde_json::json;

use super::{
    CONVERTED_SYSTEM_NOTE, ChatMessage, ContentPart, MessageContent, Role, Value, is_system,
    is_unsignable, is_user_side, message, non_null, part_value, text_part, truthy,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    System,
    Tool,
    User,
    Other,
}

fn kind(message: &ChatMessage) -> Kind {
    match message.role {
        Role::System | Role::Developer => Kind::System,
        Role::Tool | Role::Function => Kind::Tool,
        Role::User => Kind::User,
        Role::Assistant => Kind::Other,
    }
}

/// Only `{"type": "ephemeral"}` (with a `5m` / `1h` ttl) survives, rebuilt.
fn portable_cache_control(value: Option<&Value>) -> Option<Value> {
    let value = non_null(value)?;
    if value.get("type").and_then(Value::as_str) != Some("ephemeral") {
        return None;
    }
    Some(match value.get("ttl").and_then(Value::as_str) {
        Some(ttl @ ("1h" | "5m")) => json!({"type": "ephemeral", "ttl": ttl}),
        _ => json!({"type": "ephemeral"}),
    })
}

/// Non-empty text parts of a system message, each with its cache control.
pub(super) fn text_parts(message: &ChatMessage) -> Vec<(String, Option<Value>)> {
    match &message.content {
        Some(MessageContent::Text(text)) if !text.is_empty() => vec![(
            text.clone(),
            portable_cache_control(message.extra.get("cache_control")),
        )],
        Some(MessageContent::Parts(parts)) => parts
            .iter()
            .filter(|p| p.kind == "text")
            .filter_map(|p| {
                let text = p.text.as_deref().filter(|t| !t.is_empty())?;
                Some((
                    text.to_owned(),
                    portable_cache_control(p.extra.get("cache_control")),
                ))
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn as_user_turn(system: &ChatMessage) -> ChatMessage {
    let mut parts = vec![text_part(CONVERTED_SYSTEM_NOTE, None)];
    parts.extend(
        text_parts(system)
            .into_iter()
            .map(|(text, cache)| text_part(&text, cache)),
    );
    message(Role::User, Some(MessageContent::Parts(parts)))
}

fn converted(run: &[&ChatMessage]) -> Vec<ChatMessage> {
    run.iter()
        .filter(|m| !text_parts(m).is_empty())
        .map(|m| as_user_turn(m))
        .collect()
}

fn merged(run: &[&ChatMessage]) -> Option<ChatMessage> {
    let parts: Vec<ContentPart> = run
        .iter()
        .flat_map(|m| text_parts(m))
        .map(|(text, cache)| text_part(&text, cache))
        .collect();
    (!parts.is_empty()).then(|| message(Role::System, Some(MessageContent::Parts(parts))))
}

/// Every system message becomes a user turn in place; a run followed by tool results moves
/// after them, because `tool_result` blocks must open their user message.
pub(super) fn for_unflagged_model(messages: &[ChatMessage]) -> Vec<ChatMessage> {
    let mut runs: Vec<(Kind, Vec<&ChatMessage>)> = Vec::new();
    for m in messages {
        match runs.last_mut() {
            Some((k, run)) if *k == kind(m) => run.push(m),
            _ => runs.push((kind(m), vec![m])),
        }
    }
    let mut out = Vec::with_capacity(messages.len());
    for (index, (k, run)) in runs.iter().enumerate() {
        let follower = runs.get(index + 1).map(|(k, _)| *k);
        match k {
            Kind::System => {
                if follower != Some(Kind::Tool) {
                    out.extend(converted(run));
                }
            }
            Kind::Tool if index > 0 && runs[index - 1].0 == Kind::System => {
                out.extend(run.iter().map(|m| (*m).clone()));
                out.extend(converted(&runs[index - 1].1));
            }
            _ => out.extend(run.iter().map(|m| (*m).clone())),
        }
    }
    out
}

fn part_renders(part: &ContentPart) -> bool {
    match part.kind.as_str() {
        "thinking" => {
            let value = part_value(part);
            value
                .get("thinking")
                .and_then(Value::as_str)
                .is_some_and(|t| !t.is_empty())
                && !is_unsignable(&value)
        }
        "text" | "server_tool_use" => true,
        other => other.ends_with("_tool_result"),
    }
}

fn assistant_renders(message: &ChatMessage) -> bool {
    let parts: &[ContentPart] = match &message.content {
        Some(MessageContent::Text(_)) => return true,
        Some(MessageContent::Parts(parts)) => parts,
        None => &[],
    };
    let inline_thinking = parts
        .iter()
        .any(|p| p.kind == "thinking" || p.kind == "redacted_thinking");
    let separate_thinking = !inline_thinking
        && message.thinking_blocks.iter().flatten().any(|b| {
            matches!(
                b.get("type").and_then(Value::as_str),
                Some("thinking" | "redacted_thinking")
            ) && !is_unsignable(b)
        });
    parts.iter().any(part_renders)
        || separate_thinking
        || message.tool_calls.as_ref().is_some_and(|c| !c.is_empty())
        || truthy(message.function_call.as_ref())
        || truthy(
            message
                .extra
                .get("provider_specific_fields")
                .and_then(|p| p.get("compaction_blocks")),
        )
}

/// Whether the message puts a block on the wire.
fn renders(message: &ChatMessage) -> bool {
    match message.role {
        Role::Tool | Role::Function => true,
        Role::Assistant => assistant_renders(message),
        _ => match &message.content {
            Some(MessageContent::Text(_)) => true,
            Some(MessageContent::Parts(parts)) => parts
                .iter()
                .any(|p| matches!(p.kind.as_str(), "text" | "image_url" | "document" | "file")),
            None => false,
        },
    }
}

/// Keep system turns inside `messages` where Anthropic accepts them: right after a user
/// turn, followed by an assistant turn or the end. A run that cannot be placed so becomes
/// user turns in place; runs sharing a user turn merge.
pub(super) fn for_flagged_model(messages: &[ChatMessage]) -> Vec<ChatMessage> {
    // Groups of consecutive non-system messages, keyed by user-side-ness.
    let mut blocks: Vec<(bool, Vec<usize>)> = Vec::new();
    for (index, m) in messages.iter().enumerate() {
        if is_system(m) {
            continue;
        }
        let user = is_user_side(m);
        match blocks.last_mut() {
            Some((u, indices)) if *u == user => indices.push(index),
            _ => blocks.push((user, vec![index])),
        }
    }
    let mut runs: Vec<Vec<usize>> = Vec::new();
    for (index, m) in messages.iter().enumerate() {
        if !is_system(m) {
            continue;
        }
        match runs.last_mut() {
            Some(run) if index > 0 && run.last() == Some(&(index - 1)) => {
                run.push(index);
            }
            _ => runs.push(vec![index]),
        }
    }
    let block_of = |index: usize| blocks.iter().position(|(_, ix)| ix.contains(&index));
    let rendered_block = |index: usize| {
        block_of(index).filter(|b| blocks[*b].1.iter().any(|i| renders(&messages[*i])))
    };
    let system_may_follow = |block: usize| {
        blocks[block + 1..]
            .iter()
            .find(|(_, ix)| ix.iter().any(|i| renders(&messages[*i])))
            .is_none_or(|(user, _)| !user)
    };
    let anchor = |run: &[usize]| -> Option<usize> {
        let previous = run[0].checked_sub(1)?;
        let neighbour = if is_user_side(&messages[previous]) {
            previous
        } else {
            run[run.len() - 1] + 1
        };
        if neighbour >= messages.len() || !is_user_side(&messages[neighbour]) {
            return None;
        }
        rendered_block(neighbour).filter(|b| system_may_follow(*b))
    };
    let anchors: Vec<(&Vec<usize>, Option<usize>)> =
        runs.iter().map(|run| (run, anchor(run))).collect();
    let of_run =
        |run: &[usize]| -> Vec<&ChatMessage> { run.iter().map(|i| &messages[*i]).collect() };
    let mut out = Vec::with_capacity(messages.len());
    for (block_index, (user, indices)) in blocks.iter().enumerate() {
        for index in indices {
            out.push(messages[*index].clone());
            for (run, anchored) in &anchors {
                if anchored.is_none() && run[0] == index + 1 {
                    out.extend(converted(&of_run(run)));
                }
            }
        }
        if *user {
            let anchored: Vec<&ChatMessage> = anchors
                .iter()
                .filter(|(_, a)| *a == Some(block_index))
                .flat_map(|(run, _)| of_run(run))
                .collect();
            out.extend(merged(&anchored));
        }
    }
    out
}
