//! Files and batches in the database: file metadata in LiteLLM's `LiteLLM_ManagedFileTable`
//! (the OpenAI file object in `file_object`, where the bytes are in `storage_backend` /
//! `storage_url`, the owner key in `created_by`), batches in `LiteLLM_ManagedObjectTable` (the
//! OpenAI batch object in `file_object`, `file_purpose = 'batch'`, the owner key in `api_key`),
//! and the local batch runner's per-line progress in `llmrelay_batch_lines`, which is what a
//! restart resumes from.

use chrono::Utc;
use serde_json::Value;

use crate::db::{Kind, Param, Record};
use crate::error::GovernanceError;
use crate::store::{Conditions, SqlStore, Statement};

type Result<T> = std::result::Result<T, GovernanceError>;

const FILE_KINDS: &[(&str, Kind)] = &[
    ("id", Kind::Text),
    ("file_object", Kind::Json),
    ("storage_backend", Kind::Text),
    ("storage_url", Kind::Text),
    ("created_by", Kind::Text),
    ("team_id", Kind::Text),
];

const BATCH_KINDS: &[(&str, Kind)] = &[
    ("id", Kind::Text),
    ("file_object", Kind::Json),
    ("status", Kind::Text),
    ("batch_processed", Kind::Bool),
    ("created_by", Kind::Text),
    ("team_id", Kind::Text),
    ("org_id", Kind::Text),
    ("api_key", Kind::Text),
    ("end_user_id", Kind::Text),
];

/// Who may see a file or a batch: the owner key, and its team's members; `None` for the master
/// key and proxy admins (everything).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Owner {
    /// SHA-256 of the owner key (LiteLLM's `token`).
    pub key_hash: Option<String>,
    pub team_id: Option<String>,
}

impl Owner {
    /// Whether a row owned by (`key_hash`, `team_id`) is visible to this caller.
    #[must_use]
    pub fn sees(&self, key_hash: Option<&str>, team_id: Option<&str>) -> bool {
        (self.key_hash.is_some() && self.key_hash.as_deref() == key_hash)
            || (self.team_id.is_some() && self.team_id.as_deref() == team_id)
    }

    fn condition(&self, conditions: &mut Conditions, key_column: &str) {
        let key = Param::Text(self.key_hash.clone());
        let team = Param::Text(self.team_id.clone());
        conditions.clause(
            &format!(
                "(\"{key_column}\" = {{}} OR (\"team_id\" IS NOT NULL AND \"team_id\" = {{}}))"
            ),
            vec![key, team],
        );
    }
}

/// A stored file: its OpenAI object and where its bytes are.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFile {
    pub id: String,
    /// The OpenAI file object (`object: "file"`, `bytes`, `filename`, `purpose`, ...).
    pub object: Value,
    /// `local` or `s3`.
    pub storage_backend: String,
    /// The path (local) or object key (S3) of the bytes.
    pub storage_url: String,
    /// SHA-256 of the key that uploaded it (or produced it, for batch outputs).
    pub owner_key: Option<String>,
    pub team_id: Option<String>,
}

impl StoredFile {
    fn from_record(record: &Record) -> Self {
        let text = |name: &str| record.get(name).and_then(Value::as_str).map(str::to_owned);
        Self {
            id: text("id").unwrap_or_default(),
            object: record.get("file_object").cloned().unwrap_or(Value::Null),
            storage_backend: text("storage_backend").unwrap_or_default(),
            storage_url: text("storage_url").unwrap_or_default(),
            owner_key: text("created_by"),
            team_id: text("team_id"),
        }
    }
}

/// A stored batch: its OpenAI object and owner.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredBatch {
    pub id: String,
    /// The OpenAI batch object (`object: "batch"`, `status`, `request_counts`, ...).
    pub object: Value,
    /// Runner bookkeeping done (completed, failed, cancelled or expired).
    pub processed: bool,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    pub org_id: Option<String>,
    /// SHA-256 of the key that created it; its calls run as that key.
    pub owner_key: Option<String>,
    pub end_user_id: Option<String>,
}

