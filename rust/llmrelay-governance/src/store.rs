//! The SQL store: generic record operations over LiteLLM's tables, written once and run on
//! SQLite or PostgreSQL (the same SQL with `$n` placeholders; dialect branches only where the
//! backends differ), plus the change feed every instance polls.

use serde_json::Value;
use sqlx::Row as _;

use crate::db::{
    Backend, Db, Kind, Param, Record, Table, bind_params, on_db, read_record, read_value,
};
use crate::error::GovernanceError;

type Result<T> = std::result::Result<T, GovernanceError>;

/// One statement of a transaction.
#[derive(Debug, Clone)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<Param>,
}

/// Builds a `WHERE` clause with numbered placeholders.
#[derive(Debug, Default, Clone)]
pub struct Conditions {
    clauses: Vec<String>,
    pub params: Vec<Param>,
}

impl Conditions {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The next placeholder (`$n`) for `param`.
    pub fn placeholder(&mut self, param: Param) -> String {
        self.params.push(param);
        format!("${}", self.params.len())
    }

    /// `"column" = $n`.
    pub fn equals(&mut self, column: &str, param: Param) -> &mut Self {
        let placeholder = self.placeholder(param);
        self.clauses.push(format!("\"{column}\" = {placeholder}"));
        self
    }

    /// An arbitrary clause; `{}` placeholders in `template` are replaced by `$n` in order.
    pub fn clause(&mut self, template: &str, params: Vec<Param>) -> &mut Self {
        let mut text = String::new();
        let mut rest = template;
        let mut params = params.into_iter();
        while let Some(position) = rest.find("{}") {
            text.push_str(&rest[..position]);
            if let Some(param) = params.next() {
                text.push_str(&self.placeholder(param));
            }
            rest = &rest[position + 2..];
        }
        text.push_str(rest);
        self.clauses.push(text);
        self
    }

    /// ` WHERE a AND b`, or nothing.
    #[must_use]
    pub fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }
}

/// The store every domain trait is implemented on.
#[derive(Debug)]
pub struct SqlStore {
    db: Db,
    /// SQLite keeps money as text, so additions are read-modify-write; this serializes them
    /// within the process (SQLite is the single-instance backend).
    money_writes: tokio::sync::Mutex<()>,
}

impl SqlStore {
    #[must_use]
    pub fn new(db: Db) -> Self {
        Self {
            db,
            money_writes: tokio::sync::Mutex::new(()),
        }
    }

    #[must_use]
    pub fn db(&self) -> &Db {
        &self.db
    }

    #[must_use]
    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    pub(crate) async fn money_write_guard(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.backend() {
            Backend::Sqlite => Some(self.money_writes.lock().await),
            Backend::Postgres => None,
        }
    }

