//! Who is calling. [`authenticate`] verifies the key a request presents — the master key,
//! else a virtual key from the in-memory cache (no await on a hit), else from the database —
//! and makes the pipeline's [`Identity`] of it; the proxy calls it once per request at its edge
//! (every protected route needs it, not only the LLM routes). The [`KeyIdentity`] layer then
//! completes the identity of an LLM call: the key's and team's tags join the request's, and
//! the end user the request names (`user`) is refused when it is blocked, its row kept in the
//! call for the budget layer.

use std::sync::Arc;

use serde_json::{Map, Value};

use llmrelay_core::{Error, ErrorKind};
use llmrelay_pipeline::{Admission, Admit, AdmitStage, Call, Identity, Step};

use crate::db::Record;
use crate::engine::Governance;
use crate::identity::KeyAuth;
use crate::keys::hash_key;
use crate::layers::{on_engine, to_error};

/// The end user of a call (`user` of the request) as stored, when it is known.
#[derive(Debug, Clone)]
pub struct EndUser(pub Arc<Record>);

/// Verifies a presented key.
///
/// # Errors
/// LiteLLM's 401s: no key, an unknown, blocked or expired key, a blocked team; a 503 when the
/// database is down and the key was never verified (unless `allow_requests_on_db_unavailable`).
pub async fn authenticate(
    engine: &Arc<Governance>,
    key: Option<String>,
) -> Result<Identity, Error> {
    let Some(key) = key else {
        return Err(Error::new(
            ErrorKind::Authentication,
            "Authentication Error, No api key passed in.",
        ));
    };
    if engine.is_master_key(&key) {
        return Ok(master_identity(&hash_key(&key)));
    }
    let auth = match engine.cached_key(&key) {
        Some(result) => result.map_err(|e| to_error(&e))?,
        None => {
            let engine = Arc::clone(engine);
            let worker = Arc::clone(&engine);
            on_engine(&engine, async move { worker.authenticate(&key).await }).await?
        }
    };
    Ok(identity_of(auth))
}

/// The master key's identity: proxy admin, unrestricted.
#[must_use]
pub fn master_identity(token: &str) -> Identity {
    Identity {
        key_hash: Some(token.to_owned()),
        is_admin: true,
        role: Some("proxy_admin".to_owned()),
        user_id: Some("default_user_id".to_owned()),
        details: Some(Arc::new(KeyAuth::master_key(token))),
        ..Identity::default()
    }
}

/// The pipeline identity of a verified key (its [`KeyAuth`] in `details`).
#[must_use]
pub fn identity_of(auth: Arc<KeyAuth>) -> Identity {
    let mut aliases: Map<String, Value> = auth.team_model_aliases.clone();
    for (alias, target) in &auth.aliases {
        aliases.insert(alias.clone(), target.clone());
    }
    Identity {
        key_hash: Some(auth.token.clone()),
        key_alias: auth.key_alias.clone(),
        is_admin: auth.is_proxy_admin(),
        role: auth.user_role.map(|role| role.as_str().to_owned()),
        user_id: auth.user_id.clone(),
        user_email: auth.user_email.clone(),
        team_id: auth.team_id.clone(),
        team_alias: auth.team_alias.clone(),
        org_id: auth.org_id.clone(),
        end_user_id: None,
        metadata: auth.metadata.clone(),
        team_metadata: (!auth.team_metadata.is_empty())
            .then(|| Arc::new(auth.team_metadata.clone())),
        model_aliases: (!aliases.is_empty()).then(|| Arc::new(aliases)),
        details: Some(auth),
    }
}

/// Identity stage: the end user of the call.
pub struct KeyIdentity {
    engine: Arc<Governance>,
}

impl KeyIdentity {
    #[must_use]
    pub fn new(engine: &Arc<Governance>) -> Self {
        Self {
            engine: Arc::clone(engine),
        }
    }
}

fn admit_end_user(call: &mut Call, found: Result<Option<Arc<Record>>, Error>) -> Admission {
    match found {
        Ok(Some(record)) => {
            call.extensions.insert(EndUser(record));
            Admission::Continue
        }
        Ok(None) => Admission::Continue,
        // The end user's budget cannot be read: the call goes on (its key's budgets hold).
        Err(error) if error.kind() == ErrorKind::ServiceUnavailable => {
            tracing::warn!(%error, "end user not verified: database unavailable");
            Admission::Continue
        }
        Err(error) => Admission::Reject(error),
    }
}

impl Admit for KeyIdentity {
    fn name(&self) -> &'static str {
        "governance.key_auth"
    }

    fn stage(&self) -> AdmitStage {
        AdmitStage::Identity
    }

    fn admit<'a>(&'a self, call: &'a mut Call) -> Step<'a, Admission> {
        let Some(details) = call.identity.details.clone() else {
            return Step::Ready(Admission::Continue);
        };
        // LiteLLM adds the key's and then the team's `metadata.tags` to the request's tags
        // (which route the call and go on its spend row).
        if let Some(auth) = details.downcast_ref::<KeyAuth>() {
            call.tags.add_policy(&auth.tags);
            call.tags.add_policy(&auth.team_tags);
        }
        let Some(end_user) = call.request.user().map(str::to_owned) else {
            return Step::Ready(Admission::Continue);
        };
        call.identity.end_user_id = Some(end_user.clone());
        if let Some(found) = self.engine.cached_end_user(&end_user) {
            let found = found.map_err(|e| to_error(&e));
            return Step::Ready(admit_end_user(call, found));
        }
        let engine = Arc::clone(&self.engine);
        Step::wait(async move {
            let worker = Arc::clone(&engine);
            let found = on_engine(&engine, async move { worker.end_user(&end_user).await }).await;
            admit_end_user(call, found)
        })
    }
}
