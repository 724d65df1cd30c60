//! One SCIM operation on one resource type, from request document to domain command to stored
//! resource and back: the per-resource routes and `/Bulk` both run these. They block (database
//! work), so async callers run them off the async workers.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use serde_json::{Map, Value};

use super::error::ScimError;
use super::meta::{etag, location};
use super::resource::{Canonical, MemberRef, Projection, canonicalize, keep_immutable, project};
use super::schema::{ResourceKind, SchemaRegistry};
use super::secret::strip_secrets;
use super::{group as scim_group, patch, user as scim_user, verbatim};
use crate::domain::document::{Document, json_text};
use crate::domain::error::DomainError;
use crate::domain::group::{self, DirectoryGroup, MemberChange, NewMember};
use crate::domain::ids::{GroupId, UserId};
use crate::domain::query::{ListQuery, Page};
use crate::domain::tenancy::Scope;
use crate::domain::user::{self, DirectoryUser};
use crate::store::Store;

/// A resource ready to send: its body under the request's projection, and what the `ETag` and
/// `Location` headers need from its `meta`, which the projection may leave out.
pub struct Rendered {
    /// JSON text.
    pub body: String,
    pub version: String,
    pub location: String,
}

/// Why an operation failed: the request broke the protocol, or the domain refused it.
#[derive(Debug, thiserror::Error)]
pub enum OperationError {
    #[error(transparent)]
    Scim(#[from] ScimError),
    #[error(transparent)]
    Domain(#[from] DomainError),
}

pub type OperationResult<T> = Result<T, OperationError>;

/// What operations need: the directory data, the schemas, and the base URL resources are
/// located under.
#[derive(Clone, Copy)]
pub struct Resources<'a> {
    pub store: &'a Store,
    pub registry: &'a SchemaRegistry,
    pub base_url: &'a str,
}

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

/// Copies the `names`d top-level attributes from the stored document into `doc`.
fn keep_stored(names: &[&str], stored: &Value, doc: &mut Map<String, Value>) {
    for name in names {
        if let Some(v) = stored.get(*name).filter(|v| !v.is_null()) {
            doc.insert((*name).to_string(), v.clone());
        }
    }
}

fn new_members(members: &[MemberRef]) -> Vec<NewMember> {
    members
        .iter()
        .map(|m| NewMember {
            id: m.value.clone(),
            display: m.display.clone(),
        })
        .collect()
}

fn member_change(change: patch::MemberChange) -> MemberChange {
    match change {
        patch::MemberChange::Add(m) => MemberChange::Add(new_members(&m)),
        patch::MemberChange::Remove(v) => MemberChange::Remove(v),
        patch::MemberChange::RemoveAll => MemberChange::RemoveAll,
        patch::MemberChange::ReplaceAll(m) => MemberChange::ReplaceAll(new_members(&m)),
    }
}

impl Resources<'_> {
    pub fn create(
        self,
        scope: &Scope,
        kind: ResourceKind,
        body: &Value,
        now: NaiveDateTime,
    ) -> Result<Resource, OperationError> {
        Ok(match kind {
            ResourceKind::User => {
                let write = self.user_write(body)?;
                Resource::User(Box::new(user::create(self.store, scope, write, now)?))
            }
            ResourceKind::Group => {
                let raw = strip_secrets(self.registry, kind, body);
                let canonical = canonicalize(self.registry, kind, body)?;
                let members = canonical
                    .members
                    .as_deref()
                    .map(new_members)
                    .unwrap_or_default();
                let write = scim_group::group_write(self.registry, canonical.doc, raw);
                Resource::Group(group::create(self.store, scope, write, members, now)?)
            }
        })
    }

    /// `create` of a user, awaited while the store writes it (`Store::write_queued`).
    pub async fn create_user_queued(
        self,
        scope: &Scope,
        body: &Value,
        now: NaiveDateTime,
    ) -> Result<DirectoryUser, OperationError> {
        let write = self.user_write(body)?;
        Ok(user::create_queued(self.store, scope, write, now).await?)
    }

    fn user_write(self, body: &Value) -> Result<user::UserWrite, OperationError> {
        let canonical = canonicalize(self.registry, ResourceKind::User, body)?;
        Ok(scim_user::user_write(
            self.registry,
            canonical.doc,
            strip_secrets(self.registry, ResourceKind::User, body),
        ))
    }

