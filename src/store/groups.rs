use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::Value;

use super::conn::{DbConn, MultiBackend, insert_rows, lock_live, on_backend};
use super::error::StoreError;
use super::filter::{GROUPS, after, condition, order};
use super::paging::{page_and_total, paged};
use super::schema::{directory_groups as g, directory_users as u, memberships as m};
use crate::domain::document::{Document, json_text};
use crate::domain::group::{DirectoryGroup, Member, MemberKind, NamedMember};
use crate::domain::ids::{DirectoryId, GroupId, TenantId};
use crate::domain::index::fold_case;
use crate::domain::query::{ListQuery, Page};
use crate::domain::tenancy::Scope;

/// Ids per `IN (…)` list: a PUT or `replace members` may name 100,000 members, more than
/// SQLite (32,766) or PostgreSQL (65,535) take as bound parameters in one statement.
const IN_CHUNK: usize = 10_000;

#[derive(Queryable, Selectable)]
#[diesel(table_name = g)]
struct GroupView {
    id: String,
    tenant_id: String,
    directory_id: String,
    external_id: Option<String>,
    display_name: String,
    resource: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    deleted_at: Option<NaiveDateTime>,
}

impl TryFrom<GroupView> for DirectoryGroup {
    type Error = StoreError;

    fn try_from(r: GroupView) -> Result<Self, StoreError> {
        Ok(DirectoryGroup {
            id: GroupId::from_raw(r.id),
            tenant_id: TenantId::from_raw(r.tenant_id),
            directory_id: DirectoryId::from_raw(r.directory_id),
            display_name: r.display_name,
            external_id: r.external_id,
            resource: Document::from_stored(r.resource),
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
            deleted_at: r.deleted_at,
        })
    }
}

