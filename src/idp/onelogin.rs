//! OneLogin's "SCIM Provisioner with SAML" apps (`idp-behaviour.md` §3). The user body is
//! whatever the customer's "SCIM JSON Template" makes of it, so this adapter takes the shapes
//! seen in real traffic and in published templates:
//!
//! - the SCIM 1.1-style URNs `urn:scim:schemas:core:2.0` and
//!   `urn:scim:schemas:extension:enterprise:2.0`, in `schemas` and as the key holding the
//!   enterprise attributes, become the RFC 7643 ones (§3, authentik #11249, observed);
//! - string booleans (`"active": "{$user.active}"` renders as `"true"`) become booleans where
//!   the schema says boolean (§3, a published customer template; 3rd-party);
//! - every response is labelled `application/json`: OneLogin's API flow says "the content type
//!   header for all responses must be of type application/json" (§3, vendor doc);
//!
//! and the RFC layer takes the rest unchanged: `+` for spaces and a trailing `&` in list
//! queries, a trailing `?` on PUT (§3 observed), leading spaces in names (kept as sent).

use serde_json::{Map, Value};

use super::Adapter;
use super::values::booleans_in_document;
use crate::scim::schema::{ENTERPRISE_USER_SCHEMA, ResourceKind, SchemaRegistry};

pub struct OneLogin;

const CORE: &str = "urn:scim:schemas:core:2.0";
const ENTERPRISE: &str = "urn:scim:schemas:extension:enterprise:2.0";

impl Adapter for OneLogin {
    fn normalize_resource(&self, reg: &SchemaRegistry, kind: ResourceKind, body: &mut Value) {
        let Value::Object(doc) = body else {
            return;
        };
        standard_urns(kind, doc);
        booleans_in_document(reg, kind, doc);
    }

    fn plain_json_responses(&self) -> bool {
        true
    }
}

fn standard_urns(kind: ResourceKind, doc: &mut Map<String, Value>) {
    let standard = |urn: &str| {
        if urn.eq_ignore_ascii_case(CORE) {
            Some(kind.core_schema())
        } else if urn.eq_ignore_ascii_case(ENTERPRISE) && kind == ResourceKind::User {
            Some(ENTERPRISE_USER_SCHEMA)
        } else {
            None
        }
    };
    if let Some(Value::Array(schemas)) = doc
        .iter_mut()
        .find(|(k, _)| k.eq_ignore_ascii_case("schemas"))
        .map(|(_, v)| v)
    {
        for urn in schemas.iter_mut() {
            if let Some(s) = urn.as_str().and_then(standard) {
                *urn = Value::String(s.to_string());
            }
        }
    }
    let old: Vec<String> = doc
        .keys()
        .filter(|k| standard(k) == Some(ENTERPRISE_USER_SCHEMA))
        .cloned()
        .collect();
    for key in old {
        if let Some(value) = doc.remove(&key) {
            doc.entry(ENTERPRISE_USER_SCHEMA).or_insert(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resources() {
        let reg = SchemaRegistry::builtin();
        let cases = [
            (
                "observed PUT body (authentik #11249)",
                ResourceKind::User,
                json!({"schemas": [CORE, ENTERPRISE], "userName": "u",
                       "name": {"familyName": " User 01"}}),
                json!({"schemas": [ResourceKind::User.core_schema(), ENTERPRISE_USER_SCHEMA],
                       "userName": "u", "name": {"familyName": " User 01"}}),
            ),
            (
                "enterprise attributes under the old URN",
                ResourceKind::User,
                json!({"schemas": [CORE, ENTERPRISE], "userName": "u",
                       ENTERPRISE: {"department": "Sales"}}),
                json!({"schemas": [ResourceKind::User.core_schema(), ENTERPRISE_USER_SCHEMA],
                       "userName": "u", ENTERPRISE_USER_SCHEMA: {"department": "Sales"}}),
            ),
            (
                "string booleans",
                ResourceKind::User,
                json!({"schemas": [CORE], "userName": "u", "active": "false", "title": "true"}),
                json!({"schemas": [ResourceKind::User.core_schema()], "userName": "u",
                       "active": false, "title": "true"}),
            ),
            (
                "a group's core URN",
                ResourceKind::Group,
                json!({"schemas": [CORE, ENTERPRISE], "displayName": "g"}),
                json!({"schemas": [ResourceKind::Group.core_schema(), ENTERPRISE],
                       "displayName": "g"}),
            ),
            (
                "RFC URNs stay",
                ResourceKind::User,
                json!({"schemas": [ResourceKind::User.core_schema()], "userName": "u"}),
                json!({"schemas": [ResourceKind::User.core_schema()], "userName": "u"}),
            ),
        ];
        for (name, kind, mut body, want) in cases {
            OneLogin.normalize_resource(&reg, kind, &mut body);
            assert_eq!(body, want, "{name}");
        }
    }
}
