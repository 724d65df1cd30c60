//! A POST or PUT body (or a document after PATCH) turned into the one form Roster stores
//! (the rules are listed in `mod.rs`).

use std::collections::BTreeMap;
use std::fmt;

use chrono::DateTime;
use serde_json::{Map, Value};

use super::names::{get_ci, split_qualified};
use crate::scim::error::{ScimError, ScimResult};
use crate::scim::schema::{AttrType, Attribute, Mutability, ResourceKind, Schema, SchemaRegistry};

/// A request body in the form Roster stores.
#[derive(Debug, Clone, PartialEq)]
pub struct Canonical {
    /// The resource document, without `id`, `meta` and (for groups) `members`.
    pub doc: Map<String, Value>,
    /// A Group's members: `None` when the body has no `members` attribute, `Some(vec![])`
    /// when it is empty or null (which a PUT uses to clear membership).
    pub members: Option<Vec<MemberRef>>,
}

/// One element of a Group's `members`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRef {
    pub value: String,
    pub kind: Option<MemberKind>,
    /// The client's `display` text for the member, kept as it was when the member was added.
    pub display: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberKind {
    User,
    Group,
}
/// Validates and normalises a POST or PUT body (see the module documentation for the rules).
pub fn canonicalize(
    reg: &SchemaRegistry,
    kind: ResourceKind,
    body: &Value,
) -> ScimResult<Canonical> {
    let Value::Object(input) = body else {
        return Err(ScimError::InvalidSyntax(
            "the request body must be a JSON object".into(),
        ));
    };
    check_schemas(kind, input)?;
    let core = reg.core_schema(kind);

    // Gather every attribute under its canonical name first, so that `department` given both
    // inside the extension object and as a URN-qualified key meets itself.
    let mut core_in: Gathered = BTreeMap::new();
    let mut ext_in: Vec<(&Schema, Gathered)> =
        reg.extensions(kind).map(|s| (s, BTreeMap::new())).collect();
    for (key, value) in input {
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        if let Some(pos) = ext_in
            .iter()
            .position(|(s, _)| s.id.eq_ignore_ascii_case(key))
        {
            let (schema, gathered) = &mut ext_in[pos];
            match value {
                Value::Null => {}
                Value::Object(inner) => {
                    for (k, v) in inner {
                        if let Some(attr) = schema.attribute(k) {
                            gather(
                                gathered,
                                attr,
                                v,
                                &AttrPath::Extension(&schema.id, &attr.name),
                            )?;
                        }
                    }
                }
                _ => {
                    return Err(ScimError::InvalidValue(format!(
                        "'{}' must be an object holding the extension's attributes",
                        schema.id
                    )));
                }
            }
            continue;
        }
        if key.eq_ignore_ascii_case(&core.id) {
            // The core attributes written under the core URN: unusual, but unambiguous.
            if let Value::Object(inner) = value {
                for (k, v) in inner {
                    if let Some(r) = reg.resolve(kind, None, k, None) {
                        gather(&mut core_in, r.attr, v, &AttrPath::Core(&r.attr.name))?;
                    }
                }
            }
            continue;
        }
        let (uri, name) = split_qualified(key);
        let Some(r) = reg.resolve(kind, uri, name, None) else {
            continue;
        };
        if r.is_core {
            gather(&mut core_in, r.attr, value, &AttrPath::Core(&r.attr.name))?;
        } else if let Some((schema, gathered)) = ext_in
            .iter_mut()
            .find(|(s, _)| r.schema.is_some_and(|id| s.id == id))
        {
            let path = AttrPath::Extension(&schema.id, &r.attr.name);
            gather(gathered, r.attr, value, &path)?;
        }
    }

    let mut doc = Map::new();
    let mut members = None;
    for (_, (attr, raw)) in core_in {
        if kind == ResourceKind::Group && attr.name == "members" {
            members = Some(members_from_value(&raw)?);
            continue;
        }
        if let Some(v) = check_attribute(attr, &raw, &AttrPath::Core(&attr.name))? {
            doc.insert(attr.name.clone(), v);
        }
    }
    for attr in core.attributes.iter().chain(reg.common_attributes()) {
        if kind == ResourceKind::Group && attr.name == "members" {
            continue;
        }
        require(attr, doc.get(&attr.name), &AttrPath::Core(&attr.name))?;
    }

    let mut schemas = vec![Value::String(core.id.clone())];
    let required_exts = &reg.resource_type(kind).extensions;
    for (schema, gathered) in ext_in {
        let mut obj = Map::new();
        for (_, (attr, raw)) in gathered {
            if let Some(v) =
                check_attribute(attr, &raw, &AttrPath::Extension(&schema.id, &attr.name))?
            {
                obj.insert(attr.name.clone(), v);
            }
        }
        if obj.is_empty() {
            if required_exts
                .iter()
                .any(|e| e.required && e.schema.eq_ignore_ascii_case(&schema.id))
            {
                return Err(ScimError::InvalidValue(format!(
                    "extension '{}' is required",
                    schema.id
                )));
            }
            continue;
        }
        for attr in &schema.attributes {
            require(
                attr,
                obj.get(&attr.name),
                &AttrPath::Extension(&schema.id, &attr.name),
            )?;
        }
        schemas.push(Value::String(schema.id.clone()));
        doc.insert(schema.id.clone(), Value::Object(obj));
    }
    doc.insert("schemas".into(), Value::Array(schemas));
    Ok(Canonical { doc, members })
}
/// Canonical name -> (attribute, raw value as sent).
type Gathered<'a> = BTreeMap<String, (&'a Attribute, Value)>;

