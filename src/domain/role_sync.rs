//! Keeping each user's materialized roles (`directory_users.roles`) equal to what the rules
//! say: inside the very write that changes a user's groups, and, after a role or rule change,
//! in background batches that SCIM writes pass between.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use serde::Serialize;
use serde_json::json;

use super::clock::rfc3339;
use super::document::json_text;
use super::error::{DomainError, DomainResult};
use super::event::{EventKind, NewEvent};
use super::ids::{DirectoryId, TenantId};
use super::record;
use super::roles::{GroupFacts, RoleBook};
use super::tenancy::Scope;
use super::user::DirectoryUser;
use crate::store::roles::RecomputeRow;
use crate::store::{self, DbConn, Store};

/// Users per background write: small enough that a SCIM write queued behind one waits
/// little (each changed user costs an event with its whole record).
pub const BATCH: i64 = 250;

/// Between two background batches: on SQLite, writes queued meanwhile then commit in a group
/// of their own instead of joining, and waiting for, the next batch.
const PAUSE: Duration = Duration::from_millis(5);

/// How often a server looks for a recompute to run.
const POLL: Duration = Duration::from_millis(500);

/// Inside a write that changed the groups of `users` (all of `scope`'s directory, already
/// locked by that write): brings their roles up to date; returns the `user.roles_changed`
/// events to append. A tenant without roles costs one query.
pub(crate) fn refresh(
    conn: &mut DbConn,
    scope: &Scope,
    users: &[String],
) -> DomainResult<Vec<NewEvent>> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let book = store::roles::book(conn, &scope.tenant_id)?;
    // With no role left, what users still hold goes in the recompute the last role's
    // deletion started.
    if book.roles.is_empty() {
        return Ok(Vec::new());
    }
    refresh_with(conn, scope, users, &book)
}

/// Inside a group's write that renames it, changes its `externalId` or deletes it, before the
/// change: its user members when a rule matches the group before or after; none otherwise,
/// and then the members are not read. The caller locks them with the other users it locks,
/// in one id order, and `refresh`es them once the change is made.
pub(crate) fn members_at_stake(
    conn: &mut DbConn,
    scope: &Scope,
    before: &GroupFacts,
    after: Option<&GroupFacts>,
) -> DomainResult<Vec<String>> {
    let book = store::roles::book(conn, &scope.tenant_id)?;
    if !book.concerns(before) && !after.is_some_and(|g| book.concerns(g)) {
        return Ok(Vec::new());
    }
    Ok(store::roles::user_members(conn, &before.id)?)
}

fn refresh_with(
    conn: &mut DbConn,
    scope: &Scope,
    users: &[String],
    book: &RoleBook,
) -> DomainResult<Vec<NewEvent>> {
    let mut stored = store::roles::stored_roles(conn, users)?;
    stored.sort();
    let ids: Vec<String> = stored.iter().map(|(id, _, _)| id.clone()).collect();
    let groups = store::roles::direct_groups(conn, &ids)?;
    let mut changed = Vec::new();
    // By the roles they now hold: a rule change gives most users the same, in one UPDATE.
    let mut to_set: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (id, _, text) in stored {
        let was: Vec<String> = serde_json::from_str(&text)
            .map_err(|e| DomainError::Store(store::StoreError::Corrupt(format!("roles: {e}"))))?;
        let now = book.effective(groups.get(&id).map(Vec::as_slice).unwrap_or_default());
        if was != now {
            to_set
                .entry(json_text(&json!(now)))
                .or_default()
                .push(id.clone());
            changed.push((id, was));
        }
    }
    if changed.is_empty() {
        return Ok(Vec::new());
    }
    for (roles, ids) in &to_set {
        store::roles::set_roles(conn, ids, roles)?;
    }
    let ids: Vec<String> = changed.iter().map(|(id, _)| id.clone()).collect();
    let mut after: Vec<DirectoryUser> = store::users::find_many(conn, scope, &ids)?;
    after.sort_by(|a, b| a.id.cmp(&b.id));
    let mut events = Vec::with_capacity(after.len());
    for user in after {
        let Some((_, was)) = changed.iter().find(|(id, _)| id == user.id.as_str()) else {
            continue;
        };
        let before = DirectoryUser {
            roles: was.clone(),
            ..user.clone()
        };
        events.push(NewEvent::updated(
            EventKind::UserRolesChanged,
            user.id.to_string(),
            &record::user(&before)?,
            &record::user(&user)?,
        ));
    }
    Ok(events)
}

/// Inside a role or rule change: (re)starts the tenant's recompute from its first user.
pub(crate) fn request(
    conn: &mut DbConn,
    tenant: &TenantId,
    now: NaiveDateTime,
) -> DomainResult<()> {
    let directories = store::roles::directory_ids(conn, tenant)?;
    let total = store::roles::count_users(conn, &directories)?;
    store::roles::request_recompute(conn, tenant, total, now)?;
    Ok(())
}

