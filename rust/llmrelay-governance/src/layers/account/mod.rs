//! Accounting layers: the spend row.

pub mod spend;
