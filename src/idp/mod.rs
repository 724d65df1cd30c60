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

    /// Attributes a PUT keeps from the stored resource when its body omits them (RFC 7644
    /// §3.5.1 lets a server keep or clear them). Each costs nothing unless listed: the stored
    /// resource is read only for adapters that list some.
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
}

/// Copies into a PUT `body` each of the `kept` top-level attributes that it omits (in any letter
/// case) and `stored` holds. An explicit `null` is not an omission: it clears.
pub fn keep_omitted(kept: &[&str], stored: &Value, body: &mut Value) {
    let (Value::Object(stored), Value::Object(body)) = (stored, body) else {
        return;
    };
    for name in kept {
        if body.keys().any(|k| k.eq_ignore_ascii_case(name)) {
            continue;
        }
        if let Some((_, v)) = stored
            .iter()
            .find(|(k, v)| k.eq_ignore_ascii_case(name) && !v.is_null())
        {
            body.insert((*name).to_string(), v.clone());
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn omitted_attributes_are_kept() {
        let stored = json!({"userName": "a", "externalId": "00u1", "title": "T"});
        let cases = [
            (
                json!({"userName": "a"}),
                json!({"userName": "a", "externalId": "00u1"}),
            ),
            (
                json!({"userName": "a", "externalId": null}),
                json!({"userName": "a", "externalId": null}),
            ),
            (
                json!({"userName": "a", "ExternalId": "00u2"}),
                json!({"userName": "a", "ExternalId": "00u2"}),
            ),
        ];
        for (mut body, want) in cases {
            keep_omitted(&["externalId"], &stored, &mut body);
            assert_eq!(body, want);
        }
        let mut body = json!({"userName": "a"});
        keep_omitted(&["externalId"], &json!({"userName": "a"}), &mut body);
        assert_eq!(
            body,
            json!({"userName": "a"}),
            "nothing stored, nothing kept"
        );
    }
}