pub fn insert(conn: &mut DbConn, group: &DirectoryGroup, raw: &Value) -> Result<(), StoreError> {
    diesel::insert_into(g::table)
        .values((
            g::id.eq(group.id.as_str()),
            g::tenant_id.eq(group.tenant_id.as_str()),
            g::directory_id.eq(group.directory_id.as_str()),
            g::external_id.eq(group.external_id.as_deref()),
            g::display_name.eq(&group.display_name),
            g::display_name_ci.eq(fold_case(&group.display_name)),
            g::resource.eq(group.resource.as_str()),
            g::raw.eq(json_text(raw)),
            g::version.eq(group.version),
            g::created_at.eq(group.created_at),
            g::updated_at.eq(group.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

fn scoped(scope: &Scope) -> g::BoxedQuery<'static, MultiBackend> {
    g::table
        .filter(g::tenant_id.eq(scope.tenant_id.to_string()))
        .filter(g::directory_id.eq(scope.directory_id.to_string()))
        .filter(g::deleted_at.is_null())
        .into_boxed()
}

pub fn find(
    conn: &mut DbConn,
    scope: &Scope,
    id: &GroupId,
) -> Result<Option<DirectoryGroup>, StoreError> {
    // Written out rather than built on the boxed `scoped`: a query of static shape is
    // prepared once per connection and cached; a boxed one is prepared on every call.
    let query = g::table
        .filter(g::id.eq(id.as_str()))
        .filter(g::tenant_id.eq(scope.tenant_id.as_str()))
        .filter(g::directory_id.eq(scope.directory_id.as_str()))
        .filter(g::deleted_at.is_null());
    // The selection is written in each arm: it is typed by backend.
    on_backend!(conn, |c| query
        .select(GroupView::as_select())
        .get_result(c)
        .optional())?
    .map(DirectoryGroup::try_from)
    .transpose()
}

pub fn list(
    conn: &mut DbConn,
    scope: &Scope,
    query: &ListQuery,
) -> Result<Page<DirectoryGroup>, StoreError> {
    let filtered = || {
        let q = scoped(scope);
        match &query.filter {
            Some(f) => q.filter(condition(f, scope, GROUPS)),
            None => q,
        }
    };
    let page = || match &query.after {
        Some(a) => filtered().filter(after(a, GROUPS)),
        None => filtered(),
    };
    page_and_total(
        conn,
        query,
        |conn| {
            paged(
                page()
                    .order(order(query.sort.as_ref(), scope, GROUPS))
                    .select(GroupView::as_select()),
                query,
            )
            .load::<GroupView>(conn)
        },
        |conn| filtered().count().get_result(conn),
    )
}

/// Locks a live group's row for the rest of the transaction; see `users::lock`. `false` when
/// the directory has no such group.
pub fn lock(conn: &mut DbConn, scope: &Scope, id: &GroupId) -> Result<bool, StoreError> {
    let live = g::table
        .filter(g::id.eq(id.as_str()))
        .filter(g::tenant_id.eq(scope.tenant_id.as_str()))
        .filter(g::directory_id.eq(scope.directory_id.as_str()))
        .filter(g::deleted_at.is_null());
    lock_live!(conn, live, g)
}

/// Locks the live groups among `ids` in id order, on PostgreSQL: every writer that locks
/// several groups, or groups and then users, takes them in this one order, so concurrent
/// deprovisioning cannot deadlock. SQLite's writer is alone anyway.
pub fn lock_in_order(conn: &mut DbConn, scope: &Scope, ids: &[String]) -> Result<(), StoreError> {
    if let DbConn::Postgres(c) = conn {
        for chunk in ids.chunks(IN_CHUNK) {
            g::table
                .filter(g::id.eq_any(chunk))
                .filter(g::directory_id.eq(scope.directory_id.as_str()))
                .order(g::id)
                .select(g::id)
                .for_no_key_update()
                .load::<String>(c)?;
        }
    }
    Ok(())
}

/// `users::lock_for_removal`, for a group about to be deleted (it may be a nested member).
pub fn lock_for_removal(conn: &mut DbConn, scope: &Scope, id: &GroupId) -> Result<(), StoreError> {
    if let DbConn::Postgres(c) = conn {
        g::table
            .filter(g::id.eq(id.as_str()))
            .filter(g::directory_id.eq(scope.directory_id.as_str()))
            .select(g::id)
            .for_update()
            .load::<String>(c)?;
    }
    Ok(())
}

/// The live groups among `ids`.
pub fn find_many(
    conn: &mut DbConn,
    scope: &Scope,
    ids: &[String],
) -> Result<Vec<DirectoryGroup>, StoreError> {
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(IN_CHUNK) {
        let rows: Vec<GroupView> = g::table
            .filter(g::id.eq_any(chunk))
            .filter(g::tenant_id.eq(scope.tenant_id.as_str()))
            .filter(g::directory_id.eq(scope.directory_id.as_str()))
            .filter(g::deleted_at.is_null())
            .select(GroupView::as_select())
            .load(conn)?;
        for row in rows {
            found.push(DirectoryGroup::try_from(row)?);
        }
    }
    Ok(found)
}

/// Live groups in id order after `after`: a snapshot's pages.
pub fn page_by_id(
    conn: &mut DbConn,
    scope: &Scope,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<DirectoryGroup>, StoreError> {
    let mut query = g::table
        .filter(g::tenant_id.eq(scope.tenant_id.to_string()))
        .filter(g::directory_id.eq(scope.directory_id.to_string()))
        .filter(g::deleted_at.is_null())
        .order(g::id)
        .limit(limit)
        .select(GroupView::as_select())
        .into_boxed::<MultiBackend>();
    if let Some(after) = after {
        query = query.filter(g::id.gt(after.to_string()));
    }
    query
        .load(conn)?
        .into_iter()
        .map(DirectoryGroup::try_from)
        .collect()
}

/// The directory's memberships as (group, member, member type), in (group, member) order
/// after `after`.
pub fn memberships_page(
    conn: &mut DbConn,
    scope: &Scope,
    after: Option<&(String, String)>,
    limit: i64,
) -> Result<Vec<(String, String, String)>, StoreError> {
    let mut query = m::table
        .filter(m::directory_id.eq(scope.directory_id.to_string()))
        .filter(m::tenant_id.eq(scope.tenant_id.to_string()))
        .order((m::group_id, m::member_id))
        .limit(limit)
        .select((m::group_id, m::member_id, m::member_type))
        .into_boxed::<MultiBackend>();
    if let Some((group, member)) = after {
        query = query.filter(
            m::group_id.gt(group.clone()).or(m::group_id
                .eq(group.clone())
                .and(m::member_id.gt(member.clone()))),
        );
    }
    Ok(query.load(conn)?)
}

/// The groups nested directly in any of `ids`.
pub fn nested_groups(conn: &mut DbConn, ids: &[String]) -> Result<Vec<String>, StoreError> {
    let mut found = Vec::new();
    for chunk in ids.chunks(IN_CHUNK) {
        found.extend(
            m::table
                .filter(m::group_id.eq_any(chunk))
                .filter(m::member_type.eq(MemberKind::Group.as_str()))
                .select(m::member_id)
                .load::<String>(conn)?,
        );
    }
    Ok(found)
}

/// Writes a group whose row the caller has locked with `lock`. The stored raw body
/// stays when `raw` is `None` or JSON null (a PATCH carries no resource body).
pub fn update(
    conn: &mut DbConn,
    group: &DirectoryGroup,
    raw: Option<&Value>,
) -> Result<(), StoreError> {
    let target = g::table
        .filter(g::id.eq(group.id.as_str()))
        .filter(g::directory_id.eq(group.directory_id.as_str()));
    let columns = (
        g::external_id.eq(group.external_id.as_deref()),
        g::display_name.eq(&group.display_name),
        g::display_name_ci.eq(fold_case(&group.display_name)),
        g::resource.eq(group.resource.as_str()),
        g::version.eq(group.version),
        g::updated_at.eq(group.updated_at),
        g::deleted_at.eq(group.deleted_at),
    );
    match raw.filter(|r| !r.is_null()) {
        Some(raw) => diesel::update(target)
            .set((columns, g::raw.eq(json_text(raw))))
            .execute(conn)?,
        None => diesel::update(target).set(columns).execute(conn)?,
    };
    Ok(())
}

/// Bumps the version of a group whose membership changed as a side effect.
pub fn touch(
    conn: &mut DbConn,
    scope: &Scope,
    id: &GroupId,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::update(
        g::table
            .filter(g::id.eq(id.as_str()))
            .filter(g::directory_id.eq(scope.directory_id.as_str())),
    )
    .set((g::version.eq(g::version + 1), g::updated_at.eq(now)))
    .execute(conn)?;
    Ok(())
}

pub fn delete_all_memberships(conn: &mut DbConn, id: &GroupId) -> Result<(), StoreError> {
    diesel::delete(m::table.filter(m::group_id.eq(id.as_str()))).execute(conn)?;
    Ok(())
}

pub fn delete(conn: &mut DbConn, scope: &Scope, id: &GroupId) -> Result<(), StoreError> {
    delete_all_memberships(conn, id)?;
    diesel::delete(
        g::table
            .filter(g::id.eq(id.as_str()))
            .filter(g::tenant_id.eq(scope.tenant_id.as_str()))
            .filter(g::directory_id.eq(scope.directory_id.as_str())),
    )
    .execute(conn)?;
    Ok(())
}

/// Every member of each of `groups`, from the membership rows alone, in one query.
pub fn members(
    conn: &mut DbConn,
    scope: &Scope,
    groups: &[String],
) -> Result<HashMap<String, Vec<Member>>, StoreError> {
    let query = m::table
        .filter(m::directory_id.eq(scope.directory_id.as_str()))
        .order((m::group_id, m::created_at, m::member_id))
        .select((m::group_id, m::member_id, m::member_type));
    // One group (a read of one group, a puller's per-group check) is asked by equality: the
    // statement is cached (diesel prepares an `IN` list anew each time), and PostgreSQL keeps
    // a generic plan for `= ANY($1)` made when the table was small, which during an import
    // scans a table that has since grown.
    let rows: Vec<(String, String, String)> = match groups {
        [one] => query.filter(m::group_id.eq(one)).load(conn)?,
        many => query.filter(m::group_id.eq_any(many)).load(conn)?,
    };
    let mut out: HashMap<String, Vec<Member>> = HashMap::new();
    for (group, id, kind) in rows {
        out.entry(group).or_default().push(Member {
            kind: member_kind(&kind),
            id,
        });
    }
    Ok(out)
}

/// `members`, each with its `display` as a group read shows it: the text the client sent when
/// it added the member, else the member's own name (a user's `displayName`, else its
/// `userName`; a nested group's `displayName`). Joined in the same query, so a read of a
/// 100,000-member group costs one statement, not one per member.
pub fn named_members(
    conn: &mut DbConn,
    scope: &Scope,
    groups: &[String],
) -> Result<HashMap<String, Vec<NamedMember>>, StoreError> {
    let (users, nested) = diesel::alias!(u as member_user, g as member_group);
    let query = m::table
        .left_join(users.on(users.field(u::id).eq(m::member_id)))
        .left_join(nested.on(nested.field(g::id).eq(m::member_id)))
        .filter(m::directory_id.eq(scope.directory_id.as_str()))
        .order((m::group_id, m::created_at, m::member_id))
        .select((
            m::group_id,
            m::member_id,
            m::member_type,
            m::display,
            users.field(u::display_name).nullable(),
            users.field(u::user_name).nullable(),
            nested.field(g::display_name).nullable(),
        ));
    type Row = (
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = match groups {
        [one] => query.filter(m::group_id.eq(one)).load(conn)?,
        many => query.filter(m::group_id.eq_any(many)).load(conn)?,
    };
    let mut out: HashMap<String, Vec<NamedMember>> = HashMap::new();
    for (group, id, kind, sent, user_display, user_name, group_display) in rows {
        let kind = member_kind(&kind);
        let display = sent.or(match kind {
            MemberKind::User => user_display.or(user_name),
            MemberKind::Group => group_display,
        });
        out.entry(group).or_default().push(NamedMember {
            member: Member { kind, id },
            display,
        });
    }
    Ok(out)
}

pub fn member_ids(
    conn: &mut DbConn,
    scope: &Scope,
    id: &GroupId,
) -> Result<Vec<String>, StoreError> {
    Ok(m::table
        .filter(m::group_id.eq(id.as_str()))
        .filter(m::directory_id.eq(scope.directory_id.as_str()))
        .select(m::member_id)
        .load(conn)?)
}

/// Which of `ids` are already members of the group.
pub fn existing_members(
    conn: &mut DbConn,
    scope: &Scope,
    group: &GroupId,
    ids: &[String],
) -> Result<Vec<String>, StoreError> {
    Ok(existing_member_kinds(conn, scope, group, ids)?
        .into_iter()
        .map(|(id, _)| id)
        .collect())
}

pub fn existing_member_kinds(
    conn: &mut DbConn,
    scope: &Scope,
    group: &GroupId,
    ids: &[String],
) -> Result<Vec<(String, MemberKind)>, StoreError> {
    let mut found = Vec::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let rows: Vec<(String, String)> = m::table
            .filter(m::group_id.eq(group.as_str()))
            .filter(m::directory_id.eq(scope.directory_id.as_str()))
            .filter(m::member_id.eq_any(chunk))
            .select((m::member_id, m::member_type))
            .load(conn)?;
        found.extend(rows.into_iter().map(|(id, kind)| (id, member_kind(&kind))));
    }
    Ok(found)
}

fn member_kind(stored: &str) -> MemberKind {
    if stored == MemberKind::Group.as_str() {
        MemberKind::Group
    } else {
        MemberKind::User
    }
}

/// (id, tenant, directory, deleted_at) of a user or group row.
type ScopedRow = (String, String, String, Option<NaiveDateTime>);

/// The id of a row that belongs to `scope` and is not soft-deleted. Member lookups test this
/// here rather than in SQL: given the directory or `deleted_at` in SQL, PostgreSQL without fresh
/// statistics (during a bulk import) combines the primary-key probe with a scan of the whole
/// directory on another index; by id alone the primary key is its only choice.
fn live_in(scope: &Scope, (id, tenant, directory, deleted_at): ScopedRow) -> Option<String> {
    (tenant == scope.tenant_id.as_str()
        && directory == scope.directory_id.as_str()
        && deleted_at.is_none())
    .then_some(id)
}

/// For each of `ids` that is a user or group of the directory, what it is.
pub fn resolve_members(
    conn: &mut DbConn,
    scope: &Scope,
    ids: &[String],
) -> Result<HashMap<String, MemberKind>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut users: Vec<String> = Vec::new();
    let mut groups: Vec<String> = Vec::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let candidates = u::table.filter(u::id.eq_any(chunk)).select((
            u::id,
            u::tenant_id,
            u::directory_id,
            u::deleted_at,
        ));
        // On PostgreSQL the users found stay locked against removal until this write
        // commits (`users::lock_for_removal`): a user being deleted meanwhile is either
        // waited for, and then found gone, or waits for this membership and removes it.
        let rows: Vec<ScopedRow> = match &mut *conn {
            DbConn::Postgres(c) => candidates.order(u::id).for_key_share().load(c)?,
            other => candidates.load(other)?,
        };
        users.extend(rows.into_iter().filter_map(|row| live_in(scope, row)));
        let candidates = g::table.filter(g::id.eq_any(chunk)).select((
            g::id,
            g::tenant_id,
            g::directory_id,
            g::deleted_at,
        ));
        let rows: Vec<ScopedRow> = match &mut *conn {
            DbConn::Postgres(c) => candidates.order(g::id).for_key_share().load(c)?,
            other => candidates.load(other)?,
        };
        groups.extend(rows.into_iter().filter_map(|row| live_in(scope, row)));
    }
    Ok(users
        .into_iter()
        .map(|id| (id, MemberKind::User))
        .chain(groups.into_iter().map(|id| (id, MemberKind::Group)))
        .collect())
}

#[derive(Insertable)]
#[diesel(table_name = m)]
struct MembershipRow<'a> {
    group_id: &'a str,
    member_id: &'a str,
    member_type: &'static str,
    display: Option<&'a str>,
    tenant_id: &'a str,
    directory_id: &'a str,
    created_at: NaiveDateTime,
}

/// Rows per multi-row INSERT on PostgreSQL: seven bound parameters each.
const INSERT_CHUNK: usize = 1_000;

pub fn insert_memberships(
    conn: &mut DbConn,
    scope: &Scope,
    group: &GroupId,
    members: &[(&str, MemberKind, Option<&str>)],
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    let rows: Vec<MembershipRow> = members
        .iter()
        .map(|(id, kind, display)| MembershipRow {
            group_id: group.as_str(),
            member_id: id,
            member_type: kind.as_str(),
            display: *display,
            tenant_id: scope.tenant_id.as_str(),
            directory_id: scope.directory_id.as_str(),
            created_at: now,
        })
        .collect();
    insert_rows!(conn, m::table, &rows, INSERT_CHUNK);
    Ok(())
}

pub fn delete_memberships(
    conn: &mut DbConn,
    group: &GroupId,
    ids: &[String],
) -> Result<(), StoreError> {
    for chunk in ids.chunks(IN_CHUNK) {
        diesel::delete(
            m::table
                .filter(m::group_id.eq(group.as_str()))
                .filter(m::member_id.eq_any(chunk)),
        )
        .execute(conn)?;
    }
    Ok(())
}

/// The groups of the directory that hold `member` directly, with the member's kind.
pub fn groups_holding(
    conn: &mut DbConn,
    scope: &Scope,
    member: &str,
) -> Result<Vec<(GroupId, MemberKind)>, StoreError> {
    let rows: Vec<(String, String)> = m::table
        .filter(m::member_id.eq(member))
        .filter(m::directory_id.eq(scope.directory_id.as_str()))
        .select((m::group_id, m::member_type))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(g, kind)| (GroupId::from_raw(g), member_kind(&kind)))
        .collect())
}

