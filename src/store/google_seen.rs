//! The Google ids a running sync's listings named, kept in the database: deprovisioning needs
//! to know, after the last page, which stored users and groups no listing named, and holding
//! every id of a million-user directory in memory to answer that is what made the puller's
//! memory grow with the directory.

use diesel::prelude::*;

use super::conn::{DbConn, on_backend};
use super::error::StoreError;
use super::schema::google_seen as s;

/// What a listing names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    User,
    Group,
}

impl Seen {
    fn as_str(self) -> &'static str {
        match self {
            Seen::User => "user",
            Seen::Group => "group",
        }
    }
}

/// Rows `clear_some` removes at most: one transaction that deleted a million-user sync's rows
/// at once held every page it dirtied (the 1M run's peak memory rose by 60-100 MiB in its
/// last half-minute, see docs/performance.md).
pub const CLEAR_BATCH: i64 = 10_000;

/// Forgets up to `CLEAR_BATCH` of what a sync (perhaps one that failed halfway) saw; returns
/// how many. Called until it returns 0, each call its own transaction.
pub fn clear_some(conn: &mut DbConn, directory_id: &str) -> Result<usize, StoreError> {
    let batch: Vec<(String, String)> = s::table
        .filter(s::directory_id.eq(directory_id))
        .select((s::kind, s::google_id))
        .limit(CLEAR_BATCH)
        .load(conn)?;
    for kind in [Seen::User, Seen::Group] {
        let ids: Vec<&String> = batch
            .iter()
            .filter(|(k, _)| k == kind.as_str())
            .map(|(_, id)| id)
            .collect();
        if !ids.is_empty() {
            diesel::delete(
                s::table
                    .filter(s::directory_id.eq(directory_id))
                    .filter(s::kind.eq(kind.as_str()))
                    .filter(s::google_id.eq_any(ids)),
            )
            .execute(conn)?;
        }
    }
    Ok(batch.len())
}

/// Records one page's ids. A listing may name an id twice (Google's pages shift when the
/// directory changes under them); the second time is no error.
pub fn add(
    conn: &mut DbConn,
    directory_id: &str,
    kind: Seen,
    google_ids: &[String],
) -> Result<(), StoreError> {
    let mut ids: Vec<&String> = google_ids.iter().collect();
    ids.sort();
    ids.dedup();
    let rows: Vec<_> = ids
        .into_iter()
        .map(|id| {
            (
                s::directory_id.eq(directory_id),
                s::kind.eq(kind.as_str()),
                s::google_id.eq(id.as_str()),
            )
        })
        .collect();
    for chunk in rows.chunks(500) {
        on_backend!(&mut *conn, |c| diesel::insert_into(s::table)
            .values(chunk)
            .on_conflict_do_nothing()
            .execute(c))?;
    }
    Ok(())
}

/// Which of `google_ids` were not seen.
pub fn unseen(
    conn: &mut DbConn,
    directory_id: &str,
    kind: Seen,
    google_ids: &[String],
) -> Result<Vec<String>, StoreError> {
    let seen: std::collections::HashSet<String> = s::table
        .filter(s::directory_id.eq(directory_id))
        .filter(s::kind.eq(kind.as_str()))
        .filter(s::google_id.eq_any(google_ids))
        .select(s::google_id)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    Ok(google_ids
        .iter()
        .filter(|id| !seen.contains(*id))
        .cloned()
        .collect())
}
