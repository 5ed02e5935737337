//! Account layers of the cache.

pub mod store;
