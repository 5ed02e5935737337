//! The engine: one attempt at a call — resolve the target, translate, call over HTTP,
//! normalize (whole or streamed), count and price. Which deployment to try, how often to
//! retry and what runs around the call are the pipeline's and the Router's.

mod chat;
mod count;
mod embedding;
pub mod exchange;
mod operation;
mod outcome;
pub mod request;
pub mod retry;
mod search;
pub mod target;
mod text;
pub mod usage;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use llmrelay_core::Result;

pub use count::TokenCount;
pub use outcome::{
    ChatOutcome, CompletionResult, EventStream, HiddenParams, Outcome, RawReply, StreamResult,
    TextOutcome,
};
pub use request::{PassThroughRequest, Request, parse, parse_chat_request};
pub use target::Target;

use crate::images::ImageCache;
use crate::options::CallOptions;

/// One attempt of a call.
pub struct Attempt<'a> {
    /// The call's request, parsed once.
    pub request: &'a Request,
    /// The model to resolve: the request's own, or the deployment's (`openai/gpt-4o`).
    pub model: &'a str,
    /// The call's options (a deployment's merged in by the Router).
    pub options: &'a CallOptions,
    /// Images this call downloaded already.
    pub images: &'a ImageCache,
    /// Body parameters a deployment sets, under the caller's.
    pub body_defaults: Option<&'a Map<String, Value>>,
}

/// The engine. Stateless: the HTTP client and the catalog are process-wide.
#[derive(Debug, Clone, Copy, Default)]
pub struct Engine;

impl Engine {
    /// Run one attempt.
    ///
    /// # Errors
    /// Every failure, classified (see `ErrorKind`).
    pub async fn attempt(&self, attempt: &Attempt<'_>) -> Result<Outcome> {
        match attempt.request {
            Request::Chat(request) => chat::chat(attempt, request).await.map(Outcome::Chat),
            Request::Text(request) => text::text(attempt, request).await.map(Outcome::Text),
            Request::Embedding(request) => embedding::embedding(attempt, request)
                .await
                .map(Outcome::Embedding),
            Request::Operation {
                operation: crate::operations::Operation::Search,
                body,
            } => search::search(attempt, body).await.map(Outcome::Json),
            Request::Operation { operation, body } => {
                operation::operation(attempt, *operation, body)
                    .await
                    .map(Outcome::Json)
            }
            Request::Responses(call) => {
                if attempt.options.mock_response.is_none() {
                    if let Some(outcome) =
                        crate::responses::native::attempt(attempt, &call.native_body).await?
                    {
                        return Ok(outcome);
                    }
                }
                call.check_bridgeable()?;
                chat::chat(attempt, &call.chat).await.map(Outcome::Chat)
            }
            Request::PassThrough(request) => Err(llmrelay_core::Error::bad_request(format!(
                "{} pass-through calls are forwarded by the proxy, not by the engine",
                request.provider
            ))),
        }
    }
}

/// `request` with `defaults` filled in where the caller did not set them (a deployment's body
/// parameters). Rare, so it goes through JSON.
///
/// # Errors
/// Defaults that do not fit the request type, naming the field.
pub(crate) fn with_body_defaults<T: Serialize + DeserializeOwned>(
    request: &T,
    defaults: &Map<String, Value>,
) -> Result<T> {
    let mut value = serde_json::to_value(request)
        .map_err(|e| llmrelay_core::Error::bad_request(e.to_string()))?;
    if let Value::Object(map) = &mut value {
        for (key, default) in defaults {
            match map.get(key) {
                None | Some(Value::Null) => {
                    map.insert(key.clone(), default.clone());
                }
                Some(_) => {}
            }
        }
    }
    request::from_value_at(value, "deployment parameter")
}

impl Engine {
    /// A call without the pipeline (tests, tools): parse, then attempts with the call's own
    /// `num_retries`.
    ///
    /// # Errors
    /// Every failure, classified.
    pub async fn run(
        &self,
        kind: llmrelay_core::CallKind,
        params: Map<String, Value>,
    ) -> Result<Outcome> {
        let (request, options) = request::parse(kind, params)?;
        let images = ImageCache::default();
        let model = request.model().to_owned();
        let attempt = Attempt {
            request: &request,
            model: &model,
            options: &options,
            images: &images,
            body_defaults: None,
        };
        let (mut outcome, retries) =
            retry::with_retries(options.num_retries, |_| self.attempt(&attempt)).await?;
        outcome.hidden_mut().num_retries = retries;
        Ok(outcome)
    }
}
