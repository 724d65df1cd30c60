//! Default responses straight from a stored document's text. A stored document is canonical
//! (`resource::canonicalize` wrote it), so when the schemas return every attribute it holds
//! by default, the response is that text with `id`, `meta` and `groups` or `members` added:
//! no tree to build, project and serialize again. What this cannot vouch for (an attribute
//! returned only on request or never, a key it does not know exactly, text it cannot read)
//! goes the long way through `resource::project`, which gives the same answer.

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use super::schema::{Attribute, ResourceKind, Returned, SchemaRegistry};
use super::secret::is_secret;

/// `doc` with the `added` members (name, JSON text) appended, when the default projection
/// returns `doc` unchanged; `None` when it might not.
pub fn splice(
    reg: &SchemaRegistry,
    kind: ResourceKind,
    doc: &str,
    added: &[(&str, &str)],
) -> Option<String> {
    let members: BTreeMap<&str, &RawValue> = serde_json::from_str(doc).ok()?;
    for (&name, value) in &members {
        if added.iter().any(|(a, _)| *a == name)
            || holds_empty_container(value.get())
            || !returned_as_stored(reg, kind, name, value)
        {
            return None;
        }
    }
    let open = doc.trim_end().strip_suffix('}')?;
    let mut out = String::with_capacity(
        doc.len()
            + added
                .iter()
                .map(|(n, v)| n.len() + v.len() + 4)
                .sum::<usize>(),
    );
    out.push_str(open);
    for (i, (name, value)) in added.iter().enumerate() {
        if i > 0 || !members.is_empty() {
            out.push(',');
        }
        out.push('"');
        out.push_str(name);
        out.push_str("\":");
        out.push_str(value);
    }
    out.push('}');
    Some(out)
}

/// Whether the default projection keeps the stored member `name` exactly as it is.
fn returned_as_stored(
    reg: &SchemaRegistry,
    kind: ResourceKind,
    name: &str,
    value: &RawValue,
) -> bool {
    if name == "schemas" {
        return true;
    }
    if let Some(ext) = reg.extension(kind, name).filter(|ext| ext.id == name) {
        let Ok(inner) = serde_json::from_str::<BTreeMap<&str, IgnoredAny>>(value.get()) else {
            return false;
        };
        return !inner.is_empty()
            && inner.keys().all(|k| {
                ext.attribute(k)
                    .is_some_and(|a| a.name == *k && returned_whole(a))
            });
    }
    reg.resolve(kind, None, name, None)
        .is_some_and(|r| r.is_core && r.attr.name == name && returned_whole(r.attr))
}

/// Whether `text` holds `{}` or `[]` anywhere, strings included. `project` drops an empty
/// complex value, element or extension object; `canonicalize` never stores one, but text
/// that does hold one (or only seems to) goes the long way.
fn holds_empty_container(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().any(|(i, &open)| {
        let close = match open {
            b'{' => b'}',
            b'[' => b']',
            _ => return false,
        };
        bytes[i + 1..]
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|&next| next == close)
    })
}

/// Returned by default with all of its sub-attributes.
fn returned_whole(attr: &Attribute) -> bool {
    !is_secret(attr)
        && matches!(attr.returned, Returned::Default | Returned::Always)
        && attr.sub_attributes.iter().all(returned_whole)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::scim::resource::{Projection, project};
    use crate::scim::schema::ENTERPRISE_USER_SCHEMA;

    const ADDED: [(&str, &str); 2] = [("id", "\"u1\""), ("meta", "{\"version\":\"W/\\\"1\\\"\"}")];

    fn projected(reg: &SchemaRegistry, doc: &Value) -> Value {
        let mut full = doc.as_object().cloned().unwrap();
        full.insert("id".into(), json!("u1"));
        full.insert("meta".into(), json!({"version": "W/\"1\""}));
        project(
            reg,
            ResourceKind::User,
            Value::Object(full),
            &Projection::Default,
        )
    }

    /// Each stored document either splices to exactly what the long way returns, or is left
    /// to the long way.
    #[test]
    fn splices_only_what_the_default_projection_keeps() {
        let reg = SchemaRegistry::builtin();
        let cases = [
            (json!({}), true),
            (
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ada",
                    "name": {"givenName": "Ada"}, "emails": [{"value": "a@x", "primary": true}],
                    ENTERPRISE_USER_SCHEMA: {"department": "R&D", "manager": {"value": "m1"}}}),
                true,
            ),
            // Never returned: the long way drops it.
            (json!({"userName": "ada", "password": "x"}), false),
            // Not in any schema, or spelt differently: the long way decides.
            (json!({"userName": "ada", "nickname2": "x"}), false),
            (json!({"UserName": "ada"}), false),
            (
                json!({ENTERPRISE_USER_SCHEMA: {"department": "R&D", "unknown": 1}}),
                false,
            ),
            (json!({ENTERPRISE_USER_SCHEMA: {}}), false),
            (json!({ENTERPRISE_USER_SCHEMA: "not an object"}), false),
            // Already carries a member the response adds.
            (json!({"userName": "ada", "id": "other"}), false),
            // Empty complex values, elements and extensions: the long way drops them.
            (json!({"userName": "ada", "name": {}}), false),
            (json!({"userName": "ada", "emails": []}), false),
            (
                json!({"userName": "ada", "emails": [{"value": "a@x"}, {}]}),
                false,
            ),
            (json!({ENTERPRISE_USER_SCHEMA: {"manager": {}}}), false),
            // A string that only looks empty is left to the long way too.
            (json!({"userName": "{}"}), false),
        ];
        for (doc, spliced) in cases {
            let text = doc.to_string();
            match splice(&reg, ResourceKind::User, &text, &ADDED) {
                Some(out) => {
                    assert!(spliced, "{doc} should go the long way");
                    let out: Value = serde_json::from_str(&out).unwrap();
                    assert_eq!(out, projected(&reg, &doc), "{doc}");
                }
                None => assert!(!spliced, "{doc} should splice"),
            }
        }
    }

    #[test]
    fn text_it_cannot_read_goes_the_long_way() {
        let reg = SchemaRegistry::builtin();
        for text in ["", "[]", "{\"userName\":", "{\"user\\u004eame\":\"ada\"}"] {
            assert_eq!(
                splice(&reg, ResourceKind::User, text, &ADDED),
                None,
                "{text}"
            );
        }
    }
}