    /// Rows of `sql`, reading the columns named in `kinds`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn fetch(
        &self,
        sql: &str,
        params: &[Param],
        kinds: &[(&str, Kind)],
    ) -> Result<Vec<Record>> {
        on_db!(&self.db, pool => {
            let rows = bind_params(sqlx::query(sql), params).fetch_all(pool).await?;
            rows.iter().map(|row| read_record(row, kinds)).collect()
        })
    }

    /// The first row of a join that selects every column of each table of `parts`, in
    /// order: one record per part (all NULL when the join found no row of that table).
    ///
    /// # Errors
    /// Database errors.
    pub(crate) async fn fetch_joined(
        &self,
        sql: &str,
        params: &[Param],
        parts: &[&Table],
    ) -> Result<Option<Vec<Record>>> {
        on_db!(&self.db, pool => {
            let Some(row) = bind_params(sqlx::query(sql), params).fetch_optional(pool).await? else {
                return Ok(None);
            };
            let mut records = Vec::with_capacity(parts.len());
            let mut index = 0;
            for table in parts {
                let mut record = Record::new();
                for column in table.columns {
                    record.insert(column.name.to_owned(), read_value(&row, index, column.name, column.kind)?);
                    index += 1;
                }
                records.push(record);
            }
            Ok(Some(records))
        })
    }

    /// Runs a statement; returns the number of rows it changed.
    ///
    /// # Errors
    /// Database errors.
    pub async fn execute(&self, sql: &str, params: &[Param]) -> Result<u64> {
        on_db!(&self.db, pool => {
            Ok(bind_params(sqlx::query(sql), params).execute(pool).await?.rows_affected())
        })
    }

    /// Runs statements in one transaction.
    ///
    /// # Errors
    /// Database errors (the transaction is rolled back).
    pub async fn transaction(&self, statements: &[Statement]) -> Result<()> {
        on_db!(&self.db, pool => {
            let mut transaction = pool.begin().await?;
            for statement in statements {
                bind_params(sqlx::query(&statement.sql), &statement.params)
                    .execute(&mut *transaction)
                    .await?;
            }
            transaction.commit().await?;
            Ok(())
        })
    }

    /// A single count.
    ///
    /// # Errors
    /// Database errors.
    pub async fn count(&self, sql: &str, params: &[Param]) -> Result<i64> {
        let rows = self.fetch(sql, params, &[("count", Kind::Int)]).await?;
        Ok(rows
            .first()
            .and_then(|row| row.get("count"))
            .and_then(Value::as_i64)
            .unwrap_or(0))
    }

    /// Inserts a record (only the table's columns are written).
    ///
    /// # Errors
    /// A value that does not fit its column, or database errors (a duplicate key among them).
    pub async fn insert(&self, table: &Table, record: &Record) -> Result<()> {
        let statement = insert_statement(table, record, false)?;
        self.execute(&statement.sql, &statement.params).await?;
        Ok(())
    }

    /// Inserts a record unless its primary key exists; whether it was inserted.
    ///
    /// # Errors
    /// As [`Self::insert`].
    pub async fn insert_ignore(&self, table: &Table, record: &Record) -> Result<bool> {
        let statement = insert_statement(table, record, true)?;
        Ok(self.execute(&statement.sql, &statement.params).await? > 0)
    }

    /// Inserts many records in multi-row statements, skipping every row that conflicts with
    /// an existing one (any unique index); how many were inserted. `columns` are written for
    /// every record (a missing field is NULL).
    ///
    /// # Errors
    /// A value that does not fit its column, or database errors.
    pub async fn insert_many_ignore(
        &self,
        table: &Table,
        columns: &[&'static crate::db::Column],
        records: &[Record],
    ) -> Result<u64> {
        if records.is_empty() || columns.is_empty() {
            return Ok(0);
        }
        let names: Vec<String> = columns.iter().map(|c| format!("\"{}\"", c.name)).collect();
        let rows_per_statement = (crate::db::MAX_PARAMS / columns.len()).clamp(1, 500);
        let mut inserted = 0;
        for chunk in records.chunks(rows_per_statement) {
            let mut params = Vec::with_capacity(chunk.len() * columns.len());
            let mut tuples = Vec::with_capacity(chunk.len());
            for record in chunk {
                let start = params.len();
                for column in columns {
                    let value = record.get(column.name).unwrap_or(&Value::Null);
                    params.push(column_param(column.name, column.kind, value)?);
                }
                let placeholders = crate::db::placeholders(self.backend(), start + 1, params.len());
                tuples.push(format!("({})", placeholders.join(", ")));
            }
            let sql = format!(
                "INSERT INTO \"{}\" ({}) VALUES {} ON CONFLICT DO NOTHING",
                table.name,
                names.join(", "),
                tuples.join(", ")
            );
            inserted += self.execute(&sql, &params).await?;
        }
        Ok(inserted)
    }

    /// The row with this primary key.
    ///
    /// # Errors
    /// Database errors.
    pub async fn get(&self, table: &Table, key: &[(&str, Param)]) -> Result<Option<Record>> {
        let mut conditions = Conditions::new();
        for (column, value) in key {
            conditions.equals(column, value.clone());
        }
        let sql = format!(
            "SELECT * FROM \"{}\"{} LIMIT 1",
            table.name,
            conditions.sql()
        );
        Ok(self
            .fetch(&sql, &conditions.params, &table.kinds())
            .await?
            .into_iter()
            .next())
    }

    /// Rows matching `conditions`, ordered and paged.
    ///
    /// # Errors
    /// Database errors.
    pub async fn select(
        &self,
        table: &Table,
        conditions: &Conditions,
        order_by: &str,
        limit: Option<i64>,
        offset: Option<i64>,
    ) -> Result<Vec<Record>> {
        let mut sql = format!("SELECT * FROM \"{}\"{}", table.name, conditions.sql());
        if !order_by.is_empty() {
            sql.push_str(" ORDER BY ");
            sql.push_str(order_by);
        }
        if let Some(limit) = limit {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        if let Some(offset) = offset {
            sql.push_str(&format!(" OFFSET {offset}"));
        }
        self.fetch(&sql, &conditions.params, &table.kinds()).await
    }

    /// Number of rows matching `conditions`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn count_where(&self, table: &Table, conditions: &Conditions) -> Result<i64> {
        let sql = format!(
            "SELECT COUNT(*) AS \"count\" FROM \"{}\"{}",
            table.name,
            conditions.sql()
        );
        self.count(&sql, &conditions.params).await
    }

    /// Updates the given columns of one row; the number of rows changed.
    ///
    /// # Errors
    /// A value that does not fit its column, or database errors.
    pub async fn update(
        &self,
        table: &Table,
        key: &[(&str, Param)],
        changes: &Record,
    ) -> Result<u64> {
        let statement = update_statement(table, key, changes)?;
        if statement.params.len() == key.len() {
            return Ok(0);
        }
        self.execute(&statement.sql, &statement.params).await
    }

    /// Deletes one row; the number of rows deleted.
    ///
    /// # Errors
    /// Database errors.
    pub async fn delete(&self, table: &Table, key: &[(&str, Param)]) -> Result<u64> {
        let mut conditions = Conditions::new();
        for (column, value) in key {
            conditions.equals(column, value.clone());
        }
        let sql = format!("DELETE FROM \"{}\"{}", table.name, conditions.sql());
        self.execute(&sql, &conditions.params).await
    }

    /// Records a change every instance will see (cache invalidation, DB models).
    ///
    /// # Errors
    /// Database errors.
    pub async fn record_change(&self, kind: &str, object_id: &str) -> Result<()> {
        self.append_change(kind, object_id).await.map(|_| ())
    }

    /// Records a change; its id in the feed.
    ///
    /// # Errors
    /// Database errors.
    pub async fn append_change(&self, kind: &str, object_id: &str) -> Result<i64> {
        self.count(
            "INSERT INTO \"llmrelay_changes\" (\"kind\", \"object_id\") VALUES ($1, $2) RETURNING \"id\" AS \"count\"",
            &[Param::text(kind), Param::text(object_id)],
        )
        .await
    }

    /// Changes after `after`, oldest first: `(id, kind, object_id)`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn changes_since(&self, after: i64) -> Result<Vec<(i64, String, String)>> {
        on_db!(&self.db, pool => {
            let rows = sqlx::query(
                "SELECT \"id\", \"kind\", \"object_id\" FROM \"llmrelay_changes\" WHERE \"id\" > $1 ORDER BY \"id\" LIMIT 1000",
            )
            .bind(after)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|row| Ok((row.try_get::<i64, _>(0)?, row.try_get::<String, _>(1)?, row.try_get::<String, _>(2)?)))
                .collect::<std::result::Result<Vec<_>, sqlx::Error>>()
                .map_err(GovernanceError::from)
        })
    }

    /// The newest change id (where a new instance starts polling).
    ///
    /// # Errors
    /// Database errors.
    pub async fn latest_change(&self) -> Result<i64> {
        self.count(
            "SELECT COALESCE(MAX(\"id\"), 0) AS \"count\" FROM \"llmrelay_changes\"",
            &[],
        )
        .await
    }

    /// Drops change rows older than `before` (they have been seen by every live instance).
    ///
    /// # Errors
    /// Database errors.
    pub async fn prune_changes(&self, before: chrono::NaiveDateTime) -> Result<u64> {
        self.execute(
            "DELETE FROM \"llmrelay_changes\" WHERE \"created_at\" < $1",
            &[Param::Time(Some(before))],
        )
        .await
    }
}

