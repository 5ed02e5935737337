//! Database access shared by SQLite and PostgreSQL: connecting, migrations, typed parameters
//! (exact money, string lists) and a record reader keyed by the table descriptions.

use std::str::FromStr;
use std::time::Duration;

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use sqlx::postgres::{PgPoolOptions, PgTypeInfo, PgValueRef};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous, SqliteTypeInfo,
    SqliteValueRef,
};
use sqlx::types::Json;
use sqlx::{
    ColumnIndex, Database, Decode, Encode, Pool, Postgres, Row, Sqlite, Type, TypeInfo, ValueRef,
};

use crate::error::GovernanceError;
use crate::time::{format_time, parse_time};

/// How a column's values are stored and rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Int,
    /// Exact decimal: NUMERIC on PostgreSQL, decimal text on SQLite; JSON number over the API.
    Money,
    Bool,
    /// UTC timestamp: TIMESTAMP(3) on PostgreSQL, text on SQLite; RFC 3339 over the API.
    Time,
    Json,
    /// `TEXT[]` on PostgreSQL, a JSON array on SQLite.
    List,
}

/// One column of a LiteLLM table.
#[derive(Debug)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    pub nullable: bool,
}

/// One LiteLLM table.
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    pub primary_key: &'static [&'static str],
    pub columns: &'static [Column],
}

impl Table {
    #[must_use]
    pub fn column(&self, name: &str) -> Option<&'static Column> {
        self.columns.iter().find(|column| column.name == name)
    }

    /// The kinds of every column, for reading rows of this table.
    #[must_use]
    pub fn kinds(&self) -> Vec<(&'static str, Kind)> {
        self.columns.iter().map(|c| (c.name, c.kind)).collect()
    }
}

/// A row as a JSON object with LiteLLM's column names.
pub type Record = Map<String, Value>;

/// Which backend a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection pool of either backend.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(Pool<Sqlite>),
    Postgres(Pool<Postgres>),
}

/// Runs the same code against whichever pool the store has.
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_db;

impl Db {
    #[must_use]
    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// Opens a pool lazily: nothing is connected until the first query, so a database that is
    /// down at start does not stop the proxy (the pool reconnects by itself on later queries).
    ///
    /// # Errors
    /// A URL that is neither `sqlite:` nor `postgres(ql):`.
    pub fn connect_lazy(url: &str, max_connections: u32) -> Result<Self, GovernanceError> {
        if is_postgres_url(url) {
            let pool = PgPoolOptions::new()
                .max_connections(max_connections.max(1))
                .acquire_timeout(Duration::from_secs(3))
                .connect_lazy(url)
                .map_err(|e| GovernanceError::Config(format!("database_url: {e}")))?;
            Ok(Self::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(|e| GovernanceError::Config(format!("database_url: {e}")))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10));
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections.clamp(1, 8))
                .acquire_timeout(Duration::from_secs(10))
                .connect_lazy_with(options);
            Ok(Self::Sqlite(pool))
        } else {
            Err(GovernanceError::Config(format!(
                "database_url: unsupported scheme in '{}' (expected sqlite: or postgresql:)",
                redact_url(url)
            )))
        }
    }

    /// Applies the migrations of this backend.
    ///
    /// # Errors
    /// The database cannot be reached or a migration fails.
    pub async fn migrate(&self) -> Result<(), GovernanceError> {
        match self {
            Self::Sqlite(pool) => sqlx::migrate!("migrations/sqlite")
                .run(pool)
                .await
                .map_err(|e| GovernanceError::Database(e.to_string())),
            Self::Postgres(pool) => sqlx::migrate!("migrations/postgres")
                .run(pool)
                .await
                .map_err(|e| GovernanceError::Database(e.to_string())),
        }
    }

    pub async fn close(&self) {
        on_db!(self, pool => pool.close().await);
    }
}