pub(super) fn ext_path(schema: &Schema, attr: &Attribute) -> String {
    format!("{}:{}", schema.id, attr.name)
}

/// Where an attribute sits in a document, for error messages. Spelled out only when one is
/// reported: formatting every sub-attribute's path up front was 2% of a POST.
enum AttrPath<'a> {
    Core(&'a str),
    Extension(&'a str, &'a str),
    Sub(&'a AttrPath<'a>, &'a str),
}

impl fmt::Display for AttrPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrPath::Core(name) => f.write_str(name),
            AttrPath::Extension(schema, name) => write!(f, "{schema}:{name}"),
            AttrPath::Sub(parent, name) => write!(f, "{parent}.{name}"),
        }
    }
}

fn gather<'a>(
    into: &mut Gathered<'a>,
    attr: &'a Attribute,
    value: &Value,
    path: &AttrPath<'_>,
) -> ScimResult<()> {
    match into.get_mut(&attr.name) {
        None => {
            into.insert(attr.name.clone(), (attr, value.clone()));
        }
        Some((_, existing)) => {
            if value.is_null() || existing == value {
                return Ok(());
            }
            match (&mut *existing, value) {
                (Value::Null, _) => *existing = value.clone(),
                (Value::Object(a), Value::Object(b)) => {
                    for (k, v) in b {
                        a.insert(k.clone(), v.clone());
                    }
                }
                _ => {
                    return Err(ScimError::InvalidValue(format!(
                        "attribute '{path}' is given more than once with different values"
                    )));
                }
            }
        }
    }
    Ok(())
}

fn check_schemas(kind: ResourceKind, input: &Map<String, Value>) -> ScimResult<()> {
    let core = kind.core_schema();
    let Some(schemas) = get_ci(input, "schemas") else {
        return Err(ScimError::InvalidValue(format!(
            "'schemas' is required and must list '{core}'"
        )));
    };
    let Value::Array(items) = schemas else {
        return Err(ScimError::InvalidSyntax(
            "'schemas' must be an array of strings".into(),
        ));
    };
    let mut found = false;
    for item in items {
        let Value::String(s) = item else {
            return Err(ScimError::InvalidSyntax(
                "'schemas' must be an array of strings".into(),
            ));
        };
        found |= s.eq_ignore_ascii_case(core);
    }
    if found {
        Ok(())
    } else {
        Err(ScimError::InvalidValue(format!(
            "'schemas' must list '{core}' for a {} resource",
            kind.name()
        )))
    }
}

