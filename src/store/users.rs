use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::Value;

use super::conn::{DbConn, MultiBackend, insert_rows, lock_live, on_backend};
use super::error::StoreError;
use super::filter::{USERS, after, condition, order};
use super::paging::{page_and_total, paged};
use super::schema::{custom_attribute_values as v, directory_users as u, memberships as m};
use crate::domain::document::{Document, json_text};
use crate::domain::group::MemberKind;
use crate::domain::ids::{DirectoryId, GroupId, TenantId, UserId};
use crate::domain::index::fold_case;
use crate::domain::query::{Comparison, Filter, ListQuery, Op, Operand, Page, Target, Test};
use crate::domain::read::UserFilter;
use crate::domain::tenancy::Scope;
use crate::domain::user::{DirectoryUser, UserProfile, UserState};

/// A user row as read; the raw body is never read back by the server.
#[derive(Queryable, Selectable)]
#[diesel(table_name = u)]
struct UserRow {
    id: String,
    tenant_id: String,
    directory_id: String,
    external_id: Option<String>,
    user_name: String,
    active: bool,
    state: String,
    display_name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    primary_email: Option<String>,
    job_title: Option<String>,
    department: Option<String>,
    employee_id: Option<String>,
    manager_id: Option<String>,
    resource: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    deleted_at: Option<NaiveDateTime>,
    roles: String,
    custom_attributes: Option<String>,
}

impl TryFrom<UserRow> for DirectoryUser {
    type Error = StoreError;

    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        Ok(DirectoryUser {
            id: UserId::from_raw(r.id),
            tenant_id: TenantId::from_raw(r.tenant_id),
            directory_id: DirectoryId::from_raw(r.directory_id),
            state: r
                .state
                .parse::<UserState>()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            profile: UserProfile {
                user_name: r.user_name,
                external_id: r.external_id,
                active: r.active,
                display_name: r.display_name,
                given_name: r.given_name,
                family_name: r.family_name,
                primary_email: r.primary_email,
                job_title: r.job_title,
                department: r.department,
                employee_id: r.employee_id,
                manager_id: r.manager_id,
            },
            resource: Document::from_stored(r.resource),
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
            deleted_at: r.deleted_at,
            roles: serde_json::from_str(&r.roles)
                .map_err(|e| StoreError::Corrupt(format!("roles: {e}")))?,
            custom_attributes: r
                .custom_attributes
                .map(|text| serde_json::from_str(&text))
                .transpose()
                .map_err(|e| StoreError::Corrupt(format!("custom_attributes: {e}")))?,
        })
    }
}

/// What a write sets on a user's row but the raw body, borrowed from the user: on SQLite
/// every write is made by one thread, which should not spend its turn copying the resource
/// and the strings.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = u, treat_none_as_null = true, treat_none_as_default_value = false)]
struct UserValues<'a> {
    id: &'a str,
    tenant_id: &'a str,
    directory_id: &'a str,
    external_id: Option<&'a str>,
    user_name: &'a str,
    user_name_ci: String,
    active: bool,
    state: &'a str,
    display_name: Option<&'a str>,
    given_name: Option<&'a str>,
    family_name: Option<&'a str>,
    primary_email: Option<&'a str>,
    primary_email_ci: Option<String>,
    job_title: Option<&'a str>,
    department: Option<&'a str>,
    employee_id: Option<&'a str>,
    manager_id: Option<&'a str>,
    resource: &'a str,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    deleted_at: Option<NaiveDateTime>,
    roles: String,
    custom_attributes: Option<String>,
}

