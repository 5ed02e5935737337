//! Multi-tenant governance for llmrelay: virtual keys, users, teams, organizations, end users,
//! budgets with reservations, durable spend logs with daily aggregates, model access, and
//! LiteLLM's management API, on SQLite (embedded default) or PostgreSQL.

pub mod access;
pub mod api;
pub mod audit;
pub mod budget;
pub mod cache;
pub mod credentials;
pub mod crypto;
pub mod db;
pub mod engine;
pub mod entities;
pub mod error;
pub mod estimate;
pub mod files;
pub mod focus;
pub mod identity;
pub mod import;
pub mod jwt;
pub mod keys;
pub mod layers;
pub mod models;
pub mod redact;
pub mod reports;
pub mod routes;
pub mod spend;
pub mod spend_writer;
pub mod sso;
pub mod store;
pub mod tables;
pub mod time;

pub use access::{AccessGroups, check_model_access, filter_models};
pub use api::{Caller, check_route, management_router};
pub use audit::{AuditAction, AuditEntry, AuditSettings, Denial};
pub use budget::{BudgetAlert, BudgetLevel, Entity, Ledger, Reservation, Settlement};
pub use credentials::Credential;
pub use crypto::SecretCipher;
pub use db::{Backend, migrate};
pub use engine::{Governance, GovernanceConfig, ModelChange};
pub use error::{BudgetExceeded, GovernanceError};
pub use estimate::{Estimate, estimate_request};
pub use identity::{KeyAuth, ObjectPermission, UserRole};
pub use import::{ImportOptions, ImportReport, TableImport, import_litellm, import_litellm_with};
pub use models::ModelDeployment;
pub use spend::SpendRow;
pub use spend_writer::{BatchSink, SpendSink, SpendWriter, SpendWriterConfig};
pub use sso::{SsoLogin, SsoSession};
pub use time::{Clock, ManualClock, SystemClock};
