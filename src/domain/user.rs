//! Directory users: the normalized record the app reads, and the commands that change it.

use chrono::NaiveDateTime;
use serde::Serialize;
use serde_json::Value;

use super::custom_attribute::{self, CustomValues, Mapping};
use super::document::{Document, json_text};
use super::error::{DomainError, DomainResult, TxError};
use super::event::{EventKind, NewEvent};
use super::group::MemberKind;
use super::ids::UserId;
use super::index::IndexedValue;
use super::lifecycle::{OnDeactivate, OnDelete, OnGroupLoss};
use super::prepared::prepare;
use super::query::{ListQuery, Page};
use super::record::{self, MemberRecord};
use super::tenancy::Scope;
use crate::store::attribute_index::PathNumbers;
use crate::store::{self, DbConn, Store};

/// Typed columns the app can read and the database can index, taken from the SCIM resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserProfile {
    pub user_name: String,
    pub external_id: Option<String>,
    pub active: bool,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub primary_email: Option<String>,
    pub job_title: Option<String>,
    pub department: Option<String>,
    pub employee_id: Option<String>,
    pub manager_id: Option<String>,
}

/// A user as a create or update wants it stored.
#[derive(Debug, Clone)]
pub struct UserWrite {
    pub profile: UserProfile,
    /// The SCIM resource in canonical form, without `id` and `meta`.
    pub resource: Value,
    /// The body as the client sent it, secrets removed; JSON null keeps the stored one (a
    /// PATCH sends operations, not a resource).
    pub raw: Value,
    pub index: Vec<IndexedValue>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UserState {
    Active,
    Inactive,
    /// Soft-deleted: kept for the directory's retention, invisible to SCIM.
    Deleted,
}

impl UserState {
    pub fn of(active: bool) -> Self {
        if active {
            UserState::Active
        } else {
            UserState::Inactive
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            UserState::Active => "active",
            UserState::Inactive => "inactive",
            UserState::Deleted => "deleted",
        }
    }
}

impl std::str::FromStr for UserState {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [UserState::Active, UserState::Inactive, UserState::Deleted]
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| DomainError::Invalid(format!("unknown user state '{s}'")))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DirectoryUser {
    pub id: UserId,
    pub tenant_id: super::ids::TenantId,
    pub directory_id: super::ids::DirectoryId,
    #[serde(flatten)]
    pub profile: UserProfile,
    pub state: UserState,
    pub resource: Document,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
    /// Effective role slugs, highest priority first (`roles::RoleBook::effective`).
    pub roles: Vec<String>,
    /// The directory's custom attributes as derived at the last write; `None` while the
    /// directory maps none.
    pub custom_attributes: Option<CustomValues>,
}

fn event(kind: EventKind, user: &DirectoryUser) -> DomainResult<NewEvent> {
    Ok(NewEvent::new(
        kind,
        user.id.to_string(),
        Document::from_value(&record::user(user)?),
    ))
}

/// An update's event: the record after, and what changed since `before`.
fn update_event(
    kind: EventKind,
    before: &DirectoryUser,
    after: &DirectoryUser,
) -> DomainResult<NewEvent> {
    Ok(NewEvent::updated(
        kind,
        after.id.to_string(),
        &record::user(before)?,
        &record::user(after)?,
    ))
}

fn user_name_taken(e: store::StoreError, user_name: &str) -> DomainError {
    if e.unique_violation().is_some() {
        DomainError::UserNameTaken(user_name.to_string())
    } else {
        DomainError::Store(e)
    }
}

pub fn create(
    store: &Store,
    scope: &Scope,
    write: UserWrite,
    now: NaiveDateTime,
) -> DomainResult<DirectoryUser> {
    the_one(create_many(store, scope, vec![write], now)?)
}

fn the_one(mut created: Vec<DirectoryUser>) -> DomainResult<DirectoryUser> {
    created
        .pop()
        .ok_or_else(|| DomainError::Invalid("nothing was created".into()))
}

/// `create`, awaited while the store writes it (`Store::write_queued`): the caller's thread
/// does not wait for it.
pub async fn create_queued(
    store: &Store,
    scope: &Scope,
    write: UserWrite,
    now: NaiveDateTime,
) -> DomainResult<DirectoryUser> {
    let new = NewUsers::of(scope, vec![write], now)?;
    let known = store::attribute_index::known_numbers(store, scope, "User");
    let failing_first = new.fails_first(&known);
    let scope_owned = scope.clone();
    let (users, made) = if failing_first {
        // Run again, should another write of its group fail: the users are taken each time.
        let mut new = new;
        store
            .write_again_queued(move |conn: &mut DbConn| -> DomainResult<_> {
                let made = new.insert(conn, &scope_owned, &known, now)?;
                Ok((new.users.clone(), made))
            })
            .await?
    } else {
        let mut new = new;
        store
            .write_queued(move |conn: &mut DbConn| -> DomainResult<_> {
                let made = new.insert(conn, &scope_owned, &known, now)?;
                Ok((new.users, made))
            })
            .await?
    };
    NewUsers::keep(store, scope, made);
    the_one(users)
}

/// Creates users in one transaction: all of them or, on the first taken `userName`, none.
/// For imports, where a transaction per user would cost a commit each.
pub fn create_many(
    store: &Store,
    scope: &Scope,
    writes: Vec<UserWrite>,
    now: NaiveDateTime,
) -> DomainResult<Vec<DirectoryUser>> {
    let mut new = NewUsers::of(scope, writes, now)?;
    let known = store::attribute_index::known_numbers(store, scope, "User");
    let fails_first = new.fails_first(&known);
    let insert = |conn: &mut DbConn| new.insert(conn, scope, &known, now);
    let made = if fails_first {
        store.write_again(insert)?
    } else {
        store.write(insert)?
    };
    NewUsers::keep(store, scope, made);
    Ok(new.users)
}

/// Users about to be created, with their bodies, index values and events, all made before the
/// write.
struct NewUsers {
    users: Vec<DirectoryUser>,
    /// The bodies as sent, as JSON text.
    raws: Vec<String>,
    indexes: Vec<Vec<IndexedValue>>,
    events: Vec<NewEvent>,
}

impl NewUsers {
    fn of(scope: &Scope, writes: Vec<UserWrite>, now: NaiveDateTime) -> DomainResult<NewUsers> {
        let mut new = NewUsers {
            users: Vec::with_capacity(writes.len()),
            raws: Vec::with_capacity(writes.len()),
            indexes: Vec::with_capacity(writes.len()),
            events: Vec::with_capacity(writes.len()),
        };
        for write in writes {
            let user = DirectoryUser {
                id: UserId::generate(),
                tenant_id: scope.tenant_id.clone(),
                directory_id: scope.directory_id.clone(),
                state: UserState::of(write.profile.active),
                profile: write.profile,
                resource: Document::from_value(&write.resource),
                version: 1,
                created_at: now,
                updated_at: now,
                deleted_at: None,
                roles: Vec::new(),
                custom_attributes: None,
            };
            new.events.push(event(EventKind::UserCreated, &user)?);
            new.users.push(user);
            new.raws.push(json_text(&write.raw));
            new.indexes.push(write.index);
        }
        Ok(new)
    }