impl StoredBatch {
    fn from_record(record: &Record) -> Self {
        let text = |name: &str| record.get(name).and_then(Value::as_str).map(str::to_owned);
        Self {
            id: text("id").unwrap_or_default(),
            object: record.get("file_object").cloned().unwrap_or(Value::Null),
            processed: record
                .get("batch_processed")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            user_id: text("created_by"),
            team_id: text("team_id"),
            org_id: text("org_id"),
            owner_key: text("api_key"),
            end_user_id: text("end_user_id"),
        }
    }

    /// The batch's status (`validating`, `in_progress`, ...).
    #[must_use]
    pub fn status(&self) -> &str {
        self.object
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

/// One line's result as the runner stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineResult {
    pub index: i64,
    pub custom_id: String,
    /// The output line (OpenAI's batch output format), one JSON object.
    pub output: String,
    /// Whether it goes to the output file (a 2xx answer) or the error file.
    pub succeeded: bool,
}

/// Progress of a batch's lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineProgress {
    /// Indexes with a stored result, and whether each succeeded.
    pub finished: Vec<(i64, bool)>,
    /// Lines without a result, with the number of attempts so far (more than 0: in flight when
    /// the process stopped).
    pub in_flight: Vec<(i64, i64)>,
}

fn now_param() -> Param {
    Param::Time(Some(Utc::now().naive_utc()))
}

fn list_order(order: &str) -> &'static str {
    if order.eq_ignore_ascii_case("asc") {
        "ASC"
    } else {
        "DESC"
    }
}

