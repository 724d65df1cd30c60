//! Microsoft Entra ID, in both of its shapes: the default one and the one the
//! `aadOptscim062020` flag selects (`idp-behaviour.md` §1.2). Whether the flag reaches the
//! server in request URLs is not known (§11), so every Entra directory takes both.
//!
//! What the RFC layer already takes from Entra, unchanged: capitalised `op` names (§1.3),
//! `"$ref": null` in member values (§1.1 Add members), removal of the members listed in a
//! `path: "members"` value and of `members[value eq "…"]` (§1.2 Remove group member),
//! path-less replace with dotted and URN-qualified keys (§1.2 Replace multiple attributes),
//! value-path adds creating the element (§1.1, SCIM-SDK #680), the ADSCIM group schema URN
//! (§1.1 Create group: unknown URNs in `schemas` are ignored) and explicit nulls (§1.1
//! Example 2). What this adapter adds:
//!
//! - string booleans (`"False"`, `"True"`) in resources, PATCH values and the filters of PATCH
//!   paths (`roles[primary eq "True"].value`) become booleans where the schema says boolean
//!   (§1.1 Roles, §1.2 Disable user; the validator's "Post emp1 with string True");
//! - `manager` arrives as a bare string id (§1.1, SCIM-SDK #686), as a one-element list of
//!   `{"$ref", "value"}` (§1.1 Example 5), and unqualified as `path: "manager"` (Example 5);
//!   all become the enterprise extension's `manager` complex value;
//! - list filters with unquoted values (`externalId eq jyoung`, §1.1 literal requests, §1.3);
//!   its other form outside the RFC grammar, a value path with a sub-attribute compared
//!   (`emails[type eq "work"].value eq "…"`, §1.1 Create user step 1), every directory takes
//!   (`scim::filter`);
//! - PATCH is answered 204 No Content (§1.4; the validator's PATCH requests expect 204).

use scim_v2::filter::{
    AttrExp, CompValue, Filter as ScimFilter, PatchPath, PatchValuePath, ValFilter,
};
use serde_json::{Map, Value, json};

use super::values::{
    booleans_in_document, booleans_in_value, key_target, operations, path_target, string_boolean,
};
use super::{Adapter, PatchReply};
use crate::scim::filter::{Token, scan};
use crate::scim::list::ListParams;
use crate::scim::schema::{
    AttrType, Attribute, ENTERPRISE_USER_SCHEMA, ResolvedAttr, ResourceKind, SchemaRegistry,
};

pub struct Entra;

impl Adapter for Entra {
    fn normalize_resource(&self, reg: &SchemaRegistry, kind: ResourceKind, body: &mut Value) {
        if let Value::Object(doc) = body {
            booleans_in_document(reg, kind, doc);
        }
    }

    fn normalize_patch(&self, reg: &SchemaRegistry, kind: ResourceKind, body: &mut Value) {
        for op in operations(body) {
            let path = op.get("path").and_then(Value::as_str).map(str::to_string);
            match path {
                None => {
                    if let Some(Value::Object(doc)) = op.get_mut("value") {
                        booleans_in_document(reg, kind, doc);
                        managers_in_document(reg, kind, doc);
                    }
                }
                Some(text) => {
                    let Ok(parsed) = text.parse::<PatchPath>() else {
                        continue;
                    };
                    let parsed = qualify(reg, kind, parsed);
                    let parsed = match parsed {
                        PatchPath::Value(vp) => PatchPath::Value(filter_booleans(reg, kind, vp)),
                        other => other,
                    };
                    let rewritten = parsed.to_string();
                    if rewritten != text {
                        op.insert("path".into(), Value::String(rewritten));
                    }
                    let (Some(target), Some(value)) =
                        (path_target(reg, kind, &parsed), op.get_mut("value"))
                    else {
                        continue;
                    };
                    booleans_in_value(target.leaf(), value);
                    if is_manager(&target) {
                        manager_value(value);
                    }
                }
            }
        }
    }

    fn normalize_list(&self, params: &mut ListParams) {
        if let Some(filter) = &mut params.filter
            && filter.parse::<ScimFilter>().is_err()
        {
            *filter = quote_bare_values(filter);
        }
    }

    fn patch_reply(&self, _kind: ResourceKind) -> PatchReply {
        PatchReply::NoContent
    }
}

/// An unqualified path naming no core attribute but an extension's (`manager`, §1.1
/// Example 5) gets the extension's URN: RFC 7644 §3.10 reads unqualified names as core ones.
fn qualify(reg: &SchemaRegistry, kind: ResourceKind, path: PatchPath) -> PatchPath {
    let PatchPath::Attr(mut attr) = path else {
        return path;
    };
    if attr.uri.is_none() && reg.resolve(kind, None, &attr.name, None).is_none() {
        attr.uri = reg
            .extensions(kind)
            .find(|ext| ext.attribute(&attr.name).is_some())
            .map(|ext| ext.id.clone());
    }
    PatchPath::Attr(attr)
}