    /// Whether the write's one failure a client causes is its first statement (a taken
    /// userName), so that it needs no savepoint (`Store::write_again`): true for one
    /// user whose paths are all numbered. Several users are inserted one row at a time, and a
    /// new path is numbered first, so a later statement could fail after an earlier one wrote.
    fn fails_first(&self, known: &PathNumbers) -> bool {
        self.users.len() == 1
            && store::attribute_index::all_numbered(known, self.indexes.iter().flatten())
    }

    /// Writes the users, their index rows and their events, numbering inside this write the
    /// paths `known` lacks. Returns the numbers it made, to be kept once committed (`keep`).
    fn insert(
        &mut self,
        conn: &mut DbConn,
        scope: &Scope,
        known: &PathNumbers,
        now: NaiveDateTime,
    ) -> DomainResult<Option<PathNumbers>> {
        // A new user belongs to no group yet: it holds the tenant's default role, read in
        // this write so that a default changed meanwhile is never missed. The events are made
        // again only then, sparing the writer the records' JSON in every other case.
        let roles: Vec<String> = store::roles::default_slug(conn, &scope.tenant_id)?
            .into_iter()
            .collect();
        if self.users.first().is_some_and(|u| u.roles != roles) {
            let mut events = Vec::with_capacity(self.users.len());
            for user in &mut self.users {
                user.roles = roles.clone();
                events.push(event(EventKind::UserCreated, user)?);
            }
            self.events = events;
        }
        let mappings = store::custom_attributes::mappings(conn, scope)?;
        if !mappings.is_empty() {
            self.derive(&mappings)?;
        }
        let mut made = None;
        if !store::attribute_index::all_numbered(known, self.indexes.iter().flatten()) {
            let mut numbers = known.clone();
            for index in &self.indexes {
                store::attribute_index::number_missing(conn, scope, "User", &mut numbers, index)?;
            }
            made = Some(numbers);
        }
        let with_raws: Vec<_> = self
            .users
            .iter()
            .zip(self.raws.iter().map(String::as_str))
            .collect();
        store::users::insert(conn, &with_raws).map_err(|e| match self.users.as_slice() {
            [one] => user_name_taken(e, &one.profile.user_name),
            many => user_name_taken(e, &format!("one of {} userNames", many.len())),
        })?;
        let indexed: Vec<(&str, &[IndexedValue])> = self
            .users
            .iter()
            .zip(&self.indexes)
            .map(|(user, index)| (user.id.as_str(), index.as_slice()))
            .collect();
        let numbers = made.as_ref().unwrap_or(known);
        store::attribute_index::insert(conn, scope, numbers, &indexed)?;
        let custom: Vec<(&str, &CustomValues)> = self
            .users
            .iter()
            .filter_map(|u| Some((u.id.as_str(), u.custom_attributes.as_ref()?)))
            .collect();
        store::custom_attributes::insert_values(conn, scope, &custom)?;
        store::events::append(conn, scope, &self.events, now)?;
        Ok(made)
    }

