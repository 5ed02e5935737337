//! Account layers: they see each call once, when it is over.

pub mod observe;
