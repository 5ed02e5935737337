//! Post-call guardrails on a streamed answer, chunk by chunk.
//!
//! Text guardrails run incrementally per channel (a choice's content, each tool call's
//! arguments) with a bounded look-behind window, so an entity split across chunks is still
//! masked, and the released text equals what masking the whole answer gives. Tool-call
//! guardrails hold tool calls until their choice finishes; guardrails that need the whole answer
//! hold everything until the stream ends; the rest check the assembled answer at the end.

use std::collections::BTreeMap;
use std::time::Instant;

use futures::FutureExt as _;

use llmrelay_core::types::{
    ChatChunk, ChatRequest, ChatResponse, Choice, ChunkChoice, Delta, FunctionCall,
    FunctionCallDelta, JsonMap, ResponseMessage, ToolCall, ToolCallDelta, Usage,
};

use crate::config::EventHook;
use crate::error::GuardrailError;
use crate::guardrail::{Channel, ChannelKind, HookContext, StreamMode, StreamStage};
use crate::info::epoch_seconds;

use super::call::GuardrailCall;

struct StageEntry {
    plan_index: usize,
    stage: Box<dyn StreamStage>,
}

#[derive(Default, Clone)]
struct ToolCallState {
    id: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    arguments: String,
}

#[derive(Default)]
struct ChoiceState {
    /// Content released so far.
    content: String,
    tool_calls: BTreeMap<u32, ToolCallState>,
    finished: bool,
    /// A finish reason held back until a deferred tool-call check ran.
    deferred_finish: Option<String>,
    finish_reason: Option<String>,
}

/// Metadata every emitted chunk carries.
#[derive(Clone, Default)]
struct Template {
    id: String,
    object: String,
    created: u64,
    model: String,
    system_fingerprint: Option<String>,
}

/// Feeds a streamed answer through the call's post-call guardrails.
pub struct StreamGuard {
    call: GuardrailCall,
    request: Option<ChatRequest>,
    started: (f64, Instant),
    stages: Vec<StageEntry>,
    hold_tool_calls: Vec<usize>,
    end_checks: Vec<usize>,
    hold_all: bool,
    choices: BTreeMap<u32, ChoiceState>,
    held: Vec<ChatChunk>,
    template: Option<Template>,
    usage: Option<Usage>,
    failed: Option<GuardrailError>,
}

impl std::fmt::Debug for StreamGuard {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("StreamGuard")
            .field("stages", &self.stages.len())
            .field("hold_all", &self.hold_all)
            .finish_non_exhaustive()
    }
}

fn tool_call_of(index: u32, state: &ToolCallState) -> ToolCall {
    ToolCall {
        id: state.id.clone().unwrap_or_else(|| format!("call_{index}")),
        kind: state.kind.clone().unwrap_or_else(|| "function".to_owned()),
        function: FunctionCall {
            name: state.name.clone().unwrap_or_default(),
            arguments: state.arguments.clone(),
        },
        extra: JsonMap::new(),
    }
}

fn delta_of(index: u32, call: &ToolCall) -> ToolCallDelta {
    ToolCallDelta {
        index,
        id: Some(call.id.clone()),
        kind: Some(call.kind.clone()),
        function: Some(FunctionCallDelta {
            name: Some(call.function.name.clone()),
            arguments: Some(call.function.arguments.clone()),
        }),
    }
}

fn is_meaningful(choice: &ChunkChoice) -> bool {
    let delta = &choice.delta;
    choice.finish_reason.is_some()
        || delta.role.is_some()
        || delta.content.is_some()
        || delta
            .tool_calls
            .as_ref()
            .is_some_and(|calls| !calls.is_empty())
        || delta.function_call.is_some()
        || delta.reasoning_content.is_some()
        || delta.thinking_blocks.is_some()
        || !delta.extra.is_empty()
        || choice.logprobs.is_some()
}