/// Where a tenant's recompute stands.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Progress {
    /// `running` or `done`.
    #[schema(value_type = String)]
    pub state: &'static str,
    /// Live users when it was requested; users created meanwhile are counted in `done` too.
    pub total: i64,
    pub done: i64,
    /// Users whose roles it changed.
    pub changed: i64,
    pub requested_at: String,
    pub finished_at: Option<String>,
    /// From the request to the last batch.
    pub elapsed_ms: Option<i64>,
}

impl From<&RecomputeRow> for Progress {
    fn from(r: &RecomputeRow) -> Self {
        Progress {
            state: if r.finished_at.is_some() {
                "done"
            } else {
                "running"
            },
            total: r.total,
            done: r.done,
            changed: r.changed,
            requested_at: rfc3339(r.requested_at),
            finished_at: r.finished_at.map(rfc3339),
            elapsed_ms: r
                .finished_at
                .map(|f| (f - r.requested_at).num_milliseconds()),
        }
    }
}

/// The tenant's last recompute; `None` when it never had one.
pub fn progress(store: &Store, tenant: &TenantId) -> DomainResult<Option<Progress>> {
    Ok(store
        .read(|conn| store::roles::recompute(conn, tenant))?
        .as_ref()
        .map(Progress::from))
}

/// Runs one batch of the tenant's recompute in one write: the next `BATCH` users of the
/// directory it is in, locked, then recomputed with the rules as they are now. Returns where
/// it stands after.
pub fn run_batch(
    store: &Store,
    tenant: &TenantId,
    now: NaiveDateTime,
) -> DomainResult<Option<Progress>> {
    store.write(|conn| -> DomainResult<Option<Progress>> {
        let Some(mut job) = store::roles::lock_recompute(conn, tenant)? else {
            return Ok(None);
        };
        if job.finished_at.is_some() {
            return Ok(Some(Progress::from(&job)));
        }
        let directories = store::roles::directory_ids(conn, tenant)?;
        let Some(directory) = directories
            .iter()
            .find(|d| d.as_str() >= job.after_directory.as_str())
            .cloned()
        else {
            job.finished_at = Some(now);
            store::roles::advance_recompute(conn, &job)?;
            return Ok(Some(Progress::from(&job)));
        };
        let after = if directory == job.after_directory {
            job.after_user.clone()
        } else {
            String::new()
        };
        let ids = store::roles::user_page(conn, &directory, &after, BATCH)?;
        // Locked before the rules are read: a SCIM write holding one of them commits first,
        // and what it wrote is then recomputed with the rules as they are now.
        store::roles::lock_users(conn, &ids)?;
        let book = store::roles::book(conn, tenant)?;
        let scope = Scope {
            tenant_id: tenant.clone(),
            directory_id: DirectoryId::from_raw(directory.clone()),
        };
        let events = refresh_with(conn, &scope, &ids, &book)?;
        job.done += ids.len() as i64;
        job.changed += events.len() as i64;
        match ids.last() {
            Some(last) if ids.len() as i64 == BATCH => {
                job.after_directory = directory;
                job.after_user = last.clone();
            }
            _ => match directories.iter().find(|d| **d > directory) {
                Some(next) => {
                    job.after_directory = next.clone();
                    job.after_user = String::new();
                }
                None => job.finished_at = Some(now),
            },
        }
        store::roles::advance_recompute(conn, &job)?;
        store::events::append(conn, &scope, &events, now)?;
        Ok(Some(Progress::from(&job)))
    })
}

/// Runs the tenant's recompute to its end, batch by batch, calling `progress` after each.
pub fn run(
    store: &Store,
    tenant: &TenantId,
    mut progress: impl FnMut(&Progress),
) -> DomainResult<Option<Progress>> {
    loop {
        let Some(p) = run_batch(store, tenant, super::clock::now())? else {
            return Ok(None);
        };
        progress(&p);
        if p.state == "done" {
            return Ok(Some(p));
        }
        std::thread::sleep(PAUSE);
    }
}

/// A thread that runs every unfinished recompute: those requested while it runs, and those a
/// stopped server left half done. Several servers on one database take turns per batch.
pub fn spawn_worker(store: Arc<Store>) {
    std::thread::spawn(move || {
        loop {
            match store.read(store::roles::unfinished_recomputes) {
                Ok(tenants) => {
                    for tenant in tenants {
                        if let Err(e) = run(&store, &tenant, |_| {}) {
                            tracing::warn!(tenant = %tenant, error = %e, "role recompute failed; retrying");
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not look for role recomputes"),
            }
            std::thread::sleep(POLL);
        }
    });
}
