use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};

/// The current UTC time at microsecond precision: PostgreSQL keeps microseconds and SQLite
/// whatever it is given, so truncating here makes both store (and return) the same instant.
/// Read once per request at the edge and passed down.
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// RFC 3339 in UTC with microseconds, as `meta.created`/`meta.lastModified` show it.
pub fn rfc3339(t: NaiveDateTime) -> String {
    DateTime::<Utc>::from_naive_utc_and_offset(t, Utc)
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