/// `INSERT INTO "T" (...) VALUES (...)` for the table's columns present in `record`.
///
/// # Errors
/// A value that does not fit its column (the error names the field).
pub fn insert_statement(
    table: &Table,
    record: &Record,
    ignore_existing: bool,
) -> Result<Statement> {
    let mut columns = Vec::new();
    let mut params = Vec::new();
    for (name, value) in record {
        let Some(column) = table.column(name) else {
            continue;
        };
        params.push(column_param(column.name, column.kind, value)?);
        columns.push(format!("\"{}\"", column.name));
    }
    let placeholders: Vec<String> = (1..=params.len()).map(|i| format!("${i}")).collect();
    let mut sql = format!(
        "INSERT INTO \"{}\" ({}) VALUES ({})",
        table.name,
        columns.join(", "),
        placeholders.join(", ")
    );
    if ignore_existing {
        let key: Vec<String> = table
            .primary_key
            .iter()
            .map(|k| format!("\"{k}\""))
            .collect();
        sql.push_str(&format!(" ON CONFLICT ({}) DO NOTHING", key.join(", ")));
    }
    Ok(Statement { sql, params })
}

/// `UPDATE "T" SET ... WHERE key`.
///
/// # Errors
/// A value that does not fit its column.
pub fn update_statement(
    table: &Table,
    key: &[(&str, Param)],
    changes: &Record,
) -> Result<Statement> {
    let mut conditions = Conditions::new();
    let mut sets = Vec::new();
    for (name, value) in changes {
        let Some(column) = table.column(name) else {
            continue;
        };
        if table.primary_key.contains(&column.name) {
            continue;
        }
        let placeholder = conditions.placeholder(column_param(column.name, column.kind, value)?);
        sets.push(format!("\"{}\" = {placeholder}", column.name));
    }
    let mut where_clauses = Vec::new();
    for (column, value) in key {
        let placeholder = conditions.placeholder(value.clone());
        where_clauses.push(format!("\"{column}\" = {placeholder}"));
    }
    Ok(Statement {
        sql: format!(
            "UPDATE \"{}\" SET {} WHERE {}",
            table.name,
            sets.join(", "),
            where_clauses.join(" AND ")
        ),
        params: conditions.params,
    })
}

