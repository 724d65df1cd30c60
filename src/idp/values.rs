//! Rewrites of values that more than one adapter needs: string booleans, and finding the
//! attribute a PATCH operation or a document key names.

use scim_v2::filter::PatchPath;
use serde_json::{Map, Value};

use crate::scim::resource::split_qualified;
use crate::scim::schema::{AttrType, Attribute, ResolvedAttr, ResourceKind, SchemaRegistry};

/// The `Operations` of a PATCH body (the key in any case), each an object.
pub(super) fn operations(body: &mut Value) -> impl Iterator<Item = &mut Map<String, Value>> {
    body.as_object_mut()
        .and_then(|b| {
            b.iter_mut()
                .find(|(k, _)| k.eq_ignore_ascii_case("Operations"))
                .map(|(_, v)| v)
        })
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

/// The attribute a PATCH path names, when the schema knows it.
pub(super) fn path_target<'r>(
    reg: &'r SchemaRegistry,
    kind: ResourceKind,
    path: &PatchPath,
) -> Option<ResolvedAttr<'r>> {
    let (attr, sub) = match path {
        PatchPath::Attr(a) => (a, a.sub_attr.as_deref()),
        PatchPath::Value(v) => (
            &v.attr,
            v.sub_attr.as_deref().or(v.attr.sub_attr.as_deref()),
        ),
    };
    reg.resolve(kind, attr.uri.as_deref(), &attr.name, sub)
}

/// The attribute a key of a resource document or a path-less PATCH value names:
/// `name`, `name.sub`, or either qualified by its schema URN.
pub(super) fn key_target<'r>(
    reg: &'r SchemaRegistry,
    kind: ResourceKind,
    key: &str,
) -> Option<ResolvedAttr<'r>> {
    let (uri, rest) = split_qualified(key);
    let (name, sub) = match rest.split_once('.') {
        Some((n, s)) => (n, Some(s)),
        None => (rest, None),
    };
    reg.resolve(kind, uri, name, sub)
}

/// Converts string booleans throughout a resource document or a path-less PATCH value.
pub(super) fn booleans_in_document(
    reg: &SchemaRegistry,
    kind: ResourceKind,
    doc: &mut Map<String, Value>,
) {
    for (key, value) in doc.iter_mut() {
        if let Some(ext) = reg.extension(kind, key) {
            if let Value::Object(inner) = value {
                for (k, v) in inner.iter_mut() {
                    if let Some(attr) = ext.attribute(k) {
                        booleans_in_value(attr, v);
                    }
                }
            }
        } else if let Some(resolved) = key_target(reg, kind, key) {
            booleans_in_value(resolved.leaf(), value);
        }
    }
}

/// Converts string booleans (`"True"`, `"false"`) in `value`, a value of `attr` or a list of
/// them, wherever the schema says boolean; any other string is left for the SCIM layer to judge.
pub(super) fn booleans_in_value(attr: &Attribute, value: &mut Value) {
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
            if let Some(b) = string_boolean(s) {
                *value = Value::Bool(b);
            }
        }
        _ => {}
    }
}

pub(super) fn string_boolean(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
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
            "emails": [{"value": "a@b.c", "primary": "FALSE"}],
            "x\u{e9}\u{e9}": "true"
        });
        booleans_in_document(&reg, ResourceKind::User, user.as_object_mut().unwrap());
        for (pointer, want) in [
            ("/active", json!(true)),
            ("/title", json!("true")),
            ("/emails/0/primary", json!(false)),
            ("/x\u{e9}\u{e9}", json!("true")),
        ] {
            assert_eq!(user.pointer(pointer), Some(&want), "{pointer}");
        }
    }
}