impl StreamGuard {
    pub(crate) fn new(call: GuardrailCall, request: Option<ChatRequest>) -> Self {
        let mut stages = Vec::new();
        let mut hold_tool_calls = Vec::new();
        let mut end_checks = Vec::new();
        let mut hold_all = false;
        for (plan_index, planned) in call.planned(EventHook::PostCall).iter().enumerate() {
            let context = HookContext {
                guardrail_name: &planned.name,
                hook: EventHook::PostCall,
                spec: &planned.member.spec,
                call: call.state(),
                request: request.as_ref(),
            };
            match planned.member.guardrail.stream_mode(context) {
                StreamMode::Incremental(stage) => stages.push(StageEntry { plan_index, stage }),
                StreamMode::HoldToolCalls => hold_tool_calls.push(plan_index),
                StreamMode::HoldAll => hold_all = true,
                StreamMode::CheckAtEnd => end_checks.push(plan_index),
                // The layer hands the stream to the guardrail itself (`GuardrailCall::stream_rewriters`).
                StreamMode::Rewrite => {}
            }
        }
        if hold_all {
            stages.clear();
        }
        Self {
            call,
            request,
            started: (epoch_seconds(), Instant::now()),
            stages,
            hold_tool_calls,
            end_checks,
            hold_all,
            choices: BTreeMap::new(),
            held: Vec::new(),
            template: None,
            usage: None,
            failed: None,
        }
    }

    /// The most bytes of text held back per channel (the look-behind window).
    #[must_use]
    pub fn lookbehind_bytes(&self) -> usize {
        self.stages.iter().map(|entry| entry.stage.window()).sum()
    }

    /// Whether the whole answer is withheld until [`StreamGuard::finish`].
    #[must_use]
    pub fn holds_whole_answer(&self) -> bool {
        self.hold_all
    }

    fn remember(&mut self, chunk: &ChatChunk) {
        if self.template.is_none() {
            self.template = Some(Template {
                id: chunk.id.clone(),
                object: chunk.object.clone(),
                created: chunk.created,
                model: chunk.model.clone(),
                system_fingerprint: chunk.system_fingerprint.clone(),
            });
        }
        if chunk.usage.is_some() {
            self.usage.clone_from(&chunk.usage);
        }
    }

    fn fail(&mut self, plan_index: usize, error: GuardrailError) -> GuardrailError {
        if let Some(planned) = self.call.planned(EventHook::PostCall).get(plan_index) {
            let planned = planned.clone();
            let _ = self.call.settle(
                &planned,
                EventHook::PostCall,
                self.started,
                Err(error.clone()),
            );
        }
        self.failed = Some(error.clone());
        error
    }

    /// Runs text through the stage chain (`None` flushes the channel).
    fn run(&mut self, channel: Channel, text: Option<&str>) -> Result<String, GuardrailError> {
        let mut carry = text.map(str::to_owned).unwrap_or_default();
        let mut failure = None;
        for entry in &mut self.stages {
            let mut out = String::new();
            let result = match text {
                Some(_) => entry.stage.push(channel, &carry, &mut out),
                None => {
                    let pushed = if carry.is_empty() {
                        Ok(())
                    } else {
                        entry.stage.push(channel, &carry, &mut out)
                    };
                    pushed.and_then(|()| entry.stage.flush(channel, &mut out))
                }
            };
            if let Err(error) = result {
                failure = Some((entry.plan_index, error));
                break;
            }
            carry = out;
        }
        match failure {
            Some((plan_index, error)) => Err(self.fail(plan_index, error)),
            None => Ok(carry),
        }
    }