/// The groups each of `user_ids` belongs to directly: (group id, group displayName).
pub fn groups_of(
    conn: &mut DbConn,
    scope: &Scope,
    user_ids: &[String],
) -> Result<HashMap<String, Vec<(String, String)>>, StoreError> {
    let query = m::table
        .inner_join(g::table)
        .filter(m::directory_id.eq(scope.directory_id.as_str()))
        .order((m::member_id, g::display_name))
        .select((m::member_id, g::id, g::display_name));
    // One user (every read of a user) by equality, so the statement is prepared once.
    let rows: Vec<(String, String, String)> = match user_ids {
        [one] => {
            let query = query.filter(m::member_id.eq(one));
            on_backend!(conn, |c| query.load(c))?
        }
        many => query.filter(m::member_id.eq_any(many)).load(conn)?,
    };
    let mut out: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for (member, group, name) in rows {
        out.entry(member).or_default().push((group, name));
    }
    Ok(out)
}

/// The live groups of the directory whose `external_id` is one of `external_ids`.
pub fn find_by_external_ids(
    conn: &mut DbConn,
    scope: &Scope,
    external_ids: &[String],
) -> Result<Vec<DirectoryGroup>, StoreError> {
    scoped(scope)
        .filter(g::external_id.eq_any(external_ids))
        .select(GroupView::as_select())
        .load(conn)?
        .into_iter()
        .map(DirectoryGroup::try_from)
        .collect()
}

