//! What the application reads about a directory: its state, derived in one place from what
//! Roster keeps, and its counts and times (`docs/api.md`).

use chrono::NaiveDateTime;
use serde::Serialize;

use super::app_key::KeyScope;
use super::clock::rfc3339;
use super::document::Document;
use super::error::DomainResult;
use super::event::{EventKind, NewEvent};
use super::ids::{DirectoryId, TenantId};
use super::read::{PageRequest, cut};
use super::tenancy::{Directory, DirectoryKind, Scope};
use crate::store::{self, DbConn, Store};

/// The directory states hosted directory sync uses. `deleting` and an operator's disable are
/// not kept by Roster yet, so they are never answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectoryState {
    /// It has answered: a first authenticated SCIM request, or a first finished sync.
    Linked,
    /// A Google directory whose credentials have not yet been proved by a finished sync.
    Validating,
    /// A Google directory whose service-account key Google refused.
    InvalidCredentials,
    /// A SCIM directory with no live token, or one no IdP has called yet.
    Unlinked,
}

/// What the state is derived from.
#[derive(Debug, Clone, Copy)]
pub struct StateFacts<'a> {
    pub kind: DirectoryKind,
    pub activated: bool,
    pub has_live_token: bool,
    /// A Google directory's last sync status (`never_synced`, `ok`, `error`,
    /// `invalid_credentials`).
    pub google_status: Option<&'a str>,
}

pub fn state(facts: StateFacts<'_>) -> DirectoryState {
    if facts.kind == DirectoryKind::Google {
        return match facts.google_status {
            Some("invalid_credentials") => DirectoryState::InvalidCredentials,
            _ if facts.activated => DirectoryState::Linked,
            _ => DirectoryState::Validating,
        };
    }
    if facts.has_live_token && facts.activated {
        DirectoryState::Linked
    } else {
        DirectoryState::Unlinked
    }
}

/// What a change of a directory's live tokens does to its state, inside the writing
/// transaction of the change: `change` revokes or issues, and returns what it returns. When
/// the state moves (the last live token revoked: `unlinked`; a token issued to an activated
/// directory that had none: `linked`), a `directory.state_changed` event commits with it.
/// Google directories do not answer to tokens; the puller writes their changes.
pub fn with_token_change<T>(
    conn: &mut DbConn,
    directory: &DirectoryId,
    now: NaiveDateTime,
    change: impl FnOnce(&mut DbConn) -> DomainResult<T>,
) -> DomainResult<T> {
    store::tenancy::lock_directory(conn, directory)?;
    let found = store::tenancy::find_directories(conn, directory.as_str())?
        .into_iter()
        .find(|d| &d.id == directory);
    let Some(found) = found.filter(|d| d.kind != DirectoryKind::Google) else {
        return change(conn);
    };
    let activated = store::tenancy::activated_at(conn, directory)?.is_some();
    let facts = |has_live_token| StateFacts {
        kind: found.kind,
        activated,
        has_live_token,
        google_status: None,
    };
    let before = state(facts(store::tokens::has_live(conn, directory)?));
    let out = change(conn)?;
    let after = state(facts(store::tokens::has_live(conn, directory)?));
    if after != before {
        let scope = found.scope();
        store::events::append(conn, &scope, &[state_changed(&scope, after)], now)?;
    }
    Ok(out)
}

/// A `directory.state_changed` event: `{id, directory_id, tenant_id, state}`, the shape of
/// `directory.activated`.
pub fn state_changed(scope: &Scope, to: DirectoryState) -> NewEvent {
    let data = serde_json::json!({
        "id": scope.directory_id,
        "directory_id": scope.directory_id,
        "tenant_id": scope.tenant_id,
        "state": to,
    });
    NewEvent::new(
        EventKind::DirectoryStateChanged,
        scope.directory_id.to_string(),
        Document::from_value(&data),
    )
}

