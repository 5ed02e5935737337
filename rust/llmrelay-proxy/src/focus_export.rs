//! The scheduled FOCUS spend export: with `litellm_settings.callbacks: ["focus"]` (LiteLLM's
//! name), every window's spend rows are written as one FOCUS file (see
//! [`llmrelay_governance::focus`]) to an S3 bucket or a directory. Settings are LiteLLM's
//! environment variables:
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `FOCUS_PROVIDER` | `s3`, or `file` (llmrelay's: a local directory) | `s3` |
//! | `FOCUS_FORMAT` | `csv` or `json` (`parquet` is not built) | `csv` |
//! | `FOCUS_FREQUENCY` | `hourly`, `daily` or `interval` | `daily` |
//! | `FOCUS_CRON_OFFSET` | minutes after the hour (hourly) or after midnight UTC (daily) | `5` |
//! | `FOCUS_INTERVAL_SECONDS` | the window of `interval` | `60` |
//! | `FOCUS_PREFIX` | the object key / directory prefix | `focus_exports` |
//! | `FOCUS_S3_BUCKET_NAME`, `FOCUS_S3_REGION_NAME`, `FOCUS_S3_ENDPOINT_URL`, `FOCUS_S3_ACCESS_KEY`, `FOCUS_S3_SECRET_KEY`, `FOCUS_S3_SESSION_TOKEN` | the bucket (credentials default to `AWS_*`) | |
//! | `FOCUS_FILE_DIR` | the directory of `file` | |
//!
//! A window `[start, end)` is the previous hour, the previous UTC day, or the last interval;
//! its file is `{prefix}/date=YYYY-MM-DD[/hour=HH]/focus_{start}_{end}.{csv|json}`, so an
//! export run again (another instance, a retry) writes the same object again rather than a
//! second one. A failed export is retried at the next run with the missed windows.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, DurationRound as _, TimeDelta, Utc};

use llmrelay_cache::backend::s3::{S3Settings, S3Store};
use llmrelay_governance::Governance;
use llmrelay_governance::focus::{Charge, to_csv, to_json};

use crate::config::ProxyConfig;

/// How long after a window ends its spend rows are taken to be written (they are batched):
/// a run is due this long after its window's end, and exports the windows ended by then.
const SETTLE: TimeDelta = TimeDelta::seconds(2);

/// At most this many missed windows are exported at once (a day of hourly windows).
const CATCH_UP: i32 = 24;

/// How often windows are exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    Hourly,
    Daily,
    Interval(Duration),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

/// Where files go.
pub enum Destination {
    S3(S3Store),
    Directory(PathBuf),
}

/// A configured export.
pub struct FocusExport {
    pub destination: Destination,
    pub format: Format,
    pub frequency: Frequency,
    /// Minutes after the hour (hourly) or after midnight (daily).
    pub offset_minutes: i64,
    pub prefix: String,
}

impl FocusExport {
    /// The export `config` asks for (`None` without `focus` among its callbacks); settings
    /// from `env`.
    ///
    /// # Errors
    /// A setting that is missing or invalid, naming the variable.
    pub fn from_config(
        config: &ProxyConfig,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, String> {
        let settings = &config.litellm_settings;
        let wanted = settings
            .callbacks
            .iter()
            .chain(&settings.success_callback)
            .any(|name| name.trim().eq_ignore_ascii_case("focus"));
        if !wanted {
            return Ok(None);
        }
        let get = |name: &str| {
            env(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let format = match get("FOCUS_FORMAT").as_deref().unwrap_or("csv") {
            "csv" => Format::Csv,
            "json" => Format::Json,
            "parquet" => {
                return Err(
                    "FOCUS_FORMAT=parquet is not built in llmrelay; use csv or json".to_owned(),
                );
            }
            other => return Err(format!("FOCUS_FORMAT: {other} is not csv or json")),
        };
        let number = |name: &str, default: i64| -> Result<i64, String> {
            get(name).map_or(Ok(default), |v| {
                v.parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| format!("{name}: {v} is not a whole number of at least 0"))
            })
        };
        let frequency = match get("FOCUS_FREQUENCY").as_deref().unwrap_or("daily") {
            "hourly" => Frequency::Hourly,
            "daily" => Frequency::Daily,
            "interval" => {
                let seconds = number("FOCUS_INTERVAL_SECONDS", 60)?.max(1);
                Frequency::Interval(Duration::from_secs(seconds.unsigned_abs()))
            }
            other => {
                return Err(format!(
                    "FOCUS_FREQUENCY: Unsupported frequency: {other} (hourly, daily or interval)"
                ));
            }
        };
        let offset_minutes = number("FOCUS_CRON_OFFSET", 5)?;
        let prefix = get("FOCUS_PREFIX").unwrap_or_else(|| "focus_exports".to_owned());
        let destination = match get("FOCUS_PROVIDER").as_deref().unwrap_or("s3") {
            "s3" => {
                let bucket = get("FOCUS_S3_BUCKET_NAME").ok_or_else(|| {
                    "FOCUS_S3_BUCKET_NAME must be provided for S3 exports".to_owned()
                })?;
                Destination::S3(S3Store::new(&S3Settings {
                    bucket,
                    region: get("FOCUS_S3_REGION_NAME"),
                    endpoint_url: get("FOCUS_S3_ENDPOINT_URL"),
                    use_ssl: true,
                    access_key_id: get("FOCUS_S3_ACCESS_KEY"),
                    secret_access_key: get("FOCUS_S3_SECRET_KEY"),
                    session_token: get("FOCUS_S3_SESSION_TOKEN"),
                    path: None,
                }))
            }
            "file" => {
                let dir = get("FOCUS_FILE_DIR")
                    .ok_or_else(|| "FOCUS_FILE_DIR must be provided for file exports".to_owned())?;
                let dir = PathBuf::from(dir);
                let dir = if dir.is_absolute() {
                    dir
                } else {
                    config
                        .path
                        .parent()
                        .map_or_else(|| dir.clone(), |parent| parent.join(&dir))
                };
                Destination::Directory(dir)
            }
            other => {
                return Err(format!(
                    "FOCUS_PROVIDER: Provider '{other}' not supported for Focus export (s3 or file)"
                ));
            }
        };
        Ok(Some(Self {
            destination,
            format,
            frequency,
            offset_minutes,
            prefix,
        }))
    }

    /// How long a window is.
    #[must_use]
    pub fn step(&self) -> TimeDelta {
        match self.frequency {
            Frequency::Hourly => TimeDelta::hours(1),
            Frequency::Daily => TimeDelta::days(1),
            Frequency::Interval(every) => {
                TimeDelta::from_std(every).unwrap_or(TimeDelta::seconds(60))
            }
        }
    }

    /// The last window whose spend rows are written by `now` (it ended [`SETTLE`] ago).
    #[must_use]
    pub fn window(&self, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let now = now - SETTLE;
        match self.frequency {
            Frequency::Hourly => {
                let end = now.duration_trunc(TimeDelta::hours(1)).unwrap_or(now);
                (end - TimeDelta::hours(1), end)
            }
            Frequency::Daily => {
                let end = now.duration_trunc(TimeDelta::days(1)).unwrap_or(now);
                (end - TimeDelta::days(1), end)
            }
            Frequency::Interval(every) => {
                let every = TimeDelta::from_std(every).unwrap_or(TimeDelta::seconds(60));
                let end = now.duration_trunc(every).unwrap_or(now);
                (end - every, end)
            }
        }
    }

    /// When the run after `now` is due.
    #[must_use]
    pub fn next_run(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let offset = TimeDelta::minutes(self.offset_minutes);
        let (step, base) = match self.frequency {
            Frequency::Hourly => (
                TimeDelta::hours(1),
                now.duration_trunc(TimeDelta::hours(1)).unwrap_or(now)
                    + TimeDelta::minutes(self.offset_minutes.min(59)),
            ),
            Frequency::Daily => (
                TimeDelta::days(1),
                now.duration_trunc(TimeDelta::days(1)).unwrap_or(now)
                    + offset.min(TimeDelta::hours(23) + TimeDelta::minutes(59)),
            ),
            Frequency::Interval(every) => {
                let every = TimeDelta::from_std(every).unwrap_or(TimeDelta::seconds(60));
                (every, now.duration_trunc(every).unwrap_or(now))
            }
        };
        let mut due = base + SETTLE;
        while due <= now {
            due += step;
        }
        due
    }

    /// The object key / relative path of a window's file.
    #[must_use]
    pub fn object_key(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> String {
        let mut parts = vec![self.prefix.trim_end_matches('/').to_owned()];
        parts.push(format!("date={}", start.format("%Y-%m-%d")));
        if self.frequency == Frequency::Hourly {
            parts.push(format!("hour={}", start.format("%H")));
        }
        let extension = match self.format {
            Format::Csv => "csv",
            Format::Json => "json",
        };
        parts.push(format!(
            "focus_{}_{}.{extension}",
            start.format("%Y%m%dT%H%M%SZ"),
            end.format("%Y%m%dT%H%M%SZ")
        ));
        parts.retain(|p| !p.is_empty());
        parts.join("/")
    }

    fn serialize(&self, charges: &[Charge]) -> (Vec<u8>, &'static str) {
        match self.format {
            Format::Csv => (to_csv(charges).into_bytes(), "text/csv"),
            Format::Json => (
                serde_json::to_vec(&to_json(charges, Utc::now())).unwrap_or_default(),
                "application/json",
            ),
        }
    }

    /// Export one window.
    ///
    /// # Errors
    /// The database or the destination failed.
    pub async fn export(
        &self,
        engine: &Governance,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<String, String> {
        let charges = engine
            .focus_window(start, end)
            .await
            .map_err(|e| format!("reading spend: {e}"))?;
        let key = self.object_key(start, end);
        let (body, content_type) = self.serialize(&charges);
        match &self.destination {
            Destination::S3(store) => store
                .put_object(&key, body, content_type)
                .await
                .map_err(|e| format!("writing {}: {e}", store.location()))?,
            Destination::Directory(dir) => {
                let path = dir.join(&key);
                if let Some(parent) = path.parent() {
                    tokio::fs::create_dir_all(parent)
                        .await
                        .map_err(|e| format!("creating {}: {e}", parent.display()))?;
                }
                // Written next to its name, then renamed: a reader never sees half a file.
                let partial = path.with_extension("partial");
                tokio::fs::write(&partial, body)
                    .await
                    .map_err(|e| format!("writing {}: {e}", partial.display()))?;
                tokio::fs::rename(&partial, &path)
                    .await
                    .map_err(|e| format!("writing {}: {e}", path.display()))?;
            }
        }
        Ok(key)
    }
}

/// Run `export` on schedule on the engine's runtime until aborted. Windows are exported in
/// order, each once; windows missed while the database or the destination failed (or the run
/// was late) are exported at the next run, at most [`CATCH_UP`] of them.
#[must_use]
pub fn start(export: FocusExport, engine: Arc<Governance>) -> tokio::task::JoinHandle<()> {
    let runtime = engine.runtime().clone();
    runtime.spawn(async move {
        let step = export.step();
        // The start of the next window to export.
        let mut next: Option<DateTime<Utc>> = None;
        loop {
            let now = Utc::now();
            let due = export.next_run(now);
            tokio::time::sleep((due - now).to_std().unwrap_or(Duration::ZERO)).await;
            let (_, end) = export.window(Utc::now());
            let mut start = next.unwrap_or(end - step).max(end - step * CATCH_UP);
            while start < end {
                let window_end = start + step;
                match export.export(&engine, start, window_end).await {
                    Ok(key) => {
                        tracing::info!(%key, "FOCUS export written");
                        start = window_end;
                    }
                    Err(error) => {
                        tracing::warn!(%error, %start, end = %window_end, "FOCUS export failed; retried at the next run");
                        break;
                    }
                }
            }
            next = Some(start);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn export(frequency: Frequency) -> FocusExport {
        FocusExport {
            destination: Destination::Directory(PathBuf::from("/tmp")),
            format: Format::Csv,
            frequency,
            offset_minutes: 5,
            prefix: "focus_exports".into(),
        }
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn windows_and_runs_follow_the_frequency() {
        let now = at("2026-12-04T10:17:30Z");
        let hourly = export(Frequency::Hourly);
        assert_eq!(
            hourly.window(now),
            (at("2026-12-04T09:00:00Z"), at("2026-12-04T10:00:00Z"))
        );
        assert_eq!(hourly.next_run(now), at("2026-12-04T11:05:02Z"));
        assert_eq!(
            hourly.object_key(at("2026-12-04T09:00:00Z"), at("2026-12-04T10:00:00Z")),
            "focus_exports/date=2026-12-04/hour=09/focus_20261204T090000Z_20261204T100000Z.csv"
        );
        let daily = export(Frequency::Daily);
        assert_eq!(
            daily.window(now),
            (at("2026-12-03T00:00:00Z"), at("2026-12-04T00:00:00Z"))
        );
        assert_eq!(daily.next_run(now), at("2026-12-05T00:05:02Z"));
        assert_eq!(
            daily.next_run(at("2026-12-04T00:01:00Z")),
            at("2026-12-04T00:05:02Z")
        );
        let interval = export(Frequency::Interval(Duration::from_secs(60)));
        assert_eq!(
            interval.window(now),
            (at("2026-12-04T10:16:00Z"), at("2026-12-04T10:17:00Z"))
        );
        assert_eq!(interval.next_run(now), at("2026-12-04T10:18:02Z"));
        // A run due at its time exports the window that just ended.
        assert_eq!(
            daily.window(at("2026-12-05T00:05:02Z")),
            (at("2026-12-04T00:00:00Z"), at("2026-12-05T00:00:00Z"))
        );
    }
}
