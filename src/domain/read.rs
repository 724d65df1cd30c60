//! The application's reads of directory data (`docs/api.md`): users and groups by id, and
//! pages of them in id order after a cursor, each a seek on an index. Records are the ones
//! events and webhooks carry (`record.rs`). Soft-deleted users and groups are not found: an
//! application learns of them from `user.deleted` / `group.deleted`, as from a snapshot.

use chrono::NaiveDateTime;
use serde_json::Value;

use super::app_key::KeyScope;
use super::error::{DomainError, DomainResult};
use super::ids::{GroupId, TenantId, UserId};
use super::record;
use super::tenancy::Scope;
use super::user::UserState;
use crate::store::{self, Store};

/// What a page of users is narrowed to; every field given must match.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    /// `Active` or `Inactive`: soft-deleted users are never listed.
    pub state: Option<UserState>,
    /// The primary email, compared case-insensitively.
    pub email: Option<String>,
    /// The userName, compared case-insensitively (as SCIM does).
    pub username: Option<String>,
    /// Changed after this time (strictly).
    pub updated_after: Option<NaiveDateTime>,
    /// Custom attributes and the values they must have (compared exactly, as text); only a
    /// directory's own lists take them.
    pub custom: Vec<(String, String)>,
}

/// Where a page starts and how long it may be.
#[derive(Debug, Clone)]
pub struct PageRequest {
    /// The `next_after` of the page before; `None` for the first page.
    pub after: Option<String>,
    pub limit: i64,
}

/// Records in id order, and the cursor of the next page when there may be one.
#[derive(Debug)]
pub struct RecordPage {
    pub data: Vec<Value>,
    pub next_after: Option<String>,
}

/// The first `limit` of `rows` (read `limit + 1` deep), and the cursor after them when more
/// were found.
pub fn cut<T>(mut rows: Vec<T>, limit: i64, id: impl Fn(&T) -> String) -> (Vec<T>, Option<String>) {
    let limit = usize::try_from(limit).unwrap_or(0);
    if rows.len() <= limit {
        return (rows, None);
    }
    rows.truncate(limit);
    let next = rows.last().map(id);
    (rows, next)
}

fn one_more(page: &PageRequest) -> i64 {
    page.limit + 1
}

/// A live user, if `key` may read its tenant.
pub fn user(store: &Store, key: &KeyScope, id: &UserId) -> DomainResult<Option<Value>> {
    let found = store.read(|conn| store::users::find_by_id(conn, id))?;
    found
        .filter(|u| key.allows(&u.tenant_id))
        .map(|u| record::user(&u))
        .transpose()
}

/// A live group, if `key` may read its tenant.
pub fn group(store: &Store, key: &KeyScope, id: &GroupId) -> DomainResult<Option<Value>> {
    let found = store.read(|conn| store::groups::find_by_id(conn, id))?;
    found
        .filter(|g| key.allows(&g.tenant_id))
        .map(|g| record::group(&g))
        .transpose()
}

/// The directory of a live user, if `key` may read its tenant.
pub fn user_scope(store: &Store, key: &KeyScope, id: &UserId) -> DomainResult<Option<Scope>> {
    let found = store.read(|conn| store::users::scope_of(conn, id))?;
    Ok(found.filter(|s| key.allows(&s.tenant_id)))
}

/// The directory of a live group, if `key` may read its tenant.
pub fn group_scope(store: &Store, key: &KeyScope, id: &GroupId) -> DomainResult<Option<Scope>> {
    let found = store.read(|conn| store::groups::find_by_id(conn, id))?;
    Ok(found.filter(|g| key.allows(&g.tenant_id)).map(|g| Scope {
        tenant_id: g.tenant_id,
        directory_id: g.directory_id,
    }))
}

/// A page of the directory's live users matching `filter`.
pub fn users(
    store: &Store,
    scope: &Scope,
    filter: &UserFilter,
    page: &PageRequest,
) -> DomainResult<RecordPage> {
    let rows = store.read(|conn| {
        store::users::page_matching(conn, scope, filter, page.after.as_deref(), one_more(page))
    })?;
    let (rows, next_after) = cut(rows, page.limit, |u| u.id.to_string());
    Ok(RecordPage {
        data: rows.iter().map(record::user).collect::<Result<_, _>>()?,
        next_after,
    })
}

