//! The application's feed: events read by an opaque cursor in commit order, a directory's
//! snapshot with the cursor it reflects, and the retention that prunes old events
//! (`docs/events.md`).

use chrono::NaiveDateTime;
use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

use super::error::{DomainError, DomainResult};
use super::event::EventKind;
use super::ids::{DirectoryId, TenantId};
use super::record;
use super::tenancy::{self, Scope};
use crate::store::events::{EventQuery, SnapshotSkip, StoredEvent, XID_SHIFT};
use crate::store::{self, Store, StoreError};

pub const MAX_LIMIT: i64 = 1000;
pub const DEFAULT_LIMIT: i64 = 100;

#[derive(Debug, Error)]
pub enum FeedError {
    #[error("malformed cursor '{0}': pass a cursor exactly as Roster returned it")]
    BadCursor(String),
    #[error(
        "cursor {0} is older than the oldest retained event: events after it were pruned by the \
         retention; start again from a snapshot (GET /api/v1/directories/{{id}}/snapshot)"
    )]
    Gone(String),
    #[error(transparent)]
    Domain(#[from] DomainError),
}

impl From<StoreError> for FeedError {
    fn from(e: StoreError) -> Self {
        FeedError::Domain(DomainError::Store(e))
    }
}

impl From<diesel::result::Error> for FeedError {
    fn from(e: diesel::result::Error) -> Self {
        FeedError::Domain(DomainError::from(e))
    }
}

/// A position in the feed. Mostly a cursor number; after a snapshot on PostgreSQL it also
/// names the transactions the snapshot did not see, until the feed has passed them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    after: i64,
    skip: Option<SnapshotSkip>,
}

impl Cursor {
    pub fn at(after: i64) -> Cursor {
        Cursor { after, skip: None }
    }

    /// The cursor number this position is after, without what a snapshot skips.
    pub fn position(&self) -> i64 {
        self.after
    }

    /// Digits, or (after a snapshot) digit groups joined by dots.
    pub fn parse(text: &str) -> Result<Cursor, FeedError> {
        let bad = || FeedError::BadCursor(text.chars().take(100).collect());
        let numbers: Vec<i64> = text
            .split('.')
            .map(|part| {
                if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad());
                }
                part.parse::<i64>().map_err(|_| bad())
            })
            .collect::<Result<_, _>>()?;
        match numbers.as_slice() {
            [after] => Ok(Cursor::at(*after)),
            [after, xmax, running @ ..] => {
                let fits = *xmax < (1 << (63 - XID_SHIFT));
                let ordered = running.windows(2).all(|w| w[0] < w[1]);
                if !fits || !ordered || running.iter().any(|x| x >= xmax) {
                    return Err(bad());
                }
                Ok(Cursor {
                    after: *after,
                    skip: Some(SnapshotSkip {
                        xmax: *xmax,
                        running: running.to_vec(),
                    }),
                }
                .settled())
            }
            [] => Err(bad()),
        }
    }

    /// The position just after the event at `cursor`, read from this position.
    fn past(&self, cursor: i64) -> Cursor {
        Cursor {
            after: cursor,
            skip: self.skip.clone(),
        }
        .settled()
    }

    /// Drops what no later event can need: transactions the feed has passed, and the whole
    /// skip once past the snapshot's last transaction.
    fn settled(mut self) -> Cursor {
        if let Some(skip) = &mut self.skip {
            let xid = self.after >> XID_SHIFT;
            if self.after >= (skip.xmax << XID_SHIFT) - 1 {
                self.skip = None;
            } else {
                skip.running.retain(|x| *x >= xid);
            }
        }
        self
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.after)?;
        if let Some(skip) = &self.skip {
            write!(f, ".{}", skip.xmax)?;
            for x in &skip.running {
                write!(f, ".{x}")?;
            }
        }
        Ok(())
    }
}

/// One event as the events API and webhook bodies show it.
#[derive(Debug)]
pub struct FeedEvent {
    pub id: String,
    pub cursor: String,
    pub event_type: String,
    pub tenant_id: String,
    pub directory_id: String,
    pub created_at: String,
    /// JSON text, as stored.
    pub data: String,
    pub changed: Option<String>,
    pub previous: Option<String>,
}

/// A JSON string literal.
fn json_string(out: &mut Vec<u8>, text: &str) {
    serde_json::to_writer(&mut *out, text).expect("a string serializes");
}

impl FeedEvent {
    fn of(e: StoredEvent, cursor: &Cursor) -> FeedEvent {
        FeedEvent {
            id: e.id,
            cursor: cursor.to_string(),
            event_type: e.event_type,
            tenant_id: e.tenant_id,
            directory_id: e.directory_id,
            created_at: super::clock::rfc3339(e.created_at),
            data: e.data,
            changed: e.changed,
            previous: e.previous,
        }
    }

