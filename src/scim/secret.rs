//! Secrets by schema: an attribute or sub-attribute whose schema says `mutability: writeOnly`
//! or `returned: never` (`password`, or any of an operator's extension attributes) is never
//! kept in a resource's raw body, never returned, and never recorded in the request log. This
//! module is that one rule: [`is_secret`] for code that walks attributes by schema
//! (`resource::project`, `verbatim`), [`treat_secrets`] for documents of any shape (a resource,
//! a PATCH request, a bulk request, a list response).

use serde_json::Value;

use super::resource::resolve_dotted;
use super::schema::{
    AttrType, Attribute, Mutability, ResolvedAttr, ResourceKind, Returned, SchemaRegistry,
};

pub fn is_secret(attr: &Attribute) -> bool {
    attr.mutability == Mutability::WriteOnly || attr.returned == Returned::Never
}

/// What becomes of a secret member of a document.
#[derive(Debug, Clone, Copy)]
pub enum Treatment<'a> {
    /// Removed, member and all: what is stored.
    Remove,
    /// Its value replaced by this text, so that a reader sees one was sent: what is logged.
    Replace(&'a str),
}

/// A copy of a request body fit to be stored as a resource's raw body.
pub fn strip_secrets(reg: &SchemaRegistry, kind: ResourceKind, body: &Value) -> Value {
    let mut raw = body.clone();
    treat_secrets(reg, Some(kind), &mut raw, Treatment::Remove);
    raw
}

/// Treats every secret in `doc`, at any depth: members named by a secret attribute (plain,
/// URN-qualified, or inside an extension's object or a complex attribute), and the `value` of
/// any object whose `path` names one (a PATCH operation). Members no schema describes
/// (`Operations`, `Resources`, bulk `data`, vendor attributes) are searched as resources.
/// `kind` is the resource type the document is about, when known; otherwise both count.
pub fn treat_secrets(
    reg: &SchemaRegistry,
    kind: Option<ResourceKind>,
    doc: &mut Value,
    treatment: Treatment<'_>,
) {
    let kinds: &[ResourceKind] = match kind {
        Some(ResourceKind::User) => &[ResourceKind::User],
        Some(ResourceKind::Group) => &[ResourceKind::Group],
        None => &[ResourceKind::User, ResourceKind::Group],
    };
    Walk {
        reg,
        kinds,
        treatment,
    }
    .value(Level::Resource, doc);
}

/// The leaf names of every secret attribute the registry knows, for a quick look whether a
/// text could hold one before it is parsed.
pub fn secret_names(reg: &SchemaRegistry) -> Vec<&str> {
    fn collect<'a>(attrs: &'a [Attribute], out: &mut Vec<&'a str>) {
        for a in attrs {
            if is_secret(a) {
                out.push(&a.name);
            }
            collect(&a.sub_attributes, out);
        }
    }
    let mut out = Vec::new();
    for schema in reg.schemas() {
        collect(&schema.attributes, &mut out);
    }
    collect(reg.common_attributes(), &mut out);
    out
}

/// What the members of an object are.
#[derive(Clone, Copy)]
enum Level<'r> {
    /// Attributes of a resource: core, common, URN-qualified, or extension objects.
    Resource,
    /// The attributes of an extension object, or the sub-attributes of a complex attribute.
    Within(&'r [Attribute]),
}

/// What one member of an object holds.
#[derive(Clone, Copy)]
enum Class<'r> {
    Secret,
    Within(&'r [Attribute]),
    /// A simple attribute the schemas describe: nothing inside to look at.
    Plain,
    Unknown,
}

struct Walk<'r, 't> {
    reg: &'r SchemaRegistry,
    kinds: &'r [ResourceKind],
    treatment: Treatment<'t>,
}

