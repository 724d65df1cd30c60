//! Directory groups and memberships. Membership changes cost work in proportion to the members
//! named, never to the size of the group.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDateTime;
use diesel::Connection;
use serde::Serialize;
use serde_json::{Value, json};

use super::document::Document;
use super::error::{DomainError, DomainResult, TxError};
use super::event::{EventKind, NewEvent};
use super::ids::{DirectoryId, GroupId, TenantId, UserId};
use super::index::IndexedValue;
use super::lifecycle::{OnDelete, OnGroupLoss};
use super::prepared::prepare;
use super::query::{ListQuery, Page};
use super::record::{self, MemberRecord};
use super::role_sync;
use super::roles::GroupFacts;
use super::tenancy::Scope;
use super::user::check_version;
use crate::store::{self, DbConn, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum MemberKind {
    User,
    Group,
}

impl MemberKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberKind::User => "User",
            MemberKind::Group => "Group",
        }
    }
}

/// A member as stored: its id and what it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Member {
    pub id: String,
    pub kind: MemberKind,
}

/// A member with the name a group read shows beside it (`None`: the member has no name to
/// show, e.g. a user row already purged).
#[derive(Debug, Clone, PartialEq)]
pub struct NamedMember {
    pub member: Member,
    pub display: Option<String>,
}

/// One step of a membership change, applied in the order given.
#[derive(Debug, Clone, PartialEq)]
pub enum MemberChange {
    Add(Vec<NewMember>),
    Remove(Vec<String>),
    RemoveAll,
    ReplaceAll(Vec<NewMember>),
}

/// A member being added, with the text a SCIM client sent as its `display`: RFC 7643 §2.4
/// makes that sub-attribute immutable, so it is kept from the moment the member is added and
/// shown on reads (a member added without one shows its own current name).
#[derive(Debug, Clone, PartialEq)]
pub struct NewMember {
    pub id: String,
    pub display: Option<String>,
}

impl From<String> for NewMember {
    fn from(id: String) -> Self {
        NewMember { id, display: None }
    }
}

