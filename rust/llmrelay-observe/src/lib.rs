//! llmrelay-observe: what the gateway tells the outside world about its calls — one request
//! log line per call, and LiteLLM's logging integrations by name (`otel`, `langfuse`,
//! `langsmith`, `datadog`, `generic_api`, a JSONL file) — all fed from the pipeline's one logging payload
//! ([`StandardLoggingPayload`]) and sent off the request path through the pipeline's delivery
//! queue (bounded, batched, retried, with a drop counter, flushed on shutdown).
//!
//! ```text
//!  account layer (exactly once per call)
//!     └─ Event { payload (redacted as configured), traceparent }  ── Arc, built once
//!          ├─ push ─► Queue ─► request log lines (stderr)
//!          ├─ push ─► Queue ─► Langfuse ingestion API
//!          ├─ push ─► Queue ─► LangSmith batch runs
//!          ├─ push ─► Queue ─► Datadog logs intake
//!          ├─ push ─► Queue ─► generic API / webhook
//!          ├─ push ─► Queue ─► JSONL file
//!          └─ push ─► Queue ─► OTLP/HTTP exporter (opentelemetry-otlp)
//! ```
//!
//! A full queue drops the event and counts it: a slow or failing receiver never slows or
//! fails a call.
//!
//! [`alerting`] is LiteLLM's `general_settings.alerting` (Slack, webhook, email), sent through
//! the same delivery queue.
//!
//! [`StandardLoggingPayload`]: llmrelay_pipeline::StandardLoggingPayload

pub mod alerting;
pub mod event;
pub mod http;
pub mod integrations;
pub mod layers;
pub mod settings;
pub mod trace_context;

pub use event::{Event, Redaction};
pub use layers::{Observe, ObserveError};
pub use settings::{Environment, ObserveSettings, RequestLogFormat, builtin, is_builtin};
pub use trace_context::TraceParent;