impl<'r> Walk<'r, '_> {
    fn value(&self, level: Level<'r>, value: &mut Value) {
        match value {
            Value::Array(items) => items.iter_mut().for_each(|v| self.value(level, v)),
            Value::Object(map) => {
                let target = map
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("path"))
                    .and_then(|(_, p)| p.as_str())
                    .map(|p| self.named(&without_filters(p)));
                let mut secret = Vec::new();
                for (key, v) in map.iter_mut() {
                    let class = match target {
                        Some(t) if key.eq_ignore_ascii_case("value") => t,
                        _ => self.member(level, key),
                    };
                    match class {
                        Class::Secret => secret.push(key.clone()),
                        Class::Within(attrs) => self.value(Level::Within(attrs), v),
                        Class::Plain => {}
                        Class::Unknown => self.value(Level::Resource, v),
                    }
                }
                for key in secret {
                    match self.treatment {
                        Treatment::Remove => {
                            map.remove(&key);
                        }
                        Treatment::Replace(text) => {
                            if let Some(v) = map.get_mut(&key).filter(|v| !v.is_null()) {
                                *v = Value::String(text.to_string());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn member(&self, level: Level<'r>, key: &str) -> Class<'r> {
        match level {
            Level::Resource => self.named(key),
            Level::Within(attrs) => attrs
                .iter()
                .find(|a| a.name.eq_ignore_ascii_case(key))
                .map_or(Class::Unknown, |a| attribute_class(a, None)),
        }
    }

    /// A resource's member or a PATCH path: `password`, `name.givenName`, `urn:…:User:password`,
    /// an extension's URN, `urn:…:sites.doorCode`. A secret for any of the kinds wins.
    fn named(&self, name: &str) -> Class<'r> {
        let mut found = Class::Unknown;
        for &kind in self.kinds {
            let class = match self.reg.extension(kind, name) {
                Some(ext) => Class::Within(&ext.attributes),
                None => resolve_dotted(self.reg, kind, name)
                    .map_or(Class::Unknown, |r: ResolvedAttr<'r>| {
                        attribute_class(r.attr, r.sub)
                    }),
            };
            match class {
                Class::Secret => return Class::Secret,
                Class::Unknown => {}
                _ if matches!(found, Class::Unknown) => found = class,
                _ => {}
            }
        }
        found
    }
}

fn attribute_class<'r>(attr: &'r Attribute, sub: Option<&'r Attribute>) -> Class<'r> {
    if is_secret(attr) || sub.is_some_and(is_secret) {
        Class::Secret
    } else if sub.is_none() && attr.kind == AttrType::Complex {
        Class::Within(&attr.sub_attributes)
    } else {
        Class::Plain
    }
}

/// A PATCH path without its value filters: `emails[type eq "work"].value` is `emails.value`.
fn without_filters(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut depth = 0usize;
    for c in path.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::resource::{Projection, project};
    use crate::scim::schema::USER_SCHEMA;
    use serde_json::json;

    const ACME: &str = "urn:example:acme:2.0:User";
    const CLUB: &str = "urn:example:club:2.0:Group";

    /// The built-in schemas and two extensions with secrets at every depth.
    fn registry() -> SchemaRegistry {
        let dir = std::env::temp_dir().join(format!(
            "roster-secret-test-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir(&dir).unwrap();
        let acme = json!({
            "id": ACME,
            "x-roster-extends": {"resourceType": "User"},
            "attributes": [
                {"name": "badgeNumber"},
                {"name": "badgeCode", "mutability": "writeOnly", "returned": "never"},
                {"name": "recoveryHint", "returned": "never"},
                {"name": "sites", "type": "complex", "multiValued": true, "subAttributes": [
                    {"name": "name"},
                    {"name": "doorCode", "mutability": "writeOnly"}
                ]}
            ]
        });
        let club = json!({
            "id": CLUB,
            "x-roster-extends": {"resourceType": "Group"},
            "attributes": [{"name": "vaultPhrase", "mutability": "writeOnly"}]
        });
        std::fs::write(dir.join("acme.json"), acme.to_string()).unwrap();
        std::fs::write(dir.join("club.json"), club.to_string()).unwrap();
        let reg = SchemaRegistry::with_extensions(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        reg.unwrap()
    }

    #[test]
    fn the_rule() {
        let attr = |mutability, returned| Attribute {
            mutability,
            returned,
            ..serde_json::from_value(json!({"name": "x"})).unwrap()
        };
        // (mutability, returned, secret?)
        let cases = [
            (Mutability::WriteOnly, Returned::Never, true),
            (Mutability::WriteOnly, Returned::Default, true),
            (Mutability::ReadWrite, Returned::Never, true),
            (Mutability::ReadWrite, Returned::Default, false),
            (Mutability::ReadOnly, Returned::Always, false),
            (Mutability::Immutable, Returned::Request, false),
        ];
        for (m, r, want) in cases {
            assert_eq!(is_secret(&attr(m, r)), want, "{m:?} {r:?}");
        }
        let reg = registry();
        let mut names = secret_names(&reg);
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "badgeCode",
                "doorCode",
                "password",
                "recoveryHint",
                "vaultPhrase"
            ]
        );
    }

    #[test]
    fn removed_at_any_depth() {
        let reg = registry();
        let sites = format!("{ACME}:sites");
        // (kind, document, what is left of it)
        let cases = [
            (
                Some(ResourceKind::User),
                json!({"userName": "a", "password": "p", ACME: {
                    "badgeNumber": "B-1", "BADGECODE": "c", "recoveryHint": "h",
                    "sites": [{"name": "Oslo", "doorCode": "d"}]}}),
                json!({"userName": "a", ACME: {"badgeNumber": "B-1", "sites": [{"name": "Oslo"}]}}),
            ),
            (
                Some(ResourceKind::User),
                json!({format!("{ACME}:badgeCode"): "c", format!("{USER_SCHEMA}:password"): "p",
                       format!("{ACME}:badgeNumber"): "B-1"}),
                json!({format!("{ACME}:badgeNumber"): "B-1"}),
            ),
            (
                Some(ResourceKind::User),
                json!({"Operations": [
                    {"op": "replace", "path": format!("{ACME}:badgeCode"), "value": "c"},
                    {"op": "add", "path": format!("{sites}[name eq \"Oslo\"].doorCode"), "value": "d"},
                    {"op": "add", "path": sites.clone(), "value": [{"name": "Bergen", "doorCode": "d"}]},
                    {"op": "replace", "path": ACME, "value": {"recoveryHint": "h", "badgeNumber": "B-2"}},
                    {"op": "replace", "value": {ACME: {"badgeCode": "c"}, "password": "p", "title": "t"}},
                    {"op": "replace", "path": "title", "value": "t"}
                ]}),
                json!({"Operations": [
                    {"op": "replace", "path": format!("{ACME}:badgeCode")},
                    {"op": "add", "path": format!("{sites}[name eq \"Oslo\"].doorCode")},
                    {"op": "add", "path": sites.clone(), "value": [{"name": "Bergen"}]},
                    {"op": "replace", "path": ACME, "value": {"badgeNumber": "B-2"}},
                    {"op": "replace", "value": {ACME: {}, "title": "t"}},
                    {"op": "replace", "path": "title", "value": "t"}
                ]}),
            ),
            (
                None,
                json!({"Operations": [
                    {"method": "POST", "path": "/Users", "data": {"userName": "a", ACME: {"badgeCode": "c"}}},
                    {"method": "POST", "path": "/Groups", "data": {"displayName": "g", CLUB: {"vaultPhrase": "v"}}}
                ]}),
                json!({"Operations": [
                    {"method": "POST", "path": "/Users", "data": {"userName": "a", ACME: {}}},
                    {"method": "POST", "path": "/Groups", "data": {"displayName": "g", CLUB: {}}}
                ]}),
            ),
            (
                None,
                json!({"Resources": [{"id": "1", ACME: {"recoveryHint": "h"}, "vendor": {"password": "p"}}]}),
                json!({"Resources": [{"id": "1", ACME: {}, "vendor": {}}]}),
            ),
            (
                // A Group extension's secret is not one in a User document.
                Some(ResourceKind::User),
                json!({"vaultPhrase": "v", "userName": "password"}),
                json!({"vaultPhrase": "v", "userName": "password"}),
            ),
        ];
        for (kind, before, after) in cases {
            let mut doc = before.clone();
            treat_secrets(&reg, kind, &mut doc, Treatment::Remove);
            assert_eq!(doc, after, "from {before}");
            if let Some(kind) = kind {
                assert_eq!(strip_secrets(&reg, kind, &before), after, "from {before}");
            }
        }
        let mut replaced = json!({"password": "p", ACME: {"badgeCode": "c"}, "emails": null});
        treat_secrets(&reg, None, &mut replaced, Treatment::Replace("[x]"));
        assert_eq!(
            replaced,
            json!({"password": "[x]", ACME: {"badgeCode": "[x]"}, "emails": null})
        );
    }

    #[test]
    fn passwords_as_before() {
        let reg = SchemaRegistry::builtin();
        let cases = [
            (
                json!({"userName": "a", "password": "x"}),
                json!({"userName": "a"}),
            ),
            (
                json!({"PassWord": "x", "nested": {"password": "y", "k": 1}}),
                json!({"nested": {"k": 1}}),
            ),
            (
                json!({"urn:ietf:params:scim:schemas:core:2.0:User:password": "x", "a": [{"password": "y"}]}),
                json!({"a": [{}]}),
            ),
            (
                json!({"Operations": [
                    {"op": "replace", "path": "password", "value": "x"},
                    {"op": "Replace", "Path": "urn:ietf:params:scim:schemas:core:2.0:User:password", "Value": "x"},
                    {"op": "replace", "value": {"password": "x", "active": true}},
                    {"op": "replace", "path": "title", "value": "x"},
                ]}),
                json!({"Operations": [
                    {"op": "replace", "path": "password"},
                    {"op": "Replace", "Path": "urn:ietf:params:scim:schemas:core:2.0:User:password"},
                    {"op": "replace", "value": {"active": true}},
                    {"op": "replace", "path": "title", "value": "x"},
                ]}),
            ),
            (json!("password"), json!("password")),
        ];
        for (input, want) in cases {
            assert_eq!(
                strip_secrets(&reg, ResourceKind::User, &input),
                want,
                "{input}"
            );
        }
    }

    #[test]
    fn never_returned() {
        let reg = registry();
        // As a resource stored before its attributes became secret would hold them.
        let stored = json!({"schemas": [USER_SCHEMA, ACME], "id": "u1", "userName": "a",
            "password": "p",
            ACME: {"badgeNumber": "B-1", "badgeCode": "c", "recoveryHint": "h",
                   "sites": [{"name": "Oslo", "doorCode": "d"}]}});
        let want = json!({"schemas": [USER_SCHEMA, ACME], "id": "u1", "userName": "a",
            ACME: {"badgeNumber": "B-1", "sites": [{"name": "Oslo"}]}});
        let named = format!("userName,password,{ACME}:badgeCode,{ACME}:sites.doorCode,{ACME}");
        let projections = [
            Projection::Default,
            Projection::parse(&reg, ResourceKind::User, Some(&named), None).unwrap(),
            Projection::parse(&reg, ResourceKind::User, None, Some("displayName")).unwrap(),
        ];
        for p in projections {
            assert_eq!(
                project(&reg, ResourceKind::User, stored.clone(), &p),
                want,
                "{p:?}"
            );
        }
    }
}
