//! `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9) with each attribute's
//! `returned` characteristic; a secret is never returned.

use serde_json::{Map, Value};

use super::canonical::ext_path;
use super::names::resolve_dotted;
use crate::scim::error::ScimResult;
use crate::scim::schema::{AttrType, Attribute, ResourceKind, Returned, SchemaRegistry};
use crate::scim::secret::is_secret;

/// Which attributes a response carries: the `attributes` / `excludedAttributes` parameters.
///
/// Names are kept in canonical form: `name.givenName`, `emails`,
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`, or a bare
/// extension URN for the whole extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Projection {
    Default,
    Include(Vec<String>),
    Exclude(Vec<String>),
}

impl Projection {
    /// Parses the two query parameters. Lists are comma-separated; names are trimmed,
    /// case-insensitive and may be URN-qualified. Names the resource type does not have are
    /// ignored. When both parameters are given, `attributes` wins (it already says exactly
    /// what to return). An empty or blank parameter counts as absent.
    pub fn parse(
        reg: &SchemaRegistry,
        kind: ResourceKind,
        attributes: Option<&str>,
        excluded: Option<&str>,
    ) -> ScimResult<Projection> {
        if let Some(list) = attributes.filter(|s| !s.trim().is_empty()) {
            return Ok(Projection::Include(canonical_names(reg, kind, list)));
        }
        if let Some(list) = excluded.filter(|s| !s.trim().is_empty()) {
            return Ok(Projection::Exclude(canonical_names(reg, kind, list)));
        }
        Ok(Projection::Default)
    }

    /// Whether a Group response under this projection carries `members`, so that the server
    /// can skip reading membership when it does not.
    pub fn includes_members(&self, reg: &SchemaRegistry) -> bool {
        let members = reg.core_schema(ResourceKind::Group).attribute("members");
        if members.is_some_and(is_secret) {
            return false;
        }
        let returned = members.map_or(Returned::Default, |a| a.returned);
        let named = |list: &[String]| {
            list.iter()
                .any(|p| p == "members" || p.starts_with("members."))
        };
        match self {
            Projection::Default => returned != Returned::Request,
            Projection::Include(list) => returned == Returned::Always || named(list),
            Projection::Exclude(list) => {
                returned == Returned::Always
                    || (returned != Returned::Request && !list.iter().any(|p| p == "members"))
            }
        }
    }
}

fn canonical_names(reg: &SchemaRegistry, kind: ResourceKind, list: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let canonical = match reg.extension(kind, name) {
            Some(ext) => Some(ext.id.clone()),
            None => resolve_dotted(reg, kind, name).map(|r| r.canonical_path()),
        };
        if let Some(c) = canonical
            && !out.contains(&c)
        {
            out.push(c);
        }
    }
    out
}

/// What to keep of one attribute.
enum Selection<'p> {
    Drop,
    /// Everything; `named` when `attributes` named the attribute itself.
    All {
        named: bool,
    },
    /// Only these sub-attributes (plus those returned `always`).
    Only(Vec<&'p str>),
    /// All but these sub-attributes.
    AllBut(Vec<&'p str>),
}

/// Applies `projection` and the schemas' `returned` rules to a rendered resource (one that
/// carries `schemas`, `id`, `meta` and any `members`/`groups`). `schemas` is always kept.
/// An extension object left empty is dropped.
pub fn project(
    reg: &SchemaRegistry,
    kind: ResourceKind,
    resource: Value,
    projection: &Projection,
) -> Value {
    let Value::Object(obj) = resource else {
        return resource;
    };
    let mut out = Map::new();
    for (key, value) in obj {
        if key.eq_ignore_ascii_case("schemas") {
            out.insert(key, value);
            continue;
        }
        if let Some(ext) = reg.extension(kind, &key) {
            let Value::Object(inner) = value else {
                continue;
            };
            let mut projected = Map::new();
            for (k, v) in inner {
                let Some(attr) = ext.attribute(&k) else {
                    continue;
                };
                let path = ext_path(ext, attr);
                let sel = select(attr, &path, Some(&ext.id), projection);
                if let Some(pv) = apply_selection(attr, v, &sel) {
                    projected.insert(k, pv);
                }
            }
            if !projected.is_empty() {
                out.insert(key, Value::Object(projected));
            }
            continue;
        }
        match reg.resolve(kind, None, &key, None) {
            Some(r) if r.is_core => {
                let sel = select(r.attr, &r.attr.name, None, projection);
                if let Some(pv) = apply_selection(r.attr, value, &sel) {
                    out.insert(key, pv);
                }
            }
            // Not described by any schema: only a full (default) response carries it.
            _ => {
                if matches!(projection, Projection::Default | Projection::Exclude(_)) {
                    out.insert(key, value);
                }
            }
        }
    }
    Value::Object(out)
}

fn select<'p>(
    attr: &Attribute,
    path: &str,
    ext: Option<&str>,
    projection: &'p Projection,
) -> Selection<'p> {
    let subs_named = |list: &'p [String]| -> Vec<&'p str> {
        list.iter()
            .filter_map(|p| p.strip_prefix(path).and_then(|rest| rest.strip_prefix('.')))
            .collect()
    };
    let names_whole = |list: &[String]| list.iter().any(|p| p == path || Some(p.as_str()) == ext);
    if is_secret(attr) {
        return Selection::Drop;
    }
    match attr.returned {
        Returned::Always => return Selection::All { named: true },
        Returned::Never | Returned::Default | Returned::Request => {}
    }
    let request_only = attr.returned == Returned::Request;
    match projection {
        Projection::Default if request_only => Selection::Drop,
        Projection::Default => Selection::All { named: false },
        Projection::Include(list) => {
            if names_whole(list) {
                return Selection::All { named: true };
            }
            let subs = subs_named(list);
            if subs.is_empty() {
                Selection::Drop
            } else {
                Selection::Only(subs)
            }
        }
        Projection::Exclude(list) => {
            if request_only || names_whole(list) {
                return Selection::Drop;
            }
            let subs = subs_named(list);
            if subs.is_empty() {
                Selection::All { named: false }
            } else {
                Selection::AllBut(subs)
            }
        }
    }
}

fn apply_selection(attr: &Attribute, value: Value, sel: &Selection<'_>) -> Option<Value> {
    if matches!(sel, Selection::Drop) {
        return None;
    }
    if attr.kind != AttrType::Complex {
        return Some(value);
    }
    let keep_sub = |key: &str| -> bool {
        let Some(sub) = attr.sub_attribute(key) else {
            return matches!(sel, Selection::All { .. } | Selection::AllBut(_));
        };
        if is_secret(sub) {
            return false;
        }
        match sub.returned {
            Returned::Always => return true,
            Returned::Never | Returned::Default | Returned::Request => {}
        }
        let named = |list: &[&str]| list.iter().any(|n| n.eq_ignore_ascii_case(&sub.name));
        match sel {
            Selection::Drop => false,
            Selection::All {
                named: parent_named,
            } => sub.returned == Returned::Default || *parent_named,
            Selection::Only(list) => named(list),
            Selection::AllBut(list) => sub.returned == Returned::Default && !named(list),
        }
    };
    let filter_obj = |obj: Map<String, Value>| -> Option<Value> {
        let kept: Map<String, Value> = obj.into_iter().filter(|(k, _)| keep_sub(k)).collect();
        (!kept.is_empty()).then_some(Value::Object(kept))
    };
    match value {
        Value::Object(obj) => filter_obj(obj),
        Value::Array(items) => {
            let kept: Vec<Value> = items
                .into_iter()
                .filter_map(|item| match item {
                    Value::Object(obj) => filter_obj(obj),
                    other => Some(other),
                })
                .collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        other => Some(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};
    use serde_json::json;

    fn reg() -> SchemaRegistry {
        SchemaRegistry::builtin()
    }

    fn rendered_user() -> Value {
        json!({
            "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
            "id": "u1",
            "externalId": "e1",
            "meta": {"resourceType": "User", "created": "2024-01-01T00:00:00Z", "version": "W/\"1\""},
            "userName": "bjensen",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"value": "a@b", "type": "work"}, {"value": "c@d", "type": "home"}],
            "groups": [{"value": "g1", "display": "Ops"}],
            "password": "should-never-be-here",
            ENTERPRISE_USER_SCHEMA: {"department": "Sales", "manager": {"value": "m1", "displayName": "Boss"}},
        })
    }

    #[test]
    fn projection_rules() {
        let r = reg();
        let full = rendered_user();
        let mut no_password = full.clone();
        no_password.as_object_mut().unwrap().remove("password");
        let cases: Vec<(Option<&str>, Option<&str>, Value)> = vec![
            (None, None, no_password.clone()),
            (Some(""), Some(" "), no_password.clone()),
            (
                Some("userName"),
                None,
                json!({"schemas": full["schemas"], "id": "u1", "userName": "bjensen"}),
            ),
            (
                Some(" NAME.givenname , emails.value,nonsense"),
                None,
                json!({"schemas": full["schemas"], "id": "u1",
                       "name": {"givenName": "Barbara"},
                       "emails": [{"value": "a@b"}, {"value": "c@d"}]}),
            ),
            (
                Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"),
                None,
                json!({"schemas": full["schemas"], "id": "u1", ENTERPRISE_USER_SCHEMA: {"department": "Sales"}}),
            ),
            (
                Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:user"),
                None,
                json!({"schemas": full["schemas"], "id": "u1", ENTERPRISE_USER_SCHEMA: full[ENTERPRISE_USER_SCHEMA]}),
            ),
            (
                Some(
                    "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName,meta.version,password",
                ),
                Some("name"),
                json!({"schemas": full["schemas"], "id": "u1", "name": {"familyName": "Jensen"}, "meta": {"version": "W/\"1\""}}),
            ),
            (
                None,
                Some(
                    "name.givenName,emails,id,groups,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
                ),
                {
                    let mut v = no_password.clone();
                    let o = v.as_object_mut().unwrap();
                    o.remove("emails");
                    o.remove("groups");
                    o.insert("name".into(), json!({"familyName": "Jensen"}));
                    o.insert(
                        ENTERPRISE_USER_SCHEMA.into(),
                        json!({"department": "Sales", "manager": {"displayName": "Boss"}}),
                    );
                    v
                },
            ),
            (
                None,
                Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"),
                {
                    let mut v = no_password.clone();
                    v.as_object_mut().unwrap().remove(ENTERPRISE_USER_SCHEMA);
                    v
                },
            ),
            (
                None,
                Some(
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
                ),
                {
                    let mut v = no_password.clone();
                    v.as_object_mut().unwrap().remove(ENTERPRISE_USER_SCHEMA);
                    v
                },
            ),
        ];
        for (attrs, excl, want) in cases {
            let p = Projection::parse(&r, ResourceKind::User, attrs, excl).unwrap();
            assert_eq!(
                project(&r, ResourceKind::User, full.clone(), &p),
                want,
                "{attrs:?} {excl:?}"
            );
        }
    }

    #[test]
    fn projection_parse_and_members() {
        let r = reg();
        let cases: Vec<(Option<&str>, Option<&str>, Projection, bool)> = vec![
            (None, None, Projection::Default, true),
            (
                Some("displayName"),
                None,
                Projection::Include(vec!["displayName".into()]),
                false,
            ),
            (
                Some("Members.Value,members"),
                None,
                Projection::Include(vec!["members.value".into(), "members".into()]),
                true,
            ),
            (
                None,
                Some("MEMBERS"),
                Projection::Exclude(vec!["members".into()]),
                false,
            ),
            (
                None,
                Some("members.type"),
                Projection::Exclude(vec!["members.type".into()]),
                true,
            ),
            (
                Some("displayName"),
                Some("members"),
                Projection::Include(vec!["displayName".into()]),
                false,
            ),
            (Some("nope"), None, Projection::Include(vec![]), false),
        ];
        for (attrs, excl, want, members) in cases {
            let p = Projection::parse(&r, ResourceKind::Group, attrs, excl).unwrap();
            assert_eq!(p, want, "{attrs:?} {excl:?}");
            assert_eq!(p.includes_members(&r), members, "{attrs:?} {excl:?}");
        }
        let group = json!({"schemas": [GROUP_SCHEMA], "id": "g1", "displayName": "Ops",
                           "members": [{"value": "u1", "display": "U"}]});
        let p = Projection::parse(&r, ResourceKind::Group, Some("members.value"), None).unwrap();
        assert_eq!(
            project(&r, ResourceKind::Group, group, &p),
            json!({"schemas": [GROUP_SCHEMA], "id": "g1", "members": [{"value": "u1"}]})
        );
    }
}
