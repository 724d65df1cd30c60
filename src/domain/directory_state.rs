//! What the application reads about a directory: its state, derived in one place from what
//! Roster keeps, and its counts and times (`docs/api.md`).

use chrono::NaiveDateTime;
use serde::Serialize;

use super::app_key::KeyScope;
use super::clock::{self, rfc3339};
use super::document::Document;
use super::error::DomainResult;
use super::event::{EventKind, NewEvent};
use super::ids::{DirectoryId, TenantId};
use super::read::{PageRequest, cut};
use super::tenancy::{Directory, DirectoryKind, Scope};
use crate::store::{self, DbConn, Store};

/// The directory states hosted directory sync uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DirectoryState {
    /// It has answered: a first authenticated SCIM request, or a first finished sync.
    Linked,
    /// A Google directory whose credentials have not yet been proved by a finished sync.
    Validating,
    /// A Google directory whose service-account key Google refused.
    InvalidCredentials,
    /// A SCIM directory with no live token, or one no IdP has called yet; a Google directory
    /// still awaiting its credentials; any directory the operator disabled.
    Unlinked,
    /// Being deleted (`roster directory delete`): its tokens are refused, its rows going.
    Deleting,
}

/// What the state is derived from.
#[derive(Debug, Clone, Copy)]
pub struct StateFacts<'a> {
    pub kind: DirectoryKind,
    pub activated: bool,
    pub has_live_token: bool,
    /// The operator disabled it (`roster directory disable`).
    pub disabled: bool,
    pub deleting: bool,
    /// A Google directory's last sync status (`awaiting_credentials`, `never_synced`, `ok`,
    /// `error`, `invalid_credentials`).
    pub google_status: Option<&'a str>,
}

pub fn state(facts: StateFacts<'_>) -> DirectoryState {
    if facts.deleting {
        return DirectoryState::Deleting;
    }
    if facts.disabled {
        return DirectoryState::Unlinked;
    }
    if facts.kind == DirectoryKind::Google {
        return match facts.google_status {
            Some("invalid_credentials") => DirectoryState::InvalidCredentials,
            Some(store::google::AWAITING_CREDENTIALS) => DirectoryState::Unlinked,
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

/// What a change that can move a directory's state does to it, inside the change's writing
/// transaction: `change` issues, revokes or expires tokens, disables or enables the directory,
/// or begins its deletion, and returns what it returns. When the state moves (the last live
/// token revoked: `unlinked`; a token issued to an activated directory that had none:
/// `linked`; disabled: `unlinked`; deleting), a `directory.state_changed` event commits with
/// it. The directory's row is locked first on PostgreSQL, so two concurrent changes cannot
/// both miss a move.
pub fn with_state_change<T>(
    conn: &mut DbConn,
    directory: &DirectoryId,
    now: NaiveDateTime,
    change: impl FnOnce(&mut DbConn) -> DomainResult<T>,
) -> DomainResult<T> {
    store::tenancy::lock_directory(conn, directory)?;
    let before = current(conn, directory, now)?;
    let out = change(conn)?;
    let after = current(conn, directory, now)?;
    if let (Some((scope, before)), Some((_, after))) = (before, after)
        && after != before
    {
        store::events::append(conn, &scope, &[state_changed(&scope, after)], now)?;
    }
    Ok(out)
}

/// A directory's state as its rows say now, inside a transaction.
fn current(
    conn: &mut DbConn,
    directory: &DirectoryId,
    now: NaiveDateTime,
) -> DomainResult<Option<(Scope, DirectoryState)>> {
    let Some(found) = store::tenancy::find_directories(conn, directory.as_str())?
        .into_iter()
        .find(|d| &d.id == directory)
    else {
        return Ok(None);
    };
    let google = match found.kind {
        DirectoryKind::Google => store::google::find(conn, directory.as_str())?,
        _ => None,
    };
    let facts = StateFacts {
        kind: found.kind,
        activated: store::tenancy::activated_at(conn, directory)?.is_some(),
        has_live_token: store::tokens::has_live(conn, directory, now)?,
        disabled: found.disabled_at.is_some(),
        deleting: store::removal::deleting_since(conn, directory)?.is_some(),
        google_status: google.as_ref().map(|g| g.status.as_str()),
    };
    Ok(Some((found.scope(), state(facts))))
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
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DirectorySummary {
    #[schema(value_type = String)]
    pub id: DirectoryId,
    #[schema(value_type = String)]
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
    let (activated_at, has_live_token, deleting, google, user_count, group_count) =
        store.read(|conn| -> DomainResult<_> {
            Ok((
                store::tenancy::activated_at(conn, id)?,
                store::tokens::has_live(conn, id, clock::now())?,
                store::removal::deleting_since(conn, id)?.is_some(),
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
        disabled: directory.disabled_at.is_some(),
        deleting,
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
            (Google, false, false, Some("awaiting_credentials"), Unlinked),
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
                disabled: false,
                deleting: false,
                google_status,
            };
            assert_eq!(state(facts), want, "{facts:?}");
            let disabled = StateFacts {
                disabled: true,
                ..facts
            };
            assert_eq!(state(disabled), Unlinked, "{disabled:?}");
            let deleting = StateFacts {
                deleting: true,
                ..disabled
            };
            assert_eq!(state(deleting), Deleting, "{deleting:?}");
        }
    }
}