fn values(user: &DirectoryUser) -> UserValues<'_> {
    let p = &user.profile;
    UserValues {
        id: user.id.as_str(),
        tenant_id: user.tenant_id.as_str(),
        directory_id: user.directory_id.as_str(),
        external_id: p.external_id.as_deref(),
        user_name: &p.user_name,
        user_name_ci: fold_case(&p.user_name),
        active: p.active,
        state: user.state.as_str(),
        display_name: p.display_name.as_deref(),
        given_name: p.given_name.as_deref(),
        family_name: p.family_name.as_deref(),
        primary_email: p.primary_email.as_deref(),
        primary_email_ci: p.primary_email.as_deref().map(fold_case),
        job_title: p.job_title.as_deref(),
        department: p.department.as_deref(),
        employee_id: p.employee_id.as_deref(),
        manager_id: p.manager_id.as_deref(),
        resource: user.resource.as_str(),
        version: user.version,
        created_at: user.created_at,
        updated_at: user.updated_at,
        deleted_at: user.deleted_at,
        roles: json_text(&serde_json::json!(user.roles)),
        custom_attributes: custom_text(user),
    }
}

fn custom_text(user: &DirectoryUser) -> Option<String> {
    user.custom_attributes
        .as_ref()
        .map(|c| Value::Object(c.clone().into_iter().collect()).to_string())
}

/// Rows per multi-row INSERT on PostgreSQL: 24 bound parameters each.
const INSERT_CHUNK: usize = 500;

/// Inserts new users with the bodies they were sent as (JSON text; see `insert_rows` for how).
/// The rows are tuples, not a derived row type that embeds `UserValues`: with that, diesel
/// rendered the INSERT's text and looked its statement up by that text on every insert.
pub fn insert(conn: &mut DbConn, users: &[(&DirectoryUser, &str)]) -> Result<(), StoreError> {
    let rows: Vec<_> = users
        .iter()
        .map(|&(user, raw)| (values(user), u::raw.eq(raw)))
        .collect();
    insert_rows!(conn, u::table, &rows, INSERT_CHUNK);
    Ok(())
}

/// Locks a live user's row for the rest of the transaction (`lock_live`), so what is read
/// next is the latest committed state. `false` when the directory has no such user.
pub fn lock(conn: &mut DbConn, scope: &Scope, id: &UserId) -> Result<bool, StoreError> {
    let live = u::table
        .filter(u::id.eq(id.as_str()))
        .filter(u::tenant_id.eq(scope.tenant_id.as_str()))
        .filter(u::directory_id.eq(scope.directory_id.as_str()))
        .filter(u::deleted_at.is_null());
    lock_live!(conn, live, u)
}

/// Ids per `IN (…)` list (see `groups::IN_CHUNK`).
const IN_CHUNK: usize = 10_000;

/// The live users among `ids`, in one query per ten thousand: the records membership events
/// carry.
pub fn find_many(
    conn: &mut DbConn,
    scope: &Scope,
    ids: &[String],
) -> Result<Vec<DirectoryUser>, StoreError> {
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(IN_CHUNK) {
        let rows: Vec<UserRow> = u::table
            .filter(u::id.eq_any(chunk))
            .filter(u::tenant_id.eq(scope.tenant_id.as_str()))
            .filter(u::directory_id.eq(scope.directory_id.as_str()))
            .filter(u::deleted_at.is_null())
            .select(UserRow::as_select())
            .load(conn)?;
        for row in rows {
            found.push(DirectoryUser::try_from(row)?);
        }
    }
    Ok(found)
}