    /// The event's JSON object. Written by hand, the stored JSON texts copied in as they are:
    /// parsing each event's record only to write it out again was most of a page's time.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let fields = [
            ("id", &self.id),
            ("cursor", &self.cursor),
            ("type", &self.event_type),
            ("tenant_id", &self.tenant_id),
            ("directory_id", &self.directory_id),
            ("created_at", &self.created_at),
        ];
        out.push(b'{');
        for (name, value) in fields {
            json_string(out, name);
            out.push(b':');
            json_string(out, value);
            out.push(b',');
        }
        out.extend_from_slice(b"\"data\":");
        out.extend_from_slice(self.data.as_bytes());
        for (name, value) in [("changed", &self.changed), ("previous", &self.previous)] {
            if let Some(text) = value {
                out.push(b',');
                json_string(out, name);
                out.push(b':');
                out.extend_from_slice(text.as_bytes());
            }
        }
        out.push(b'}');
    }
}

/// An event's JSON as webhooks send it: the events API's object, with its own cursor.
pub fn event_body(e: StoredEvent) -> Vec<u8> {
    let cursor = Cursor::at(e.cursor);
    let mut out = Vec::with_capacity(e.data.len() + 512);
    FeedEvent::of(e, &cursor).write_json(&mut out);
    out
}

/// The directory a feed reader names, with its tenant: a live directory, or a deleted one
/// whose events (its `directory.deleted` among them) are still retained.
pub fn directory_in_feed(store: &Store, id: &str) -> DomainResult<Option<(DirectoryId, TenantId)>> {
    if let Some(d) = tenancy::directory_by_id(store, id)? {
        return Ok(Some((d.id, d.tenant_id)));
    }
    let tenant = store.read(|conn| store::events::tenant_of_directory(conn, id))?;
    Ok(tenant.map(|t| (DirectoryId::from_raw(id.to_string()), TenantId::from_raw(t))))
}

/// What an application asks the feed for.
#[derive(Debug, Clone)]
pub struct EventsRequest {
    /// `None`: from the oldest retained event.
    pub after: Option<Cursor>,
    pub limit: i64,
    pub types: Option<Vec<EventKind>>,
    /// The tenants the caller may read; `None` is every tenant.
    pub tenant_ids: Option<Vec<TenantId>>,
    pub directory_id: Option<DirectoryId>,
}

#[derive(Debug)]
pub struct EventsPage {
    pub data: Vec<FeedEvent>,
    pub next_after: String,
}

impl EventsPage {
    /// `{"data": [event, ...], "next_after": CURSOR}`.
    pub fn to_json(&self) -> Vec<u8> {
        let size: usize = self.data.iter().map(|e| e.data.len() + 400).sum();
        let mut out = Vec::with_capacity(size + 64);
        out.extend_from_slice(b"{\"data\":[");
        for (i, event) in self.data.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            event.write_json(&mut out);
        }
        out.extend_from_slice(b"],\"next_after\":");
        json_string(&mut out, &self.next_after);
        out.push(b'}');
        out
    }
}

/// A page of events after the request's cursor, oldest first.
pub fn read(store: &Store, req: &EventsRequest) -> Result<EventsPage, FeedError> {
    let types: Option<Vec<&'static str>> = req
        .types
        .as_ref()
        .map(|t| t.iter().map(|k| k.as_str()).collect());
    let tenants: Option<Vec<String>> = req
        .tenant_ids
        .as_ref()
        .map(|t| t.iter().map(|t| t.to_string()).collect());
    store.read(|conn| {
        let from = match &req.after {
            Some(c) => c.clone(),
            None => Cursor::at(store::events::pruned_through(conn)?),
        };
        let rows = store::events::read(
            conn,
            &EventQuery {
                after: from.after,
                skip: from.skip.as_ref(),
                tenant_ids: tenants.as_deref(),
                directory_id: req.directory_id.as_ref().map(|d| d.as_str()),
                types: types.as_deref(),
                limit: req.limit,
            },
        )?;
        // Checked after the read: pruning only moves forward, and commits its deletes and
        // its new mark together, so a read that raced a prune is refused here rather than
        // answered with a silent gap.
        if req.after.is_some() && store::events::pruned_through(conn)? > from.after {
            return Err(FeedError::Gone(from.to_string()));
        }
        let mut next = from.clone();
        let mut data = Vec::with_capacity(rows.len());
        for row in rows {
            next = from.past(row.cursor);
            data.push(FeedEvent::of(row, &next));
        }
        Ok(EventsPage {
            data,
            next_after: next.to_string(),
        })
    })
}