    pub fn get(
        self,
        scope: &Scope,
        kind: ResourceKind,
        id: &str,
    ) -> Result<Resource, OperationError> {
        Ok(match kind {
            ResourceKind::User => Resource::User(Box::new(user::get(
                self.store,
                scope,
                &UserId::from_raw(id),
            )?)),
            ResourceKind::Group => {
                Resource::Group(group::get(self.store, scope, &GroupId::from_raw(id))?)
            }
        })
    }

    pub fn list(
        self,
        scope: &Scope,
        kind: ResourceKind,
        query: &ListQuery,
    ) -> Result<Page<Resource>, OperationError> {
        Ok(match kind {
            ResourceKind::User => {
                let page = user::list(self.store, scope, query)?;
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
                let page = group::list(self.store, scope, query)?;
                Page {
                    total: page.total,
                    items: page.items.into_iter().map(Resource::Group).collect(),
                }
            }
        })
    }

    /// PUT: replaces the resource; a Group's membership becomes exactly the members sent.
    /// Each top-level attribute named in `kept` (schema spelling) that the body leaves out keeps
    /// its stored value: RFC 7644 §3.5.1 lets a server keep or clear an omitted attribute, and
    /// an IdP adapter chooses (an explicit `null` still clears).
    #[allow(clippy::too_many_arguments)]
    pub fn replace(
        self,
        scope: &Scope,
        kind: ResourceKind,
        id: &str,
        body: &Value,
        kept: &[&str],
        expected_version: Option<&str>,
        now: NaiveDateTime,
    ) -> Result<Resource, OperationError> {
        let reg = self.registry;
        let raw = strip_secrets(reg, kind, body);
        let omitted: Vec<&str> = kept
            .iter()
            .copied()
            .filter(|name| {
                body.as_object()
                    .is_some_and(|b| !b.keys().any(|k| k.eq_ignore_ascii_case(name)))
            })
            .collect();
        let canonical = canonicalize(reg, kind, body)?;
        let mut doc = canonical.doc;
        let store = self.store;
        Ok(match kind {
            ResourceKind::User => Resource::User(Box::new(user::update::<OperationError>(
                store,
                scope,
                &UserId::from_raw(id),
                expected_version,
                now,
                |current| {
                    let stored = current.resource.value()?;
                    keep_stored(&omitted, &stored, &mut doc);
                    keep_immutable(reg, kind, &stored, &mut doc)?;
                    Ok(scim_user::user_write(reg, doc, raw))
                },
            )?)),
            ResourceKind::Group => {
                let members = canonical
                    .members
                    .as_deref()
                    .map(new_members)
                    .unwrap_or_default();
                Resource::Group(group::update::<OperationError>(
                    store,
                    scope,
                    &GroupId::from_raw(id),
                    expected_version,
                    now,
                    |current| {
                        let stored = current.resource.value()?;
                        keep_stored(&omitted, &stored, &mut doc);
                        keep_immutable(reg, kind, &stored, &mut doc)?;
                        let write = scim_group::group_write(reg, doc, raw);
                        Ok((Some(write), vec![MemberChange::ReplaceAll(members)]))
                    },
                )?)
            }
        })
    }