/// Live users (inactive ones included) in id order after `after`: a snapshot's pages.
pub fn page_by_id(
    conn: &mut DbConn,
    scope: &Scope,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<DirectoryUser>, StoreError> {
    let mut query = scoped(scope)
        .order(u::id)
        .limit(limit)
        .select(UserRow::as_select());
    if let Some(after) = after {
        query = query.filter(u::id.gt(after.to_string()));
    }
    query
        .load(conn)?
        .into_iter()
        .map(DirectoryUser::try_from)
        .collect()
}

/// Takes the strongest row lock on a user about to be removed, on PostgreSQL: it waits for
/// every transaction that resolved the user as a new member (`groups::resolve_members` holds
/// FOR KEY SHARE) and keeps new ones out until the removal commits, so no membership added
/// meanwhile outlives it. SQLite's writer is alone anyway.
pub fn lock_for_removal(conn: &mut DbConn, scope: &Scope, id: &UserId) -> Result<(), StoreError> {
    if let DbConn::Postgres(c) = conn {
        u::table
            .filter(u::id.eq(id.as_str()))
            .filter(u::directory_id.eq(scope.directory_id.as_str()))
            .select(u::id)
            .for_update()
            .load::<String>(c)?;
    }
    Ok(())
}

/// Bumps the version of the live users among `ids`, whose groups changed: a user's `groups`
/// are part of its SCIM resource, so its ETag must change with them. Nothing else of the row
/// changes (no event is written: the app's record of a user does not hold its groups). On
/// PostgreSQL the rows are locked first, in id order, as every writer that locks several users
/// takes them.
pub fn touch_versions(
    conn: &mut DbConn,
    scope: &Scope,
    ids: &BTreeSet<String>,
) -> Result<(), StoreError> {
    let ids: Vec<&String> = ids.iter().collect();
    for chunk in ids.chunks(IN_CHUNK) {
        let live = || {
            u::table
                .filter(u::id.eq_any(chunk.iter().copied()))
                .filter(u::directory_id.eq(scope.directory_id.as_str()))
                .filter(u::deleted_at.is_null())
        };
        if let DbConn::Postgres(c) = conn {
            live()
                .order(u::id)
                .select(u::id)
                .for_no_key_update()
                .execute(c)?;
        }
        diesel::update(live())
            .set(u::version.eq(u::version + 1))
            .execute(conn)?;
    }
    Ok(())
}

/// `touch_versions` for the users of a group about to be deleted, without reading their ids
/// out: a group may hold 100,000.
pub fn touch_versions_of_members(
    conn: &mut DbConn,
    scope: &Scope,
    group: &GroupId,
) -> Result<(), StoreError> {
    let live = || {
        let members = m::table
            .filter(m::group_id.eq(group.as_str()))
            .filter(m::member_type.eq(MemberKind::User.as_str()))
            .select(m::member_id);
        u::table
            .filter(u::id.eq_any(members))
            .filter(u::directory_id.eq(scope.directory_id.as_str()))
            .filter(u::deleted_at.is_null())
    };
    if let DbConn::Postgres(c) = conn {
        live()
            .order(u::id)
            .select(u::id)
            .for_no_key_update()
            .execute(c)?;
    }
    diesel::update(live())
        .set(u::version.eq(u::version + 1))
        .execute(conn)?;
    Ok(())
}

/// Writes `user` over the stored row if that row is still at `expected_version`; `false` when
/// another writer got there first.
pub fn update(
    conn: &mut DbConn,
    user: &DirectoryUser,
    raw: &Value,
    expected_version: i64,
) -> Result<bool, StoreError> {
    let target = u::table
        .filter(u::id.eq(user.id.as_str()))
        .filter(u::directory_id.eq(user.directory_id.as_str()))
        .filter(u::version.eq(expected_version));
    // JSON null: a PATCH carries no resource body, so the stored raw body stays.
    let n = if raw.is_null() {
        diesel::update(target).set(values(user)).execute(conn)?
    } else {
        diesel::update(target)
            .set((values(user), u::raw.eq(json_text(raw))))
            .execute(conn)?
    };
    Ok(n == 1)
}

/// Writes a re-derivation's result: `user`'s custom attributes, version and `updated_at`, and
/// nothing else of the row, if it is still at `expected_version`.
pub fn set_custom_attributes(
    conn: &mut DbConn,
    user: &DirectoryUser,
    expected_version: i64,
) -> Result<bool, StoreError> {
    let target = u::table
        .filter(u::id.eq(user.id.as_str()))
        .filter(u::directory_id.eq(user.directory_id.as_str()))
        .filter(u::version.eq(expected_version));
    let n = diesel::update(target)
        .set((
            u::custom_attributes.eq(custom_text(user)),
            u::version.eq(user.version),
            u::updated_at.eq(user.updated_at),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

fn scoped(scope: &Scope) -> u::BoxedQuery<'static, MultiBackend> {
    u::table
        .filter(u::tenant_id.eq(scope.tenant_id.to_string()))
        .filter(u::directory_id.eq(scope.directory_id.to_string()))
        .filter(u::deleted_at.is_null())
        .into_boxed()
}

pub fn find(
    conn: &mut DbConn,
    scope: &Scope,
    id: &UserId,
) -> Result<Option<DirectoryUser>, StoreError> {
    // Written out rather than built on the boxed `scoped`: a query of static shape is
    // prepared once per connection and cached; a boxed one is prepared on every call.
    let query = u::table
        .filter(u::id.eq(id.as_str()))
        .filter(u::tenant_id.eq(scope.tenant_id.as_str()))
        .filter(u::directory_id.eq(scope.directory_id.as_str()))
        .filter(u::deleted_at.is_null());
    // The selection is written in each arm: it is typed by backend.
    on_backend!(conn, |c| query
        .select(UserRow::as_select())
        .get_result(c)
        .optional())?
    .map(DirectoryUser::try_from)
    .transpose()
}

/// The folded userName a list looks up when its filter is just `userName eq "..."` (and no
/// cursor): the read every IdP makes before it creates or updates a user.
fn user_name_lookup(query: &ListQuery) -> Option<String> {
    match &query.filter {
        Some(Filter::Test(Test {
            target: Target::Name,
            op: Op::Compare(Comparison::Eq, Operand::Text { value, .. }),
        })) if query.after.is_none() => Some(fold_case(value)),
        _ => None,
    }
}

pub fn list(
    conn: &mut DbConn,
    scope: &Scope,
    query: &ListQuery,
) -> Result<Page<DirectoryUser>, StoreError> {
    if let Some(user_name_ci) = user_name_lookup(query) {
        // A statement of fixed shape, prepared once per connection: the general path builds
        // and renders its SQL on every request (a tenth of this read's time). userName is
        // unique among live users, so the match is the whole list, sorted or not.
        let found = u::table
            .filter(u::tenant_id.eq(scope.tenant_id.as_str()))
            .filter(u::directory_id.eq(scope.directory_id.as_str()))
            .filter(u::deleted_at.is_null())
            .filter(u::user_name_ci.eq(&user_name_ci));
        let rows: Vec<UserRow> = on_backend!(conn, |c| found.select(UserRow::as_select()).load(c))?;
        let total = u64::try_from(rows.len()).unwrap_or(0);
        let skipped = usize::try_from(query.start_index.saturating_sub(1)).unwrap_or(usize::MAX);
        let wanted = usize::try_from(query.count).unwrap_or(usize::MAX);
        let items = rows
            .into_iter()
            .skip(skipped)
            .take(wanted)
            .map(DirectoryUser::try_from)
            .collect::<Result<_, _>>()?;
        return Ok(Page { total, items });
    }
    let filtered = || {
        let q = scoped(scope);
        match &query.filter {
            Some(f) => q.filter(condition(f, scope, USERS)),
            None => q,
        }
    };
    let page = || match &query.after {
        Some(a) => filtered().filter(after(a, USERS)),
        None => filtered(),
    };
    page_and_total(
        conn,
        query,
        |conn| {
            paged(
                page()
                    .order(order(query.sort.as_ref(), scope, USERS))
                    .select(UserRow::as_select()),
                query,
            )
            .load::<UserRow>(conn)
        },
        |conn| filtered().count().get_result(conn),
    )
}

pub fn delete(conn: &mut DbConn, scope: &Scope, id: &UserId) -> Result<(), StoreError> {
    diesel::delete(
        u::table
            .filter(u::id.eq(id.as_str()))
            .filter(u::tenant_id.eq(scope.tenant_id.as_str()))
            .filter(u::directory_id.eq(scope.directory_id.as_str())),
    )
    .execute(conn)?;
    Ok(())
}

/// The live users of the directory whose `external_id` is one of `external_ids`.
pub fn find_by_external_ids(
    conn: &mut DbConn,
    scope: &Scope,
    external_ids: &[String],
) -> Result<Vec<DirectoryUser>, StoreError> {
    // No `deleted_at IS NULL` in SQL: with it, PostgreSQL without fresh statistics (in the
    // middle of a bulk import) plans this on the partial userName index and scans the whole
    // directory per page. Soft-deleted rows are few; they are dropped here.
    let rows: Vec<UserRow> = u::table
        .filter(u::tenant_id.eq(scope.tenant_id.as_str()))
        .filter(u::directory_id.eq(scope.directory_id.as_str()))
        .filter(u::external_id.eq_any(external_ids))
        .select(UserRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .filter(|row| row.deleted_at.is_none())
        .map(DirectoryUser::try_from)
        .collect()
}

/// The ids of the live users whose externalId is one of `external_ids`, without reading
/// whole rows. `deleted_at` is checked here, not in SQL, so that PostgreSQL without statistics
/// still plans on the externalId index (see `users::find_by_external_ids`).
pub fn ids_by_external_ids(
    conn: &mut DbConn,
    scope: &Scope,
    external_ids: &[String],
) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String, Option<NaiveDateTime>)> = u::table
        .filter(u::tenant_id.eq(scope.tenant_id.as_str()))
        .filter(u::directory_id.eq(scope.directory_id.as_str()))
        .filter(u::external_id.eq_any(external_ids))
        .select((u::id, u::deleted_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, deleted_at)| deleted_at.is_none().then_some(id))
        .collect())
}

/// Up to `limit` live users' (id, external_id), in id order after `after`: a walk over the
/// whole directory that never holds more than one page.
pub fn external_ids_page(
    conn: &mut DbConn,
    scope: &Scope,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<(String, Option<String>)>, StoreError> {
    let mut q = scoped(scope);
    if let Some(a) = after {
        q = q.filter(u::id.gt(a.to_string()));
    }
    Ok(q.order(u::id)
        .limit(limit)
        .select((u::id, u::external_id))
        .load(conn)?)
}

/// Removes the directory's users soft-deleted before `before`; returns how many.
pub fn purge_deleted(
    conn: &mut DbConn,
    directory: &DirectoryId,
    before: NaiveDateTime,
) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        u::table
            .filter(u::directory_id.eq(directory.as_str()))
            .filter(u::deleted_at.lt(before)),
    )
    .execute(conn)?)
}