/// A page of the live users of `tenants` (every tenant when `None`), across their
/// directories, whose primary email is `filter.email`.
pub fn users_by_email(
    store: &Store,
    tenants: Option<&[TenantId]>,
    filter: &UserFilter,
    page: &PageRequest,
) -> DomainResult<RecordPage> {
    if filter.email.is_none() {
        return Err(DomainError::Invalid(
            "'email' is required: this lists the users with that primary email across \
             directories; a directory's users are at /directories/{id}/users"
                .into(),
        ));
    }
    let tenants: Option<Vec<String>> = tenants.map(|t| t.iter().map(|t| t.to_string()).collect());
    let rows = store.read(|conn| {
        store::users::page_by_email(
            conn,
            tenants.as_deref(),
            filter,
            page.after.as_deref(),
            one_more(page),
        )
    })?;
    let (rows, next_after) = cut(rows, page.limit, |u| u.id.to_string());
    Ok(RecordPage {
        data: rows.iter().map(record::user).collect::<Result<_, _>>()?,
        next_after,
    })
}

/// A page of the users directly in a group of `scope`, matching `filter`. The page walks the
/// group's members, so with a filter it may hold fewer than `limit` users while more follow:
/// only a `None` cursor ends the list.
pub fn users_of_group(
    store: &Store,
    scope: &Scope,
    group: &GroupId,
    filter: &UserFilter,
    page: &PageRequest,
) -> DomainResult<RecordPage> {
    let users = store.read_consistent(|conn| -> DomainResult<_> {
        let ids = store::groups::member_user_ids_page(
            conn,
            group,
            page.after.as_deref(),
            one_more(page),
        )?;
        let (ids, next_after) = cut(ids, page.limit, String::clone);
        let users = store::users::among_matching(conn, scope, &ids, filter)?;
        Ok((users, next_after))
    })?;
    let (users, next_after) = users;
    Ok(RecordPage {
        data: users.iter().map(record::user).collect::<Result<_, _>>()?,
        next_after,
    })
}

/// A page of the directory's live groups.
pub fn groups(store: &Store, scope: &Scope, page: &PageRequest) -> DomainResult<RecordPage> {
    let rows = store.read(|conn| {
        store::groups::page_by_id(conn, scope, page.after.as_deref(), one_more(page))
    })?;
    let (rows, next_after) = cut(rows, page.limit, |g| g.id.to_string());
    Ok(RecordPage {
        data: rows.iter().map(record::group).collect::<Result<_, _>>()?,
        next_after,
    })
}

/// A page of the groups of `scope` that hold a user directly.
pub fn groups_of_user(
    store: &Store,
    scope: &Scope,
    user: &UserId,
    page: &PageRequest,
) -> DomainResult<RecordPage> {
    let groups = store.read_consistent(|conn| -> DomainResult<_> {
        let ids = store::groups::holding_ids_page(
            conn,
            user.as_str(),
            page.after.as_deref(),
            one_more(page),
        )?;
        let (ids, next_after) = cut(ids, page.limit, String::clone);
        let groups = store::groups::live_among(conn, scope, &ids)?;
        Ok((groups, next_after))
    })?;
    let (groups, next_after) = groups;
    Ok(RecordPage {
        data: groups.iter().map(record::group).collect::<Result<_, _>>()?,
        next_after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_cut_at_its_limit_and_names_its_last_id_only_when_more_follow() {
        let ids = |n: usize| (0..n).map(|i| format!("id{i}")).collect::<Vec<_>>();
        let cases = [
            (0, 2, 0, None),
            (2, 2, 2, None),
            (3, 2, 2, Some("id1")),
            (1, 1, 1, None),
        ];
        for (found, limit, kept, next) in cases {
            let (rows, after) = cut(ids(found), limit, String::clone);
            assert_eq!(rows.len(), kept, "{found} rows, limit {limit}");
            assert_eq!(after.as_deref(), next, "{found} rows, limit {limit}");
        }
    }
}