#[derive(Debug, Clone)]
pub struct GroupWrite {
    pub display_name: String,
    pub external_id: Option<String>,
    pub resource: Value,
    pub raw: Value,
    pub index: Vec<IndexedValue>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DirectoryGroup {
    pub id: GroupId,
    pub tenant_id: TenantId,
    pub directory_id: DirectoryId,
    pub display_name: String,
    pub external_id: Option<String>,
    pub resource: Document,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

/// What role rules match a group on.
fn facts(g: &DirectoryGroup) -> GroupFacts {
    GroupFacts {
        id: g.id.to_string(),
        external_id: g.external_id.clone(),
        display_name: g.display_name.clone(),
    }
}

fn not_found(id: &GroupId) -> DomainError {
    DomainError::NotFound {
        kind: "Group",
        id: id.to_string(),
    }
}

fn group_event(kind: EventKind, group: &DirectoryGroup) -> DomainResult<NewEvent> {
    Ok(NewEvent::new(
        kind,
        group.id.to_string(),
        Document::from_value(&record::group(group)?),
    ))
}

/// `group_ref` is the group as membership events name it (`record::group_ref`).
fn membership_event(
    kind: EventKind,
    group: &GroupId,
    group_ref: &Value,
    member: &MemberRecord,
) -> NewEvent {
    NewEvent::new(
        kind,
        group.to_string(),
        Document::from_value(&record::membership(group_ref, member)),
    )
}

/// The records of the members `ids` (users and nested groups), by id, in two queries. A member
/// whose row is gone is named by its id alone.
fn member_records(
    conn: &mut DbConn,
    scope: &Scope,
    ids: &[(String, MemberKind)],
) -> DomainResult<HashMap<String, MemberRecord>> {
    let of_kind = |kind: MemberKind| -> Vec<String> {
        ids.iter()
            .filter(|(_, k)| *k == kind)
            .map(|(id, _)| id.clone())
            .collect()
    };
    let mut records = HashMap::with_capacity(ids.len());
    for user in store::users::find_many(conn, scope, &of_kind(MemberKind::User))? {
        records.insert(user.id.to_string(), MemberRecord::of_user(&user)?);
    }
    for group in store::groups::find_many(conn, scope, &of_kind(MemberKind::Group))? {
        records.insert(group.id.to_string(), MemberRecord::of_group(&group)?);
    }
    for (id, kind) in ids {
        records.entry(id.clone()).or_insert_with(|| MemberRecord {
            id: id.clone(),
            kind: *kind,
            record: json!({"id": id}),
        });
    }
    Ok(records)
}

pub fn create(
    store: &Store,
    scope: &Scope,
    write: GroupWrite,
    members: Vec<NewMember>,
    now: NaiveDateTime,
) -> DomainResult<DirectoryGroup> {
    let group = DirectoryGroup {
        id: GroupId::generate(),
        tenant_id: scope.tenant_id.clone(),
        directory_id: scope.directory_id.clone(),
        display_name: write.display_name,
        external_id: write.external_id,
        resource: Document::from_value(&write.resource),
        version: 1,
        created_at: now,
        updated_at: now,
        deleted_at: None,
    };
    let group_ref = record::group_ref(&group);
    store.write(|conn| {
        store::groups::insert(conn, &group, &write.raw)?;
        store::attribute_index::replace(conn, scope, "Group", group.id.as_str(), &write.index)?;
        let mut events = vec![group_event(EventKind::GroupCreated, &group)?];
        let added = add_members(
            conn,
            scope,
            &group.id,
            &group_ref,
            &members,
            now,
            &mut events,
        )?;
        store::users::touch_versions(conn, scope, &added.iter().cloned().collect())?;
        events.extend(role_sync::refresh(conn, scope, &added)?);
        store::events::append(conn, scope, &events, now)?;
        Ok(group.clone())
    })
}

pub fn get(store: &Store, scope: &Scope, id: &GroupId) -> DomainResult<DirectoryGroup> {
    store
        .read(|conn| store::groups::find(conn, scope, id))?
        .ok_or_else(|| not_found(id))
}

pub fn list(store: &Store, scope: &Scope, query: &ListQuery) -> DomainResult<Page<DirectoryGroup>> {
    Ok(store.read(|conn| store::groups::list(conn, scope, query))?)
}

/// The groups each user belongs to directly, as (group id, displayName), in one query.
pub fn groups_of_users(
    store: &Store,
    scope: &Scope,
    user_ids: &[String],
) -> DomainResult<std::collections::HashMap<String, Vec<(String, String)>>> {
    if user_ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(store.read(|conn| store::groups::groups_of(conn, scope, user_ids))?)
}

/// The members of each of `groups` with their display names, in one query.
pub fn named_members(
    store: &Store,
    scope: &Scope,
    groups: &[String],
) -> DomainResult<std::collections::HashMap<String, Vec<NamedMember>>> {
    if groups.is_empty() {
        return Ok(Default::default());
    }
    Ok(store.read(|conn| store::groups::named_members(conn, scope, groups))?)
}

/// The members of each of `groups`, in one query.
pub fn members(
    store: &Store,
    scope: &Scope,
    groups: &[String],
) -> DomainResult<std::collections::HashMap<String, Vec<Member>>> {
    if groups.is_empty() {
        return Ok(Default::default());
    }
    Ok(store.read(|conn| store::groups::members(conn, scope, groups))?)
}

/// The change of a group: its new attributes (`None` keeps them) and its membership steps.
type GroupChange = (Option<GroupWrite>, Vec<MemberChange>);

/// `update` for a change that costs work of its own (a PATCH's operations): it is computed
/// before the write (see `prepared`), so other writers do not wait on it.
pub fn update_prepared<E>(
    store: &Store,
    scope: &Scope,
    id: &GroupId,
    expected_version: Option<&str>,
    now: NaiveDateTime,
    mut change: impl FnMut(&DirectoryGroup) -> Result<GroupChange, E>,
) -> Result<DirectoryGroup, E>
where
    E: From<DomainError>,
{
    let mut prepared = prepare(store, |c| store::groups::find(c, scope, id), &mut change);
    update(
        store,
        scope,
        id,
        expected_version,
        now,
        |current| match prepared.take_for(current.version) {
            Some(change) => Ok(change),
            None => change(current),
        },
    )
}

/// Read-modify-write of one group: `change` sees the current group and returns the new
/// attributes (or `None` to keep them) and the membership steps to apply.
pub fn update<E>(
    store: &Store,
    scope: &Scope,
    id: &GroupId,
    expected_version: Option<&str>,
    now: NaiveDateTime,
    change: impl FnOnce(&DirectoryGroup) -> Result<GroupChange, E>,
) -> Result<DirectoryGroup, E>
where
    E: From<DomainError>,
{
    store
        .write(|conn| -> Result<_, TxError<E>> {
            // Locking the row first serialises writers of one group: the read below and the
            // membership checks see every earlier writer's result.
            if !store::groups::lock(conn, scope, id)? {
                return Err(not_found(id).into());
            }
            let current = store::groups::find(conn, scope, id)?.ok_or_else(|| not_found(id))?;
            check_version(expected_version, current.version)?;
            let (write, member_changes) = change(&current).map_err(TxError::Change)?;
            let mut next = current.clone();
            let mut attributes_changed = false;
            if let Some(w) = &write {
                attributes_changed = w.display_name != current.display_name
                    || w.external_id != current.external_id
                    || !current.resource.holds(&w.resource);
                next.display_name = w.display_name.clone();
                next.external_id = w.external_id.clone();
                next.resource = Document::from_value(&w.resource);
            }
            let group_ref = record::group_ref(&next);
            let renamed = next.display_name != current.display_name
                || next.external_id != current.external_id;
            let at_stake = if renamed {
                role_sync::members_at_stake(conn, scope, &facts(&current), Some(&facts(&next)))?
            } else {
                Vec::new()
            };
            let mut events = Vec::new();
            let mut removed = Vec::new();
            let mut regrouped = BTreeSet::new();
            for step in &member_changes {
                let (added, gone) =
                    apply_member_change(conn, scope, id, &group_ref, step, now, &mut events)?;
                regrouped.extend(added.into_iter().chain(gone.iter().cloned()));
                removed.extend(gone);
            }
            // The members whose roles a rename moves are locked with those regrouped, in
            // one id order, as every writer that locks several users does.
            if !at_stake.is_empty() {
                let mut all: Vec<String> = at_stake.clone();
                all.extend(regrouped.iter().cloned());
                store::roles::lock_users(conn, &all)?;
            }
            // Before deactivation, which locks some of the same users: all in one id order.
            store::users::touch_versions(conn, scope, &regrouped)?;
            let deactivated = super::user::deactivate_if_groupless(conn, scope, &removed, now)?;
            if !attributes_changed && events.is_empty() {
                return Ok(current);
            }
            next.version = current.version + 1;
            next.updated_at = now;
            store::groups::update(conn, &next, write.as_ref().map(|w| &w.raw))?;
            if let Some(w) = &write {
                store::attribute_index::replace(conn, scope, "Group", id.as_str(), &w.index)?;
            }
            let recompute: Vec<String> = regrouped.into_iter().chain(at_stake).collect();
            let roles_changed = role_sync::refresh(conn, scope, &recompute)?;
            if attributes_changed {
                events.insert(
                    0,
                    NewEvent::updated(
                        EventKind::GroupUpdated,
                        id.to_string(),
                        &record::group(&current)?,
                        &record::group(&next)?,
                    ),
                );
            }
            events.extend(deactivated);
            events.extend(roles_changed);
            store::events::append(conn, scope, &events, now)?;
            Ok(next)
        })
        .map_err(TxError::into_caller)
}

/// Applies one membership step; returns the users it added and those it removed.
fn apply_member_change(
    conn: &mut DbConn,
    scope: &Scope,
    group: &GroupId,
    group_ref: &Value,
    step: &MemberChange,
    now: NaiveDateTime,
    events: &mut Vec<NewEvent>,
) -> DomainResult<(Vec<String>, Vec<String>)> {
    match step {
        MemberChange::Add(ids) => Ok((
            add_members(conn, scope, group, group_ref, ids, now, events)?,
            Vec::new(),
        )),
        MemberChange::Remove(ids) => Ok((
            Vec::new(),
            remove_members(conn, scope, group, group_ref, ids, events)?,
        )),
        MemberChange::RemoveAll => {
            let all = store::groups::member_ids(conn, scope, group)?;
            Ok((
                Vec::new(),
                remove_members(conn, scope, group, group_ref, &all, events)?,
            ))
        }
        MemberChange::ReplaceAll(ids) => {
            let wanted: BTreeSet<&String> = ids.iter().map(|m| &m.id).collect();
            let current = store::groups::member_ids(conn, scope, group)?;
            let leaving: Vec<String> = current
                .iter()
                .filter(|m| !wanted.contains(m))
                .cloned()
                .collect();
            let removed = remove_members(conn, scope, group, group_ref, &leaving, events)?;
            let added = add_members(conn, scope, group, group_ref, ids, now, events)?;
            Ok((added, removed))
        }
    }
}

/// Adds the members among `ids` the group lacks; returns the users added. A member already
/// in the group keeps the `display` it was added with.
fn add_members(
    conn: &mut DbConn,
    scope: &Scope,
    group: &GroupId,
    group_ref: &Value,
    ids: &[NewMember],
    now: NaiveDateTime,
    events: &mut Vec<NewEvent>,
) -> DomainResult<Vec<String>> {
    let displays: HashMap<&str, &str> = ids
        .iter()
        .filter_map(|m| Some((m.id.as_str(), m.display.as_deref()?)))
        .collect();
    let requested: BTreeSet<String> = ids.iter().map(|m| m.id.clone()).collect();
    if requested.is_empty() {
        return Ok(Vec::new());
    }
    let requested: Vec<String> = requested.into_iter().collect();
    let existing: BTreeSet<String> =
        store::groups::existing_members(conn, scope, group, &requested)?
            .into_iter()
            .collect();
    let new: Vec<String> = requested
        .into_iter()
        .filter(|id| !existing.contains(id))
        .collect();
    let kinds = store::groups::resolve_members(conn, scope, &new)?;
    let mut resolved = Vec::with_capacity(new.len());
    for id in new {
        let kind = *kinds
            .get(&id)
            .ok_or_else(|| DomainError::UnknownMember(id.clone()))?;
        resolved.push((id, kind));
    }
    refuse_cycles(conn, group, &resolved)?;
    let records = member_records(conn, scope, &resolved)?;
    let rows: Vec<(&str, MemberKind, Option<&str>)> = resolved
        .iter()
        .map(|(id, kind)| (id.as_str(), *kind, displays.get(id.as_str()).copied()))
        .collect();
    store::groups::insert_memberships(conn, scope, group, &rows, now)?;
    for (id, _) in &resolved {
        events.push(membership_event(
            EventKind::GroupUserAdded,
            group,
            group_ref,
            &records[id],
        ));
    }
    Ok(resolved
        .into_iter()
        .filter(|(_, kind)| *kind == MemberKind::User)
        .map(|(id, _)| id)
        .collect())
}

/// Refuses nested groups that would make `group` a member of itself, directly or through
/// any chain of nested groups: every reader that expands nesting would loop.
fn refuse_cycles(
    conn: &mut DbConn,
    group: &GroupId,
    members: &[(String, MemberKind)],
) -> DomainResult<()> {
    let mut frontier: Vec<String> = members
        .iter()
        .filter(|(_, kind)| *kind == MemberKind::Group)
        .map(|(id, _)| id.clone())
        .collect();
    let mut seen: BTreeSet<String> = frontier.iter().cloned().collect();
    while !frontier.is_empty() {
        if frontier.iter().any(|id| id == group.as_str()) {
            return Err(DomainError::Invalid(
                "a group cannot be a member of itself, directly or through nested groups".into(),
            ));
        }
        frontier = store::groups::nested_groups(conn, &frontier)?
            .into_iter()
            .filter(|id| seen.insert(id.clone()))
            .collect();
    }
    Ok(())
}

/// Removes the members among `ids`; returns the users removed.
fn remove_members(
    conn: &mut DbConn,
    scope: &Scope,
    group: &GroupId,
    group_ref: &Value,
    ids: &[String],
    events: &mut Vec<NewEvent>,
) -> DomainResult<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let present = store::groups::existing_member_kinds(conn, scope, group, ids)?;
    let gone: Vec<String> = present.iter().map(|(id, _)| id.clone()).collect();
    store::groups::delete_memberships(conn, group, &gone)?;
    let records = member_records(conn, scope, &present)?;
    for (id, _) in &present {
        events.push(membership_event(
            EventKind::GroupUserRemoved,
            group,
            group_ref,
            &records[id],
        ));
    }
    Ok(present
        .into_iter()
        .filter(|(_, kind)| *kind == MemberKind::User)
        .map(|(id, _)| id)
        .collect())
}

/// Locks `member` (a user or group about to be removed) and, before it, the groups that hold
/// it, in the one order every writer uses (`store::groups::lock_in_order`), as a group PATCH
/// locks its group before the members it resolves. PostgreSQL only; SQLite's writer is alone.
///
/// A PATCH may add the member to another group between the read of its groups and the
/// member's lock, which waits for that PATCH (`store::users::lock_for_removal`). Detaching it
/// from that group would then lock the group out of order, and deadlock with a PATCH of that
/// group that waits for the member; so while the member's groups changed under the locks,
/// they are let go (a savepoint's rollback releases its row locks) and taken again.
pub(crate) fn lock_for_removal(
    conn: &mut DbConn,
    scope: &Scope,
    member: &str,
    kind: MemberKind,
) -> DomainResult<()> {
    if !store::locks_rows(conn) {
        return Ok(());
    }
    loop {
        let taken = conn.transaction(|conn| -> Result<(), Unsettled> {
            let holding = holding_ids(conn, scope, member)?;
            let locked: Vec<String> = holding.iter().cloned().collect();
            store::groups::lock_in_order(conn, scope, &locked)?;
            match kind {
                MemberKind::User => {
                    store::users::lock_for_removal(conn, scope, &UserId::from_raw(member))?
                }
                MemberKind::Group => {
                    store::groups::lock_for_removal(conn, scope, &GroupId::from_raw(member))?
                }
            }
            if holding_ids(conn, scope, member)?.is_subset(&holding) {
                Ok(())
            } else {
                Err(Unsettled::Grew)
            }
        });
        match taken {
            Ok(()) => return Ok(()),
            Err(Unsettled::Grew) => continue,
            Err(Unsettled::Failed(e)) => return Err(e.into()),
        }
    }
}

/// Why `lock_for_removal` lets its locks go: to take them again, or for good.
enum Unsettled {
    Grew,
    Failed(store::StoreError),
}

impl From<store::StoreError> for Unsettled {
    fn from(e: store::StoreError) -> Self {
        Unsettled::Failed(e)
    }
}

impl From<diesel::result::Error> for Unsettled {
    fn from(e: diesel::result::Error) -> Self {
        Unsettled::Failed(e.into())
    }
}

fn holding_ids(
    conn: &mut DbConn,
    scope: &Scope,
    member: &str,
) -> Result<BTreeSet<String>, store::StoreError> {
    Ok(store::groups::groups_holding(conn, scope, member)?
        .into_iter()
        .map(|(g, _)| g.to_string())
        .collect())
}

/// Removes `member` from every group of the directory that holds it, bumping each group's
/// version; returns the events to append.
pub(crate) fn detach_member(
    conn: &mut DbConn,
    scope: &Scope,
    member: &MemberRecord,
    now: NaiveDateTime,
) -> DomainResult<Vec<NewEvent>> {
    let holding: Vec<String> = store::groups::groups_holding(conn, scope, &member.id)?
        .into_iter()
        .map(|(g, _)| g.to_string())
        .collect();
    let mut groups = store::groups::find_many(conn, scope, &holding)?;
    groups.sort_by(|a, b| a.id.cmp(&b.id));
    let mut events = Vec::with_capacity(groups.len());
    for group in groups {
        store::groups::delete_memberships(conn, &group.id, std::slice::from_ref(&member.id))?;
        store::groups::touch(conn, scope, &group.id, now)?;
        events.push(membership_event(
            EventKind::GroupUserRemoved,
            &group.id,
            &record::group_ref(&group),
            member,
        ));
    }
    Ok(events)
}

/// Deletes a group as the directory's policy says (soft: kept with `deleted_at` until the
/// retention runs out; hard: removed). Its memberships go either way, so no member keeps
/// access through it.
pub fn delete(
    store: &Store,
    scope: &Scope,
    id: &GroupId,
    expected_version: Option<&str>,
    now: NaiveDateTime,
) -> DomainResult<()> {
    store.write(|conn| {
        lock_for_removal(conn, scope, id.as_str(), MemberKind::Group)?;
        if !store::groups::lock(conn, scope, id)? {
            return Err(not_found(id));
        }
        let current = store::groups::find(conn, scope, id)?.ok_or_else(|| not_found(id))?;
        check_version(expected_version, current.version)?;
        // Its users lose a group; locked after the group, as a PATCH locks them.
        store::users::touch_versions_of_members(conn, scope, id)?;
        let policy = store::tenancy::deprovisioning(conn, &scope.directory_id)?;
        // Only read the members when the policy needs them: a large group's DELETE must not
        // load 100,000 ids for nothing.
        let members = if policy.on_group_loss == OnGroupLoss::Deactivate {
            store::groups::member_ids(conn, scope, id)?
        } else {
            Vec::new()
        };
        // Locked above with every member, by `touch_versions_of_members`.
        let at_stake = role_sync::members_at_stake(conn, scope, &facts(&current), None)?;
        let mut events = detach_member(conn, scope, &MemberRecord::of_group(&current)?, now)?;
        store::attribute_index::remove(conn, scope, id.as_str())?;
        let gone = match policy.on_delete {
            OnDelete::Hard => {
                store::groups::delete(conn, scope, id)?;
                current
            }
            OnDelete::Soft => {
                store::groups::delete_all_memberships(conn, id)?;
                let gone = DirectoryGroup {
                    version: current.version + 1,
                    updated_at: now,
                    deleted_at: Some(now),
                    ..current
                };
                store::groups::update(conn, &gone, None)?;
                gone
            }
        };
        events.push(group_event(EventKind::GroupDeleted, &gone)?);
        events.extend(role_sync::refresh(conn, scope, &at_stake)?);
        events.extend(super::user::deactivate_if_groupless(
            conn, scope, &members, now,
        )?);
        store::events::append(conn, scope, &events, now)?;
        Ok(())
    })
}

/// The groups whose `externalId` is one of `external_ids`, in one query.
pub fn find_by_external_ids(
    store: &Store,
    scope: &Scope,
    external_ids: &[String],
) -> DomainResult<Vec<DirectoryGroup>> {
    if external_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(store.read(|conn| store::groups::find_by_external_ids(conn, scope, external_ids))?)
}

/// Roster's ids of the live users and groups an IdP names by its own ids (their
/// `externalId`s): a puller's member list, translated.
pub fn member_ids_by_external_ids(
    store: &Store,
    scope: &Scope,
    users: &[String],
    groups: &[String],
) -> DomainResult<Vec<String>> {
    Ok(store.read(|conn| -> Result<_, store::StoreError> {
        let mut ids = store::users::ids_by_external_ids(conn, scope, users)?;
        ids.extend(store::groups::ids_by_external_ids(conn, scope, groups)?);
        Ok(ids)
    })?)
}

/// One page of (id, externalId) of every group, in id order after `after`.
pub fn external_ids_page(
    store: &Store,
    scope: &Scope,
    after: Option<&str>,
    limit: i64,
) -> DomainResult<Vec<(String, Option<String>)>> {
    Ok(store.read(|conn| store::groups::external_ids_page(conn, scope, after, limit))?)
}