/// The ids of the live groups whose externalId is one of `external_ids`, without reading
/// whole rows. `deleted_at` is checked here, not in SQL, so that PostgreSQL without statistics
/// still plans on the externalId index (see `users::find_by_external_ids`).
pub fn ids_by_external_ids(
    conn: &mut DbConn,
    scope: &Scope,
    external_ids: &[String],
) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String, Option<NaiveDateTime>)> = g::table
        .filter(g::tenant_id.eq(scope.tenant_id.as_str()))
        .filter(g::directory_id.eq(scope.directory_id.as_str()))
        .filter(g::external_id.eq_any(external_ids))
        .select((g::id, g::deleted_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, deleted_at)| deleted_at.is_none().then_some(id))
        .collect())
}

/// Up to `limit` live groups' (id, external_id), in id order after `after`.
pub fn external_ids_page(
    conn: &mut DbConn,
    scope: &Scope,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<(String, Option<String>)>, StoreError> {
    let mut q = scoped(scope);
    if let Some(a) = after {
        q = q.filter(g::id.gt(a.to_string()));
    }
    Ok(q.order(g::id)
        .limit(limit)
        .select((g::id, g::external_id))
        .load(conn)?)
}

/// Those of `ids` that no group of the directory holds.
pub fn without_groups(
    conn: &mut DbConn,
    scope: &Scope,
    ids: &[String],
) -> Result<Vec<String>, StoreError> {
    let mut held = std::collections::HashSet::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let found: Vec<String> = m::table
            .filter(m::directory_id.eq(scope.directory_id.as_str()))
            .filter(m::member_id.eq_any(chunk))
            .select(m::member_id)
            .distinct()
            .load(conn)?;
        held.extend(found);
    }
    Ok(ids
        .iter()
        .filter(|id| !held.contains(*id))
        .cloned()
        .collect())
}