/// `query` narrowed by the read API's user filters.
fn filtered_by<'a>(
    mut query: u::BoxedQuery<'a, MultiBackend>,
    filter: &UserFilter,
) -> u::BoxedQuery<'a, MultiBackend> {
    if let Some(state) = filter.state {
        query = query.filter(u::state.eq(state.as_str()));
    }
    if let Some(email) = &filter.email {
        query = query.filter(u::primary_email_ci.eq(fold_case(email)));
    }
    if let Some(user_name) = &filter.username {
        query = query.filter(u::user_name_ci.eq(fold_case(user_name)));
    }
    if let Some(after) = filter.updated_after {
        query = query.filter(u::updated_at.gt(after));
    }
    query
}

/// `query` narrowed to the directory's users whose custom attributes hold `filter.custom`.
fn with_custom<'a>(
    mut query: u::BoxedQuery<'a, MultiBackend>,
    scope: &'a Scope,
    filter: &'a UserFilter,
) -> u::BoxedQuery<'a, MultiBackend> {
    // A seek on `custom_attribute_values_lookup` per attribute.
    for (name, value) in &filter.custom {
        let holding = v::table
            .filter(v::directory_id.eq(scope.directory_id.as_str()))
            .filter(v::name.eq(name))
            .filter(v::value.eq(value))
            .select(v::user_id);
        query = query.filter(u::id.eq_any(holding));
    }
    query
}

