//! Group members from outside the Workspace. Google lets a group hold any address (a partner's,
//! a personal Gmail account), listed as a `USER` member like a Workspace user. Such a member
//! has no Workspace account: Roster cannot list, suspend or deprovision it, so making it a
//! directory user would hand the application an account that nothing keeps in step. Roster
//! therefore keeps it out of the directory's users and memberships, records it per group
//! (`google_external_members`), and counts it in `roster directory status`.
//!
//! "Outside" means: in none of the domains the sync's own listings show (the domains of the
//! users' primary emails and aliases, and of the groups' emails). Google's domains list
//! would need one more delegated scope; every domain that holds a user or group appears in
//! those listings anyway.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::GoogleError;
use crate::domain::tenancy::Scope;
use crate::store::google_external::{self, External};
use crate::store::{Store, StoreError};

/// The Workspace's domains, as the listings show them: a handful of names, whatever the size
/// of the directory.
#[derive(Debug, Default)]
pub struct Domains(BTreeSet<String>);

fn domain_of(email: &str) -> Option<String> {
    email
        .rsplit_once('@')
        .map(|(_, d)| d.trim().to_lowercase())
        .filter(|d| !d.is_empty())
}

impl Domains {
    pub fn note_users(&mut self, page: &[Value]) {
        for u in page {
            let primary = u.get("primaryEmail").and_then(Value::as_str);
            let aliases = u
                .get("aliases")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str);
            self.0
                .extend(primary.into_iter().chain(aliases).filter_map(domain_of));
        }
    }

    pub fn note_groups(&mut self, page: &[Value]) {
        self.0.extend(
            page.iter()
                .filter_map(|g| g.get("email").and_then(Value::as_str))
                .filter_map(domain_of),
        );
    }

    /// Whether `email` lies outside every domain seen. With no domain seen at all nothing is
    /// called external: there is nothing to be outside of.
    pub fn is_external(&self, email: &str) -> bool {
        !self.0.is_empty() && domain_of(email).is_some_and(|d| !self.0.contains(&d))
    }
}

/// Makes the group's recorded external members exactly `members` (address → Google's id).
/// Read first, written only when they differ: a sync where nothing changed writes nothing.
pub fn record(
    store: &Store,
    scope: &Scope,
    group_id: &str,
    members: BTreeMap<String, Option<String>>,
) -> Result<(), GoogleError> {
    let wanted: BTreeSet<External> = members
        .into_iter()
        .map(|(email, google_id)| External { email, google_id })
        .collect();
    let directory = scope.directory_id.as_str();
    let current = store.read(|c| google_external::of_group(c, directory, group_id))?;
    if current != wanted {
        store.write(|c| -> Result<(), StoreError> {
            google_external::replace(c, directory, group_id, &current, &wanted)
        })?;
    }
    Ok(())
}

/// What `roster directory status` says about external members.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct ExternalCounts {
    /// External members over all groups: an address in three groups counts three times.
    pub memberships: i64,
    /// Distinct external addresses.
    pub addresses: i64,
}

pub fn counts(store: &Store, scope: &Scope) -> Result<ExternalCounts, GoogleError> {
    let (memberships, addresses) =
        store.read(|c| google_external::counts(c, scope.directory_id.as_str()))?;
    Ok(ExternalCounts {
        memberships,
        addresses,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn external_means_outside_every_listed_domain() {
        let mut d = Domains::default();
        assert!(!d.is_external("guest@gmail.com"), "no domain seen yet");
        d.note_users(&[json!({"primaryEmail": "ada@Example.com", "aliases": ["a@example.org"]})]);
        d.note_groups(&[json!({"email": "eng@eu.example.com"})]);
        for (email, external) in [
            ("bob@example.com", false),
            ("BOB@EXAMPLE.COM", false),
            ("x@example.org", false),
            ("ops@eu.example.com", false),
            ("guest@gmail.com", true),
            ("someone@sub.example.com", true),
            ("no-domain", false),
        ] {
            assert_eq!(d.is_external(email), external, "{email}");
        }
    }
}
