//! Admission layers of the cache.

pub mod lookup;