fn require(attr: &Attribute, value: Option<&Value>, path: &AttrPath<'_>) -> ScimResult<()> {
    if !attr.required
        || matches!(
            attr.mutability,
            Mutability::ReadOnly | Mutability::WriteOnly
        )
    {
        return Ok(());
    }
    match value {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s.is_empty() => {}
        Some(_) => return Ok(()),
    }
    Err(ScimError::InvalidValue(format!(
        "attribute '{path}' is required"
    )))
}

/// Type-checks one attribute's value. `Ok(None)` means the attribute ends up unassigned.
fn check_attribute(
    attr: &Attribute,
    raw: &Value,
    path: &AttrPath<'_>,
) -> ScimResult<Option<Value>> {
    if matches!(
        attr.mutability,
        Mutability::ReadOnly | Mutability::WriteOnly
    ) || raw.is_null()
    {
        return Ok(None);
    }
    if !attr.multi_valued {
        return check_single(attr, raw, path);
    }
    let Value::Array(items) = raw else {
        return Err(ScimError::InvalidValue(format!(
            "attribute '{path}' is multi-valued and must be an array"
        )));
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if let Some(v) = check_single(attr, item, path)? {
            out.push(v);
        }
    }
    if out.is_empty() {
        return Ok(None);
    }
    if attr.kind == AttrType::Complex {
        let primaries = out
            .iter()
            .filter(|v| matches!(v.get("primary"), Some(Value::Bool(true))))
            .count();
        if primaries > 1 {
            return Err(ScimError::InvalidValue(format!(
                "attribute '{path}' has {primaries} values with \"primary\": true; at most one may be primary"
            )));
        }
    }
    Ok(Some(Value::Array(out)))
}

