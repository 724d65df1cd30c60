//! Okta, both OIN template and App Integration Wizard apps (`idp-behaviour.md` §2). Everything
//! Okta is documented to send is standard enough for the RFC layer, which already takes:
//!
//! - the create pre-check `filter=userName eq "…"&startIndex=1&count=100`, matching `userName`
//!   in any case (§2.1, §2.2 step 9);
//! - `password` and the read-only `groups: []` in POST and PUT bodies: the password is never
//!   stored or returned, and `groups` never changes memberships, so a re-push of a user keeps
//!   its groups (§2.1 Create, Update);
//! - PUT of the whole object as read, `id` and `meta` included (§2.1 Update);
//! - the path-less `{"op":"replace","value":{"active":false}}` (§2.1 Deactivate (OIN));
//! - group renames whose path-less value carries the read-only `id`, sent again on every
//!   membership change (§2.1 Group push);
//! - `members[value eq "…"]` removal without a value, members added with `display` and
//!   without `type` (anchors: SCIM-SDK #419), `replace members` with the full list or `[]`
//!   (§2.1, SCIM-SDK #757);
//! - 409 on a duplicate create, 404 on an unknown id (§2.1, §2.2).
//!
//! What this adapter adds: a PUT that omits `externalId` keeps the stored one. Okta sets it
//! to its own user id on create, and its documented update PUT does not carry it (§2.1 Create,
//! Update); a re-push must not cut the link between Okta's user and Roster's.
//!
//! Replies are the defaults: a user PATCH answers 200 with the user, a group PATCH 204; Okta
//! takes either (§2.1).

use super::Adapter;
use crate::scim::schema::ResourceKind;

pub struct Okta;

impl Adapter for Okta {
    fn kept_on_replace(&self, _kind: ResourceKind) -> &'static [&'static str] {
        &["externalId"]
    }
}