    /// PATCH: applies the operations to the stored document and re-validates the result; the
    /// stored raw body stays (a PATCH carries operations, not a resource).
    pub fn modify(
        self,
        scope: &Scope,
        kind: ResourceKind,
        id: &str,
        body: &Value,
        expected_version: Option<&str>,
        now: NaiveDateTime,
    ) -> Result<Resource, OperationError> {
        let reg = self.registry;
        let ops = patch::parse_request(body)?;
        let store = self.store;
        let patched =
            |stored: &Document| -> Result<(Canonical, Vec<patch::MemberChange>), OperationError> {
                let mut doc = match stored.value()? {
                    Value::Object(map) => map,
                    _ => Map::new(),
                };
                let changes = patch::apply(reg, kind, &mut doc, &ops)?;
                Ok((canonicalize(reg, kind, &Value::Object(doc))?, changes))
            };
        Ok(match kind {
            ResourceKind::User => {
                Resource::User(Box::new(user::update_prepared::<OperationError>(
                    store,
                    scope,
                    &UserId::from_raw(id),
                    expected_version,
                    now,
                    |current| {
                        let (canonical, _) = patched(&current.resource)?;
                        Ok(scim_user::user_write(reg, canonical.doc, Value::Null))
                    },
                )?))
            }
            ResourceKind::Group => Resource::Group(group::update_prepared::<OperationError>(
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
        self,
        scope: &Scope,
        kind: ResourceKind,
        id: &str,
        expected_version: Option<&str>,
        now: NaiveDateTime,
    ) -> Result<(), OperationError> {
        match kind {
            ResourceKind::User => user::delete(
                self.store,
                scope,
                &UserId::from_raw(id),
                expected_version,
                now,
            )?,
            ResourceKind::Group => group::delete(
                self.store,
                scope,
                &GroupId::from_raw(id),
                expected_version,
                now,
            )?,
        }
        Ok(())
    }

    /// SCIM documents of resources under a projection, reading what the projection needs: all
    /// the users' groups in one query, and all the groups' members in one more only when they
    /// are kept.
    pub fn render(
        self,
        scope: &Scope,
        items: Vec<Resource>,
        p: &Projection,
    ) -> OperationResult<Vec<Rendered>> {
        let reg = self.registry;
        let base = self.base_url;
        let (mut user_ids, mut group_ids) = (Vec::new(), Vec::new());
        for r in &items {
            match r {
                Resource::User(u) => user_ids.push(u.id.to_string()),
                Resource::Group(g) => group_ids.push(g.id.to_string()),
            }
        }
        let groups: HashMap<String, Vec<(String, String)>> =
            group::groups_of_users(self.store, scope, &user_ids)?;
        let members = if p.includes_members(reg) {
            Some(group::named_members(self.store, scope, &group_ids)?)
        } else {
            None
        };
        items
            .iter()
            .map(|r| {
                let (kind, doc, added) = match r {
                    Resource::User(u) => {
                        let mine = groups.get(u.id.as_str()).map_or(&[][..], Vec::as_slice);
                        let added = scim_user::response_members(u, mine, base);
                        (ResourceKind::User, &u.resource, added)
                    }
                    Resource::Group(g) => {
                        let mine = members
                            .as_ref()
                            .map(|m| m.get(g.id.as_str()).map_or(&[][..], Vec::as_slice));
                        let added = scim_group::response_members(g, mine, base);
                        (ResourceKind::Group, &g.resource, added)
                    }
                };
                self.rendered(kind, doc, r.id(), r.version(), added, p)
            })
            .collect()
    }

    /// `render` of a user this request created: it belongs to no group, since nobody knew its
    /// id before this response, so no membership is read.
    pub fn render_created_user(
        self,
        user: &DirectoryUser,
        p: &Projection,
    ) -> OperationResult<Rendered> {
        let added = scim_user::response_members(user, &[], self.base_url);
        let id = user.id.as_str();
        self.rendered(
            ResourceKind::User,
            &user.resource,
            id,
            user.version,
            added,
            p,
        )
    }

    fn rendered(
        self,
        kind: ResourceKind,
        doc: &Document,
        id: &str,
        version: i64,
        added: Vec<(&'static str, Value)>,
        p: &Projection,
    ) -> OperationResult<Rendered> {
        Ok(Rendered {
            body: respond(self.registry, kind, doc, added, p)?,
            version: etag(version),
            location: location(kind, id, self.base_url),
        })
    }
}

/// The response body for a stored document and the members a response adds to it: spliced
/// from the stored text when the default projection keeps it whole (`verbatim`), else parsed
/// and projected.
fn respond(
    reg: &SchemaRegistry,
    kind: ResourceKind,
    doc: &Document,
    added: Vec<(&'static str, Value)>,
    p: &Projection,
) -> OperationResult<String> {
    if *p == Projection::Default {
        let texts: Vec<(&str, String)> = added.iter().map(|(n, v)| (*n, json_text(v))).collect();
        let texts: Vec<(&str, &str)> = texts.iter().map(|(n, v)| (*n, v.as_str())).collect();
        if let Some(body) = verbatim::splice(reg, kind, doc.as_str(), &texts) {
            return Ok(body);
        }
    }
    let mut full = match doc.value()? {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    for (name, value) in added {
        full.insert(name.to_string(), value);
    }
    Ok(json_text(&project(reg, kind, Value::Object(full), p)))
}
