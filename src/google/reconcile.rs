//! Reconciling what Google lists with what is stored, through the domain commands the SCIM
//! path uses. Pages are applied as they arrive. What a sync keeps in memory is state, not
//! directory: the page in hand (and the next, being fetched), each group's id pair, the
//! Workspace's domains, and the members of the one group being read. The ids the listings
//! named go to the database (`store::google_seen`), which the deprovisioning walk asks page by
//! page, so what the sync holds does not grow with the directory (figures, and what still
//! does at a million users, in docs/performance.md).
//!
//! Deprovisioning happens only after every listing has been read to its last page: a sync that
//! fails halfway has changed what it read, and removed no one.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;

use super::GoogleError;
use super::client::Api;
use super::external::{self, Domains};
use super::map::{self, google_id};
use crate::domain::clock;
use crate::domain::error::DomainError;
use crate::domain::group::{self, MemberChange, MemberKind};
use crate::domain::ids::{GroupId, UserId};
use crate::domain::tenancy::Scope;
use crate::domain::user;
use crate::scim::schema::SchemaRegistry;
use crate::store::Store;
use crate::store::google_seen::{self, Seen};

const USERS: &str = "admin/directory/v1/users";
const GROUPS: &str = "admin/directory/v1/groups";
/// Google's maxima for each list.
const USERS_PAGE: u32 = 500;
const GROUPS_PAGE: u32 = 200;
const MEMBERS_PAGE: u32 = 200;
/// Rows written by one phase of a sync from which on planner statistics are refreshed.
const BULK_IMPORT: u64 = 1000;
/// Stored ids are walked in pages of this many when looking for who is gone.
const WALK_PAGE: i64 = 1000;

/// What a sync did, as it goes.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Counts {
    pub pages: u64,
    pub users: u64,
    pub groups: u64,
    pub users_created: u64,
    pub users_updated: u64,
    pub users_deprovisioned: u64,
    pub groups_created: u64,
    pub groups_updated: u64,
    pub groups_deprovisioned: u64,
    pub memberships_changed: u64,
    /// Members of synced groups from outside the Workspace's domains, as listed (one per
    /// group they are in): recorded per group, never made users (`external`).
    pub external_members: u64,
    /// Records Roster cannot store (e.g. no primary email, or a userName another user holds);
    /// counted as seen, so never deprovisioned for it.
    pub skipped: u64,
}

impl Counts {
    pub fn created(&self) -> u64 {
        self.users_created + self.groups_created
    }

    /// Users and groups changed; a group counts once whether its attributes, its members or
    /// both changed.
    pub fn updated(&self) -> u64 {
        self.users_updated + self.groups_updated
    }

    pub fn deprovisioned(&self) -> u64 {
        self.users_deprovisioned + self.groups_deprovisioned
    }

    pub fn changes(&self) -> u64 {
        self.created() + self.updated() + self.deprovisioned() + self.memberships_changed
    }
}

/// Called after every page read; an error (e.g. the sync lease was lost) stops the sync.
pub type OnPage<'a> = dyn FnMut(&Counts) -> Result<(), GoogleError> + 'a;

pub struct Reconciler<'a> {
    pub store: &'a Store,
    pub registry: &'a SchemaRegistry,
    pub api: &'a Api,
    pub scope: Scope,
    /// `("customer", id)` or `("domain", name)`: which users and groups the lists cover.
    pub target: (&'static str, String),
    /// Group emails: when set, only these groups and their members are synced.
    pub groups: Option<Vec<String>>,
}

/// Which users a group-filtered sync keeps.
enum Wanted {
    All,
    Ids(HashSet<String>),
}

/// The group whose member listing is being read: its members as stored when its first page
/// came, and what its listing named so far. Bounded by the group's size, and dropped when
/// its listing ends.
struct Reading<'g> {
    roster: &'g str,
    current: BTreeMap<String, MemberKind>,
    named: BTreeSet<String>,
    everyone: bool,
    outsiders: BTreeMap<String, Option<String>>,
}

