//! llmrelay-core: canonical types, errors, model catalog, tokens, cost and provider detection.

pub mod assemble;
pub mod catalog;
pub mod clock;
pub mod cost;
pub mod detect;
pub mod error;
pub mod ids;
pub mod kind;
pub mod redis_target;
pub mod tokens;
pub mod types;

pub use error::{Error, ErrorKind, Result};
pub use kind::CallKind;
