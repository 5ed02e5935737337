//! llmrelay-providers: provider translation, stream decoding, and the engine that calls upstreams.

pub mod anthropic;
pub mod engine;
pub mod gemini;
pub mod http;
pub mod litellm_params;
pub mod mock;
pub mod ndjson;
pub mod openai;
pub mod options;
pub mod provider;
pub mod sse;
pub mod stream;

pub use engine::{ChatOutcome, CompletionResult, Engine, HiddenParams};
pub use options::CallOptions;
