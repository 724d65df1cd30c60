//! Roles, their rules, each user's materialized roles (`directory_users.roles`) and the
//! per-tenant background recompute.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::conn::{DbConn, on_backend};
use super::error::StoreError;
use super::schema::{
    directories as d, directory_groups as g, directory_users as u, memberships as m,
    role_recomputes as rc, role_rules as rr, roles as r,
};
use crate::domain::ids::TenantId;
use crate::domain::index::fold_case;
use crate::domain::roles::{GroupFacts, MatchBy, Role, RoleBook, Rule};

/// Ids per `IN (…)` list (see `groups::IN_CHUNK`).
const IN_CHUNK: usize = 10_000;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = r)]
struct RoleRow {
    id: String,
    tenant_id: String,
    slug: String,
    name: String,
    priority: i64,
    is_default: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl From<RoleRow> for Role {
    fn from(row: RoleRow) -> Self {
        Role {
            id: row.id,
            tenant_id: TenantId::from_raw(row.tenant_id),
            slug: row.slug,
            name: row.name,
            priority: row.priority,
            default: row.is_default,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = rr)]
struct RuleRow {
    id: String,
    role_id: String,
    match_by: String,
    value: String,
    created_at: NaiveDateTime,
}

impl TryFrom<RuleRow> for Rule {
    type Error = StoreError;

    fn try_from(row: RuleRow) -> Result<Self, StoreError> {
        Ok(Rule {
            id: row.id,
            role_id: row.role_id,
            match_by: row
                .match_by
                .parse::<MatchBy>()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            value: row.value,
            created_at: row.created_at,
        })
    }
}

/// A tenant's roles (by priority, highest first) and rules; no rules are read when it has no
/// roles, the common case on every membership change.
pub fn book(conn: &mut DbConn, tenant: &TenantId) -> Result<RoleBook, StoreError> {
    let roles = roles(conn, tenant)?;
    if roles.is_empty() {
        return Ok(RoleBook::default());
    }
    let rules = rr::table
        .filter(rr::tenant_id.eq(tenant.as_str()))
        .order(rr::id)
        .select(RuleRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Rule::try_from)
        .collect::<Result<_, _>>()?;
    Ok(RoleBook { roles, rules })
}

pub fn roles(conn: &mut DbConn, tenant: &TenantId) -> Result<Vec<Role>, StoreError> {
    Ok(r::table
        .filter(r::tenant_id.eq(tenant.as_str()))
        .order((r::priority.desc(), r::slug))
        .select(RoleRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Role::from)
        .collect())
}

pub fn default_slug(conn: &mut DbConn, tenant: &TenantId) -> Result<Option<String>, StoreError> {
    Ok(r::table
        .filter(r::tenant_id.eq(tenant.as_str()))
        .filter(r::is_default.eq(true))
        .select(r::slug)
        .get_result(conn)
        .optional()?)
}

pub fn find_role(
    conn: &mut DbConn,
    tenant: &TenantId,
    slug: &str,
) -> Result<Option<Role>, StoreError> {
    Ok(r::table
        .filter(r::tenant_id.eq(tenant.as_str()))
        .filter(r::slug.eq(slug))
        .select(RoleRow::as_select())
        .get_result(conn)
        .optional()?
        .map(Role::from))
}

pub fn insert_role(conn: &mut DbConn, role: &Role) -> Result<(), StoreError> {
    diesel::insert_into(r::table)
        .values(RoleRow {
            id: role.id.clone(),
            tenant_id: role.tenant_id.to_string(),
            slug: role.slug.clone(),
            name: role.name.clone(),
            priority: role.priority,
            is_default: role.default,
            created_at: role.created_at,
            updated_at: role.updated_at,
        })
        .execute(conn)?;
    Ok(())
}

pub fn update_role(conn: &mut DbConn, role: &Role) -> Result<(), StoreError> {
    diesel::update(r::table.filter(r::id.eq(&role.id)))
        .set((
            r::name.eq(&role.name),
            r::priority.eq(role.priority),
            r::is_default.eq(role.default),
            r::updated_at.eq(role.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Takes the default from whichever role of the tenant holds it.
pub fn clear_default(
    conn: &mut DbConn,
    tenant: &TenantId,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::update(
        r::table
            .filter(r::tenant_id.eq(tenant.as_str()))
            .filter(r::is_default.eq(true)),
    )
    .set((r::is_default.eq(false), r::updated_at.eq(now)))
    .execute(conn)?;
    Ok(())
}

/// Deletes a role and its rules.
pub fn delete_role(conn: &mut DbConn, role: &Role) -> Result<(), StoreError> {
    diesel::delete(rr::table.filter(rr::role_id.eq(&role.id))).execute(conn)?;
    diesel::delete(r::table.filter(r::id.eq(&role.id))).execute(conn)?;
    Ok(())
}

pub fn rules_of(conn: &mut DbConn, role: &Role) -> Result<Vec<Rule>, StoreError> {
    rr::table
        .filter(rr::role_id.eq(&role.id))
        .order(rr::id)
        .select(RuleRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Rule::try_from)
        .collect()
}

pub fn insert_rule(conn: &mut DbConn, tenant: &TenantId, rule: &Rule) -> Result<(), StoreError> {
    diesel::insert_into(rr::table)
        .values((
            rr::id.eq(&rule.id),
            rr::tenant_id.eq(tenant.as_str()),
            rr::role_id.eq(&rule.role_id),
            rr::match_by.eq(rule.match_by.as_str()),
            rr::value.eq(&rule.value),
            rr::value_ci.eq(fold_case(&rule.value)),
            rr::created_at.eq(rule.created_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// `false` when the role has no such rule.
pub fn delete_rule(conn: &mut DbConn, role: &Role, id: &str) -> Result<bool, StoreError> {
    let n = diesel::delete(
        rr::table
            .filter(rr::role_id.eq(&role.id))
            .filter(rr::id.eq(id)),
    )
    .execute(conn)?;
    Ok(n == 1)
}

/// The groups each of `users` belongs to directly, with what rules match on.
pub fn direct_groups(
    conn: &mut DbConn,
    users: &[String],
) -> Result<HashMap<String, Vec<GroupFacts>>, StoreError> {
    let mut out: HashMap<String, Vec<GroupFacts>> = HashMap::new();
    for chunk in users.chunks(IN_CHUNK) {
        let rows: Vec<(String, String, Option<String>, String)> = m::table
            .inner_join(g::table)
            .filter(m::member_id.eq_any(chunk))
            .filter(g::deleted_at.is_null())
            .select((m::member_id, g::id, g::external_id, g::display_name))
            .load(conn)?;
        for (user, id, external_id, display_name) in rows {
            out.entry(user).or_default().push(GroupFacts {
                id,
                external_id,
                display_name,
            });
        }
    }
    Ok(out)
}

/// The users who are direct members of `group`.
pub fn user_members(conn: &mut DbConn, group: &str) -> Result<Vec<String>, StoreError> {
    Ok(m::table
        .filter(m::group_id.eq(group))
        .filter(m::member_type.eq("User"))
        .select(m::member_id)
        .load(conn)?)
}

/// (id, directory id, roles as stored) of the live users among `ids`.
pub fn stored_roles(
    conn: &mut DbConn,
    ids: &[String],
) -> Result<Vec<(String, String, String)>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(IN_CHUNK) {
        out.extend(
            u::table
                .filter(u::id.eq_any(chunk))
                .filter(u::deleted_at.is_null())
                .select((u::id, u::directory_id, u::roles))
                .load::<(String, String, String)>(conn)?,
        );
    }
    Ok(out)
}

/// Sets the roles (JSON text) of the users `ids`, already locked.
pub fn set_roles(conn: &mut DbConn, ids: &[String], roles: &str) -> Result<(), StoreError> {
    for chunk in ids.chunks(IN_CHUNK) {
        diesel::update(u::table.filter(u::id.eq_any(chunk)))
            .set(u::roles.eq(roles))
            .execute(conn)?;
    }
    Ok(())
}

/// Locks `ids` (users) in id order, the order every writer that locks several users uses.
/// PostgreSQL only; SQLite's writer is alone.
pub fn lock_users(conn: &mut DbConn, ids: &[String]) -> Result<(), StoreError> {
    if let DbConn::Postgres(c) = conn {
        let mut sorted = ids.to_vec();
        sorted.sort();
        for chunk in sorted.chunks(IN_CHUNK) {
            u::table
                .filter(u::id.eq_any(chunk))
                .order(u::id)
                .select(u::id)
                .for_no_key_update()
                .load::<String>(c)?;
        }
    }
    Ok(())
}

/// The tenant's directory ids, in id order.
pub fn directory_ids(conn: &mut DbConn, tenant: &TenantId) -> Result<Vec<String>, StoreError> {
    Ok(d::table
        .filter(d::tenant_id.eq(tenant.as_str()))
        .order(d::id)
        .select(d::id)
        .load(conn)?)
}

/// Live users of the tenant's directories.
pub fn count_users(conn: &mut DbConn, directories: &[String]) -> Result<i64, StoreError> {
    Ok(u::table
        .filter(u::directory_id.eq_any(directories))
        .filter(u::deleted_at.is_null())
        .count()
        .get_result(conn)?)
}

/// The next `limit` live users of `directory` after `after`, in id order.
pub fn user_page(
    conn: &mut DbConn,
    directory: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<String>, StoreError> {
    Ok(u::table
        .filter(u::directory_id.eq(directory))
        .filter(u::id.gt(after))
        .filter(u::deleted_at.is_null())
        .order(u::id)
        .limit(limit)
        .select(u::id)
        .load(conn)?)
}

/// A tenant's recompute as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = rc)]
pub struct RecomputeRow {
    pub tenant_id: String,
    pub after_directory: String,
    pub after_user: String,
    pub total: i64,
    pub done: i64,
    pub changed: i64,
    pub requested_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

/// (Re)starts the tenant's recompute from its first user.
pub fn request_recompute(
    conn: &mut DbConn,
    tenant: &TenantId,
    total: i64,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    let fresh = (
        rc::after_directory.eq(""),
        rc::after_user.eq(""),
        rc::total.eq(total),
        rc::done.eq(0),
        rc::changed.eq(0),
        rc::requested_at.eq(now),
        rc::finished_at.eq(None::<NaiveDateTime>),
    );
    // One statement: two changes at once must not both find no row and both insert one.
    let upsert = diesel::insert_into(rc::table)
        .values((rc::tenant_id.eq(tenant.as_str()), fresh))
        .on_conflict(rc::tenant_id)
        .do_update()
        .set(fresh);
    on_backend!(conn, |c| upsert.execute(c))?;
    Ok(())
}

pub fn recompute(conn: &mut DbConn, tenant: &TenantId) -> Result<Option<RecomputeRow>, StoreError> {
    Ok(rc::table
        .filter(rc::tenant_id.eq(tenant.as_str()))
        .select(RecomputeRow::as_select())
        .get_result(conn)
        .optional()?)
}

/// The recompute, locked for the rest of the transaction (PostgreSQL; SQLite's writer is
/// alone), so that two instances never run one batch twice and a new request waits for the
/// batch in flight.
pub fn lock_recompute(
    conn: &mut DbConn,
    tenant: &TenantId,
) -> Result<Option<RecomputeRow>, StoreError> {
    if let DbConn::Postgres(c) = conn {
        return Ok(rc::table
            .filter(rc::tenant_id.eq(tenant.as_str()))
            .select(RecomputeRow::as_select())
            .for_update()
            .get_result(c)
            .optional()?);
    }
    recompute(conn, tenant)
}

/// Tenants whose recompute has not finished.
pub fn unfinished_recomputes(conn: &mut DbConn) -> Result<Vec<TenantId>, StoreError> {
    Ok(rc::table
        .filter(rc::finished_at.is_null())
        .order(rc::requested_at)
        .select(rc::tenant_id)
        .load::<String>(conn)?
        .into_iter()
        .map(TenantId::from_raw)
        .collect())
}

pub fn advance_recompute(conn: &mut DbConn, row: &RecomputeRow) -> Result<(), StoreError> {
    diesel::update(rc::table.filter(rc::tenant_id.eq(&row.tenant_id)))
        .set((
            rc::after_directory.eq(&row.after_directory),
            rc::after_user.eq(&row.after_user),
            rc::done.eq(row.done),
            rc::changed.eq(row.changed),
            rc::finished_at.eq(row.finished_at),
        ))
        .execute(conn)?;
    Ok(())
}
