//! A local JSONL file: one logging payload per line, appended (an llmrelay integration; the
//! path is `LLMRELAY_LOG_FILE`, default `llmrelay-logs.jsonl` in the working directory).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use futures::future::BoxFuture;

use llmrelay_pipeline::delivery::Sink;

use crate::Event;
use crate::settings::Environment;

pub struct JsonlFile {
    path: PathBuf,
}

impl JsonlFile {
    #[must_use]
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    #[must_use]
    pub fn from_env(environment: &Environment) -> Self {
        Self::new(PathBuf::from(
            environment
                .get("LLMRELAY_LOG_FILE")
                .unwrap_or_else(|| "llmrelay-logs.jsonl".to_owned()),
        ))
    }
}

impl Sink for JsonlFile {
    type Item = Arc<Event>;

    fn name(&self) -> &'static str {
        "file"
    }

    fn deliver<'a>(&'a self, batch: &'a [Arc<Event>]) -> BoxFuture<'a, Result<(), String>> {
        let mut lines = Vec::with_capacity(batch.len() * 1024);
        for event in batch {
            if serde_json::to_writer(&mut lines, &*event.payload).is_ok() {
                lines.push(b'\n');
            }
        }
        let path = self.path.clone();
        Box::pin(async move {
            // One append per batch, off the runtime's worker threads.
            tokio::task::spawn_blocking(move || {
                let mut file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                file.write_all(&lines)
                    .map_err(|e| format!("{}: {e}", path.display()))
            })
            .await
            .map_err(|e| e.to_string())?
        })
    }
}