impl SqlStore {
    /// Records a new file.
    ///
    /// # Errors
    /// Database errors (a duplicate id among them).
    pub async fn insert_file(&self, file: &StoredFile) -> Result<()> {
        // The row's own time (milliseconds), which orders lists; the object keeps seconds.
        let created_at = Utc::now().naive_utc();
        self.execute(
            "INSERT INTO \"LiteLLM_ManagedFileTable\" (\"id\", \"unified_file_id\", \"file_object\", \"storage_backend\", \"storage_url\", \"created_at\", \"created_by\", \"team_id\", \"updated_at\", \"updated_by\") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                Param::text(&file.id),
                Param::text(&file.id),
                Param::Json(Some(file.object.clone())),
                Param::text(&file.storage_backend),
                Param::text(&file.storage_url),
                Param::Time(Some(created_at)),
                Param::Text(file.owner_key.clone()),
                Param::Text(file.team_id.clone()),
                now_param(),
                Param::Text(file.owner_key.clone()),
            ],
        )
        .await?;
        Ok(())
    }

    /// The file with this id.
    ///
    /// # Errors
    /// Database errors.
    pub async fn file(&self, id: &str) -> Result<Option<StoredFile>> {
        let rows = self
            .fetch(
                "SELECT \"id\", \"file_object\", \"storage_backend\", \"storage_url\", \"created_by\", \"team_id\" FROM \"LiteLLM_ManagedFileTable\" WHERE \"id\" = $1",
                &[Param::text(id)],
                FILE_KINDS,
            )
            .await?;
        Ok(rows.first().map(StoredFile::from_record))
    }

    /// Files the caller sees, newest first (or oldest with `order = "asc"`), after the file
    /// `after` (a cursor), at most `limit`; filtered by `purpose` when given.
    ///
    /// # Errors
    /// Database errors.
    pub async fn list_files(
        &self,
        owner: Option<&Owner>,
        purpose: Option<&str>,
        after: Option<&str>,
        limit: i64,
        order: &str,
    ) -> Result<Vec<StoredFile>> {
        let mut conditions = Conditions::new();
        if let Some(owner) = owner {
            owner.condition(&mut conditions, "created_by");
        }
        if let Some(purpose) = purpose {
            let field = self.json_text("file_object", "purpose");
            conditions.clause(&format!("{field} = {{}}"), vec![Param::text(purpose)]);
        }
        let direction = list_order(order);
        if let Some(after) = after {
            let comparison = if direction == "ASC" { ">" } else { "<" };
            conditions.clause(
                &format!("(\"created_at\", \"id\") {comparison} (SELECT \"created_at\", \"id\" FROM \"LiteLLM_ManagedFileTable\" WHERE \"id\" = {{}})"),
                vec![Param::text(after)],
            );
        }
        let sql = format!(
            "SELECT \"id\", \"file_object\", \"storage_backend\", \"storage_url\", \"created_by\", \"team_id\" FROM \"LiteLLM_ManagedFileTable\"{} ORDER BY \"created_at\" {direction}, \"id\" {direction} LIMIT {}",
            conditions.sql(),
            limit.max(1)
        );
        let rows = self.fetch(&sql, &conditions.params, FILE_KINDS).await?;
        Ok(rows.iter().map(StoredFile::from_record).collect())
    }

    /// Removes a file's row; whether it was there.
    ///
    /// # Errors
    /// Database errors.
    pub async fn delete_file(&self, id: &str) -> Result<bool> {
        Ok(self
            .execute(
                "DELETE FROM \"LiteLLM_ManagedFileTable\" WHERE \"id\" = $1",
                &[Param::text(id)],
            )
            .await?
            > 0)
    }

    /// Records a new batch.
    ///
    /// # Errors
    /// Database errors.
    pub async fn insert_batch(&self, batch: &StoredBatch) -> Result<()> {
        let status = batch.status().to_owned();
        self.execute(
            "INSERT INTO \"LiteLLM_ManagedObjectTable\" (\"id\", \"unified_object_id\", \"model_object_id\", \"file_object\", \"file_purpose\", \"status\", \"batch_processed\", \"created_at\", \"created_by\", \"team_id\", \"org_id\", \"api_key\", \"end_user_id\", \"updated_at\", \"updated_by\") VALUES ($1, $2, $3, $4, 'batch', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            &[
                Param::text(&batch.id),
                Param::text(&batch.id),
                Param::text(&batch.id),
                Param::Json(Some(batch.object.clone())),
                Param::text(status),
                Param::Bool(Some(batch.processed)),
                now_param(),
                Param::Text(batch.user_id.clone()),
                Param::Text(batch.team_id.clone()),
                Param::Text(batch.org_id.clone()),
                Param::Text(batch.owner_key.clone()),
                Param::Text(batch.end_user_id.clone()),
                now_param(),
                Param::Text(batch.user_id.clone()),
            ],
        )
        .await?;
        Ok(())
    }

    /// The batch with this id.
    ///
    /// # Errors
    /// Database errors.
    pub async fn batch(&self, id: &str) -> Result<Option<StoredBatch>> {
        let rows = self
            .fetch(
                "SELECT \"id\", \"file_object\", \"status\", \"batch_processed\", \"created_by\", \"team_id\", \"org_id\", \"api_key\", \"end_user_id\" FROM \"LiteLLM_ManagedObjectTable\" WHERE \"id\" = $1 AND \"file_purpose\" = 'batch'",
                &[Param::text(id)],
                BATCH_KINDS,
            )
            .await?;
        Ok(rows.first().map(StoredBatch::from_record))
    }

    /// Batches the caller sees, newest first, after the batch `after`, at most `limit`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn list_batches(
        &self,
        owner: Option<&Owner>,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<StoredBatch>> {
        let mut conditions = Conditions::new();
        conditions.clause("\"file_purpose\" = 'batch'", Vec::new());
        if let Some(owner) = owner {
            owner.condition(&mut conditions, "api_key");
        }
        if let Some(after) = after {
            conditions.clause(
                "(\"created_at\", \"id\") < (SELECT \"created_at\", \"id\" FROM \"LiteLLM_ManagedObjectTable\" WHERE \"id\" = {})",
                vec![Param::text(after)],
            );
        }
        let sql = format!(
            "SELECT \"id\", \"file_object\", \"status\", \"batch_processed\", \"created_by\", \"team_id\", \"org_id\", \"api_key\", \"end_user_id\" FROM \"LiteLLM_ManagedObjectTable\"{} ORDER BY \"created_at\" DESC, \"id\" DESC LIMIT {}",
            conditions.sql(),
            limit.max(1)
        );
        let rows = self.fetch(&sql, &conditions.params, BATCH_KINDS).await?;
        Ok(rows.iter().map(StoredBatch::from_record).collect())
    }

    /// Batches the runner has not finished (to resume at start).
    ///
    /// # Errors
    /// Database errors.
    pub async fn unfinished_batches(&self) -> Result<Vec<StoredBatch>> {
        let rows = self
            .fetch(
                "SELECT \"id\", \"file_object\", \"status\", \"batch_processed\", \"created_by\", \"team_id\", \"org_id\", \"api_key\", \"end_user_id\" FROM \"LiteLLM_ManagedObjectTable\" WHERE \"file_purpose\" = 'batch' AND \"batch_processed\" = $1 ORDER BY \"created_at\"",
                &[Param::Bool(Some(false))],
                BATCH_KINDS,
            )
            .await?;
        Ok(rows.iter().map(StoredBatch::from_record).collect())
    }

    /// Replaces a batch's object (and status, processed flag).
    ///
    /// # Errors
    /// Database errors.
    pub async fn update_batch(&self, id: &str, object: &Value, processed: bool) -> Result<()> {
        let status = object
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        self.execute(
            "UPDATE \"LiteLLM_ManagedObjectTable\" SET \"file_object\" = $1, \"status\" = $2, \"batch_processed\" = $3, \"updated_at\" = $4 WHERE \"id\" = $5",
            &[
                Param::Json(Some(object.clone())),
                Param::text(status),
                Param::Bool(Some(processed)),
                now_param(),
                Param::text(id),
            ],
        )
        .await?;
        Ok(())
    }

    /// Marks lines as started (in flight), counting one more attempt each.
    ///
    /// # Errors
    /// Database errors.
    pub async fn start_batch_lines(&self, batch_id: &str, lines: &[(i64, String)]) -> Result<()> {
        let statements: Vec<Statement> = lines
            .chunks(200)
            .map(|chunk| {
                let mut params = Vec::with_capacity(chunk.len() * 3 + 1);
                let mut tuples = Vec::with_capacity(chunk.len());
                params.push(now_param());
                for (index, custom_id) in chunk {
                    let base = params.len();
                    params.push(Param::text(batch_id));
                    params.push(Param::Int(Some(*index)));
                    params.push(Param::text(custom_id));
                    tuples.push(format!(
                        "(${}, ${}, ${}, 'in_flight', 1, $1)",
                        base + 1,
                        base + 2,
                        base + 3
                    ));
                }
                Statement {
                    sql: format!(
                        "INSERT INTO \"llmrelay_batch_lines\" (\"batch_id\", \"line_index\", \"custom_id\", \"status\", \"attempts\", \"updated_at\") VALUES {} ON CONFLICT (\"batch_id\", \"line_index\") DO UPDATE SET \"attempts\" = \"llmrelay_batch_lines\".\"attempts\" + 1, \"status\" = 'in_flight', \"updated_at\" = excluded.\"updated_at\"",
                        tuples.join(", ")
                    ),
                    params,
                }
            })
            .collect();
        self.transaction(&statements).await
    }

    /// Lines marked as started that were not sent after all (a cancel or a shutdown came
    /// first): one attempt fewer each, still without a result.
    ///
    /// # Errors
    /// Database errors.
    pub async fn release_batch_lines(&self, batch_id: &str, indexes: &[i64]) -> Result<()> {
        let statements: Vec<Statement> = indexes
            .iter()
            .map(|index| Statement {
                sql: "UPDATE \"llmrelay_batch_lines\" SET \"attempts\" = \"attempts\" - 1, \"status\" = 'pending' WHERE \"batch_id\" = $1 AND \"line_index\" = $2 AND \"status\" = 'in_flight'".to_owned(),
                params: vec![Param::text(batch_id), Param::Int(Some(*index))],
            })
            .collect();
        if statements.is_empty() {
            return Ok(());
        }
        self.transaction(&statements).await
    }

    /// Stores lines' results (in one transaction).
    ///
    /// # Errors
    /// Database errors.
    pub async fn finish_batch_lines(&self, batch_id: &str, results: &[LineResult]) -> Result<()> {
        let statements: Vec<Statement> = results
            .iter()
            .map(|result| Statement {
                sql: "UPDATE \"llmrelay_batch_lines\" SET \"status\" = $1, \"output\" = $2, \"updated_at\" = $3 WHERE \"batch_id\" = $4 AND \"line_index\" = $5".to_owned(),
                params: vec![
                    Param::text(if result.succeeded { "completed" } else { "failed" }),
                    Param::text(&result.output),
                    now_param(),
                    Param::text(batch_id),
                    Param::Int(Some(result.index)),
                ],
            })
            .collect();
        self.transaction(&statements).await
    }

    /// What the runner has done of a batch so far.
    ///
    /// # Errors
    /// Database errors.
    pub async fn batch_line_progress(&self, batch_id: &str) -> Result<LineProgress> {
        let rows = self
            .fetch(
                "SELECT \"line_index\", \"status\", \"attempts\" FROM \"llmrelay_batch_lines\" WHERE \"batch_id\" = $1",
                &[Param::text(batch_id)],
                &[("line_index", Kind::Int), ("status", Kind::Text), ("attempts", Kind::Int)],
            )
            .await?;
        let mut progress = LineProgress::default();
        for row in &rows {
            let index = row.get("line_index").and_then(Value::as_i64).unwrap_or(0);
            match row.get("status").and_then(Value::as_str) {
                Some("completed") => progress.finished.push((index, true)),
                Some("failed") => progress.finished.push((index, false)),
                _ => progress.in_flight.push((
                    index,
                    row.get("attempts").and_then(Value::as_i64).unwrap_or(0),
                )),
            }
        }
        Ok(progress)
    }

    /// The stored output lines of a batch, in input order: successes (`succeeded`) or
    /// failures.
    ///
    /// # Errors
    /// Database errors.
    pub async fn batch_line_outputs(&self, batch_id: &str, succeeded: bool) -> Result<Vec<String>> {
        let rows = self
            .fetch(
                "SELECT \"output\" FROM \"llmrelay_batch_lines\" WHERE \"batch_id\" = $1 AND \"status\" = $2 ORDER BY \"line_index\"",
                &[
                    Param::text(batch_id),
                    Param::text(if succeeded { "completed" } else { "failed" }),
                ],
                &[("output", Kind::Text)],
            )
            .await?;
        Ok(rows
            .iter()
            .filter_map(|row| row.get("output").and_then(Value::as_str).map(str::to_owned))
            .collect())
    }

    /// How many lines of a batch were sent more than once (in flight at a restart).
    ///
    /// # Errors
    /// Database errors.
    pub async fn batch_line_retries(&self, batch_id: &str) -> Result<i64> {
        self.count(
            "SELECT COUNT(*) AS \"count\" FROM \"llmrelay_batch_lines\" WHERE \"batch_id\" = $1 AND \"attempts\" > 1",
            &[Param::text(batch_id)],
        )
        .await
    }

    /// `column ->> 'field'` (PostgreSQL) / `json_extract(column, '$.field')` (SQLite).
    fn json_text(&self, column: &str, field: &str) -> String {
        match self.backend() {
            crate::db::Backend::Postgres => format!("(\"{column}\" ->> '{field}')"),
            crate::db::Backend::Sqlite => format!("json_extract(\"{column}\", '$.{field}')"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_see_their_own_and_their_teams() {
        let owner = Owner {
            key_hash: Some("k1".to_owned()),
            team_id: Some("t1".to_owned()),
        };
        assert!(owner.sees(Some("k1"), None));
        assert!(owner.sees(Some("k2"), Some("t1")));
        assert!(!owner.sees(Some("k2"), Some("t2")));
        assert!(!owner.sees(None, None));
        let teamless = Owner {
            key_hash: Some("k1".to_owned()),
            team_id: None,
        };
        assert!(!teamless.sees(Some("k2"), None));
    }
}
