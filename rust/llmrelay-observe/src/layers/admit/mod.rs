//! Admission layers: they run before routing.

pub mod trace_context;