fn loaded(query: u::BoxedQuery<'_, MultiBackend>, conn: &mut DbConn) -> UsersResult {
    query
        .select(UserRow::as_select())
        .load::<UserRow>(conn)?
        .into_iter()
        .map(DirectoryUser::try_from)
        .collect()
}

type UsersResult = Result<Vec<DirectoryUser>, StoreError>;

/// Up to `limit` live users of the directory matching `filter`, in id order after `after`:
/// a seek on the directory's id index (`directory_users_walk`), or on the email or userName
/// index when the filter names one.
pub fn page_matching(
    conn: &mut DbConn,
    scope: &Scope,
    filter: &UserFilter,
    after: Option<&str>,
    limit: i64,
) -> UsersResult {
    let mut query = with_custom(filtered_by(scoped(scope), filter), scope, filter);
    if let Some(after) = after {
        query = query.filter(u::id.gt(after.to_string()));
    }
    loaded(query.order(u::id).limit(limit), conn)
}

/// Up to `limit` live users whose primary email is `filter.email`, of `tenants` (every
/// tenant when `None`), across directories, in id order after `after`: one seek on
/// `directory_users_email`.
pub fn page_by_email(
    conn: &mut DbConn,
    tenants: Option<&[String]>,
    filter: &UserFilter,
    after: Option<&str>,
    limit: i64,
) -> UsersResult {
    let mut query = filtered_by(
        u::table.filter(u::deleted_at.is_null()).into_boxed(),
        filter,
    );
    if let Some(tenants) = tenants {
        query = query.filter(u::tenant_id.eq_any(tenants.to_vec()));
    }
    if let Some(after) = after {
        query = query.filter(u::id.gt(after.to_string()));
    }
    loaded(query.order(u::id).limit(limit), conn)
}

