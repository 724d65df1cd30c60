//! One SCIM operation on one resource type, from request document to stored resource and back:
//! the per-resource routes and `/Bulk` both run these. They block (database work), so async
//! callers run them in `web::block`.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use serde_json::Value;

use super::AppState;
use super::error::ApiError;
use crate::domain::group::{self, DirectoryGroup, MemberChange};
use crate::domain::ids::{GroupId, UserId};
use crate::domain::query::{ListQuery, Page};
use crate::domain::tenancy::Scope;
use crate::domain::user::{self, DirectoryUser};
use crate::scim::resource::{MemberRef, Projection, canonicalize, project, strip_secrets};
use crate::scim::schema::ResourceKind;
use crate::scim::{group as scim_group, patch, user as scim_user};

/// A stored resource of either type.
pub enum Resource {
    User(Box<DirectoryUser>),
    Group(DirectoryGroup),
}

impl Resource {
    pub fn version(&self) -> i64 {
        match self {
            Resource::User(u) => u.version,
            Resource::Group(g) => g.version,
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Resource::User(u) => u.id.as_str(),
            Resource::Group(g) => g.id.as_str(),
        }
    }

    pub fn position(&self) -> (NaiveDateTime, String) {
        match self {
            Resource::User(u) => (u.created_at, u.id.to_string()),
            Resource::Group(g) => (g.created_at, g.id.to_string()),
        }
    }
}

fn member_ids(members: &[MemberRef]) -> Vec<String> {
    members.iter().map(|m| m.value.clone()).collect()
}

fn member_change(change: patch::MemberChange) -> MemberChange {
    match change {
        patch::MemberChange::Add(m) => MemberChange::Add(member_ids(&m)),
        patch::MemberChange::Remove(v) => MemberChange::Remove(v),
        patch::MemberChange::RemoveAll => MemberChange::RemoveAll,
        patch::MemberChange::ReplaceAll(m) => MemberChange::ReplaceAll(member_ids(&m)),
    }
}

pub fn create(
    state: &AppState,
    scope: &Scope,
    kind: ResourceKind,
    body: &Value,
    now: NaiveDateTime,
) -> Result<Resource, ApiError> {
    let reg = &state.registry;
    let raw = strip_secrets(body);
    let canonical = canonicalize(reg, kind, body)?;
    Ok(match kind {
        ResourceKind::User => {
            let write = scim_user::user_write(reg, canonical.doc, raw);
            Resource::User(Box::new(user::create(&state.store, scope, write, now)?))
        }
        ResourceKind::Group => {
            let members = canonical
                .members
                .as_deref()
                .map(member_ids)
                .unwrap_or_default();
            let write = scim_group::group_write(reg, canonical.doc, raw);
            Resource::Group(group::create(&state.store, scope, write, members, now)?)
        }
    })
}

pub fn get(
    state: &AppState,
    scope: &Scope,
    kind: ResourceKind,
    id: &str,
) -> Result<Resource, ApiError> {
    Ok(match kind {
        ResourceKind::User => Resource::User(Box::new(user::get(
            &state.store,
            scope,
            &UserId::from_raw(id),
        )?)),
        ResourceKind::Group => {
            Resource::Group(group::get(&state.store, scope, &GroupId::from_raw(id))?)
        }
    })
}

pub fn list(
    state: &AppState,
    scope: &Scope,
    kind: ResourceKind,
    query: &ListQuery,
) -> Result<Page<Resource>, ApiError> {
    Ok(match kind {
        ResourceKind::User => {
            let page = user::list(&state.store, scope, query)?;
            Page {
                total: page.total,
                items: page
                    .items
                    .into_iter()
                    .map(|u| Resource::User(Box::new(u)))
                    .collect(),
            }
        }
        ResourceKind::Group => {
            let page = group::list(&state.store, scope, query)?;
            Page {
                total: page.total,
                items: page.items.into_iter().map(Resource::Group).collect(),
            }
        }
    })
}

