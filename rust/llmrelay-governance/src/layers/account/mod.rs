//! Accounting layers: the rate-limit settlement and the spend row.

pub mod limits;
pub mod spend;
