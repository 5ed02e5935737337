//! Integration tests: the management router mounted in an axum server on a local port, driven
//! over HTTP with reqwest, on SQLite and PostgreSQL (skipped with a message when PostgreSQL is
//! absent, a failure under `CI=true`).

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test on setup errors"
)]

mod audit;
mod budgets;
mod credentials;
mod import;
mod jwt;
mod keys;
mod models;
mod spend;
mod support;