/// What the member listing of all groups yields, in order: each group's pages, then its end.
enum MemberPage<'g> {
    Page(&'g str, Result<Vec<Value>, GoogleError>),
    End,
}

/// Runs `apply` on each item of `pages` while a thread already fetches the next one, so
/// Google's latency overlaps the database work. The first error from `apply` stops both: the
/// fetching thread finds the channel closed after its current request.
fn prefetched<T: Send>(
    pages: impl Iterator<Item = T> + Send,
    mut apply: impl FnMut(T) -> Result<(), GoogleError>,
) -> Result<(), GoogleError> {
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        s.spawn(move || {
            for page in pages {
                if tx.send(page).is_err() {
                    break;
                }
            }
        });
        rx.into_iter().try_for_each(&mut apply)
    })
}

/// A path segment: group emails and ids go into URLs.
fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"@.-_~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn text<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

impl Reconciler<'_> {
    fn list_query(&self, max: u32, users: bool) -> Vec<(&'static str, String)> {
        let mut q = vec![
            (self.target.0, self.target.1.clone()),
            ("maxResults", max.to_string()),
        ];
        if users {
            // `full` includes custom schema values.
            q.push(("projection", "full".to_string()));
        }
        q
    }

    /// A full reconcile of users, groups and memberships, then deprovisioning of whoever the
    /// complete listings no longer name.
    pub fn full(&self, on_page: &mut OnPage<'_>) -> Result<Counts, GoogleError> {
        let mut c = Counts::default();
        self.clear_seen()?;
        let wanted = match &self.groups {
            Some(emails) => Some(self.chosen_members(emails, &mut c, on_page)?),
            None => None,
        };
        let mut domains = Domains::default();
        let pages = self
            .api
            .pages(USERS.into(), self.list_query(USERS_PAGE, true), "users");
        prefetched(pages, |page| {
            let mut page = page?;
            c.pages += 1;
            domains.note_users(&page);
            if let Some(Wanted::Ids(ids)) = &wanted {
                page.retain(|u| google_id(u).is_some_and(|id| ids.contains(id)));
            }
            self.seen(Seen::User, &page)?;
            self.apply_users(&page, &mut c)?;
            on_page(&c)
        })?;

        self.refresh_statistics_after(c.users_created)?;

        let mut groups: Vec<(String, String)> = Vec::new();
        let mut touched = HashSet::new();
        match &self.groups {
            None => {
                for page in
                    self.api
                        .pages(GROUPS.into(), self.list_query(GROUPS_PAGE, false), "groups")
                {
                    let page = page?;
                    c.pages += 1;
                    domains.note_groups(&page);
                    self.seen(Seen::Group, &page)?;
                    self.apply_groups(&page, &mut c, &mut groups, &mut touched)?;
                    on_page(&c)?;
                }
            }
            Some(emails) => {
                for email in emails {
                    let path = format!("{GROUPS}/{}", segment(email));
                    let found = self
                        .api
                        .get(&path, &[])?
                        .ok_or_else(|| GoogleError::NotFound(format!("group {email}")))?;
                    c.pages += 1;
                    let page = [found];
                    domains.note_groups(&page);
                    self.seen(Seen::Group, &page)?;
                    self.apply_groups(&page, &mut c, &mut groups, &mut touched)?;
                    on_page(&c)?;
                }
            }
        }
        let api = self.api;
        let member_pages = groups.iter().flat_map(|(google, roster)| {
            let roster = roster.as_str();
            let path = format!("{GROUPS}/{}/members", segment(google));
            let query = vec![("maxResults", MEMBERS_PAGE.to_string())];
            api.pages(path, query, "members")
                .map(move |page| MemberPage::Page(roster, page))
                .chain(std::iter::once(MemberPage::End))
        });
        let mut reading: Option<Reading<'_>> = None;
        prefetched(member_pages, |next| match next {
            MemberPage::Page(roster, page) => {
                c.pages += 1;
                let group = match reading.take() {
                    Some(r) if r.roster == roster => r,
                    _ => self.start_reading(roster)?,
                };
                let group = reading.insert(group);
                self.apply_member_page(group, &page?, &domains, &mut c, &mut touched)?;
                on_page(&c)
            }
            // Every listing yields a page (perhaps empty) or an error before its end.
            MemberPage::End => match reading.take() {
                Some(group) => self.finish_reading(group, &mut c, &mut touched),
                None => Ok(()),
            },
        })?;

        self.refresh_statistics_after(c.groups_created + c.memberships_changed)?;

        self.deprovision_users(&mut c)?;
        self.deprovision_groups(&mut c)?;
        self.clear_seen()?;
        on_page(&c)?;
        Ok(c)
    }

    /// Empties what this directory's syncs saw, a batch per transaction.
    fn clear_seen(&self) -> Result<(), GoogleError> {
        let directory = self.scope.directory_id.as_str();
        while self
            .store
            .write(|conn| google_seen::clear_some(conn, directory))?
            > 0
        {}
        Ok(())
    }

    /// Records the Google ids a listing page named, before anything on it is mapped: a
    /// record Roster cannot store is skipped, never deprovisioned.
    fn seen(&self, kind: Seen, page: &[Value]) -> Result<(), GoogleError> {
        let ids: Vec<String> = page
            .iter()
            .filter_map(|r| google_id(r).map(str::to_string))
            .collect();
        let directory = self.scope.directory_id.as_str();
        self.store
            .write(|conn| google_seen::add(conn, directory, kind, &ids))?;
        Ok(())
    }

    /// After a phase that imported many rows (a first sync), the rest of the sync reads
    /// through fresh planner statistics.
    fn refresh_statistics_after(&self, imported: u64) -> Result<(), GoogleError> {
        if imported >= BULK_IMPORT {
            self.store.refresh_statistics().map_err(DomainError::from)?;
        }
        Ok(())
    }

    /// The users of the chosen groups, nested groups' users included.
    fn chosen_members(
        &self,
        emails: &[String],
        c: &mut Counts,
        on_page: &mut OnPage<'_>,
    ) -> Result<Wanted, GoogleError> {
        let mut ids = HashSet::new();
        for email in emails {
            let query = vec![
                ("maxResults", MEMBERS_PAGE.to_string()),
                ("includeDerivedMembership", "true".to_string()),
            ];
            let path = format!("{GROUPS}/{}/members", segment(email));
            for page in self.api.pages(path, query, "members") {
                let page = page.map_err(|e| match e {
                    GoogleError::NotFound(_) => GoogleError::NotFound(format!("group {email}")),
                    e => e,
                })?;
                c.pages += 1;
                for m in &page {
                    match (text(m, "type"), text(m, "id")) {
                        (Some("CUSTOMER"), _) => return Ok(Wanted::All),
                        (Some("USER"), Some(id)) => {
                            ids.insert(id.to_string());
                        }
                        _ => {}
                    }
                }
                on_page(c)?;
            }
        }
        Ok(Wanted::Ids(ids))
    }

    fn apply_users(&self, page: &[Value], c: &mut Counts) -> Result<(), GoogleError> {
        let ids: Vec<String> = page
            .iter()
            .filter_map(|u| google_id(u).map(str::to_string))
            .collect();
        let stored: HashMap<String, user::DirectoryUser> =
            user::find_by_external_ids(self.store, &self.scope, &ids)?
                .into_iter()
                .filter_map(|u| Some((u.profile.external_id.clone()?, u)))
                .collect();
        let now = clock::now();
        let mut new_users = Vec::new();
        for g in page {
            c.users += 1;
            let Some(id) = google_id(g) else {
                c.skipped += 1;
                continue;
            };
            let write = match map::user(self.registry, g) {
                Ok(w) => w,
                Err(e) => {
                    tracing::warn!(google_id = id, error = %e, "skipping a Google user Roster cannot store");
                    c.skipped += 1;
                    continue;
                }
            };
            let result = match stored.get(id) {
                None => {
                    new_users.push((id.to_string(), write));
                    Ok(())
                }
                Some(cur)
                    if cur.profile == write.profile && cur.resource.holds(&write.resource) =>
                {
                    Ok(())
                }
                Some(cur) => user::update(self.store, &self.scope, &cur.id, None, now, |_| {
                    Ok::<_, DomainError>(write)
                })
                .map(|_| {
                    c.users_updated += 1;
                }),
            };
            match result {
                Ok(()) => {}
                Err(DomainError::UserNameTaken(name)) => {
                    // Usually a rename onto an address another stored user still holds; the
                    // next sync, after that user is updated too, applies it.
                    tracing::warn!(google_id = id, user_name = %name, "userName held by another user; skipped this sync");
                    c.skipped += 1;
                }
                Err(e) => return Err(e.into()),
            }
        }
        self.create_users(new_users, now, c)
    }

    /// Creates a page's new users in one transaction: a first sync of 100,000 users is then
    /// 200 commits, not 100,000. One taken `userName` refuses the whole batch, so the page is
    /// retried user by user and only that user waits for a later sync.
    fn create_users(
        &self,
        new: Vec<(String, user::UserWrite)>,
        now: chrono::NaiveDateTime,
        c: &mut Counts,
    ) -> Result<(), GoogleError> {
        if new.is_empty() {
            return Ok(());
        }
        let writes = new.iter().map(|(_, w)| w.clone()).collect();
        match user::create_many(self.store, &self.scope, writes, now) {
            Ok(created) => {
                c.users_created += created.len() as u64;
                Ok(())
            }
            Err(DomainError::UserNameTaken(_)) => {
                for (id, write) in new {
                    match user::create(self.store, &self.scope, write, now) {
                        Ok(_) => c.users_created += 1,
                        Err(DomainError::UserNameTaken(name)) => {
                            // Usually a rename onto an address another stored user still
                            // holds; the next sync, after that user is updated too, applies it.
                            tracing::warn!(google_id = id, user_name = %name, "userName held by another user; skipped this sync");
                            c.skipped += 1;
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    fn apply_groups(
        &self,
        page: &[Value],
        c: &mut Counts,
        seen: &mut Vec<(String, String)>,
        touched: &mut HashSet<String>,
    ) -> Result<(), GoogleError> {
        let ids: Vec<String> = page
            .iter()
            .filter_map(|g| google_id(g).map(str::to_string))
            .collect();
        let stored: HashMap<String, group::DirectoryGroup> =
            group::find_by_external_ids(self.store, &self.scope, &ids)?
                .into_iter()
                .filter_map(|g| Some((g.external_id.clone()?, g)))
                .collect();
        let now = clock::now();
        for g in page {
            c.groups += 1;
            let Some(id) = google_id(g) else {
                c.skipped += 1;
                continue;
            };
            let write = match map::group(self.registry, g) {
                Ok(w) => w,
                Err(e) => {
                    tracing::warn!(google_id = id, error = %e, "skipping a Google group Roster cannot store");
                    c.skipped += 1;
                    continue;
                }
            };
            let roster_id = match stored.get(id) {
                None => {
                    let created = group::create(self.store, &self.scope, write, Vec::new(), now)?;
                    c.groups_created += 1;
                    touched.insert(created.id.to_string());
                    created.id.to_string()
                }
                Some(cur)
                    if cur.display_name == write.display_name
                        && cur.external_id == write.external_id
                        && cur.resource.holds(&write.resource) =>
                {
                    cur.id.to_string()
                }
                Some(cur) => {
                    group::update(self.store, &self.scope, &cur.id, None, now, |_| {
                        Ok::<_, DomainError>((Some(write), Vec::new()))
                    })?;
                    c.groups_updated += 1;
                    touched.insert(cur.id.to_string());
                    cur.id.to_string()
                }
            };
            seen.push((id.to_string(), roster_id));
        }
        Ok(())
    }

    /// The group `roster` as stored before its listing is applied.
    fn start_reading<'g>(&self, roster: &'g str) -> Result<Reading<'g>, GoogleError> {
        let current = group::members(self.store, &self.scope, &[roster.to_string()])?
            .remove(roster)
            .unwrap_or_default()
            .into_iter()
            .map(|m| (m.id, m.kind))
            .collect();
        Ok(Reading {
            roster,
            current,
            named: BTreeSet::new(),
            everyone: false,
            outsiders: BTreeMap::new(),
        })
    }

    /// Applies one page of a group's members as it arrives: members it names that the group
    /// lacks are added now, in one write for the page, so no write holds more than a page's
    /// events. Nested groups that are synced are kept as direct members; a `CUSTOMER` member
    /// (everyone in the account) stands for every synced user, added when the listing ends;
    /// an address outside the Workspace's domains is recorded, not added.
    fn apply_member_page(
        &self,
        group: &mut Reading<'_>,
        page: &[Value],
        domains: &Domains,
        c: &mut Counts,
        touched: &mut HashSet<String>,
    ) -> Result<(), GoogleError> {
        let (mut users, mut groups) = (Vec::new(), Vec::new());
        for m in page {
            match (text(m, "type"), text(m, "id")) {
                (Some("CUSTOMER"), _) => group.everyone = true,
                (Some("USER"), id) => match text(m, "email").filter(|e| domains.is_external(e)) {
                    Some(email) => {
                        group
                            .outsiders
                            .insert(email.to_lowercase(), id.map(str::to_string));
                    }
                    None => users.extend(id.map(str::to_string)),
                },
                (Some("GROUP"), Some(id)) => groups.push(id.to_string()),
                _ => {}
            }
        }
        let mut listed = Vec::new();
        for (ids, kind) in [(users, MemberKind::User), (groups, MemberKind::Group)] {
            if ids.is_empty() {
                continue;
            }
            let (users, groups) = match kind {
                MemberKind::User => (ids.as_slice(), &[][..]),
                MemberKind::Group => (&[][..], ids.as_slice()),
            };
            let found = group::member_ids_by_external_ids(self.store, &self.scope, users, groups)?;
            listed.extend(found.into_iter().map(|id| (id, kind)));
        }
        let new: Vec<(String, MemberKind)> = listed
            .iter()
            .filter(|(id, _)| id.as_str() != group.roster && !group.current.contains_key(id))
            .cloned()
            .collect();
        group.named.extend(listed.into_iter().map(|(id, _)| id));
        self.add_members(group, new, c, touched)
    }

    /// Adds `new` to the group and to what is known of it.
    fn add_members(
        &self,
        group: &mut Reading<'_>,
        new: Vec<(String, MemberKind)>,
        c: &mut Counts,
        touched: &mut HashSet<String>,
    ) -> Result<(), GoogleError> {
        if new.is_empty() {
            return Ok(());
        }
        let id = GroupId::from_raw(group.roster);
        let ids = new.iter().map(|(id, _)| id.clone().into()).collect();
        group::update(self.store, &self.scope, &id, None, clock::now(), |_| {
            Ok::<_, DomainError>((None, vec![MemberChange::Add(ids)]))
        })?;
        c.memberships_changed += new.len() as u64;
        if touched.insert(group.roster.to_string()) {
            c.groups_updated += 1;
        }
        group.current.extend(new);
        Ok(())
    }

    /// Once a group's listing has ended: every synced user joins a group with a `CUSTOMER`
    /// member (walked from the store a page at a time), members the listing did not name
    /// leave, and its external members are recorded.
    fn finish_reading(
        &self,
        mut group: Reading<'_>,
        c: &mut Counts,
        touched: &mut HashSet<String>,
    ) -> Result<(), GoogleError> {
        if group.everyone {
            let mut after: Option<String> = None;
            loop {
                let page =
                    user::external_ids_page(self.store, &self.scope, after.as_deref(), WALK_PAGE)?;
                let Some((last, _)) = page.last() else { break };
                after = Some(last.clone());
                let new = page
                    .into_iter()
                    .filter(|(id, _)| !group.current.contains_key(id))
                    .map(|(id, _)| (id, MemberKind::User))
                    .collect();
                self.add_members(&mut group, new, c, touched)?;
            }
        }
        let leaving: Vec<String> = group
            .current
            .iter()
            .filter(|(id, kind)| {
                let everyone_keeps = group.everyone && **kind == MemberKind::User;
                !(group.named.contains(*id) || everyone_keeps)
            })
            .map(|(id, _)| id.clone())
            .collect();
        if !leaving.is_empty() {
            let id = GroupId::from_raw(group.roster);
            c.memberships_changed += leaving.len() as u64;
            group::update(self.store, &self.scope, &id, None, clock::now(), |_| {
                Ok::<_, DomainError>((None, vec![MemberChange::Remove(leaving)]))
            })?;
            if touched.insert(group.roster.to_string()) {
                c.groups_updated += 1;
            }
        }
        c.external_members += group.outsiders.len() as u64;
        external::record(self.store, &self.scope, group.roster, group.outsiders)
    }

    /// Walks the stored (id, Google id) pairs a page at a time and returns the ids of those
    /// no listing of this sync named.
    fn gone(
        &self,
        kind: Seen,
        page: impl Fn(Option<&str>) -> Result<Vec<(String, Option<String>)>, DomainError>,
    ) -> Result<Vec<String>, GoogleError> {
        let directory = self.scope.directory_id.as_str();
        let mut gone = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let rows = page(after.as_deref())?;
            let Some((last, _)) = rows.last() else { break };
            after = Some(last.clone());
            let google: Vec<String> = rows.iter().filter_map(|(_, g)| g.clone()).collect();
            let unseen: HashSet<String> = self
                .store
                .read(|conn| google_seen::unseen(conn, directory, kind, &google))?
                .into_iter()
                .collect();
            gone.extend(
                rows.into_iter()
                    .filter(|(_, g)| g.as_ref().is_none_or(|g| unseen.contains(g)))
                    .map(|(id, _)| id),
            );
        }
        Ok(gone)
    }

    /// Removes, through the directory's deprovisioning policy (inside `user::delete`), every
    /// stored user the complete listing did not name.
    fn deprovision_users(&self, c: &mut Counts) -> Result<(), GoogleError> {
        let gone = self.gone(Seen::User, |after| {
            user::external_ids_page(self.store, &self.scope, after, WALK_PAGE)
        })?;
        for id in gone {
            match user::delete(
                self.store,
                &self.scope,
                &UserId::from_raw(id),
                None,
                clock::now(),
            ) {
                Ok(()) => c.users_deprovisioned += 1,
                Err(DomainError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    fn deprovision_groups(&self, c: &mut Counts) -> Result<(), GoogleError> {
        let gone = self.gone(Seen::Group, |after| {
            group::external_ids_page(self.store, &self.scope, after, WALK_PAGE)
        })?;
        for id in gone {
            match group::delete(
                self.store,
                &self.scope,
                &GroupId::from_raw(id.clone()),
                None,
                clock::now(),
            ) {
                Ok(()) => c.groups_deprovisioned += 1,
                Err(DomainError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
            external::record(self.store, &self.scope, &id, BTreeMap::new())?;
        }
        Ok(())
    }

    /// A targeted re-read of one user after a push notification. Google answering 404 for the
    /// user's immutable id is as complete as a listing gets for that one user, so the stored
    /// user is deprovisioned. With a group filter, only users already synced are updated:
    /// whether a new user belongs is for the next full reconcile to say.
    pub fn one_user(&self, google_user_id: &str) -> Result<Counts, GoogleError> {
        let mut c = Counts::default();
        let path = format!("{USERS}/{}", segment(google_user_id));
        let found = self.api.get(&path, &[("projection", "full")])?;
        c.pages += 1;
        let stored =
            user::find_by_external_ids(self.store, &self.scope, &[google_user_id.to_string()])?;
        match found {
            Some(g) => {
                if self.groups.is_some() && stored.is_empty() {
                    return Ok(c);
                }
                self.apply_users(&[g], &mut c)?;
            }
            None => {
                for u in stored {
                    match user::delete(self.store, &self.scope, &u.id, None, clock::now()) {
                        Ok(()) => c.users_deprovisioned += 1,
                        Err(DomainError::NotFound { .. }) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
            }
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_keys_are_escaped_as_path_segments() {
        assert_eq!(segment("eng@x.com"), "eng@x.com");
        assert_eq!(segment("a/b c"), "a%2Fb%20c");
    }
}