fn is_manager(target: &ResolvedAttr<'_>) -> bool {
    target.sub.is_none()
        && target.schema == Some(ENTERPRISE_USER_SCHEMA)
        && target.attr.name == "manager"
}

/// `manager` keys of a path-less value: URN-qualified, or inside the extension object.
fn managers_in_document(reg: &SchemaRegistry, kind: ResourceKind, doc: &mut Map<String, Value>) {
    for (key, value) in doc.iter_mut() {
        if key.eq_ignore_ascii_case(ENTERPRISE_USER_SCHEMA) {
            if let Value::Object(inner) = value {
                for (k, v) in inner.iter_mut() {
                    if k.eq_ignore_ascii_case("manager") {
                        manager_value(v);
                    }
                }
            }
        } else if key_target(reg, kind, key).is_some_and(|t| is_manager(&t)) {
            manager_value(value);
        }
    }
}

/// The manager's id as the complex value the enterprise schema defines. An empty string
/// unassigns it: the validator removes a manager by "Replace with empty" (§1.1 Manager).
fn manager_value(value: &mut Value) {
    match value {
        Value::String(id) if id.is_empty() => *value = Value::Null,
        Value::String(id) => *value = json!({"value": id}),
        Value::Array(items) if items.len() == 1 && items[0].is_object() => {
            *value = items.remove(0);
        }
        _ => {}
    }
}

/// `attr[… eq "True"]`: string booleans compared with boolean sub-attributes (§1.1 Roles).
fn filter_booleans(reg: &SchemaRegistry, kind: ResourceKind, vp: PatchValuePath) -> PatchValuePath {
    let Some(parent) = reg
        .resolve(kind, vp.attr.uri.as_deref(), &vp.attr.name, None)
        .map(|r| r.attr)
    else {
        return vp;
    };
    match with_booleans(vp.filter.clone(), parent) {
        Some(filter) => PatchValuePath { filter, ..vp },
        None => vp,
    }
}

fn with_booleans(f: ValFilter, parent: &Attribute) -> Option<ValFilter> {
    let all = |items: Vec<ValFilter>| -> Option<Vec<ValFilter>> {
        items
            .into_iter()
            .map(|i| with_booleans(i, parent))
            .collect()
    };
    Some(match f {
        ValFilter::Attr(AttrExp::Comparison(path, op, CompValue::Str(s)))
            if parent
                .sub_attribute(&path.name)
                .is_some_and(|sub| sub.kind == AttrType::Boolean) =>
        {
            let value = match string_boolean(&s) {
                Some(true) => CompValue::True,
                Some(false) => CompValue::False,
                None => CompValue::Str(s),
            };
            ValFilter::Attr(AttrExp::Comparison(path, op, value))
        }
        ValFilter::Attr(exp) => ValFilter::Attr(exp),
        ValFilter::Not(inner) => ValFilter::Not(Box::new(with_booleans(*inner, parent)?)),
        ValFilter::And(items) => ValFilter::all(all(items.into_vec())?)?,
        ValFilter::Or(items) => ValFilter::any(all(items.into_vec())?)?,
    })
}

const OPERATORS: [&str; 9] = ["eq", "ne", "co", "sw", "ew", "gt", "lt", "ge", "le"];

fn is_operator(word: &str) -> bool {
    OPERATORS.iter().any(|o| o.eq_ignore_ascii_case(word))
}

