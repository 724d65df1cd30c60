//! The request log: what a directory's SCIM client sent and what it got back, kept for a
//! configured time so a failing integration can be read, exported and replayed.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::error::{DomainError, DomainResult};
use super::ids::{DirectoryId, TenantId};
use crate::store::{self, Store};

/// How long entries are kept; zero means nothing is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention(Duration);

impl Retention {
    pub const DEFAULT: Retention = Retention(Duration::from_secs(7 * 24 * 3600));

    pub const fn new(d: Duration) -> Retention {
        Retention(d)
    }

    pub fn is_enabled(self) -> bool {
        !self.0.is_zero()
    }

    pub fn duration(self) -> Duration {
        self.0
    }

    /// Entries received before this instant are past their time.
    pub fn cutoff(self, now: NaiveDateTime) -> NaiveDateTime {
        chrono::Duration::from_std(self.0)
            .ok()
            .and_then(|d| now.checked_sub_signed(d))
            .unwrap_or(NaiveDateTime::MIN)
    }
}

/// `0`, or a number with a unit: `45s`, `30m`, `12h`, `7d`.
pub fn parse_duration(s: &str) -> Result<Duration, DomainError> {
    let s = s.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let bad = || {
        DomainError::Invalid(format!(
            "'{s}' is not a duration: use 0 or a number with s, m, h or d (e.g. 7d)"
        ))
    };
    let unit = match s.chars().last().ok_or_else(bad)? {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86400,
        _ => return Err(bad()),
    };
    let n: u64 = s[..s.len() - 1].parse().map_err(|_| bad())?;
    n.checked_mul(unit).map(Duration::from_secs).ok_or_else(bad)
}

impl FromStr for Retention {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_duration(s).map(Retention)
    }
}

impl<'de> Deserialize<'de> for Retention {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// One request and its response as recorded: bodies are already redacted and capped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Exchange {
    #[schema(value_type = String)]
    pub tenant_id: TenantId,
    #[schema(value_type = String)]
    pub directory_id: DirectoryId,
    /// UTC, without an offset.
    #[schema(value_type = String)]
    pub received_at: NaiveDateTime,
    pub method: String,
    /// Relative to the SCIM base URL, without the query string.
    pub path: String,
    pub query: String,
    /// The SCIM base URL the server answered under; exports turn it into `{{base}}`.
    pub base_url: String,
    pub request_headers: BTreeMap<String, String>,
    pub request_body: Option<String>,
    pub request_truncated: bool,
    pub status: u16,
    pub response_headers: BTreeMap<String, String>,
    pub response_body: Option<String>,
    pub response_truncated: bool,
    pub duration_us: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Entry {
    pub id: i64,
    #[serde(flatten)]
    pub exchange: Exchange,
}

/// A bound of a log query: an RFC 3339 time, or how long before `now` (`30m`, `7d`).
pub fn parse_when(text: &str, now: NaiveDateTime) -> DomainResult<NaiveDateTime> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.naive_utc());
    }
    let not_a_time = || {
        DomainError::Invalid(format!(
            "'{text}' is neither an RFC 3339 time nor a duration such as 30m or 7d"
        ))
    };
    let ago = parse_duration(text).map_err(|_| not_a_time())?;
    chrono::Duration::from_std(ago)
        .ok()
        .and_then(|d| now.checked_sub_signed(d))
        .ok_or_else(not_a_time)
}

/// An entry as listings show it: what was asked and answered, without headers or bodies.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = RequestSummary)]
pub struct Summary<'a> {
    pub id: i64,
    /// UTC, without an offset.
    #[schema(value_type = String)]
    pub received_at: NaiveDateTime,
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub status: u16,
    pub duration_us: i64,
}

impl Entry {
    pub fn summary(&self) -> Summary<'_> {
        let x = &self.exchange;
        Summary {
            id: self.id,
            received_at: x.received_at,
            method: &x.method,
            path: &x.path,
            query: &x.query,
            status: x.status,
            duration_us: x.duration_us,
        }
    }
}