fn check_single(attr: &Attribute, v: &Value, path: &AttrPath<'_>) -> ScimResult<Option<Value>> {
    let wrong = |what: &str| {
        Err(ScimError::InvalidValue(format!(
            "attribute '{path}' must be {what}"
        )))
    };
    match (attr.kind, v) {
        (_, Value::Null) => Ok(None),
        (AttrType::String | AttrType::Reference | AttrType::Binary, Value::String(_)) => {
            Ok(Some(v.clone()))
        }
        (AttrType::String | AttrType::Reference | AttrType::Binary, _) => wrong("a string"),
        (AttrType::Boolean, Value::Bool(_)) => Ok(Some(v.clone())),
        (AttrType::Boolean, _) => wrong("a boolean"),
        (AttrType::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(Some(v.clone())),
        (AttrType::Integer, _) => wrong("an integer"),
        (AttrType::Decimal, Value::Number(_)) => Ok(Some(v.clone())),
        (AttrType::Decimal, _) => wrong("a number"),
        (AttrType::DateTime, Value::String(s)) if DateTime::parse_from_rfc3339(s).is_ok() => {
            Ok(Some(v.clone()))
        }
        (AttrType::DateTime, _) => {
            wrong("a dateTime string in RFC 3339 form, e.g. \"2024-05-01T12:00:00Z\"")
        }
        (AttrType::Complex, Value::Object(obj)) => check_complex(attr, obj, path),
        (AttrType::Complex, _) => wrong("an object"),
    }
}

fn check_complex(
    attr: &Attribute,
    obj: &Map<String, Value>,
    path: &AttrPath<'_>,
) -> ScimResult<Option<Value>> {
    let mut gathered: Gathered = BTreeMap::new();
    for (k, v) in obj {
        if let Some(sub) = attr.sub_attribute(k) {
            gather(&mut gathered, sub, v, &AttrPath::Sub(path, &sub.name))?;
        }
    }
    let mut out = Map::new();
    for (_, (sub, raw)) in gathered {
        if let Some(v) = check_attribute(sub, &raw, &AttrPath::Sub(path, &sub.name))? {
            out.insert(sub.name.clone(), v);
        }
    }
    if out.is_empty() {
        return Ok(None);
    }
    for sub in &attr.sub_attributes {
        require(sub, out.get(&sub.name), &AttrPath::Sub(path, &sub.name))?;
    }
    Ok(Some(Value::Object(out)))
}
/// Reads a Group's `members` value: an array of `{"value": id, "type": "User"|"Group"}`.
/// `null` is the empty list; duplicated values are collapsed (the first wins, but a `type`
/// given only on a later duplicate is kept). `$ref` is ignored: Roster derives it. A `display`
/// that is not a string is ignored too, as clients send `null` there.
pub fn members_from_value(value: &Value) -> ScimResult<Vec<MemberRef>> {
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        _ => {
            return Err(ScimError::InvalidValue(
                "attribute 'members' must be an array of objects like {\"value\": \"<id>\"}".into(),
            ));
        }
    };
    let mut out: Vec<MemberRef> = Vec::with_capacity(items.len());
    // A group may list 100,000 members: finding repeats must not be quadratic.
    let mut seen_at: std::collections::HashMap<String, usize> = Default::default();
    for item in items {
        let obj = match item {
            Value::Null => continue,
            Value::Object(obj) => obj,
            _ => {
                return Err(ScimError::InvalidValue(
                    "each element of 'members' must be an object like {\"value\": \"<id>\"}".into(),
                ));
            }
        };
        let value = match get_ci(obj, "value") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => {
                return Err(ScimError::InvalidValue(
                    "each element of 'members' needs a non-empty string 'value' (the member's id)"
                        .into(),
                ));
            }
        };
        let kind = match get_ci(obj, "type") {
            None | Some(Value::Null) => None,
            Some(Value::String(t)) if t.eq_ignore_ascii_case("user") => Some(MemberKind::User),
            Some(Value::String(t)) if t.eq_ignore_ascii_case("group") => Some(MemberKind::Group),
            Some(other) => {
                return Err(ScimError::InvalidValue(format!(
                    "member '{value}' has type {other}; 'members.type' must be \"User\" or \"Group\""
                )));
            }
        };
        let display = match get_ci(obj, "display") {
            Some(Value::String(d)) if !d.is_empty() => Some(d.clone()),
            _ => None,
        };
        match seen_at.get(&value) {
            Some(&at) => {
                let first = &mut out[at];
                first.kind = first.kind.or(kind);
                first.display = first.display.take().or(display);
            }
            None => {
                seen_at.insert(value.clone(), out.len());
                out.push(MemberRef {
                    value,
                    kind,
                    display,
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::resource::Projection;
    use crate::scim::schema::Returned;
    use crate::scim::schema::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};
    use crate::scim::secret::strip_secrets;
    use serde_json::json;

    fn reg() -> SchemaRegistry {
        SchemaRegistry::builtin()
    }

    fn user(extra: Value) -> Value {
        let mut body = json!({"schemas": [USER_SCHEMA], "userName": "bjensen"});
        if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
            b.extend(e);
        }
        body
    }

    fn canon_user(extra: Value) -> ScimResult<Value> {
        canonicalize(&reg(), ResourceKind::User, &user(extra)).map(|c| Value::Object(c.doc))
    }
    #[test]
    fn canonical_names_and_unassigned_values() {
        let out = canon_user(json!({
            "USERNAME": "bjensen",
            "Name": {"GivenName": "Barbara", "familyname": null, "bogus": 1},
            "emails": [],
            "phoneNumbers": null,
            "addresses": [{}],
            "nickName": "",
            "externalId": "ext-1",
            "id": "client-chosen",
            "meta": {"created": "2020-01-01T00:00:00Z"},
            "groups": [{"value": "g1"}],
            "password": "hunter2",
            "urn:example:vendor:2.0:User": {"x": 1},
            "vendorThing": true,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user": {"Department": "Sales", "manager": {"value": "m1", "displayName": "Boss"}},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter": "42",
        }))
        .unwrap();
        assert_eq!(
            out,
            json!({
                "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
                "userName": "bjensen",
                "name": {"givenName": "Barbara"},
                "nickName": "",
                "externalId": "ext-1",
                ENTERPRISE_USER_SCHEMA: {"department": "Sales", "costCenter": "42", "manager": {"value": "m1"}},
            })
        );
    }

    #[test]
    fn schemas_rules() {
        let r = reg();
        let cases: &[(Value, Option<&str>)] = &[
            (json!({"userName": "a"}), Some("value")),
            (
                json!({"schemas": USER_SCHEMA, "userName": "a"}),
                Some("syntax"),
            ),
            (json!({"schemas": [1], "userName": "a"}), Some("syntax")),
            (
                json!({"schemas": [GROUP_SCHEMA], "userName": "a"}),
                Some("value"),
            ),
            (
                json!({"schemas": [USER_SCHEMA.to_uppercase()], "userName": "a"}),
                None,
            ),
            (json!([1, 2]), Some("syntax")),
            (json!("x"), Some("syntax")),
        ];
        for (body, want) in cases {
            let got = canonicalize(&r, ResourceKind::User, body);
            match (want, got) {
                (None, Ok(c)) => {
                    assert_eq!(c.doc["schemas"], json!([USER_SCHEMA]), "{body}")
                }
                (Some("value"), Err(ScimError::InvalidValue(_))) => {}
                (Some("syntax"), Err(ScimError::InvalidSyntax(_))) => {}
                (want, got) => panic!("{body}: want {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn type_errors_name_the_attribute() {
        let cases = [
            (
                json!({"active": "true"}),
                "attribute 'active' must be a boolean",
            ),
            (
                json!({"displayName": 5}),
                "attribute 'displayName' must be a string",
            ),
            (
                json!({"profileUrl": false}),
                "attribute 'profileUrl' must be a string",
            ),
            (
                json!({"name": "Barbara"}),
                "attribute 'name' must be an object",
            ),
            (
                json!({"name": {"givenName": ["B"]}}),
                "attribute 'name.givenName' must be a string",
            ),
            (
                json!({"emails": {"value": "a@b"}}),
                "attribute 'emails' is multi-valued and must be an array",
            ),
            (
                json!({"emails": ["a@b"]}),
                "attribute 'emails' must be an object",
            ),
            (
                json!({"emails": [{"value": "a@b", "primary": "yes"}]}),
                "attribute 'emails.primary' must be a boolean",
            ),
            (
                json!({"x509Certificates": [{"value": 12}]}),
                "attribute 'x509Certificates.value' must be a string",
            ),
            (
                json!({"externalId": 7}),
                "attribute 'externalId' must be a string",
            ),
            (
                json!({"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": 1}}}),
                "attribute 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value' must be a string",
            ),
            (
                json!({"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": "Sales"}),
                "'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User' must be an object holding the extension's attributes",
            ),
            (
                json!({"emails": [{"value": "a", "primary": true}, {"value": "b", "primary": true}]}),
                "attribute 'emails' has 2 values with \"primary\": true; at most one may be primary",
            ),
            (json!({"userName": ""}), "attribute 'userName' is required"),
            (
                json!({"userName": null}),
                "attribute 'userName' is required",
            ),
            (
                json!({"title": "a", "TITLE": "b"}),
                "attribute 'title' is given more than once with different values",
            ),
        ];
        for (extra, want) in cases {
            match canon_user(extra.clone()) {
                Err(ScimError::InvalidValue(got)) => assert_eq!(got, want, "{extra}"),
                other => panic!("{extra}: want invalidValue, got {other:?}"),
            }
        }
    }

    #[test]
    fn scalar_types_accepted() {
        // The builtin schemas have no integer, decimal or dateTime attribute a client may
        // write, so exercise those types on synthetic attributes.
        let attr = |kind: AttrType| Attribute {
            name: "x".into(),
            kind,
            multi_valued: false,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Default::default(),
            sub_attributes: vec![],
            canonical_values: vec![],
            reference_types: vec![],
            description: None,
        };
        let cases = [
            (AttrType::Integer, json!(5), true),
            (AttrType::Integer, json!(-5), true),
            (AttrType::Integer, json!(5.5), false),
            (AttrType::Integer, json!("5"), false),
            (AttrType::Decimal, json!(5.5), true),
            (AttrType::Decimal, json!(5), true),
            (AttrType::Decimal, json!("5.5"), false),
            (AttrType::DateTime, json!("2024-05-01T12:00:00Z"), true),
            (
                AttrType::DateTime,
                json!("2024-05-01T12:00:00.123+02:00"),
                true,
            ),
            (AttrType::DateTime, json!("2024-05-01"), false),
            (AttrType::DateTime, json!(1714564800), false),
            (AttrType::Binary, json!("AAEC"), true),
            (AttrType::Reference, json!("https://x"), true),
            (AttrType::Boolean, json!(true), true),
            (AttrType::Boolean, json!(0), false),
        ];
        for (kind, v, ok) in cases {
            let got = check_attribute(&attr(kind), &v, &AttrPath::Core("x"));
            assert_eq!(got.is_ok(), ok, "{kind:?} {v}: {got:?}");
        }
    }

    #[test]
    fn multibyte_names_do_not_panic() {
        let r = reg();
        for key in ["abcé", "urné", "urn:é", "ééé:x", "urn:ietf:é:x.é", "é"] {
            let out = canon_user(json!({ key: "x" })).unwrap();
            assert_eq!(out, canon_user(json!({})).unwrap(), "{key}");
            assert_eq!(
                strip_secrets(&r, ResourceKind::User, &json!({ key: 1 })),
                json!({ key: 1 })
            );
            let p = Projection::parse(&r, ResourceKind::User, Some(key), None).unwrap();
            assert_eq!(p, Projection::Include(vec![]));
        }
    }

    #[test]
    fn group_members() {
        let r = reg();
        type Want<'a> = Result<Option<Vec<(&'a str, Option<MemberKind>)>>, &'a str>;
        let cases: &[(Value, Want)] = &[
            (json!({}), Ok(None)),
            (json!({"members": []}), Ok(Some(vec![]))),
            (json!({"members": null}), Ok(Some(vec![]))),
            (
                json!({"Members": [
                    {"value": "u1", "$ref": "https://x/Users/u1", "display": "U"},
                    {"value": "g1", "type": "group"},
                    {"value": "u1", "type": "User"},
                ]}),
                Ok(Some(vec![
                    ("u1", Some(MemberKind::User)),
                    ("g1", Some(MemberKind::Group)),
                ])),
            ),
            (
                json!({"members": [{"value": ""}]}),
                Err("non-empty string 'value'"),
            ),
            (
                json!({"members": [{"display": "x"}]}),
                Err("non-empty string 'value'"),
            ),
            (
                json!({"members": [{"value": 3}]}),
                Err("non-empty string 'value'"),
            ),
            (
                json!({"members": [{"value": "u", "type": "Robot"}]}),
                Err("must be \"User\" or \"Group\""),
            ),
            (json!({"members": ["u1"]}), Err("must be an object")),
            (json!({"members": {"value": "u1"}}), Err("must be an array")),
        ];
        for (extra, want) in cases {
            let mut body = json!({"schemas": [GROUP_SCHEMA], "displayName": "Ops"});
            if let (Value::Object(b), Value::Object(e)) = (&mut body, extra.clone()) {
                b.extend(e);
            }
            let got = canonicalize(&r, ResourceKind::Group, &body);
            match (want, got) {
                (Ok(want), Ok(c)) => {
                    assert_eq!(
                        Value::Object(c.doc),
                        json!({"schemas": [GROUP_SCHEMA], "displayName": "Ops"}),
                        "{extra}"
                    );
                    let got: Option<Vec<(&str, Option<MemberKind>)>> = c
                        .members
                        .as_ref()
                        .map(|ms| ms.iter().map(|m| (m.value.as_str(), m.kind)).collect());
                    assert_eq!(&got, want, "{extra}");
                }
                (Err(want), Err(ScimError::InvalidValue(got))) => {
                    assert!(got.contains(want), "{extra}: {got}")
                }
                (want, got) => panic!("{extra}: want {want:?}, got {got:?}"),
            }
        }
        let missing = canonicalize(&r, ResourceKind::Group, &json!({"schemas": [GROUP_SCHEMA]}));
        assert_eq!(
            missing,
            Err(ScimError::InvalidValue(
                "attribute 'displayName' is required".into()
            ))
        );
    }

    #[test]
    fn canonicalize_is_idempotent() {
        let r = reg();
        let once = canonicalize(
            &r,
            ResourceKind::User,
            &user(json!({"emails": [{"value": "a@b", "type": "work", "primary": true}], ENTERPRISE_USER_SCHEMA: {"department": "x"}})),
        )
        .unwrap();
        let twice = canonicalize(&r, ResourceKind::User, &Value::Object(once.doc.clone())).unwrap();
        assert_eq!(once, twice);
    }
}