fn column_param(name: &str, kind: Kind, value: &Value) -> Result<Param> {
    Param::from_json(kind, value).map_err(|reason| {
        GovernanceError::bad_param(format!("Invalid value for '{name}': {reason}"), name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_number_placeholders() {
        let mut conditions = Conditions::new();
        conditions.equals("team_id", Param::text("t")).clause(
            "(\"a\" = {} OR \"b\" = {})",
            vec![Param::text("x"), Param::text("y")],
        );
        assert_eq!(
            conditions.sql(),
            " WHERE \"team_id\" = $1 AND (\"a\" = $2 OR \"b\" = $3)"
        );
        assert_eq!(conditions.params.len(), 3);
    }

    #[test]
    fn update_statements_skip_keys_and_unknown_columns() {
        let changes: Record = serde_json::from_value(serde_json::json!({
            "team_alias": "a", "team_id": "ignored", "nope": 1
        }))
        .unwrap();
        let statement = update_statement(
            &crate::tables::TEAM_TABLE,
            &[("team_id", Param::text("t"))],
            &changes,
        )
        .unwrap();
        assert_eq!(
            statement.sql,
            "UPDATE \"LiteLLM_TeamTable\" SET \"team_alias\" = $1 WHERE \"team_id\" = $2"
        );
    }
}
