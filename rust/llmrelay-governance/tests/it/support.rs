//! Test servers on SQLite and PostgreSQL.

use std::sync::Arc;
use std::time::Duration;

use llmrelay_governance::{Governance, GovernanceConfig, management_router};
use serde_json::Value;

pub const MASTER_KEY: &str = "sk-test-master-key-0123456789";

pub struct Server {
    pub base: String,
    pub engine: Arc<Governance>,
    pub client: reqwest::Client,
    pub database: Database,
    _task: tokio::task::JoinHandle<()>,
}

pub enum Database {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

const ADMIN_URL: &str = "postgresql://postgres@127.0.0.1:5432/postgres";

/// A fresh PostgreSQL database URL, or `None` (with a visible message) when PostgreSQL is absent.
pub async fn postgres_database() -> Option<String> {
    use sqlx::Connection as _;
    match sqlx::PgConnection::connect(ADMIN_URL).await {
        Ok(mut connection) => {
            let name = format!("gov_{}", uuid::Uuid::new_v4().simple());
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut connection)
                .await
                .expect("create database");
            Some(format!("postgresql://postgres@127.0.0.1:5432/{name}"))
        }
        Err(error) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "PostgreSQL is required under CI=true: {error}"
            );
            eprintln!("SKIPPED (PostgreSQL unavailable at 127.0.0.1:5432: {error})");
            None
        }
    }
}

pub async fn drop_postgres(url: &str) {
    use sqlx::Connection as _;
    let name = url.rsplit('/').next().unwrap_or_default().to_owned();
    if let Ok(mut connection) = sqlx::PgConnection::connect(ADMIN_URL).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut connection)
            .await;
    }
}

pub fn sqlite_url() -> (String, std::path::PathBuf) {
    let directory = std::env::temp_dir().join(format!("gov-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&directory).unwrap();
    (
        format!("sqlite://{}", directory.join("llmrelay.db").display()),
        directory,
    )
}

pub fn config(url: &str) -> GovernanceConfig {
    let mut config = GovernanceConfig::new(url);
    config.master_key = Some(MASTER_KEY.to_owned());
    config.change_poll_interval = Duration::from_millis(100);
    config.spend.flush_interval = Duration::from_millis(20);
    config
}

impl Server {
    pub async fn start(engine: Arc<Governance>, database: Database) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let router = management_router(Arc::clone(&engine));
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Self {
            base: format!("http://{address}"),
            engine,
            client: reqwest::Client::new(),
            database,
            _task: task,
        }
    }

    pub async fn sqlite_with(configure: &dyn Fn(&mut GovernanceConfig)) -> Self {
        let (url, directory) = sqlite_url();
        let mut config = config(&url);
        config.spend.wal_directory = Some(directory.join("wal"));
        configure(&mut config);
        let engine = Governance::open(config).await.unwrap();
        Self::start(engine, Database::Sqlite(directory)).await
    }

    pub async fn postgres_with(configure: &dyn Fn(&mut GovernanceConfig)) -> Option<Self> {
        let url = postgres_database().await?;
        let mut config = config(&url);
        configure(&mut config);
        let engine = Governance::open(config).await.unwrap();
        Some(Self::start(engine, Database::Postgres(url)).await)
    }

    /// Both backends (PostgreSQL only when it is reachable).
    pub async fn all() -> Vec<Self> {
        Self::all_with(&|_| {}).await
    }

    /// Both backends, with a change to the test configuration.
    pub async fn all_with(configure: &dyn Fn(&mut GovernanceConfig)) -> Vec<Self> {
        let mut servers = vec![Self::sqlite_with(configure).await];
        if let Some(server) = Self::postgres_with(configure).await {
            servers.push(server);
        }
        servers
    }

    /// The database URL of this server.
    pub fn database_url(&self) -> String {
        match &self.database {
            Database::Sqlite(directory) => {
                format!("sqlite://{}", directory.join("llmrelay.db").display())
            }
            Database::Postgres(url) => url.clone(),
        }
    }

    /// The first row of a raw SQL query, as text of every column (for checking stored bytes).
    pub async fn raw_text(&self, sql: &str) -> Vec<String> {
        use sqlx::Row as _;
        match &self.database {
            Database::Sqlite(_) => {
                let pool = sqlx::SqlitePool::connect(&self.database_url())
                    .await
                    .unwrap();
                let rows = sqlx::query(sql).fetch_all(&pool).await.unwrap();
                pool.close().await;
                rows.iter().map(|r| r.get::<String, _>(0)).collect()
            }
            Database::Postgres(url) => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                let rows = sqlx::query(sql).fetch_all(&pool).await.unwrap();
                pool.close().await;
                rows.iter().map(|r| r.get::<String, _>(0)).collect()
            }
        }
    }

    pub async fn patch(&self, path: &str, key: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::PATCH, path, key, Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, key: &str) -> (u16, Value) {
        self.call(reqwest::Method::DELETE, path, key, None).await
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        key: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, key, Some(body))
            .await
    }

    pub async fn get(&self, path: &str, key: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, key, None).await
    }

    pub async fn admin_post(&self, path: &str, body: Value) -> Value {
        let (status, body) = self.post(path, MASTER_KEY, body).await;
        assert_eq!(status, 200, "{path}: {body}");
        body
    }

    pub async fn admin_get(&self, path: &str) -> Value {
        let (status, body) = self.get(path, MASTER_KEY).await;
        assert_eq!(status, 200, "{path}: {body}");
        body
    }

    pub async fn finish(self) {
        self.engine.shutdown().await;
        match &self.database {
            Database::Sqlite(directory) => {
                let _ = std::fs::remove_dir_all(directory);
            }
            Database::Postgres(url) => drop_postgres(url).await,
        }
    }
}
