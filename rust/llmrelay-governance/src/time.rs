//! Time: a clock the engine reads (tests control it), LiteLLM's duration strings, and the
//! timestamp format of the API.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// Where "now" comes from.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told to (tests).
#[derive(Debug, Clone)]
pub struct ManualClock {
    millis: Arc<AtomicI64>,
}

impl ManualClock {
    #[must_use]
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            millis: Arc::new(AtomicI64::new(start.timestamp_millis())),
        }
    }

    pub fn advance(&self, by: Duration) {
        self.millis
            .fetch_add(by.num_milliseconds(), Ordering::SeqCst);
    }

    pub fn set(&self, to: DateTime<Utc>) {
        self.millis.store(to.timestamp_millis(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(self.millis.load(Ordering::SeqCst))
            .single()
            .unwrap_or_default()
    }
}

/// A LiteLLM duration (`30s`, `30m`, `1h`, `1d`, `7d`, `30d`, `1mo`, `1w`, `1y`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetDuration {
    Fixed(Duration),
    Months(u32),
}

impl BudgetDuration {
    /// Parses LiteLLM's duration strings (`duration_in_seconds`).
    ///
    /// # Errors
    /// A message naming the accepted forms.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let value: i64 = number.parse().map_err(|_| {
            format!("Invalid duration format: {text}. Use e.g. 30s, 30m, 1h, 1d, 7d, 30d, 1mo")
        })?;
        let fixed = |seconds: i64| Ok(Self::Fixed(Duration::seconds(value * seconds)));
        match unit {
            "s" => fixed(1),
            "m" => fixed(60),
            "h" => fixed(3600),
            "d" => fixed(86_400),
            "w" => fixed(7 * 86_400),
            "mo" => u32::try_from(value)
                .map(Self::Months)
                .map_err(|_| format!("Invalid duration: {text}")),
            "y" => u32::try_from(value * 12)
                .map(Self::Months)
                .map_err(|_| format!("Invalid duration: {text}")),
            _ => Err(format!(
                "Invalid duration format: {text}. Use e.g. 30s, 30m, 1h, 1d, 7d, 30d, 1mo"
            )),
        }
    }

    /// The end of a window that starts at `from`.
    #[must_use]
    pub fn after(self, from: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Self::Fixed(duration) => from + duration,
            Self::Months(months) => add_months(from, months),
        }
    }
}

fn add_months(from: DateTime<Utc>, months: u32) -> DateTime<Utc> {
    let total = from.year() * 12
        + i32::try_from(from.month0()).unwrap_or(0)
        + i32::try_from(months).unwrap_or(0);
    let year = total.div_euclid(12);
    let month = u32::try_from(total.rem_euclid(12)).unwrap_or(0) + 1;
    let mut day = from.day();
    loop {
        if let Some(date) = NaiveDate::from_ymd_opt(year, month, day) {
            return date.and_time(from.time()).and_utc();
        }
        if day <= 28 {
            return from;
        }
        day -= 1;
    }
}

/// Timestamps over the API: RFC 3339 in UTC with milliseconds.
#[must_use]
pub fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Accepts RFC 3339, a naive `YYYY-MM-DD[ T]HH:MM:SS[.fff]` (UTC) or a bare date.
#[must_use]
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(time) = NaiveDateTime::parse_from_str(text, format) {
            return Some(time.and_utc());
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|time| time.and_utc())
}

/// A timestamp truncated to the millisecond (what TIMESTAMP(3) keeps).
#[must_use]
pub fn to_millis(time: DateTime<Utc>) -> NaiveDateTime {
    Utc.timestamp_millis_opt(time.timestamp_millis())
        .single()
        .unwrap_or(time)
        .naive_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_as_litellm() {
        assert_eq!(
            BudgetDuration::parse("30s"),
            Ok(BudgetDuration::Fixed(Duration::seconds(30)))
        );
        assert_eq!(
            BudgetDuration::parse("1h"),
            Ok(BudgetDuration::Fixed(Duration::hours(1)))
        );
        assert_eq!(
            BudgetDuration::parse("7d"),
            Ok(BudgetDuration::Fixed(Duration::days(7)))
        );
        assert_eq!(BudgetDuration::parse("1mo"), Ok(BudgetDuration::Months(1)));
        assert!(BudgetDuration::parse("1x").is_err());
        assert!(BudgetDuration::parse("d").is_err());
    }

    #[test]
    fn months_clamp_to_the_last_day() {
        let jan31 = parse_time("2026-01-31T10:00:00Z").unwrap();
        assert_eq!(
            format_time(BudgetDuration::Months(1).after(jan31)),
            "2026-02-28T10:00:00.000Z"
        );
        let dec = parse_time("2026-12-15").unwrap();
        assert_eq!(
            format_time(BudgetDuration::Months(1).after(dec)),
            "2027-01-15T00:00:00.000Z"
        );
    }

    #[test]
    fn manual_clock_moves_when_told() {
        let start = parse_time("2026-01-01T00:00:00Z").unwrap();
        let clock = ManualClock::new(start);
        clock.advance(Duration::seconds(31));
        assert_eq!(clock.now(), start + Duration::seconds(31));
    }
}
