//! Admission layers: identity, model access, budget.

pub mod budget;
pub mod key_auth;
pub mod model_access;
