//! llmrelay-providers: provider translation, stream decoding, and the engine that calls upstreams.

pub mod anthropic;
pub mod aws_eventstream;
pub mod azure;
pub mod bedrock;
pub mod cohere;
pub mod compatible;
pub mod engine;
pub mod gemini;
pub mod gigachat;
pub mod http;
pub mod huggingface;
pub mod images;
pub mod litellm_params;
pub mod mock;
pub mod ndjson;
pub mod nlp_cloud;
pub mod ollama;
pub mod openai;
pub mod operations;
pub mod options;
pub mod params;
pub mod provider;
pub mod registry;
pub mod responses;
pub mod sagemaker;
pub mod search;
pub mod snowflake;
pub mod sse;
pub mod stream;
pub mod token_cache;
pub mod upstream;
pub mod watsonx;

pub use engine::{ChatOutcome, CompletionResult, Engine, HiddenParams, Outcome, Request};
pub use options::CallOptions;
