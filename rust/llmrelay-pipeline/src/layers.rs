//! The registered layers of a pipeline, in order. Registering a layer is one line; a phase
//! with no layers costs nothing.

use std::sync::Arc;

use crate::layer::{Account, Admit, Around, PerAttempt, Respond};

/// The layers of a pipeline, by phase.
#[derive(Default, Clone)]
pub struct Layers {
    pub(crate) admit: Vec<Arc<dyn Admit>>,
    pub(crate) attempt: Vec<Arc<dyn PerAttempt>>,
    pub(crate) around: Vec<Arc<dyn Around>>,
    pub(crate) respond: Vec<Arc<dyn Respond>>,
    pub(crate) account: Vec<Arc<dyn Account>>,
    /// Whether some account layer reads the answer (streams then keep their chunks).
    pub(crate) wants_response: bool,
}

impl Layers {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Add an admission layer; admission runs by stage, then in registration order.
    pub fn admit(&mut self, layer: Arc<dyn Admit>) -> &mut Self {
        let stage = layer.stage();
        let at = self.admit.partition_point(|l| l.stage() <= stage);
        self.admit.insert(at, layer);
        self
    }

    pub fn attempt(&mut self, layer: Arc<dyn PerAttempt>) -> &mut Self {
        self.attempt.push(layer);
        self
    }

    pub fn around(&mut self, layer: Arc<dyn Around>) -> &mut Self {
        self.around.push(layer);
        self
    }

    pub fn respond(&mut self, layer: Arc<dyn Respond>) -> &mut Self {
        self.respond.push(layer);
        self
    }

    pub fn account(&mut self, layer: Arc<dyn Account>) -> &mut Self {
        self.wants_response |= layer.wants_response();
        self.account.push(layer);
        self
    }

    /// Every layer of `other` after this one's.
    pub fn extend(&mut self, other: &Self) -> &mut Self {
        for layer in &other.admit {
            self.admit(Arc::clone(layer));
        }
        self.attempt.extend(other.attempt.iter().cloned());
        self.around.extend(other.around.iter().cloned());
        self.respond.extend(other.respond.iter().cloned());
        for layer in &other.account {
            self.account(Arc::clone(layer));
        }
        self
    }

    /// Whether no layer is registered at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.admit.is_empty()
            && self.attempt.is_empty()
            && self.around.is_empty()
            && self.respond.is_empty()
            && self.account.is_empty()
    }

    /// The names of the registered layers, by phase (diagnostics, `/health` details).
    #[must_use]
    pub fn names(&self) -> Vec<(&'static str, &'static str)> {
        let mut names = Vec::new();
        names.extend(self.admit.iter().map(|l| ("admit", l.name())));
        names.extend(self.attempt.iter().map(|l| ("attempt", l.name())));
        names.extend(self.around.iter().map(|l| ("around", l.name())));
        names.extend(self.respond.iter().map(|l| ("respond", l.name())));
        names.extend(self.account.iter().map(|l| ("account", l.name())));
        names
    }
}