/// The newest position of the feed: what `roster events tail` starts from.
pub fn newest(store: &Store) -> Result<Cursor, FeedError> {
    store.read(|conn| {
        let pruned = store::events::pruned_through(conn)?;
        Ok(Cursor::at(
            store::events::last_cursor(conn)?.unwrap_or(0).max(pruned),
        ))
    })
}

/// One line of a directory's snapshot.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum SnapshotLine {
    User { data: Value },
    Group { data: Value },
    Membership { data: Value },
    Cursor { cursor: String },
}

/// Records per page of a snapshot: what it holds in memory at once.
const SNAPSHOT_PAGE: i64 = 500;

/// Every live record of a directory, read in one consistent transaction, then the cursor
/// that read reflects: events after it are exactly the changes the snapshot does not hold.
/// `emit` gets each line; when it answers `false` (the reader went away) the read stops.
pub fn snapshot(
    store: &Store,
    scope: &Scope,
    emit: &mut dyn FnMut(SnapshotLine) -> bool,
) -> Result<(), FeedError> {
    store.read_consistent(|conn| {
        // First, so the position and the rows come from the same snapshot.
        let (after, skip) = store::events::snapshot_position(conn)?;
        if after < store::events::pruned_through(conn)? {
            return Err(FeedError::Gone(after.to_string()));
        }
        let mut last: Option<String> = None;
        loop {
            let users = store::users::page_by_id(conn, scope, last.as_deref(), SNAPSHOT_PAGE)?;
            let Some(tail) = users.last() else { break };
            last = Some(tail.id.to_string());
            for u in &users {
                if !emit(SnapshotLine::User {
                    data: record::user(u)?,
                }) {
                    return Ok(());
                }
            }
        }
        let mut last: Option<String> = None;
        loop {
            let groups = store::groups::page_by_id(conn, scope, last.as_deref(), SNAPSHOT_PAGE)?;
            let Some(tail) = groups.last() else { break };
            last = Some(tail.id.to_string());
            for g in &groups {
                if !emit(SnapshotLine::Group {
                    data: record::group(g)?,
                }) {
                    return Ok(());
                }
            }
        }
        let mut last: Option<(String, String)> = None;
        loop {
            let rows = store::groups::memberships_page(conn, scope, last.as_ref(), SNAPSHOT_PAGE)?;
            let Some((g, m, _)) = rows.last() else { break };
            last = Some((g.clone(), m.clone()));
            for (group_id, member_id, member_type) in rows {
                let data = serde_json::json!({
                    "group_id": group_id, "member_id": member_id, "member_type": member_type
                });
                if !emit(SnapshotLine::Membership { data }) {
                    return Ok(());
                }
            }
        }
        emit(SnapshotLine::Cursor {
            cursor: Cursor { after, skip }.settled().to_string(),
        });
        Ok(())
    })
}

/// Rows deleted per transaction by `prune`: small, so no writer waits on a long one.
const PRUNE_BATCH: i64 = 1000;

/// Deletes the events created before `cutoff`, oldest first, in small transactions; returns
/// how many.
pub fn prune(store: &Store, cutoff: NaiveDateTime) -> Result<u64, FeedError> {
    let mut total = 0u64;
    loop {
        let deleted = store.write(|conn| -> Result<u64, FeedError> {
            let through = store::events::lock_pruned_through(conn)?;
            match store::events::prune(conn, through, cutoff, PRUNE_BATCH)? {
                Some((last, n)) => {
                    store::events::set_pruned_through(conn, last)?;
                    Ok(n)
                }
                None => Ok(0),
            }
        })?;
        total += deleted;
        if deleted < PRUNE_BATCH as u64 {
            return Ok(total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_settle_past_the_snapshot() {
        let xid = |x: i64| x << XID_SHIFT;
        for text in ["0", "42", &format!("{}.12.10.11", xid(9) - 1)] {
            assert_eq!(Cursor::parse(text).unwrap().to_string(), text);
        }
        for bad in [
            "",
            "-1",
            "a",
            "1.",
            ".1",
            "1..2",
            "1 ",
            "1.5.6",
            "1.5.4.3",
            "99999999999999999999",
        ] {
            assert!(Cursor::parse(bad).is_err(), "{bad:?}");
        }
        let snap = Cursor::parse(&format!("{}.12.10.11", xid(9) - 1)).unwrap();
        assert_eq!(
            snap.past(xid(10)).to_string(),
            format!("{}.12.10.11", xid(10))
        );
        assert_eq!(
            snap.past(xid(11) + 3).to_string(),
            format!("{}.12.11", xid(11) + 3)
        );
        assert_eq!(snap.past(xid(12)).to_string(), xid(12).to_string());
    }
}