/// `externalId eq jyoung` → `externalId eq "jyoung"`: a value after a comparison operator
/// that is no JSON literal is taken as the string Entra meant (§1.1 literal requests).
fn quote_bare_values(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut after_name = false;
    let mut wants_value = false;
    for token in scan(text) {
        match token {
            Token::Punct(p) => {
                out.push_str(p);
                if !p.trim().is_empty() {
                    after_name = false;
                    wants_value = false;
                }
            }
            Token::Quoted(q) => {
                out.push_str(q);
                after_name = false;
                wants_value = false;
            }
            Token::Word(w) if wants_value => {
                let literal = matches!(w, "true" | "false" | "null")
                    || serde_json::from_str::<serde_json::Number>(w).is_ok();
                if literal {
                    out.push_str(w);
                } else {
                    out.push_str(&Value::String(w.to_string()).to_string());
                }
                after_name = false;
                wants_value = false;
            }
            Token::Word(w) => {
                out.push_str(w);
                wants_value = after_name && is_operator(w);
                after_name = !wants_value
                    && !["and", "or", "not", "pr"]
                        .iter()
                        .any(|k| k.eq_ignore_ascii_case(w));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patched(kind: ResourceKind, ops: Value) -> Value {
        let reg = SchemaRegistry::builtin();
        let mut body = json!({"Operations": ops});
        Entra.normalize_patch(&reg, kind, &mut body);
        body["Operations"].clone()
    }

    #[test]
    fn patch_operations() {
        let ent = ENTERPRISE_USER_SCHEMA;
        let cases = [
            (
                "default-shape disable (§1.2)",
                json!({"op": "Replace", "path": "active", "value": "False"}),
                json!({"op": "Replace", "path": "active", "value": false}),
            ),
            (
                "not a boolean: left for the SCIM layer to refuse",
                json!({"op": "replace", "path": "active", "value": "maybe"}),
                json!({"op": "replace", "path": "active", "value": "maybe"}),
            ),
            (
                "path-less value",
                json!({"op": "replace", "value": {"active": "true", "displayName": "x"}}),
                json!({"op": "replace", "value": {"active": true, "displayName": "x"}}),
            ),
            (
                "value path to a boolean",
                json!({"op": "replace", "path": "emails[type eq \"work\"].primary", "value": "True"}),
                json!({"op": "replace", "path": "emails[type eq \"work\"].primary", "value": true}),
            ),
            (
                "role selector (§1.1 Roles)",
                json!({"op": "Replace", "path": "roles[primary eq \"True\"].value", "value": "Owner"}),
                json!({"op": "Replace", "path": "roles[primary eq true].value", "value": "Owner"}),
            ),
            (
                "string compared with a string stays",
                json!({"op": "Replace", "path": "roles[type eq \"True\"].value", "value": "x"}),
                json!({"op": "Replace", "path": "roles[type eq \"True\"].value", "value": "x"}),
            ),
            (
                "manager as a bare string (SCIM-SDK #686)",
                json!({"op": "add", "path": format!("{ent}:manager"), "value": "2c2f"}),
                json!({"op": "add", "path": format!("{ent}:manager"), "value": {"value": "2c2f"}}),
            ),
            (
                "manager unqualified, as a reference list (Example 5)",
                json!({"op": "Add", "path": "manager", "value": [{"$ref": "http://x/Users/m1", "value": "m1"}]}),
                json!({"op": "Add", "path": format!("{ent}:manager"),
                       "value": {"$ref": "http://x/Users/m1", "value": "m1"}}),
            ),
            (
                "manager replaced with empty",
                json!({"op": "Replace", "path": format!("{ent}:manager"), "value": ""}),
                json!({"op": "Replace", "path": format!("{ent}:manager"), "value": null}),
            ),
            (
                "manager as an object stays",
                json!({"op": "replace", "path": format!("{ent}:manager"), "value": {"value": "m1"}}),
                json!({"op": "replace", "path": format!("{ent}:manager"), "value": {"value": "m1"}}),
            ),
            (
                "manager keys of a path-less value",
                json!({"op": "replace", "value": {format!("{ent}:manager"): "m1", ent: {"manager": "m2"}}}),
                json!({"op": "replace", "value": {format!("{ent}:manager"): {"value": "m1"},
                                                  ent: {"manager": {"value": "m2"}}}}),
            ),
            (
                "unknown attribute left for the SCIM layer",
                json!({"op": "add", "path": "nosuch", "value": "x"}),
                json!({"op": "add", "path": "nosuch", "value": "x"}),
            ),
        ];
        for (name, op, want) in cases {
            assert_eq!(
                patched(ResourceKind::User, json!([op])),
                json!([want]),
                "{name}"
            );
        }
    }

    #[test]
    fn list_filters() {
        let cases = [
            ("userName eq \"a\"", "userName eq \"a\""),
            ("externalId eq jyoung", "externalId eq \"jyoung\""),
            (
                "emails[type eq work].value eq a@b.c and active eq true",
                "emails[type eq \"work\"].value eq \"a@b.c\" and active eq true",
            ),
            (
                "name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)",
                "name.FamilyName eq \"Employee\" and (emails.Value co \"example.com\" or emails.Value co \"example.org\")",
            ),
            ("userName sw O", "userName sw \"O\""),
            (
                "meta.Created gt 2015-10-10T14:38:21.8617979-07:00",
                "meta.Created gt \"2015-10-10T14:38:21.8617979-07:00\"",
            ),
            (
                "title eq \"a ] b\" and x eq 12",
                "title eq \"a ] b\" and x eq 12",
            ),
            ("userName eq \"unterminated", "userName eq \"unterminated"),
            ("emails[", "emails["),
            ("].x", "].x"),
        ];
        for (given, want) in cases {
            let mut params = ListParams {
                filter: Some(given.to_string()),
                ..ListParams::default()
            };
            Entra.normalize_list(&mut params);
            assert_eq!(params.filter.as_deref(), Some(want), "{given}");
        }
    }

    #[test]
    fn resources() {
        let reg = SchemaRegistry::builtin();
        let mut user = json!({"userName": "a", "active": "True"});
        Entra.normalize_resource(&reg, ResourceKind::User, &mut user);
        assert_eq!(user["active"], json!(true));
    }
}
