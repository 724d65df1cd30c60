//! Query-string parameters of the application API, checked with messages that name the
//! parameter and what it takes.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime};

use super::error::AppError;
use crate::domain::feed::FeedError;
use crate::domain::read::PageRequest;

/// Records per list page: as many as an events page.
pub const MAX_LIMIT: i64 = crate::domain::feed::MAX_LIMIT;
pub const DEFAULT_LIMIT: i64 = crate::domain::feed::DEFAULT_LIMIT;

/// Letters, digits and '-': what Roster's ids (the list cursors) are made of.
fn is_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

pub struct Params(HashMap<String, String>);

/// Whether the parameter `name` an endpoint lists takes `key`: itself, or for `p[NAME]`, any
/// `p[...]`.
fn takes(name: &str, key: &str) -> bool {
    match name.strip_suffix("[NAME]") {
        Some(prefix) => key
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('[') && rest.ends_with(']')),
        None => name == key,
    }
}

impl Params {
    pub fn of(query: &str) -> Result<Params, AppError> {
        let mut map = HashMap::new();
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            if map.insert(k.to_string(), v.to_string()).is_some() {
                return Err(AppError::BadRequest(format!(
                    "'{k}' is given more than once"
                )));
            }
        }
        Ok(Params(map))
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// An integer within `min..=max`, or `default` when absent.
    pub fn int(&self, name: &str, min: i64, max: i64, default: i64) -> Result<i64, AppError> {
        let Some(text) = self.text(name) else {
            return Ok(default);
        };
        text.parse::<i64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| {
                AppError::BadRequest(format!(
                    "'{name}' must be an integer from {min} to {max}, not '{}'",
                    text.chars().take(40).collect::<String>()
                ))
            })
    }

    /// Refuses a parameter this endpoint does not take: a misspelt filter would otherwise
    /// answer every record instead of the few the application meant.
    pub fn only(&self, known: &[&str]) -> Result<(), AppError> {
        let mut unknown: Vec<&str> = self
            .0
            .keys()
            .map(String::as_str)
            .filter(|k| !known.iter().any(|name| takes(name, k)))
            .collect();
        unknown.sort_unstable();
        match unknown.first() {
            None => Ok(()),
            Some(first) => Err(AppError::BadRequest(format!(
                "unknown parameter '{}'; this endpoint takes: {}",
                first.chars().take(40).collect::<String>(),
                known.join(", ")
            ))),
        }
    }

    /// The `NAME` and value of each parameter `prefix[NAME]`, sorted by name.
    pub fn bracketed(&self, prefix: &str) -> Vec<(&str, &str)> {
        let mut found: Vec<(&str, &str)> = self
            .0
            .iter()
            .filter_map(|(k, v)| {
                let inner = k
                    .strip_prefix(prefix)?
                    .strip_prefix('[')?
                    .strip_suffix(']')?;
                Some((inner, v.as_str()))
            })
            .collect();
        found.sort_unstable();
        found
    }

    /// `after` and `limit` of a list (`docs/api.md`, "Lists").
    pub fn page(&self) -> Result<PageRequest, AppError> {
        let limit = self.int("limit", 1, MAX_LIMIT, DEFAULT_LIMIT)?;
        let after = match self.text("after") {
            Some(a) if !is_id(a) => {
                return Err(FeedError::BadCursor(a.chars().take(100).collect()).into());
            }
            a => a.map(str::to_string),
        };
        Ok(PageRequest { after, limit })
    }

    /// An id parameter (`group`, `user`), checked for its shape only.
    pub fn id(&self, name: &str) -> Result<Option<&str>, AppError> {
        match self.text(name) {
            Some(v) if !is_id(v) => Err(AppError::BadRequest(format!(
                "'{name}' must be an id, not '{}'",
                v.chars().take(40).collect::<String>()
            ))),
            v => Ok(v),
        }
    }

    /// An RFC 3339 time, as UTC.
    pub fn time(&self, name: &str) -> Result<Option<NaiveDateTime>, AppError> {
        self.text(name)
            .map(|text| {
                DateTime::parse_from_rfc3339(text)
                    .map(|t| t.naive_utc())
                    .map_err(|_| {
                        AppError::BadRequest(format!(
                            "'{name}' must be an RFC 3339 time such as 2026-12-07T09:30:00Z, \
                             not '{}'",
                            text.chars().take(40).collect::<String>()
                        ))
                    })
            })
            .transpose()
    }

    /// Text that must not be empty when given.
    pub fn nonempty(&self, name: &str) -> Result<Option<&str>, AppError> {
        match self.text(name) {
            Some("") => Err(AppError::BadRequest(format!("'{name}' must not be empty"))),
            v => Ok(v),
        }
    }
}