/// PUT: replaces the resource; a Group's membership becomes exactly the members sent.
pub fn replace(
    state: &AppState,
    scope: &Scope,
    kind: ResourceKind,
    id: &str,
    body: &Value,
    expected_version: Option<&str>,
    now: NaiveDateTime,
) -> Result<Resource, ApiError> {
    let reg = &state.registry;
    let raw = strip_secrets(body);
    let canonical = canonicalize(reg, kind, body)?;
    let store = &state.store;
    Ok(match kind {
        ResourceKind::User => {
            let write = scim_user::user_write(reg, canonical.doc, raw);
            Resource::User(Box::new(user::update::<ApiError>(
                store,
                scope,
                &UserId::from_raw(id),
                expected_version,
                now,
                |_| Ok(write),
            )?))
        }
        ResourceKind::Group => {
            let members = canonical
                .members
                .as_deref()
                .map(member_ids)
                .unwrap_or_default();
            let write = scim_group::group_write(reg, canonical.doc, raw);
            Resource::Group(group::update::<ApiError>(
                store,
                scope,
                &GroupId::from_raw(id),
                expected_version,
                now,
                |_| Ok((Some(write), vec![MemberChange::ReplaceAll(members)])),
            )?)
        }
    })
}

/// PATCH: applies the operations to the stored document and re-validates the result; the
/// stored raw body stays (a PATCH carries operations, not a resource).
pub fn modify(
    state: &AppState,
    scope: &Scope,
    kind: ResourceKind,
    id: &str,
    body: &Value,
    expected_version: Option<&str>,
    now: NaiveDateTime,
) -> Result<Resource, ApiError> {
    let reg = &state.registry;
    let ops = patch::parse_request(body)?;
    let store = &state.store;
    let patched = |resource: &Value| -> Result<
        (crate::scim::resource::Canonical, Vec<patch::MemberChange>),
        ApiError,
    > {
        let mut doc = resource.as_object().cloned().unwrap_or_default();
        let changes = patch::apply(reg, kind, &mut doc, &ops)?;
        Ok((canonicalize(reg, kind, &Value::Object(doc))?, changes))
    };
    Ok(match kind {
        ResourceKind::User => Resource::User(Box::new(user::update::<ApiError>(
            store,
            scope,
            &UserId::from_raw(id),
            expected_version,
            now,
            |current| {
                let (canonical, _) = patched(&current.resource)?;
                Ok(scim_user::user_write(reg, canonical.doc, Value::Null))
            },
        )?)),
        ResourceKind::Group => Resource::Group(group::update::<ApiError>(
            store,
            scope,
            &GroupId::from_raw(id),
            expected_version,
            now,
            |current| {
                let (canonical, changes) = patched(&current.resource)?;
                let write = scim_group::group_write(reg, canonical.doc, Value::Null);
                Ok((
                    Some(write),
                    changes.into_iter().map(member_change).collect(),
                ))
            },
        )?),
    })
}

pub fn delete(
    state: &AppState,
    scope: &Scope,
    kind: ResourceKind,
    id: &str,
    expected_version: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    match kind {
        ResourceKind::User => user::delete(
            &state.store,
            scope,
            &UserId::from_raw(id),
            expected_version,
            now,
        )?,
        ResourceKind::Group => group::delete(
            &state.store,
            scope,
            &GroupId::from_raw(id),
            expected_version,
            now,
        )?,
    }
    Ok(())
}

/// Full and projected SCIM documents of resources, reading what the projection needs: all the
/// users' groups in one query, and all the groups' members in one more only when they are kept.
pub fn render(
    state: &AppState,
    scope: &Scope,
    items: &[Resource],
    p: &Projection,
) -> Result<Vec<(Value, Value)>, ApiError> {
    let reg = &state.registry;
    let base = &state.base_url;
    let (mut user_ids, mut group_ids) = (Vec::new(), Vec::new());
    for r in items {
        match r {
            Resource::User(u) => user_ids.push(u.id.to_string()),
            Resource::Group(g) => group_ids.push(g.id.to_string()),
        }
    }
    let groups: HashMap<String, Vec<(String, String)>> =
        group::groups_of_users(&state.store, scope, &user_ids)?;
    let members = if p.includes_members(reg) {
        Some(group::members(&state.store, scope, &group_ids)?)
    } else {
        None
    };
    items
        .iter()
        .map(|r| {
            let (kind, full) = match r {
                Resource::User(u) => {
                    let mine = groups.get(u.id.as_str()).map_or(&[][..], Vec::as_slice);
                    (ResourceKind::User, scim_user::render(u, Some(mine), base))
                }
                Resource::Group(g) => {
                    let mine = members
                        .as_ref()
                        .map(|m| m.get(g.id.as_str()).map_or(&[][..], Vec::as_slice));
                    (ResourceKind::Group, scim_group::render(g, mine, base))
                }
            };
            let projected = project(reg, kind, &full, p);
            Ok((full, projected))
        })
        .collect()
}
