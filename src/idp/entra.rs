//! Microsoft Entra ID. Sources: Microsoft's SCIM validator collection
//! (`../shared/conformance/vendor/microsoft-scim-reference.postman_collection.json`, "Post emp1
//! with string True", the PATCH requests expecting 204) and `idp-behaviour.md` §Entra.
//!
//! - Booleans arrive as strings ("True", "False") in resources and in PATCH values; RFC 7643
//!   §2.3.2 wants JSON booleans, so they are converted wherever the schema says boolean.
//! - PATCH is answered with 204 No Content, as Entra's provisioning service and its
//!   validator expect.

use scim_v2::filter::PatchPath;
use serde_json::{Map, Value};

use super::{Adapter, PatchReply};
use crate::scim::schema::{AttrType, Attribute, ResourceKind, SchemaRegistry, split_urn};

pub struct Entra;

impl Adapter for Entra {
    fn normalize_resource(&self, reg: &SchemaRegistry, kind: ResourceKind, body: &mut Value) {
        if let Value::Object(doc) = body {
            booleans_in_document(reg, kind, doc);
        }
    }

    fn normalize_patch(&self, reg: &SchemaRegistry, kind: ResourceKind, body: &mut Value) {
        let Some(ops) = body.as_object_mut().and_then(|b| {
            b.iter_mut()
                .find(|(k, _)| k.eq_ignore_ascii_case("Operations"))
                .map(|(_, v)| v)
        }) else {
            return;
        };
        for op in ops.as_array_mut().into_iter().flatten() {
            let Some(op) = op.as_object_mut() else {
                continue;
            };
            let path = op.get("path").and_then(Value::as_str).map(str::to_string);
            let Some(value) = op.get_mut("value") else {
                continue;
            };
            match path {
                None => {
                    if let Value::Object(doc) = value {
                        booleans_in_document(reg, kind, doc);
                    }
                }
                Some(path) => {
                    if let Some(attr) = target(reg, kind, &path) {
                        booleans_in_value(attr, value);
                    }
                }
            }
        }
    }

    fn patch_reply(&self, _kind: ResourceKind) -> PatchReply {
        PatchReply::NoContent
    }
}

/// The attribute a PATCH path ends at, when the schema knows it.
fn target<'a>(reg: &'a SchemaRegistry, kind: ResourceKind, path: &str) -> Option<&'a Attribute> {
    let (attr, sub) = match path.parse::<PatchPath>().ok()? {
        PatchPath::Attr(a) => (a.clone(), a.sub_attr.clone()),
        PatchPath::Value(v) => (
            v.attr.clone(),
            v.sub_attr.clone().or(v.attr.sub_attr.clone()),
        ),
    };
    let resolved = reg.resolve(kind, attr.uri.as_deref(), &attr.name, sub.as_deref())?;
    Some(resolved.leaf())
}

fn booleans_in_document(reg: &SchemaRegistry, kind: ResourceKind, doc: &mut Map<String, Value>) {
    for (key, value) in doc.iter_mut() {
        if let Some(ext) = reg.extension(kind, key) {
            if let Value::Object(inner) = value {
                for (k, v) in inner.iter_mut() {
                    if let Some(attr) = ext.attribute(k) {
                        booleans_in_value(attr, v);
                    }
                }
            }
            continue;
        }
        let (uri, name) = split_urn(key);
        let (name, sub) = match name.split_once('.') {
            Some((n, s)) => (n, Some(s)),
            None => (name, None),
        };
        if let Some(resolved) = reg.resolve(kind, uri, name, sub) {
            booleans_in_value(resolved.leaf(), value);
        }
    }
}

/// Converts string booleans in `value`, a value of `attr` (or a list of them).
fn booleans_in_value(attr: &Attribute, value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(|i| booleans_in_value(attr, i)),
        Value::Object(obj) if attr.kind == AttrType::Complex => {
            for (k, v) in obj.iter_mut() {
                if let Some(sub) = attr.sub_attribute(k) {
                    booleans_in_value(sub, v);
                }
            }
        }
        Value::String(s) if attr.kind == AttrType::Boolean => {
            if s.eq_ignore_ascii_case("true") {
                *value = Value::Bool(true);
            } else if s.eq_ignore_ascii_case("false") {
                *value = Value::Bool(false);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn string_booleans_become_booleans_where_the_schema_says_boolean() {
        let reg = SchemaRegistry::builtin();
        let mut user = json!({
            "userName": "a", "active": "True", "title": "true",
            "emails": [{"value": "a@b.c", "primary": "FALSE"}]
        });
        Entra.normalize_resource(&reg, ResourceKind::User, &mut user);
        assert_eq!(user["active"], json!(true));
        assert_eq!(user["title"], json!("true"), "strings stay strings");
        assert_eq!(user["emails"][0]["primary"], json!(false));

        let mut patch = json!({"Operations": [
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "replace", "value": {"active": "true", "displayName": "x"}},
            {"op": "replace", "path": "emails[type eq \"work\"].primary", "value": "True"},
            {"op": "replace", "path": "active", "value": "maybe"}
        ]});
        Entra.normalize_patch(&reg, ResourceKind::User, &mut patch);
        let ops = &patch["Operations"];
        assert_eq!(ops[0]["value"], json!(false));
        assert_eq!(ops[1]["value"]["active"], json!(true));
        assert_eq!(ops[2]["value"], json!(true));
        assert_eq!(
            ops[3]["value"],
            json!("maybe"),
            "not a boolean: left for the SCIM layer to refuse"
        );
    }
}