    /// Gives the users the custom attributes `mappings` derive, and their events with them.
    /// Done in the write, with the mappings it reads: on SQLite, whose writes take turns, a
    /// mapping change commits either before (this write derives with it) or after (its
    /// re-derivation sees this user). On PostgreSQL a change committed between this read and
    /// this commit is missed if its re-derivation passes first (docs/admin-api.md).
    fn derive(&mut self, mappings: &[Mapping]) -> DomainResult<()> {
        for (user, made) in self.users.iter_mut().zip(self.events.iter_mut()) {
            let custom = custom_attribute::derive(mappings, &user.resource.value()?);
            if custom != user.custom_attributes {
                user.custom_attributes = custom;
                *made = event(EventKind::UserCreated, user)?;
            }
        }
        Ok(())
    }

    /// After the commit: the numbers `insert` made are committed now.
    fn keep(store: &Store, scope: &Scope, made: Option<PathNumbers>) {
        if let Some(numbers) = made {
            store::attribute_index::now_committed(store, scope, "User", numbers);
        }
    }
}

pub fn get(store: &Store, scope: &Scope, id: &UserId) -> DomainResult<DirectoryUser> {
    store
        .read(|conn| store::users::find(conn, scope, id))?
        .ok_or_else(|| not_found(id))
}

fn not_found(id: &UserId) -> DomainError {
    DomainError::NotFound {
        kind: "User",
        id: id.to_string(),
    }
}

pub fn list(store: &Store, scope: &Scope, query: &ListQuery) -> DomainResult<Page<DirectoryUser>> {
    Ok(store.read(|conn| store::users::list(conn, scope, query))?)
}

/// `update` for a change that costs work of its own (a PATCH's operations): it is computed
/// before the write (see `prepared`), so other writers do not wait on it.
pub fn update_prepared<E>(
    store: &Store,
    scope: &Scope,
    id: &UserId,
    expected_version: Option<&str>,
    now: NaiveDateTime,
    mut change: impl FnMut(&DirectoryUser) -> Result<UserWrite, E>,
) -> Result<DirectoryUser, E>
where
    E: From<DomainError>,
{
    let mut prepared = prepare(store, |c| store::users::find(c, scope, id), &mut change);
    update(
        store,
        scope,
        id,
        expected_version,
        now,
        |current| match prepared.take_for(current.version) {
            Some(write) => Ok(write),
            None => change(current),
        },
    )
}

/// Read-modify-write of one user: `change` sees the current user and returns what to store.
/// `expected_version` is the client's `If-Match`. Nothing is written, and the version stays,
/// when the result equals what is stored.
pub fn update<E>(
    store: &Store,
    scope: &Scope,
    id: &UserId,
    expected_version: Option<&str>,
    now: NaiveDateTime,
    change: impl FnOnce(&DirectoryUser) -> Result<UserWrite, E>,
) -> Result<DirectoryUser, E>
where
    E: From<DomainError>,
{
    // Every failure a client causes comes before the first write (the lock is a read on
    // SQLite) or is that write: the row's UPDATE, on a taken userName.
    store
        .write_failing_first(|conn| -> Result<_, TxError<E>> {
            // A deactivation that deletes removes the user from its groups: their locks come
            // first, in the order every writer takes them.
            if store::locks_rows(conn)
                && store::tenancy::deprovisioning(conn, &scope.directory_id)?.on_deactivate
                    == OnDeactivate::Delete
            {
                super::group::lock_for_removal(conn, scope, id.as_str(), MemberKind::User)?;
            }
            // Locking the row first makes concurrent writers of one user queue up instead of
            // failing their version checks.
            if !store::users::lock(conn, scope, id)? {
                return Err(not_found(id).into());
            }
            let current = store::users::find(conn, scope, id)?.ok_or_else(|| not_found(id))?;
            check_version(expected_version, current.version)?;
            let write = change(&current).map_err(TxError::Change)?;
            let mappings = store::custom_attributes::mappings(conn, scope)?;
            let custom = custom_attribute::derive(&mappings, &write.resource);
            if write.profile == current.profile
                && current.resource.holds(&write.resource)
                && custom == current.custom_attributes
            {
                return Ok(current);
            }
            let next = DirectoryUser {
                custom_attributes: custom,
                state: UserState::of(write.profile.active),
                profile: write.profile,
                resource: Document::from_value(&write.resource),
                version: current.version + 1,
                updated_at: now,
                ..current.clone()
            };
            let user_name = next.profile.user_name.clone();
            let stored = store::users::update(conn, &next, &write.raw, current.version)
                .map_err(|e| user_name_taken(e, &user_name))?;
            if !stored {
                // Cannot happen while the row is locked; refuse rather than overwrite.
                return Err(DomainError::VersionMismatch {
                    expected: current.version.to_string(),
                    current: "changed concurrently".into(),
                }
                .into());
            }
            store::attribute_index::replace(conn, scope, "User", next.id.as_str(), &write.index)?;
            if next.custom_attributes != current.custom_attributes {
                store::custom_attributes::replace_values(
                    conn,
                    scope,
                    next.id.as_str(),
                    next.custom_attributes.as_ref(),
                )?;
            }
            let kind = match (current.profile.active, next.profile.active) {
                (true, false) => EventKind::UserDeactivated,
                (false, true) => EventKind::UserReactivated,
                _ => EventKind::UserUpdated,
            };
            let mut events = vec![update_event(kind, &current, &next)?];
            if kind == EventKind::UserDeactivated {
                let policy = store::tenancy::deprovisioning(conn, &scope.directory_id)?;
                if policy.on_deactivate == OnDeactivate::Delete {
                    events.extend(remove(conn, scope, &next, policy.on_delete, now)?);
                }
            }
            store::events::append(conn, scope, &events, now)?;
            Ok(next)
        })
        .map_err(TxError::into_caller)
}

pub(crate) fn check_version(expected: Option<&str>, current: i64) -> DomainResult<()> {
    match expected {
        Some(v) if v != current.to_string() => Err(DomainError::VersionMismatch {
            expected: v.to_string(),
            current: current.to_string(),
        }),
        _ => Ok(()),
    }
}

/// Deletes a user as the directory's policy says: a soft delete keeps the row with state
/// `deleted` until the retention runs out, a hard delete removes it. Either way the user leaves
/// every group (each gets a new version and a `group.user_removed` event) and SCIM no longer
/// finds it.
pub fn delete(
    store: &Store,
    scope: &Scope,
    id: &UserId,
    expected_version: Option<&str>,
    now: NaiveDateTime,
) -> DomainResult<()> {
    store.write(|conn| {
        super::group::lock_for_removal(conn, scope, id.as_str(), MemberKind::User)?;
        if !store::users::lock(conn, scope, id)? {
            return Err(not_found(id));
        }
        let current = store::users::find(conn, scope, id)?.ok_or_else(|| not_found(id))?;
        check_version(expected_version, current.version)?;
        let policy = store::tenancy::deprovisioning(conn, &scope.directory_id)?;
        let events = remove(conn, scope, &current, policy.on_delete, now)?;
        store::events::append(conn, scope, &events, now)?;
        Ok(())
    })
}

/// The users whose `externalId` is one of `external_ids`, in one query: how a puller finds
/// what it stored for a page of its IdP's records.
pub fn find_by_external_ids(
    store: &Store,
    scope: &Scope,
    external_ids: &[String],
) -> DomainResult<Vec<DirectoryUser>> {
    if external_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(store.read(|conn| store::users::find_by_external_ids(conn, scope, external_ids))?)
}

/// One page of (id, externalId) of every user, in id order after `after`.
pub fn external_ids_page(
    store: &Store,
    scope: &Scope,
    after: Option<&str>,
    limit: i64,
) -> DomainResult<Vec<(String, Option<String>)>> {
    Ok(store.read(|conn| store::users::external_ids_page(conn, scope, after, limit))?)
}

/// Removes a live user locked for removal (`group::lock_for_removal`); returns the events to
/// append.
fn remove(
    conn: &mut DbConn,
    scope: &Scope,
    user: &DirectoryUser,
    how: OnDelete,
    now: NaiveDateTime,
) -> DomainResult<Vec<NewEvent>> {
    let member = MemberRecord::of_user(user)?;
    let mut events = super::group::detach_member(conn, scope, &member, now)?;
    store::attribute_index::remove(conn, scope, user.id.as_str())?;
    // A deleted user holds no role (`docs/roles.md`).
    let roleless = DirectoryUser {
        roles: Vec::new(),
        ..user.clone()
    };
    if !user.roles.is_empty() {
        events.push(update_event(EventKind::UserRolesChanged, user, &roleless)?);
    }
    let gone = match how {
        OnDelete::Hard => {
            store::users::delete(conn, scope, &user.id)?;
            roleless
        }
        OnDelete::Soft => {
            let gone = DirectoryUser {
                state: UserState::Deleted,
                version: user.version + 1,
                updated_at: now,
                deleted_at: Some(now),
                ..inactive(&roleless)?
            };
            store::users::update(conn, &gone, &Value::Null, user.version)?;
            gone
        }
    };
    events.push(event(EventKind::UserDeleted, &gone)?);
    Ok(events)
}

/// `user` with `active` false in its columns and in its resource.
fn inactive(user: &DirectoryUser) -> DomainResult<DirectoryUser> {
    let mut resource = user.resource.value()?;
    if let Value::Object(doc) = &mut resource {
        doc.insert("active".into(), Value::Bool(false));
    }
    Ok(DirectoryUser {
        state: UserState::Inactive,
        profile: UserProfile {
            active: false,
            ..user.profile.clone()
        },
        resource: Document::from_value(&resource),
        ..user.clone()
    })
}

/// Deactivates the active users among `ids` that no longer belong to any group, when the
/// directory's policy asks for it; returns the events to append.
pub(crate) fn deactivate_if_groupless(
    conn: &mut DbConn,
    scope: &Scope,
    ids: &[String],
    now: NaiveDateTime,
) -> DomainResult<Vec<NewEvent>> {
    let mut events = Vec::new();
    if ids.is_empty()
        || store::tenancy::deprovisioning(conn, &scope.directory_id)?.on_group_loss
            != OnGroupLoss::Deactivate
    {
        return Ok(events);
    }
    let mut groupless = store::groups::without_groups(conn, scope, ids)?;
    // Locked in id order, as every writer that locks several users does.
    groupless.sort();
    for id in groupless {
        let id = UserId::from_raw(id);
        if !store::users::lock(conn, scope, &id)? {
            continue;
        }
        let Some(current) = store::users::find(conn, scope, &id)? else {
            continue;
        };
        if !current.profile.active {
            continue;
        }
        let next = DirectoryUser {
            version: current.version + 1,
            updated_at: now,
            ..inactive(&current)?
        };
        store::users::update(conn, &next, &Value::Null, current.version)?;
        store::attribute_index::set_value(conn, scope, "User", id.as_str(), "active", "false")?;
        events.push(update_event(EventKind::UserDeactivated, &current, &next)?);
    }
    Ok(events)
}

/// Derives `users`' custom attributes again from `mappings` and writes those whose values
/// changed, each with a `user.updated` event; returns how many changed. A user another writer
/// changed since it was read is left alone: that write derived it.
pub(crate) fn rederive(
    conn: &mut DbConn,
    scope: &Scope,
    mappings: &[Mapping],
    users: &[DirectoryUser],
    now: NaiveDateTime,
) -> DomainResult<usize> {
    let mut events = Vec::new();
    for user in users {
        let custom = custom_attribute::derive(mappings, &user.resource.value()?);
        if custom == user.custom_attributes {
            continue;
        }
        let next = DirectoryUser {
            custom_attributes: custom,
            version: user.version + 1,
            updated_at: now,
            ..user.clone()
        };
        if !store::users::set_custom_attributes(conn, &next, user.version)? {
            continue;
        }
        store::custom_attributes::replace_values(
            conn,
            scope,
            next.id.as_str(),
            next.custom_attributes.as_ref(),
        )?;
        events.push(update_event(EventKind::UserUpdated, user, &next)?);
    }
    store::events::append(conn, scope, &events, now)?;
    Ok(events.len())
}
