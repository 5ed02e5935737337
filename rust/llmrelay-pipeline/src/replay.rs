//! Answers a layer builds without calling upstream: a hook's canned text, a cache hit — whole,
//! or replayed as a stream with the same chunk shape an upstream stream has.

use futures::StreamExt;

use llmrelay_core::clock::now_unix;
use llmrelay_core::types::{
    ChatChunk, ChatResponse, Choice, ChunkChoice, Delta, ResponseMessage, TextCompletionResponse,
    Usage,
};
use llmrelay_providers::engine::{
    ChatOutcome, CompletionResult, HiddenParams, Outcome, StreamResult, TextOutcome,
};
use llmrelay_providers::stream::{AccountedStream, Finisher, StreamSummary};

/// A whole chat answer.
#[must_use]
pub fn chat_whole(response: ChatResponse, hidden: HiddenParams) -> Outcome {
    Outcome::Chat(ChatOutcome::Whole(CompletionResult { response, hidden }))
}

/// A stream replaying `chunks`; `usage` is what its books say it used.
#[must_use]
pub fn chat_stream(chunks: Vec<ChatChunk>, usage: Option<Usage>, hidden: HiddenParams) -> Outcome {
    let model = chunks.first().map(|c| c.model.clone()).unwrap_or_default();
    let stream = replayed(chunks, usage, model);
    Outcome::Chat(ChatOutcome::Stream(StreamResult { stream, hidden }))
}

/// A text-completion stream replaying `chunks`; `usage` is what its books say it used.
#[must_use]
pub fn text_stream(
    chunks: Vec<TextCompletionResponse>,
    usage: Option<Usage>,
    hidden: HiddenParams,
) -> Outcome {
    let model = chunks.first().map(|c| c.model.clone()).unwrap_or_default();
    let stream = replayed(chunks, usage, model);
    Outcome::Text(TextOutcome::Stream(StreamResult { stream, hidden }))
}

/// `chunks` as a stream whose books say it used `usage` and cost nothing.
fn replayed<T: Send + 'static>(
    chunks: Vec<T>,
    usage: Option<Usage>,
    model: String,
) -> AccountedStream<T> {
    let inner = futures::stream::iter(chunks.into_iter().map(Ok)).boxed();
    let finisher: Finisher = Box::new(move |summary: &mut StreamSummary, _text: &str| {
        if summary.usage.is_none() {
            summary.usage.clone_from(&usage);
        }
        summary.response_cost = Some(0.0);
    });
    AccountedStream::new(inner, false, model, finisher)
}

/// A fixed text as a chat answer from `model` (whole, or a two-chunk stream), with zero
/// usage: what a pre-call hook that returns a string answers.
#[must_use]
pub fn text_answer(model: &str, text: &str, stream: bool) -> Outcome {
    let id = llmrelay_core::ids::hex_id("chatcmpl-");
    let created = now_unix();
    let hidden = HiddenParams::default();
    if !stream {
        let response = ChatResponse {
            id,
            object: "chat.completion".to_owned(),
            created,
            model: model.to_owned(),
            system_fingerprint: None,
            choices: vec![Choice {
                index: 0,
                message: ResponseMessage::assistant(Some(text.to_owned())),
                finish_reason: Some("stop".to_owned()),
                logprobs: None,
                extra: serde_json::Map::new(),
            }],
            usage: Some(Usage::new(0, 0)),
            extra: serde_json::Map::new(),
        };
        return chat_whole(response, hidden);
    }
    let chunk = |delta: Delta, finish_reason: Option<&str>| ChatChunk {
        id: id.clone(),
        object: "chat.completion.chunk".to_owned(),
        created,
        model: model.to_owned(),
        system_fingerprint: None,
        choices: vec![ChunkChoice {
            index: 0,
            delta,
            finish_reason: finish_reason.map(str::to_owned),
            logprobs: None,
        }],
        usage: None,
        extra: serde_json::Map::new(),
    };
    let chunks = vec![
        chunk(
            Delta {
                role: Some("assistant".to_owned()),
                content: Some(text.to_owned()),
                ..Delta::default()
            },
            None,
        ),
        chunk(Delta::default(), Some("stop")),
    ];
    chat_stream(chunks, Some(Usage::new(0, 0)), hidden)
}