/// The live users among `ids` matching `filter`, in id order. The directory and `deleted_at`
/// are checked here, not in SQL: given them, PostgreSQL without statistics reads the whole
/// directory on the userName index instead of probing the ids (see `groups::live_in`).
pub fn among_matching(
    conn: &mut DbConn,
    scope: &Scope,
    ids: &[String],
    filter: &UserFilter,
) -> UsersResult {
    let query = with_custom(filtered_by(u::table.into_boxed(), filter), scope, filter)
        .filter(u::id.eq_any(ids.to_vec()));
    let users = loaded(query.order(u::id), conn)?;
    Ok(users
        .into_iter()
        .filter(|u| {
            u.tenant_id == scope.tenant_id
                && u.directory_id == scope.directory_id
                && u.deleted_at.is_none()
        })
        .collect())
}

/// A live user by id alone, whichever directory holds it: the caller decides whether its
/// tenant may be read.
pub fn find_by_id(conn: &mut DbConn, id: &UserId) -> Result<Option<DirectoryUser>, StoreError> {
    let query = u::table
        .filter(u::id.eq(id.as_str()))
        .filter(u::deleted_at.is_null());
    on_backend!(conn, |c| query
        .select(UserRow::as_select())
        .get_result(c)
        .optional())?
    .map(DirectoryUser::try_from)
    .transpose()
}

/// The tenant and directory of a live user, by id alone.
pub fn scope_of(conn: &mut DbConn, id: &UserId) -> Result<Option<Scope>, StoreError> {
    let found: Option<(String, String)> = u::table
        .filter(u::id.eq(id.as_str()))
        .filter(u::deleted_at.is_null())
        .select((u::tenant_id, u::directory_id))
        .get_result(conn)
        .optional()?;
    Ok(found.map(|(t, d)| Scope {
        tenant_id: TenantId::from_raw(t),
        directory_id: DirectoryId::from_raw(d),
    }))
}

/// How many live users the directory holds: every row on the id index, less the
/// soft-deleted ones on their partial index, so neither count reads a row.
pub fn count_live(conn: &mut DbConn, directory: &DirectoryId) -> Result<i64, StoreError> {
    let all: i64 = u::table
        .filter(u::directory_id.eq(directory.as_str()))
        .count()
        .get_result(conn)?;
    let deleted: i64 = u::table
        .filter(u::directory_id.eq(directory.as_str()))
        .filter(u::deleted_at.is_not_null())
        .count()
        .get_result(conn)?;
    Ok(all - deleted)
}