#[must_use]
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// `postgresql://user:***@host/db`: a URL fit for an error message.
#[must_use]
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// `llmrelay migrate`: applies the migrations of the database at `url` and returns.
///
/// # Errors
/// The URL is not supported, the database cannot be reached, or a migration fails.
pub async fn migrate(url: &str) -> Result<(), GovernanceError> {
    let db = Db::connect_lazy(url, 2)?;
    let result = db.migrate().await;
    db.close().await;
    result
}

/// An exact amount of money (USD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Money(pub Decimal);

/// A list of strings (`TEXT[]` / JSON array).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StringList(pub Vec<String>);

/// A 64-bit integer read from any integer column (LiteLLM's schema mixes INTEGER and BIGINT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Integer(pub i64);

/// Parses decimal text as SQLite renders numbers (`0.25`, `1.0e-05`, `3`).
#[must_use]
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    let text = text.trim();
    Decimal::from_str(text)
        .ok()
        .or_else(|| Decimal::from_scientific(text).ok())
        .or_else(|| {
            text.parse::<f64>()
                .ok()
                .and_then(llmrelay_core::catalog::decimal_from_f64)
        })
}

impl Type<Sqlite> for Money {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(_ty: &SqliteTypeInfo) -> bool {
        true
    }
}

impl<'q> Encode<'q, Sqlite> for Money {
    fn encode_by_ref(
        &self,
        buf: &mut <Sqlite as Database>::ArgumentBuffer<'q>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <String as Encode<'q, Sqlite>>::encode(self.0.normalize().to_string(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for Money {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let text = <String as Decode<'r, Sqlite>>::decode(value)?;
        parse_decimal(&text)
            .map(Money)
            .ok_or_else(|| format!("not a decimal amount: {text}").into())
    }
}

impl Type<Postgres> for Money {
    fn type_info() -> PgTypeInfo {
        <Decimal as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <Decimal as Type<Postgres>>::compatible(ty) || <f64 as Type<Postgres>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Postgres> for Money {
    fn encode_by_ref(
        &self,
        buf: &mut <Postgres as Database>::ArgumentBuffer<'q>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <Decimal as Encode<'q, Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for Money {
    fn decode(value: PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let is_float = value.type_info().name() == "FLOAT8";
        if is_float {
            // LiteLLM's own schema keeps money as DOUBLE PRECISION (read during import).
            let float = <f64 as Decode<'r, Postgres>>::decode(value)?;
            return llmrelay_core::catalog::decimal_from_f64(float)
                .map(Money)
                .ok_or_else(|| format!("not a finite amount: {float}").into());
        }
        <Decimal as Decode<'r, Postgres>>::decode(value).map(Money)
    }
}

impl Type<Sqlite> for StringList {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(_ty: &SqliteTypeInfo) -> bool {
        true
    }
}

impl<'q> Encode<'q, Sqlite> for StringList {
    fn encode_by_ref(
        &self,
        buf: &mut <Sqlite as Database>::ArgumentBuffer<'q>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <String as Encode<'q, Sqlite>>::encode(serde_json::to_string(&self.0)?, buf)
    }
}

impl<'r> Decode<'r, Sqlite> for StringList {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let text = <String as Decode<'r, Sqlite>>::decode(value)?;
        Ok(Self(serde_json::from_str(&text)?))
    }
}

impl Type<Postgres> for StringList {
    fn type_info() -> PgTypeInfo {
        <Vec<String> as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <Vec<String> as Type<Postgres>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Postgres> for StringList {
    fn encode_by_ref(
        &self,
        buf: &mut <Postgres as Database>::ArgumentBuffer<'q>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <Vec<String> as Encode<'q, Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for StringList {
    fn decode(value: PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        <Vec<String> as Decode<'r, Postgres>>::decode(value).map(Self)
    }
}

impl Type<Sqlite> for Integer {
    fn type_info() -> SqliteTypeInfo {
        <i64 as Type<Sqlite>>::type_info()
    }
    fn compatible(_ty: &SqliteTypeInfo) -> bool {
        true
    }
}

impl<'r> Decode<'r, Sqlite> for Integer {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        <i64 as Decode<'r, Sqlite>>::decode(value).map(Integer)
    }
}

impl Type<Postgres> for Integer {
    fn type_info() -> PgTypeInfo {
        <i64 as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        matches!(ty.name(), "INT2" | "INT4" | "INT8" | "NUMERIC")
    }
}

impl<'r> Decode<'r, Postgres> for Integer {
    fn decode(value: PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        match value.type_info().name() {
            "INT2" => <i16 as Decode<'r, Postgres>>::decode(value).map(|v| Integer(v.into())),
            "INT4" => <i32 as Decode<'r, Postgres>>::decode(value).map(|v| Integer(v.into())),
            "NUMERIC" => {
                let decimal = <Decimal as Decode<'r, Postgres>>::decode(value)?;
                i64::try_from(decimal)
                    .map(Integer)
                    .map_err(|e| e.to_string().into())
            }
            _ => <i64 as Decode<'r, Postgres>>::decode(value).map(Integer),
        }
    }
}

/// A bound query parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Text(Option<String>),
    Int(Option<i64>),
    Money(Option<Decimal>),
    Bool(Option<bool>),
    Time(Option<NaiveDateTime>),
    Json(Option<Value>),
    List(Vec<String>),
}

impl Param {
    #[must_use]
    pub fn text(value: impl Into<String>) -> Self {
        Self::Text(Some(value.into()))
    }

    /// The parameter for a JSON value stored in a column of `kind`.
    ///
    /// # Errors
    /// A description of why the value does not fit the column.
    pub fn from_json(kind: Kind, value: &Value) -> Result<Self, String> {
        if value.is_null() {
            return Ok(match kind {
                Kind::Text => Self::Text(None),
                Kind::Int => Self::Int(None),
                Kind::Money => Self::Money(None),
                Kind::Bool => Self::Bool(None),
                Kind::Time => Self::Time(None),
                Kind::Json => Self::Json(None),
                Kind::List => Self::List(Vec::new()),
            });
        }
        match kind {
            Kind::Text => value
                .as_str()
                .map(|s| Self::Text(Some(s.to_owned())))
                .ok_or_else(|| "expected a string".to_owned()),
            Kind::Int => value
                .as_i64()
                .or_else(|| {
                    value
                        .as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                        .map(|f| {
                            #[expect(clippy::cast_possible_truncation, reason = "checked integral")]
                            let int = f as i64;
                            int
                        })
                })
                .map(|i| Self::Int(Some(i)))
                .ok_or_else(|| "expected an integer".to_owned()),
            Kind::Money => money(Some(value))
                .map(|d| Self::Money(Some(d)))
                .ok_or_else(|| "expected a number".to_owned()),
            Kind::Bool => value
                .as_bool()
                .map(|b| Self::Bool(Some(b)))
                .ok_or_else(|| "expected a boolean".to_owned()),
            Kind::Time => value
                .as_str()
                .and_then(parse_time)
                .map(|t| Self::Time(Some(t.naive_utc())))
                .ok_or_else(|| "expected an ISO 8601 timestamp".to_owned()),
            Kind::Json => Ok(Self::Json(Some(value.clone()))),
            Kind::List => value
                .as_array()
                .and_then(|items| {
                    items
                        .iter()
                        .map(|item| item.as_str().map(str::to_owned))
                        .collect::<Option<Vec<_>>>()
                })
                .map(Self::List)
                .ok_or_else(|| "expected a list of strings".to_owned()),
        }
    }
}

/// A JSON number (or numeric string) as an exact decimal, through its shortest text.
#[must_use]
pub fn decimal_from_value(value: &Value) -> Option<Decimal> {
    match value {
        Value::Number(_) => llmrelay_core::catalog::decimal_from_json(value),
        Value::String(text) => parse_decimal(text),
        _ => None,
    }
}

/// A decimal as a JSON number (LiteLLM returns floats).
#[must_use]
pub fn decimal_to_value(value: Decimal) -> Value {
    serde_json::Number::from_f64(llmrelay_core::cost::to_f64(value))
        .map_or(Value::Null, Value::Number)
}

/// Binds parameters in order.
pub(crate) fn bind_params<'q, DB: Database>(
    mut query: sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>>,
    params: &[Param],
) -> sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>>
where
    Option<String>: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
    Option<Money>: Encode<'q, DB> + Type<DB>,
    Option<bool>: Encode<'q, DB> + Type<DB>,
    Option<NaiveDateTime>: Encode<'q, DB> + Type<DB>,
    Option<Json<Value>>: Encode<'q, DB> + Type<DB>,
    StringList: Encode<'q, DB> + Type<DB>,
{
    for param in params {
        query = match param.clone() {
            Param::Text(value) => query.bind(value),
            Param::Int(value) => query.bind(value),
            Param::Money(value) => query.bind(value.map(Money)),
            Param::Bool(value) => query.bind(value),
            Param::Time(value) => query.bind(value),
            Param::Json(value) => query.bind(value.map(Json)),
            Param::List(value) => query.bind(StringList(value)),
        };
    }
    query
}

/// Reads the columns of `row` whose kinds are given (other columns are skipped).
pub(crate) fn read_record<R>(row: &R, kinds: &[(&str, Kind)]) -> Result<Record, GovernanceError>
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<Integer>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<Money>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<bool>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<NaiveDateTime>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<Json<Value>>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<StringList>: Decode<'r, R::Database> + Type<R::Database>,
{
    use sqlx::Column as _;
    let mut record = Record::new();
    for (index, column) in row.columns().iter().enumerate() {
        let name = column.name();
        let Some(&(_, kind)) = kinds.iter().find(|(n, _)| *n == name) else {
            continue;
        };
        record.insert(name.to_owned(), read_value(row, index, name, kind)?);
    }
    Ok(record)
}

/// The value of column `index` of `row`, read as `kind` (`name` is for the error message).
pub(crate) fn read_value<R>(
    row: &R,
    index: usize,
    name: &str,
    kind: Kind,
) -> Result<Value, GovernanceError>
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<Integer>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<Money>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<bool>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<NaiveDateTime>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<Json<Value>>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<StringList>: Decode<'r, R::Database> + Type<R::Database>,
{
    if row.try_get_raw(index).map(|v| v.is_null()).unwrap_or(true) {
        return Ok(if kind == Kind::List {
            Value::Array(Vec::new())
        } else {
            Value::Null
        });
    }
    let error = |e: sqlx::Error| GovernanceError::Database(format!("column {name}: {e}"));
    Ok(match kind {
        Kind::Text => row
            .try_get::<Option<String>, _>(index)
            .map_err(error)?
            .map_or(Value::Null, Value::String),
        Kind::Int => row
            .try_get::<Option<Integer>, _>(index)
            .map_err(error)?
            .map_or(Value::Null, |i| Value::from(i.0)),
        Kind::Money => row
            .try_get::<Option<Money>, _>(index)
            .map_err(error)?
            .map_or(Value::Null, |m| decimal_text_value(m.0)),
        Kind::Bool => row
            .try_get::<Option<bool>, _>(index)
            .map_err(error)?
            .map_or(Value::Null, Value::Bool),
        Kind::Time => row
            .try_get::<Option<NaiveDateTime>, _>(index)
            .map_err(error)?
            .map_or(Value::Null, |t| Value::String(format_time(t.and_utc()))),
        Kind::Json => row
            .try_get::<Option<Json<Value>>, _>(index)
            .map_err(error)?
            .map_or(Value::Null, |j| j.0),
        Kind::List => Value::Array(
            row.try_get::<Option<StringList>, _>(index)
                .map_err(error)?
                .unwrap_or_default()
                .0
                .into_iter()
                .map(Value::String)
                .collect(),
        ),
    })
}

/// Records keep money as exact decimal text internally (`"0.0125"`), tagged so the API can
/// render it as a number: see [`money`] and [`render_money`].
const MONEY_TAG: &str = "\u{1}money:";

fn decimal_text_value(value: Decimal) -> Value {
    Value::String(format!("{MONEY_TAG}{}", value.normalize()))
}

/// An exact amount read from a record field (tagged text, number or numeric string).
#[must_use]
pub fn money(value: Option<&Value>) -> Option<Decimal> {
    match value? {
        Value::String(text) => text
            .strip_prefix(MONEY_TAG)
            .map_or_else(|| parse_decimal(text), parse_decimal),
        other => decimal_from_value(other),
    }
}

/// Replaces the internal money tags of a record by JSON numbers (for responses).
pub fn render_money(value: &mut Value) {
    match value {
        Value::String(text) => {
            if let Some(amount) = text.strip_prefix(MONEY_TAG).and_then(parse_decimal) {
                *value = decimal_to_value(amount);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(render_money),
        Value::Object(map) => map.values_mut().for_each(render_money),
        _ => {}
    }
}

/// Ensures a statement has at most the number of parameters both backends accept.
pub(crate) const MAX_PARAMS: usize = 30_000;

/// The placeholders of parameters `first..=last` of a statement whose values are bound in
/// order. SQLite gets anonymous `?`: it finds a numbered parameter's slot by searching the names
/// of all of them (sqlx binds by name), which is quadratic in a long multi-row INSERT.
pub(crate) fn placeholders(backend: Backend, first: usize, last: usize) -> Vec<String> {
    match backend {
        Backend::Sqlite => vec!["?".to_owned(); (last + 1).saturating_sub(first)],
        Backend::Postgres => (first..=last).map(|i| format!("${i}")).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_anonymous_on_sqlite_and_numbered_on_postgres() {
        assert_eq!(placeholders(Backend::Sqlite, 3, 5), ["?", "?", "?"]);
        assert_eq!(placeholders(Backend::Postgres, 3, 5), ["$3", "$4", "$5"]);
        assert!(placeholders(Backend::Sqlite, 4, 3).is_empty());
    }

    #[test]
    fn decimals_from_sqlite_text() {
        assert_eq!(parse_decimal("0.25"), Some(Decimal::new(25, 2)));
        assert_eq!(parse_decimal("1.0e-05"), Some(Decimal::new(1, 5)));
        assert_eq!(parse_decimal("3"), Some(Decimal::from(3)));
        assert_eq!(parse_decimal("x"), None);
    }

    #[test]
    fn money_tags_round_trip_and_render() {
        let tagged = decimal_text_value(Decimal::new(125, 4));
        assert_eq!(money(Some(&tagged)), Some(Decimal::new(125, 4)));
        let mut record =
            serde_json::json!({"spend": tagged, "nested": [decimal_text_value(Decimal::ONE)]});
        render_money(&mut record);
        assert_eq!(
            record,
            serde_json::json!({"spend": 0.0125, "nested": [1.0]})
        );
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("postgresql://user:secret@host:5432/db"),
            "postgresql://user:***@host:5432/db"
        );
        assert!(Db::connect_lazy("mysql://x", 1).is_err());
    }

    #[test]
    fn params_from_json_check_kinds() {
        assert_eq!(
            Param::from_json(Kind::Money, &serde_json::json!(0.1)),
            Ok(Param::Money(Some(Decimal::new(1, 1))))
        );
        assert!(Param::from_json(Kind::Int, &serde_json::json!("x")).is_err());
        assert!(Param::from_json(Kind::List, &serde_json::json!(["a", 1])).is_err());
        assert_eq!(
            Param::from_json(Kind::List, &Value::Null),
            Ok(Param::List(Vec::new()))
        );
    }
}