/// Removes the directory's groups soft-deleted before `before`; returns how many.
pub fn purge_deleted(
    conn: &mut DbConn,
    directory: &DirectoryId,
    before: NaiveDateTime,
) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        g::table
            .filter(g::directory_id.eq(directory.as_str()))
            .filter(g::deleted_at.lt(before)),
    )
    .execute(conn)?)
}

/// Up to `limit` ids of the users directly in a group, in id order after `after`: a seek on
/// the membership key (group, member), so a page of a 100,000-member group costs a page.
pub fn member_user_ids_page(
    conn: &mut DbConn,
    group: &GroupId,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<String>, StoreError> {
    let mut query = m::table
        .filter(m::group_id.eq(group.as_str()))
        .filter(m::member_type.eq(MemberKind::User.as_str()))
        .order(m::member_id)
        .limit(limit)
        .select(m::member_id)
        .into_boxed::<MultiBackend>();
    if let Some(after) = after {
        query = query.filter(m::member_id.gt(after.to_string()));
    }
    Ok(query.load(conn)?)
}

/// Up to `limit` ids of the groups that hold `member` directly, in id order after `after`:
/// a seek on `memberships_member` (member, group).
pub fn holding_ids_page(
    conn: &mut DbConn,
    member: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<String>, StoreError> {
    let mut query = m::table
        .filter(m::member_id.eq(member.to_string()))
        .order(m::group_id)
        .limit(limit)
        .select(m::group_id)
        .into_boxed::<MultiBackend>();
    if let Some(after) = after {
        query = query.filter(m::group_id.gt(after.to_string()));
    }
    Ok(query.load(conn)?)
}

/// A live group by id alone, whichever directory holds it: the caller decides whether its
/// tenant may be read.
pub fn find_by_id(conn: &mut DbConn, id: &GroupId) -> Result<Option<DirectoryGroup>, StoreError> {
    let query = g::table
        .filter(g::id.eq(id.as_str()))
        .filter(g::deleted_at.is_null());
    on_backend!(conn, |c| query
        .select(GroupView::as_select())
        .get_result(c)
        .optional())?
    .map(DirectoryGroup::try_from)
    .transpose()
}

/// How many live groups the directory holds; see `users::count_live`.
pub fn count_live(conn: &mut DbConn, directory: &DirectoryId) -> Result<i64, StoreError> {
    let all: i64 = g::table
        .filter(g::directory_id.eq(directory.as_str()))
        .count()
        .get_result(conn)?;
    let deleted: i64 = g::table
        .filter(g::directory_id.eq(directory.as_str()))
        .filter(g::deleted_at.is_not_null())
        .count()
        .get_result(conn)?;
    Ok(all - deleted)
}

/// The live groups of `scope` among `ids`, in id order; the scope is checked here, as
/// `live_in` explains.
pub fn live_among(
    conn: &mut DbConn,
    scope: &Scope,
    ids: &[String],
) -> Result<Vec<DirectoryGroup>, StoreError> {
    let rows: Vec<GroupView> = g::table
        .filter(g::id.eq_any(ids))
        .order(g::id)
        .select(GroupView::as_select())
        .load(conn)?;
    rows.into_iter()
        .filter(|r| {
            r.tenant_id == scope.tenant_id.as_str()
                && r.directory_id == scope.directory_id.as_str()
                && r.deleted_at.is_none()
        })
        .map(DirectoryGroup::try_from)
        .collect()
}