/// A directory as the read API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct DirectorySummary {
    pub id: DirectoryId,
    pub tenant_id: TenantId,
    pub name: String,
    pub kind: DirectoryKind,
    pub state: DirectoryState,
    pub user_count: i64,
    pub group_count: i64,
    pub created_at: String,
    pub activated_at: Option<String>,
    /// The newest SCIM request still in the request log; `None` for a Google directory.
    pub last_scim_request_at: Option<String>,
    /// When the last Google sync finished; `None` for a SCIM directory.
    pub last_sync_at: Option<String>,
}

fn time(t: Option<NaiveDateTime>) -> Option<String> {
    t.map(rfc3339)
}

pub fn summary(store: &Store, directory: &Directory) -> DomainResult<DirectorySummary> {
    let id = &directory.id;
    let (activated_at, has_live_token, google, user_count, group_count) =
        store.read(|conn| -> DomainResult<_> {
            Ok((
                store::tenancy::activated_at(conn, id)?,
                store::tokens::has_live(conn, id)?,
                store::google::find(conn, id.as_str())?,
                store::users::count_live(conn, id)?,
                store::groups::count_live(conn, id)?,
            ))
        })?;
    let last_request = if directory.kind == DirectoryKind::Google {
        None
    } else {
        store.read_request_log(|conn| store::request_log::last_received_at(conn, id))?
    };
    let facts = StateFacts {
        kind: directory.kind,
        activated: activated_at.is_some(),
        has_live_token,
        google_status: google.as_ref().map(|g| g.status.as_str()),
    };
    Ok(DirectorySummary {
        id: directory.id.clone(),
        tenant_id: directory.tenant_id.clone(),
        name: directory.name.clone(),
        kind: directory.kind,
        state: state(facts),
        user_count,
        group_count,
        created_at: rfc3339(directory.created_at),
        activated_at: time(activated_at),
        last_scim_request_at: time(last_request),
        last_sync_at: time(google.and_then(|g| g.last_sync_finished_at)),
    })
}

/// A page of the directories `key` may read, of `tenant` when given, in id order.
pub fn summaries(
    store: &Store,
    key: &KeyScope,
    tenant: Option<&TenantId>,
    page: &PageRequest,
) -> DomainResult<(Vec<DirectorySummary>, Option<String>)> {
    let tenants: Option<Vec<String>> = match (tenant, key) {
        (Some(t), _) => Some(vec![t.to_string()]),
        (None, KeyScope::Tenant(t)) => Some(vec![t.to_string()]),
        (None, KeyScope::AllTenants) => None,
    };
    let found = store.read(|conn| {
        store::tenancy::directories_page(
            conn,
            tenants.as_deref(),
            page.after.as_deref(),
            page.limit + 1,
        )
    })?;
    let (found, next_after) = cut(found, page.limit, |d| d.id.to_string());
    let data = found
        .iter()
        .map(|d| summary(store, d))
        .collect::<Result<_, _>>()?;
    Ok((data, next_after))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_follows_the_facts() {
        use DirectoryKind::{Google, Okta};
        use DirectoryState::*;
        let cases = [
            (Okta, false, false, None, Unlinked),
            (Okta, false, true, None, Unlinked),
            (Okta, true, true, None, Linked),
            (Okta, true, false, None, Unlinked),
            (Google, false, false, Some("never_synced"), Validating),
            (Google, false, false, Some("error"), Validating),
            (Google, true, false, Some("ok"), Linked),
            (Google, true, false, Some("error"), Linked),
            (
                Google,
                true,
                false,
                Some("invalid_credentials"),
                InvalidCredentials,
            ),
            (
                Google,
                false,
                false,
                Some("invalid_credentials"),
                InvalidCredentials,
            ),
        ];
        for (kind, activated, has_live_token, google_status, want) in cases {
            let facts = StateFacts {
                kind,
                activated,
                has_live_token,
                google_status,
            };
            assert_eq!(state(facts), want, "{facts:?}");
        }
    }
}
