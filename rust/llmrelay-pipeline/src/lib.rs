//! llmrelay-pipeline: the typed call pipeline every call runs through — SDK, Router and proxy,
//! whole and streamed — with its layers (admit, per attempt, around, respond, account), the
//! logging payload, and the delivery queue for writes off the request path.
//!
//! ```text
//!  Call::parse ─► admit (identity → access → limits → budget → guardrails → cache → hooks)
//!       │            └─ reject / answer at once (whole or replayed stream)
//!       ▼
//!  Dispatch (Direct or the Router) ─► per attempt: before / after, every retry and fallback
//!       │   around tasks run beside it and may cancel it
//!       ▼
//!  respond (whole, or the stream chunk by chunk) ─► Answer ─► account, exactly once
//! ```

pub mod attempt;
pub mod call;
pub mod delivery;
pub mod dispatch;
pub mod identity;
pub mod layer;
pub mod layers;
pub mod ledger;
pub mod payload;
#[cfg(feature = "probes")]
pub mod probes;
pub mod record;
pub mod replay;
mod run;
pub mod served;

pub use attempt::{AttemptInfo, Attempts};
pub use call::{Call, Origin, RequestTags, ResponseHeaders};
pub use dispatch::{Direct, Dispatch};
pub use identity::Identity;
pub use layer::{
    Account, Admission, Admit, AdmitStage, Around, Flow, PerAttempt, Respond, Step,
    StreamTransform, transform,
};
pub use layers::Layers;
pub use ledger::{Ledger, Settlement};
pub use payload::StandardLoggingPayload;
pub use record::{CallRecord, Dispatched, Route, Status};
pub use run::{Failure, Pipeline};
pub use served::{Answer, Kept, RawAnswer, ServedStream, Whole};
