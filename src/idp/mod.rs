//! Per-IdP quirk adapters: what each identity provider really sends, turned into standard SCIM
//! before the protocol layer (which stays RFC-strict), and the responses each expects. The
//! directory's kind picks the adapter. See `../shared/reference/idp-behaviour.md`.

mod entra;
mod generic;
mod jumpcloud;
mod okta;
mod onelogin;
mod ping;
mod rippling;
mod values;

use serde_json::Value;

use crate::domain::tenancy::DirectoryKind;
use crate::scim::list::ListParams;
use crate::scim::schema::{ResourceKind, SchemaRegistry};

/// How a PATCH is answered (RFC 7644 §3.5.2 allows either).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchReply {
    /// 200 with the resource.
    Resource,
    /// 204 No Content.
    NoContent,
}

pub trait Adapter: Sync {
    /// Rewrites a POST or PUT body (or a bulk operation's data) into standard SCIM.
    fn normalize_resource(&self, _reg: &SchemaRegistry, _kind: ResourceKind, _body: &mut Value) {}

    /// Rewrites a PATCH request body into standard SCIM.
    fn normalize_patch(&self, _reg: &SchemaRegistry, _kind: ResourceKind, _body: &mut Value) {}

    /// Rewrites list parameters (from a query string or a `/.search` body) into standard
    /// SCIM, before they are parsed.
    fn normalize_list(&self, _params: &mut ListParams) {}

    /// Top-level attributes (schema spelling) a PUT leaves as stored when its body omits them;
    /// by default it clears them (RFC 7644 §3.5.1 allows either).
    fn kept_on_replace(&self, _kind: ResourceKind) -> &'static [&'static str] {
        &[]
    }

    /// How a PATCH that names no `attributes`/`excludedAttributes` is answered. By default a
    /// User comes back whole and a Group does not: echoing a large group for a one-member
    /// change is not acceptable (DESIGN.md, "Large groups").
    fn patch_reply(&self, kind: ResourceKind) -> PatchReply {
        match kind {
            ResourceKind::User => PatchReply::Resource,
            ResourceKind::Group => PatchReply::NoContent,
        }
    }

    /// Whether responses are labelled `application/json` instead of `application/scim+json`
    /// (RFC 7644 §3.1 allows either; some connectors accept only the former).
    fn plain_json_responses(&self) -> bool {
        false
    }
}

/// The adapter for a directory's kind. Google Workspace directories are pulled, not pushed
/// to; a SCIM request on one gets the RFC as written.
pub fn for_kind(kind: DirectoryKind) -> &'static dyn Adapter {
    match kind {
        DirectoryKind::Entra => &entra::Entra,
        DirectoryKind::Okta => &okta::Okta,
        DirectoryKind::OneLogin => &onelogin::OneLogin,
        DirectoryKind::JumpCloud => &jumpcloud::JumpCloud,
        DirectoryKind::Ping => &ping::Ping,
        DirectoryKind::Rippling => &rippling::Rippling,
        DirectoryKind::Generic | DirectoryKind::Google => &generic::Generic,
    }
}