    /// Takes one chunk; returns the chunks to send now (possibly none while text is held).
    ///
    /// # Errors
    /// A guardrail refused the answer: end the stream with this error.
    pub fn push(&mut self, chunk: ChatChunk) -> Result<Vec<ChatChunk>, GuardrailError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        self.remember(&chunk);
        if self.hold_all {
            self.held.push(chunk);
            return Ok(Vec::new());
        }
        let mut chunk = chunk;
        let holding_tools = !self.hold_tool_calls.is_empty();
        for choice in &mut chunk.choices {
            let index = choice.index;
            if let Some(content) = choice.delta.content.take() {
                let released = self.run(
                    Channel {
                        choice: index,
                        kind: ChannelKind::Content,
                    },
                    Some(&content),
                )?;
                self.choices
                    .entry(index)
                    .or_default()
                    .content
                    .push_str(&released);
                choice.delta.content = if !released.is_empty() || content.is_empty() {
                    Some(released)
                } else {
                    None
                };
            }
            if let Some(deltas) = choice.delta.tool_calls.take() {
                let mut kept = Vec::new();
                for mut delta in deltas {
                    let arguments = delta
                        .function
                        .as_mut()
                        .and_then(|function| function.arguments.take());
                    let released = match arguments {
                        Some(arguments) => self.run(
                            Channel {
                                choice: index,
                                kind: ChannelKind::ToolArguments(delta.index),
                            },
                            Some(&arguments),
                        )?,
                        None => String::new(),
                    };
                    let state = self
                        .choices
                        .entry(index)
                        .or_default()
                        .tool_calls
                        .entry(delta.index)
                        .or_default();
                    if delta.id.is_some() {
                        state.id.clone_from(&delta.id);
                    }
                    if delta.kind.is_some() {
                        state.kind.clone_from(&delta.kind);
                    }
                    if let Some(name) = delta
                        .function
                        .as_ref()
                        .and_then(|function| function.name.clone())
                    {
                        state.name = Some(name);
                    }
                    state.arguments.push_str(&released);
                    if holding_tools {
                        continue;
                    }
                    let has_header = delta.id.is_some()
                        || delta.kind.is_some()
                        || delta.function.as_ref().is_some_and(|f| f.name.is_some());
                    if !released.is_empty() {
                        delta
                            .function
                            .get_or_insert_with(FunctionCallDelta::default)
                            .arguments = Some(released);
                    } else if has_header {
                        if let Some(function) = delta.function.as_mut() {
                            function.arguments = Some(String::new());
                        }
                    }
                    if has_header
                        || delta
                            .function
                            .as_ref()
                            .is_some_and(|f| f.arguments.as_ref().is_some_and(|a| !a.is_empty()))
                    {
                        kept.push(delta);
                    }
                }
                choice.delta.tool_calls = (!kept.is_empty()).then_some(kept);
            }
            if choice.finish_reason.is_some() {
                self.finish_choice(choice)?;
            }
        }
        let meaningful = chunk.usage.is_some()
            || chunk.choices.iter().any(is_meaningful)
            || (chunk.choices.is_empty() && !chunk.extra.is_empty());
        Ok(if meaningful { vec![chunk] } else { Vec::new() })
    }

    /// A choice finished: release its held text and check its tool calls.
    fn finish_choice(&mut self, choice: &mut ChunkChoice) -> Result<(), GuardrailError> {
        let index = choice.index;
        let rest = self.run(
            Channel {
                choice: index,
                kind: ChannelKind::Content,
            },
            None,
        )?;
        if !rest.is_empty() {
            choice
                .delta
                .content
                .get_or_insert_with(String::new)
                .push_str(&rest);
        }
        self.choices
            .entry(index)
            .or_default()
            .content
            .push_str(&rest);
        let tool_indexes: Vec<u32> = self
            .choices
            .get(&index)
            .map(|state| state.tool_calls.keys().copied().collect())
            .unwrap_or_default();
        for tool_index in tool_indexes {
            let rest = self.run(
                Channel {
                    choice: index,
                    kind: ChannelKind::ToolArguments(tool_index),
                },
                None,
            )?;
            if let Some(state) = self
                .choices
                .get_mut(&index)
                .and_then(|state| state.tool_calls.get_mut(&tool_index))
            {
                state.arguments.push_str(&rest);
            }
            if self.hold_tool_calls.is_empty() && !rest.is_empty() {
                choice
                    .delta
                    .tool_calls
                    .get_or_insert_with(Vec::new)
                    .push(ToolCallDelta {
                        index: tool_index,
                        function: Some(FunctionCallDelta {
                            name: None,
                            arguments: Some(rest),
                        }),
                        ..ToolCallDelta::default()
                    });
            }
        }
        let reason = choice.finish_reason.clone();
        if let Some(state) = self.choices.get_mut(&index) {
            state.finish_reason.clone_from(&reason);
            state.finished = true;
        }
        let has_tool_calls = self
            .choices
            .get(&index)
            .is_some_and(|state| !state.tool_calls.is_empty());
        if self.hold_tool_calls.is_empty() || !has_tool_calls {
            return Ok(());
        }
        let mut response = self.assemble(Some(index), false);
        for plan_index in self.hold_tool_calls.clone() {
            let Some(planned) = self
                .call
                .planned(EventHook::PostCall)
                .get(plan_index)
                .cloned()
            else {
                continue;
            };
            let started = (epoch_seconds(), Instant::now());
            let context = HookContext {
                guardrail_name: &planned.name,
                hook: EventHook::PostCall,
                spec: &planned.member.spec,
                call: self.call.state(),
                request: self.request.as_ref(),
            };
            let result = planned
                .member
                .guardrail
                .check_response(&mut response, context)
                .now_or_never();
            match result {
                Some(Ok(outcome)) => {
                    let _ = self
                        .call
                        .settle(&planned, EventHook::PostCall, started, Ok(outcome));
                }
                Some(Err(error)) => {
                    let _ = self.call.settle(
                        &planned,
                        EventHook::PostCall,
                        started,
                        Err(error.clone()),
                    );
                    self.failed = Some(error.clone());
                    return Err(error);
                }
                None => {
                    // Not decided without waiting: the tool calls wait for `finish`.
                    if let Some(state) = self.choices.get_mut(&index) {
                        state.deferred_finish = choice.finish_reason.take();
                    }
                    return Ok(());
                }
            }
        }
        Self::release_tool_calls(choice, &response);
        Ok(())
    }

    /// Puts a checked answer's tool calls (and any text a rewrite added) into `choice`.
    fn release_tool_calls(choice: &mut ChunkChoice, response: &ChatResponse) {
        let Some(checked) = response.choices.iter().find(|c| c.index == choice.index) else {
            return;
        };
        let calls = checked.message.tool_calls.clone().unwrap_or_default();
        let deltas: Vec<ToolCallDelta> = calls
            .iter()
            .enumerate()
            .map(|(i, call)| delta_of(u32::try_from(i).unwrap_or(u32::MAX), call))
            .collect();
        choice.delta.tool_calls = (!deltas.is_empty()).then_some(deltas);
        if let Some(added) = checked
            .message
            .content
            .as_ref()
            .filter(|content| !content.is_empty())
        {
            choice
                .delta
                .content
                .get_or_insert_with(String::new)
                .push_str(added);
        }
        choice.finish_reason.clone_from(&checked.finish_reason);
    }

    /// The answer released so far, as a whole response (one choice, or all).
    fn assemble(&self, only: Option<u32>, with_content: bool) -> ChatResponse {
        let template = self.template.clone().unwrap_or_default();
        let choices = self
            .choices
            .iter()
            .filter(|(index, _)| only.is_none_or(|only| only == **index))
            .map(|(index, state)| {
                let calls: Vec<ToolCall> = state
                    .tool_calls
                    .iter()
                    .map(|(i, call)| tool_call_of(*i, call))
                    .collect();
                let mut message =
                    ResponseMessage::assistant(with_content.then(|| state.content.clone()));
                message.tool_calls = (!calls.is_empty()).then_some(calls);
                Choice {
                    index: *index,
                    message,
                    finish_reason: state
                        .finish_reason
                        .clone()
                        .or_else(|| state.deferred_finish.clone()),
                    logprobs: None,
                    extra: JsonMap::new(),
                }
            })
            .collect();
        ChatResponse {
            id: template.id,
            object: "chat.completion".to_owned(),
            created: template.created,
            model: template.model,
            system_fingerprint: template.system_fingerprint,
            choices,
            usage: self.usage.clone(),
            extra: JsonMap::new(),
        }
    }

    fn chunk(&self, choices: Vec<ChunkChoice>, usage: Option<Usage>) -> ChatChunk {
        let template = self.template.clone().unwrap_or_default();
        ChatChunk {
            id: template.id,
            object: if template.object.is_empty() {
                "chat.completion.chunk".to_owned()
            } else {
                template.object
            },
            created: template.created,
            model: template.model,
            system_fingerprint: template.system_fingerprint,
            choices,
            usage,
            extra: JsonMap::new(),
        }
    }

    /// Merges held chunks into a whole answer (hold-all mode).
    fn merge_held(&mut self) {
        for chunk in std::mem::take(&mut self.held) {
            for choice in chunk.choices {
                let state = self.choices.entry(choice.index).or_default();
                if let Some(content) = choice.delta.content {
                    state.content.push_str(&content);
                }
                for delta in choice.delta.tool_calls.unwrap_or_default() {
                    let call = state.tool_calls.entry(delta.index).or_default();
                    if delta.id.is_some() {
                        call.id = delta.id;
                    }
                    if delta.kind.is_some() {
                        call.kind = delta.kind;
                    }
                    if let Some(function) = delta.function {
                        if function.name.is_some() {
                            call.name = function.name;
                        }
                        call.arguments
                            .push_str(&function.arguments.unwrap_or_default());
                    }
                }
                if choice.finish_reason.is_some() {
                    state.finish_reason = choice.finish_reason;
                    state.finished = true;
                }
            }
        }
    }

    /// The stream ended: releases held text, runs the end-of-stream checks, records findings.
    ///
    /// # Errors
    /// A guardrail refused the answer (text already sent stays sent).
    pub async fn finish(&mut self) -> Result<Vec<ChatChunk>, GuardrailError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        if self.hold_all {
            self.merge_held();
            let mut response = self.assemble(None, true);
            let request = self.request.clone();
            if let Err(error) = self.call.post_call(request.as_ref(), &mut response).await {
                self.failed = Some(error.clone());
                return Err(error);
            }
            let choices = response
                .choices
                .iter()
                .map(|choice| ChunkChoice {
                    index: choice.index,
                    delta: Delta {
                        role: Some("assistant".to_owned()),
                        content: choice.message.content.clone(),
                        tool_calls: choice.message.tool_calls.as_ref().map(|calls| {
                            calls
                                .iter()
                                .enumerate()
                                .map(|(i, call)| {
                                    delta_of(u32::try_from(i).unwrap_or(u32::MAX), call)
                                })
                                .collect()
                        }),
                        ..Delta::default()
                    },
                    finish_reason: choice.finish_reason.clone(),
                    logprobs: None,
                })
                .collect();
            let mut out = vec![self.chunk(choices, None)];
            if let Some(usage) = response.usage.clone() {
                out.push(self.chunk(Vec::new(), Some(usage)));
            }
            return Ok(out);
        }
        let mut out = Vec::new();
        let open: Vec<u32> = self
            .choices
            .iter()
            .filter(|(_, state)| !state.finished || state.deferred_finish.is_some())
            .map(|(i, _)| *i)
            .collect();
        for index in open {
            let deferred = self
                .choices
                .get(&index)
                .and_then(|state| state.deferred_finish.clone());
            let mut choice = ChunkChoice {
                index,
                delta: Delta::default(),
                finish_reason: None,
                logprobs: None,
            };
            if deferred.is_none() {
                let rest = self.run(
                    Channel {
                        choice: index,
                        kind: ChannelKind::Content,
                    },
                    None,
                )?;
                if !rest.is_empty() {
                    choice.delta.content = Some(rest.clone());
                }
                self.choices
                    .entry(index)
                    .or_default()
                    .content
                    .push_str(&rest);
                let tool_indexes: Vec<u32> = self
                    .choices
                    .get(&index)
                    .map(|s| s.tool_calls.keys().copied().collect())
                    .unwrap_or_default();
                for tool_index in tool_indexes {
                    let rest = self.run(
                        Channel {
                            choice: index,
                            kind: ChannelKind::ToolArguments(tool_index),
                        },
                        None,
                    )?;
                    if let Some(state) = self
                        .choices
                        .get_mut(&index)
                        .and_then(|s| s.tool_calls.get_mut(&tool_index))
                    {
                        state.arguments.push_str(&rest);
                    }
                    if self.hold_tool_calls.is_empty() && !rest.is_empty() {
                        choice
                            .delta
                            .tool_calls
                            .get_or_insert_with(Vec::new)
                            .push(ToolCallDelta {
                                index: tool_index,
                                function: Some(FunctionCallDelta {
                                    name: None,
                                    arguments: Some(rest),
                                }),
                                ..ToolCallDelta::default()
                            });
                    }
                }
            }
            let has_tool_calls = self
                .choices
                .get(&index)
                .is_some_and(|state| !state.tool_calls.is_empty());
            if !self.hold_tool_calls.is_empty() && has_tool_calls {
                let mut response = self.assemble(Some(index), false);
                let request = self.request.clone();
                for plan_index in self.hold_tool_calls.clone() {
                    let Some(planned) = self
                        .call
                        .planned(EventHook::PostCall)
                        .get(plan_index)
                        .cloned()
                    else {
                        continue;
                    };
                    let started = (epoch_seconds(), Instant::now());
                    let context = HookContext {
                        guardrail_name: &planned.name,
                        hook: EventHook::PostCall,
                        spec: &planned.member.spec,
                        call: self.call.state(),
                        request: request.as_ref(),
                    };
                    let result = planned
                        .member
                        .guardrail
                        .check_response(&mut response, context)
                        .await;
                    if let Err(error) =
                        self.call
                            .settle(&planned, EventHook::PostCall, started, result)
                    {
                        self.failed = Some(error.clone());
                        return Err(error);
                    }
                }
                Self::release_tool_calls(&mut choice, &response);
            }
            if let Some(state) = self.choices.get_mut(&index) {
                state.finished = true;
                state.deferred_finish = None;
            }
            if is_meaningful(&choice) {
                out.push(self.chunk(vec![choice], None));
            }
        }
        for entry in &mut self.stages {
            let findings = entry.stage.take_findings();
            if let Some(planned) = self.call.planned(EventHook::PostCall).get(entry.plan_index) {
                let provider = planned.member.guardrail.provider().to_owned();
                self.call.record(
                    &planned.name,
                    &provider,
                    EventHook::PostCall,
                    findings,
                    self.started,
                );
            }
        }
        if !self.end_checks.is_empty() {
            let mut response = self.assemble(None, true);
            let request = self.request.clone();
            for plan_index in self.end_checks.clone() {
                let Some(planned) = self
                    .call
                    .planned(EventHook::PostCall)
                    .get(plan_index)
                    .cloned()
                else {
                    continue;
                };
                let started = (epoch_seconds(), Instant::now());
                let context = HookContext {
                    guardrail_name: &planned.name,
                    hook: EventHook::PostCall,
                    spec: &planned.member.spec,
                    call: self.call.state(),
                    request: request.as_ref(),
                };
                let result = planned
                    .member
                    .guardrail
                    .check_response(&mut response, context)
                    .await;
                if let Err(error) = self
                    .call
                    .settle(&planned, EventHook::PostCall, started, result)
                {
                    self.failed = Some(error.clone());
                    return Err(error);
                }
            }
        }
        Ok(out)
    }
}
