//! Deleting a directory: its tokens stop working at once, its users, groups, memberships and
//! request log go in batches, the users' records are erased from its events, then one
//! `directory.deleted` event closes its feed. Events stay (the feed's history, pruned by
//! retention; what each was about, without who) and webhook streams deliver them to the end.

use std::sync::Arc;

use chrono::NaiveDateTime;
use serde_json::json;

use super::document::Document;
use super::error::DomainResult;
use super::event::{EventKind, NewEvent};
use super::tenancy::Directory;
use crate::store::{self, Store};

/// Rows removed per write: small enough that SCIM writes of other directories never wait long
/// behind one.
const BATCH: i64 = 500;

/// How long after the tokens' revocation the rows start to go: every instance refuses the
/// tokens within `token::RECHECK_AFTER`, and the request log writes what it gathered within
/// a fraction of a second more.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(2);

/// What a deletion removed so far.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Removed {
    pub users: usize,
    pub groups: usize,
    pub requests: usize,
    /// Events whose user records were erased (`domain::erasure`).
    pub events_redacted: u64,
}

fn deleted_event(directory: &Directory) -> NewEvent {
    let data = json!({
        "id": directory.id,
        "directory_id": directory.id,
        "tenant_id": directory.tenant_id,
        "name": directory.name,
        "state": "deleted",
    });
    NewEvent::new(
        EventKind::DirectoryDeleted,
        directory.id.to_string(),
        Document::from_value(&data),
    )
}

/// Begins deleting a directory: from this write on its tokens are refused and its state is
/// `deleting` (with a `directory.state_changed` event). Safe to call again.
pub fn begin(store: &Store, directory: &Directory, now: NaiveDateTime) -> DomainResult<()> {
    store.write(|conn| -> DomainResult<()> {
        super::directory_state::with_state_change(conn, &directory.id, now, |conn| {
            Ok(store::removal::mark_deleting(conn, &directory.id, now)?)
        })?;
        Ok(())
    })
}

/// Removes a directory whose deletion began, a batch per write, calling `progress` after
/// each; ends with the `directory.deleted` event and the directory's row in one write.
/// Resumes where a stopped server left off.
pub fn finish(
    store: &Store,
    directory: &Directory,
    mut progress: impl FnMut(&Removed),
    now: impl Fn() -> NaiveDateTime,
) -> DomainResult<Removed> {
    // A request its token let in just before the revocation reached every instance still
    // writes, and its log entry follows it: start once those have landed.
    if let Some(since) = store.read(|conn| store::removal::deleting_since(conn, &directory.id))? {
        let settled = since + chrono::Duration::from_std(SETTLE).unwrap_or_default();
        if let Ok(wait) = (settled - now()).to_std() {
            std::thread::sleep(wait);
        }
    }
    let mut removed = Removed::default();
    loop {
        let n = store.write(|conn| store::removal::remove_users(conn, &directory.id, BATCH))?;
        if n == 0 {
            break;
        }
        removed.users += n;
        progress(&removed);
    }
    loop {
        let n = store.write(|conn| store::removal::remove_groups(conn, &directory.id, BATCH))?;
        if n == 0 {
            break;
        }
        removed.groups += n;
        progress(&removed);
    }
    loop {
        let n = store.write_request_log(|conn| {
            store::removal::remove_requests(conn, &directory.id, BATCH)
        })?;
        if n == 0 {
            break;
        }
        removed.requests += n;
        progress(&removed);
    }
    removed.events_redacted = super::erasure::erase_directory(store, directory)?;
    progress(&removed);
    store.write(|conn| -> DomainResult<()> {
        // Two processes finishing one deletion (a restarted server and the CLI) write one event.
        if store::removal::remove_directory(conn, &directory.id)? {
            let event = deleted_event(directory);
            store::events::append(conn, &directory.scope(), &[event], now())?;
        }
        Ok(())
    })?;
    Ok(removed)
}

/// `finish` on a thread of its own, for a caller that answers before the rows are gone.
pub fn finish_in_background(store: Arc<Store>, directory: Directory) {
    std::thread::spawn(move || {
        if let Err(e) = finish(&store, &directory, |_| {}, super::clock::now) {
            tracing::warn!(directory = %directory.id, error = %e, "could not finish a directory's deletion");
        }
    });
}

/// Finishes, in the background, the deletions a stopped process left half done.
pub fn resume_unfinished(store: Arc<Store>) {
    match unfinished(&store) {
        Ok(directories) => {
            for d in directories {
                tracing::info!(directory = %d.id, "finishing the deletion of a directory");
                finish_in_background(store.clone(), d);
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not look for unfinished deletions"),
    }
}

fn unfinished(store: &Store) -> DomainResult<Vec<Directory>> {
    let ids = store.read(store::removal::unfinished)?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(d) = super::tenancy::directory_by_id(store, &id)? {
            out.push(d);
        }
    }
    Ok(out)
}
