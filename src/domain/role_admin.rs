//! Administering a tenant's roles and rules: the commands `roster role` and
//! `/api/v1/admin/tenants/{t}/roles` share. Every change that can move a user's roles starts
//! the tenant's background recompute in the same write (`role_sync`).

use chrono::NaiveDateTime;
use serde::Serialize;

use super::error::{DomainError, DomainResult};
use super::ids::TenantId;
use super::role_sync::{self, Progress};
use super::roles::{MatchBy, Role, Rule, check_slug};
use crate::store::{self, DbConn, Store};

/// A role with its rules, as listed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoleView {
    #[serde(flatten)]
    pub role: Role,
    pub rules: Vec<Rule>,
}

/// A tenant's roles, highest priority first, and where its recompute stands.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Roles {
    pub data: Vec<RoleView>,
    pub recompute: Option<Progress>,
}

#[derive(Debug, Clone)]
pub struct NewRole {
    pub slug: String,
    pub name: String,
    pub priority: i64,
    pub default: bool,
}

/// What an update changes; what is `None` keeps its value. The slug never changes.
#[derive(Debug, Clone, Default)]
pub struct RoleChanges {
    pub name: Option<String>,
    pub priority: Option<i64>,
    pub default: Option<bool>,
}

fn not_found(slug: &str) -> DomainError {
    DomainError::NotFound {
        kind: "role",
        id: slug.to_string(),
    }
}

fn check_name(name: &str) -> DomainResult<()> {
    if name.trim().is_empty() || name.len() > 200 {
        return Err(DomainError::Invalid(
            "a role's name must be 1 to 200 characters".into(),
        ));
    }
    Ok(())
}

fn found(conn: &mut DbConn, tenant: &TenantId, slug: &str) -> DomainResult<Role> {
    store::roles::find_role(conn, tenant, slug)?.ok_or_else(|| not_found(slug))
}

pub fn list(store: &Store, tenant: &TenantId) -> DomainResult<Roles> {
    let data = store.read(|conn| -> DomainResult<Vec<RoleView>> {
        let book = store::roles::book(conn, tenant)?;
        Ok(book
            .roles
            .iter()
            .map(|role| RoleView {
                role: role.clone(),
                rules: book
                    .rules
                    .iter()
                    .filter(|r| r.role_id == role.id)
                    .cloned()
                    .collect(),
            })
            .collect())
    })?;
    Ok(Roles {
        data,
        recompute: role_sync::progress(store, tenant)?,
    })
}

pub fn get(store: &Store, tenant: &TenantId, slug: &str) -> DomainResult<RoleView> {
    store.read(|conn| {
        let role = found(conn, tenant, slug)?;
        let rules = store::roles::rules_of(conn, &role)?;
        Ok(RoleView { role, rules })
    })
}

pub fn create(
    store: &Store,
    tenant: &TenantId,
    new: NewRole,
    now: NaiveDateTime,
) -> DomainResult<Role> {
    check_slug(&new.slug)?;
    check_name(&new.name)?;
    let role = Role {
        id: uuid::Uuid::now_v7().to_string(),
        tenant_id: tenant.clone(),
        slug: new.slug,
        name: new.name,
        priority: new.priority,
        default: new.default,
        created_at: now,
        updated_at: now,
    };
    store.write(|conn| {
        if store::roles::find_role(conn, tenant, &role.slug)?.is_some() {
            return Err(DomainError::AlreadyExists(format!("role {}", role.slug)));
        }
        if role.default {
            store::roles::clear_default(conn, tenant, now)?;
        }
        store::roles::insert_role(conn, &role).map_err(|e| {
            if e.unique_violation().is_some() {
                DomainError::AlreadyExists(format!("role {}", role.slug))
            } else {
                e.into()
            }
        })?;
        // A role without rules is held by nobody, unless it is the default.
        if role.default {
            role_sync::request(conn, tenant, now)?;
        }
        Ok(role.clone())
    })
}

pub fn update(
    store: &Store,
    tenant: &TenantId,
    slug: &str,
    changes: RoleChanges,
    now: NaiveDateTime,
) -> DomainResult<Role> {
    if let Some(name) = &changes.name {
        check_name(name)?;
    }
    store.write(|conn| {
        let current = found(conn, tenant, slug)?;
        let next = Role {
            name: changes.name.clone().unwrap_or_else(|| current.name.clone()),
            priority: changes.priority.unwrap_or(current.priority),
            default: changes.default.unwrap_or(current.default),
            updated_at: now,
            ..current.clone()
        };
        let unchanged = Role {
            updated_at: now,
            ..current.clone()
        };
        if next == unchanged {
            return Ok(current);
        }
        if next.default && !current.default {
            store::roles::clear_default(conn, tenant, now)?;
        }
        store::roles::update_role(conn, &next)?;
        if next.priority != current.priority || next.default != current.default {
            role_sync::request(conn, tenant, now)?;
        }
        Ok(next)
    })
}

/// Deletes a role and its rules; its users are given their other roles, or the default, by
/// the recompute this starts.
pub fn delete(
    store: &Store,
    tenant: &TenantId,
    slug: &str,
    now: NaiveDateTime,
) -> DomainResult<()> {
    store.write(|conn| {
        let role = found(conn, tenant, slug)?;
        store::roles::delete_role(conn, &role)?;
        role_sync::request(conn, tenant, now)
    })
}

pub fn rules(store: &Store, tenant: &TenantId, slug: &str) -> DomainResult<Vec<Rule>> {
    store.read(|conn| {
        let role = found(conn, tenant, slug)?;
        Ok(store::roles::rules_of(conn, &role)?)
    })
}

pub fn add_rule(
    store: &Store,
    tenant: &TenantId,
    slug: &str,
    match_by: MatchBy,
    value: &str,
    now: NaiveDateTime,
) -> DomainResult<Rule> {
    if value.is_empty() || value.len() > 1024 {
        return Err(DomainError::Invalid(
            "a rule's value must be 1 to 1024 characters".into(),
        ));
    }
    store.write(|conn| {
        let role = found(conn, tenant, slug)?;
        let rule = Rule {
            id: uuid::Uuid::now_v7().to_string(),
            role_id: role.id.clone(),
            match_by,
            value: value.to_string(),
            created_at: now,
        };
        store::roles::insert_rule(conn, tenant, &rule).map_err(|e| {
            if e.unique_violation().is_some() {
                DomainError::AlreadyExists(format!(
                    "a rule of role {slug} by {} '{value}'",
                    match_by.as_str()
                ))
            } else {
                e.into()
            }
        })?;
        role_sync::request(conn, tenant, now)?;
        Ok(rule)
    })
}

pub fn delete_rule(
    store: &Store,
    tenant: &TenantId,
    slug: &str,
    rule_id: &str,
    now: NaiveDateTime,
) -> DomainResult<()> {
    store.write(|conn| {
        let role = found(conn, tenant, slug)?;
        if !store::roles::delete_rule(conn, &role, rule_id)? {
            return Err(DomainError::NotFound {
                kind: "rule",
                id: rule_id.to_string(),
            });
        }
        role_sync::request(conn, tenant, now)
    })
}
