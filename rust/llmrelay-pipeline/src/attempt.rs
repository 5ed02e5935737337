//! Attempts: what a dispatcher tells the per-attempt layers about each try of a call.

use std::sync::Arc;

use llmrelay_core::{Error, Result};
use llmrelay_providers::engine::Outcome;

use crate::call::Call;
use crate::layer::PerAttempt;

/// One attempt of a call.
#[derive(Debug, Clone, Copy)]
pub struct AttemptInfo<'a> {
    /// 0 for the first attempt, counting every retry and fallback.
    pub index: u32,
    /// Retries of the current model group before this attempt.
    pub retry: u32,
    /// Fallbacks taken before this attempt (0: the requested group).
    pub fallback: u32,
    /// The model group tried (the requested model for calls without a Router).
    pub model_group: &'a str,
    /// The deployment's id (`model_info.id`), for Router calls.
    pub deployment_id: Option<&'a str>,
    /// The model the attempt resolves (`openai/gpt-4o`).
    pub model: &'a str,
}

/// The per-attempt layers of a call, handed to its dispatcher.
#[derive(Clone, Copy)]
pub struct Attempts<'a> {
    layers: &'a [Arc<dyn PerAttempt>],
    call: &'a Call,
}

impl<'a> Attempts<'a> {
    #[must_use]
    pub fn new(layers: &'a [Arc<dyn PerAttempt>], call: &'a Call) -> Self {
        Self { layers, call }
    }

    /// Whether any layer watches attempts (dispatchers skip building [`AttemptInfo`] if not).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// Run every layer's `before`; the first refusal fails the attempt.
    ///
    /// # Errors
    /// A layer's refusal.
    pub async fn before(&self, attempt: &AttemptInfo<'_>) -> Result<()> {
        for layer in self.layers {
            layer.before(self.call, attempt).resolve().await?;
        }
        Ok(())
    }

    /// Tell every layer how the attempt ended.
    pub fn after(&self, attempt: &AttemptInfo<'_>, result: Result<&Outcome, &Error>) {
        for layer in self.layers {
            layer.after(self.call, attempt, result);
        }
    }
}
