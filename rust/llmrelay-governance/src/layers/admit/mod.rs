//! Admission layers: identity, model access, rate limits, budget.

pub mod budget;
pub mod key_auth;
pub mod limits;
pub mod model_access;