/// `404` or a class such as `4xx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Exact(u16),
    Class(u16),
}

impl StatusFilter {
    /// The inclusive range of statuses it admits.
    pub fn range(self) -> (u16, u16) {
        match self {
            StatusFilter::Exact(s) => (s, s),
            StatusFilter::Class(c) => (c * 100, c * 100 + 99),
        }
    }
}

impl FromStr for StatusFilter {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || DomainError::Invalid(format!("'{s}' is not a status: use e.g. 404 or 4xx"));
        let lower = s.trim().to_ascii_lowercase();
        if let Some(class) = lower.strip_suffix("xx") {
            return match class.parse::<u16>() {
                Ok(c @ 1..=5) => Ok(StatusFilter::Class(c)),
                _ => Err(bad()),
            };
        }
        match lower.parse::<u16>() {
            Ok(c @ 100..=599) => Ok(StatusFilter::Exact(c)),
            _ => Err(bad()),
        }
    }
}

/// Which entries of one directory to read; every bound is optional and inclusive.
#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    pub since: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
    pub from_id: Option<i64>,
    pub to_id: Option<i64>,
    pub status: Option<StatusFilter>,
    pub limit: Option<i64>,
    /// The most recent `limit` entries instead of the oldest; the result is oldest first
    /// either way.
    pub latest: bool,
}

pub fn record(store: &Store, entries: &[Exchange]) -> DomainResult<()> {
    Ok(store.write_request_log(|conn| store::request_log::insert(conn, entries))?)
}

/// Entries deleted per write transaction by `purge`.
const PURGE_BATCH: i64 = 5_000;

/// Deletes entries past their retention; with logging disabled, every entry. Returns how many.
/// In batches, each its own transaction: a day's log under load is millions of rows, and one
/// DELETE of them all would hold the write lock (on SQLite, every SCIM write) for as long.
pub fn purge(store: &Store, retention: Retention, now: NaiveDateTime) -> DomainResult<usize> {
    let cutoff = retention.is_enabled().then(|| retention.cutoff(now));
    let batch = usize::try_from(PURGE_BATCH).unwrap_or(usize::MAX);
    let mut total = 0;
    loop {
        let deleted = store.write_request_log(|conn| {
            store::request_log::delete_before(conn, cutoff, PURGE_BATCH)
        })?;
        total += deleted;
        if deleted < batch {
            return Ok(total);
        }
    }
}

pub fn list(store: &Store, directory: &DirectoryId, query: &LogQuery) -> DomainResult<Vec<Entry>> {
    Ok(store.read_request_log(|conn| store::request_log::list(conn, directory, query))?)
}

/// A directory's recorded requests since `since` and how many of them failed (status 400 or
/// above), for an error rate.
pub fn counts_since(
    store: &Store,
    directory: &DirectoryId,
    since: NaiveDateTime,
) -> DomainResult<(i64, i64)> {
    Ok(store.read_request_log(|conn| store::request_log::counts_since(conn, directory, since))?)
}

pub fn get(store: &Store, id: i64) -> DomainResult<Entry> {
    store
        .read_request_log(|conn| store::request_log::get(conn, id))?
        .ok_or_else(|| DomainError::NotFound {
            kind: "request log entry",
            id: id.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_statuses_parse_or_say_why_not() {
        assert_eq!("7d".parse::<Retention>().unwrap(), Retention::DEFAULT);
        assert_eq!(parse_duration("45s").unwrap(), Duration::from_secs(45));
        assert_eq!(parse_duration("30m").unwrap(), Duration::from_secs(1800));
        assert!(!"0".parse::<Retention>().unwrap().is_enabled());
        for bad in ["", "7", "d", "-1d", "1w", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!("4xx".parse::<StatusFilter>().unwrap().range(), (400, 499));
        assert_eq!("409".parse::<StatusFilter>().unwrap().range(), (409, 409));
        for bad in ["6xx", "0xx", "99", "abc"] {
            assert!(bad.parse::<StatusFilter>().is_err(), "{bad}");
        }
    }
}
