//! Groups' members as a read shows them: each with its display name.

use std::collections::HashMap;

use super::error::DomainResult;
use super::group::Member;
use super::tenancy::Scope;
use crate::store::{self, Store};

/// A member and its display name: a user's displayName, else its userName; a nested group's
/// displayName.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedMember {
    pub member: Member,
    pub display: Option<String>,
}

/// The members of each of `groups` with their display names, in one query whatever their
/// number.
pub fn named_members(
    store: &Store,
    scope: &Scope,
    groups: &[String],
) -> DomainResult<HashMap<String, Vec<NamedMember>>> {
    if groups.is_empty() {
        return Ok(Default::default());
    }
    Ok(store.read(|conn| store::groups::named_members(conn, scope, groups))?)
}
