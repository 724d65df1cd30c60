//! Google users and groups as SCIM documents, then as the same domain writes the SCIM path
//! makes, so the stored resource, typed columns and filter index are identical.
//!
//! Google's own record rides along in the resource under a Roster extension URN, without the
//! fields that change on their own (`etag`, `lastLoginTime`, `thumbnailPhotoEtag`, `kind`,
//! a group's `directMembersCount`): comparing resources then compares everything Google says
//! about the user except those, which is what decides whether a sync writes.

use serde_json::{Map, Value, json};

use crate::domain::group::GroupWrite;
use crate::domain::user::UserWrite;
use crate::scim::error::ScimError;
use crate::scim::resource::canonicalize;
use crate::scim::schema::{ENTERPRISE_USER_SCHEMA, ResourceKind, SchemaRegistry};
use crate::scim::{group::group_write, user::user_write};

pub use crate::scim::source_path::GOOGLE_USER_SCHEMA;
pub const GOOGLE_GROUP_SCHEMA: &str = "urn:roster:params:scim:schemas:extension:google:2.0:Group";

const USER_VOLATILE: [&str; 4] = ["etag", "lastLoginTime", "thumbnailPhotoEtag", "kind"];
const GROUP_VOLATILE: [&str; 3] = ["etag", "kind", "directMembersCount"];

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Google accepts a zero-width space as a given or family name for people with one name.
fn name_part(v: Option<&str>) -> Option<String> {
    let cleaned = v?.replace('\u{200B}', "");
    let cleaned = cleaned.trim();
    (!cleaned.is_empty()).then(|| cleaned.to_string())
}

/// The element marked `primary`, else the first.
fn primary(items: Option<&Value>) -> Option<&Value> {
    let items = items?.as_array()?;
    items
        .iter()
        .find(|i| i.get("primary").and_then(Value::as_bool) == Some(true))
        .or_else(|| items.first())
}

fn without(resource: &Value, volatile: &[&str]) -> Value {
    match resource {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !volatile.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The Google user's immutable id, which Roster keeps as `externalId`.
pub fn google_id(resource: &Value) -> Option<&str> {
    text(resource, "id")
}

/// A Google `User` resource as a SCIM User document.
pub fn user_document(g: &Value) -> Value {
    let mut doc = Map::new();
    doc.insert(
        "schemas".into(),
        json!([
            "urn:ietf:params:scim:schemas:core:2.0:User",
            ENTERPRISE_USER_SCHEMA
        ]),
    );
    let email = text(g, "primaryEmail").unwrap_or_default();
    doc.insert("userName".into(), json!(email));
    if let Some(id) = google_id(g) {
        doc.insert("externalId".into(), json!(id));
    }
    let suspended = g.get("suspended").and_then(Value::as_bool) == Some(true);
    let archived = g.get("archived").and_then(Value::as_bool) == Some(true);
    doc.insert("active".into(), json!(!suspended && !archived));
    let name = g.get("name").cloned().unwrap_or(Value::Null);
    let given = name_part(text(&name, "givenName"));
    let family = name_part(text(&name, "familyName"));
    let full = name_part(text(&name, "fullName")).or_else(|| {
        let joined = [given.as_deref(), family.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        (!joined.is_empty()).then_some(joined)
    });
    let mut scim_name = Map::new();
    if let Some(v) = &given {
        scim_name.insert("givenName".into(), json!(v));
    }
    if let Some(v) = &family {
        scim_name.insert("familyName".into(), json!(v));
    }
    if let Some(v) = &full {
        scim_name.insert("formatted".into(), json!(v));
        doc.insert("displayName".into(), json!(v));
    }
    if !scim_name.is_empty() {
        doc.insert("name".into(), Value::Object(scim_name));
    }
    let mut emails = vec![json!({"value": email, "type": "work", "primary": true})];
    for e in g
        .get("emails")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(address) = text(e, "address") else {
            continue;
        };
        if address.eq_ignore_ascii_case(email) {
            continue;
        }
        let kind = text(e, "type")
            .filter(|t| matches!(*t, "work" | "home"))
            .unwrap_or("other");
        emails.push(json!({"value": address, "type": kind}));
    }
    doc.insert("emails".into(), Value::Array(emails));
    let org = primary(g.get("organizations"));
    if let Some(title) = org.and_then(|o| text(o, "title")) {
        doc.insert("title".into(), json!(title));
    }
    let mut enterprise = Map::new();
    if let Some(dept) = org.and_then(|o| text(o, "department")) {
        enterprise.insert("department".into(), json!(dept));
    }
    if let Some(cost) = org.and_then(|o| text(o, "costCenter")) {
        enterprise.insert("costCenter".into(), json!(cost));
    }
    if let Some(company) = org.and_then(|o| text(o, "name")) {
        enterprise.insert("organization".into(), json!(company));
    }
    // The Admin console's "Employee ID" is the external id of type `organization`.
    let employee = g
        .get("externalIds")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|x| text(x, "type") == Some("organization"))
        .and_then(|x| text(x, "value"));
    if let Some(id) = employee {
        enterprise.insert("employeeNumber".into(), json!(id));
    }
    // Google's manager relation is a name or email, not an id; it is kept as given.
    let manager = g
        .get("relations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|r| text(r, "type") == Some("manager"))
        .and_then(|r| text(r, "value"));
    if let Some(m) = manager {
        enterprise.insert("manager".into(), json!({"value": m}));
    }
    if !enterprise.is_empty() {
        doc.insert(ENTERPRISE_USER_SCHEMA.into(), Value::Object(enterprise));
    }
    Value::Object(doc)
}

fn with_google(mut doc: Map<String, Value>, urn: &str, google: Value) -> Map<String, Value> {
    if let Some(Value::Array(schemas)) = doc.get_mut("schemas") {
        schemas.push(json!(urn));
    }
    doc.insert(urn.into(), google);
    doc
}

/// The domain write for a Google user; `raw` keeps Google's resource exactly as received.
pub fn user(reg: &SchemaRegistry, g: &Value) -> Result<UserWrite, ScimError> {
    let canonical = canonicalize(reg, ResourceKind::User, &user_document(g))?;
    let doc = with_google(
        canonical.doc,
        GOOGLE_USER_SCHEMA,
        without(g, &USER_VOLATILE),
    );
    Ok(user_write(reg, doc, g.clone()))
}

/// The domain write for a Google group (members are reconciled apart).
pub fn group(reg: &SchemaRegistry, g: &Value) -> Result<GroupWrite, ScimError> {
    let mut doc = Map::new();
    doc.insert(
        "schemas".into(),
        json!(["urn:ietf:params:scim:schemas:core:2.0:Group"]),
    );
    let name = text(g, "name")
        .or_else(|| text(g, "email"))
        .unwrap_or_default();
    doc.insert("displayName".into(), json!(name));
    if let Some(id) = google_id(g) {
        doc.insert("externalId".into(), json!(id));
    }
    let canonical = canonicalize(reg, ResourceKind::Group, &Value::Object(doc))?;
    let doc = with_google(
        canonical.doc,
        GOOGLE_GROUP_SCHEMA,
        without(g, &GROUP_VOLATILE),
    );
    Ok(group_write(reg, doc, g.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn google_user() -> Value {
        json!({
            "kind": "admin#directory#user",
            "id": "1001",
            "etag": "\"abc\"",
            "primaryEmail": "ada@example.com",
            "name": {"givenName": "Ada", "familyName": "\u{200B}", "fullName": "Ada"},
            "suspended": true,
            "orgUnitPath": "/Engineering",
            "lastLoginTime": "2026-01-01T00:00:00.000Z",
            "emails": [{"address": "ada@example.com", "primary": true},
                       {"address": "ada@home.example", "type": "home"}],
            "organizations": [{"title": "Engineer", "department": "R&D", "primary": true}],
            "externalIds": [{"type": "organization", "value": "E-7"}],
            "relations": [{"type": "manager", "value": "boss@example.com"}],
            "customSchemas": {"HR": {"badge": "42"}}
        })
    }

    #[test]
    fn a_google_user_becomes_the_scim_users_columns() {
        let reg = SchemaRegistry::builtin();
        let w = user(&reg, &google_user()).unwrap();
        let p = &w.profile;
        assert_eq!(p.user_name, "ada@example.com");
        assert_eq!(p.external_id.as_deref(), Some("1001"));
        assert!(!p.active, "suspended users are inactive");
        assert_eq!(p.given_name.as_deref(), Some("Ada"));
        assert_eq!(p.family_name, None, "a zero-width space is no family name");
        assert_eq!(p.job_title.as_deref(), Some("Engineer"));
        assert_eq!(p.department.as_deref(), Some("R&D"));
        assert_eq!(p.employee_id.as_deref(), Some("E-7"));
        assert_eq!(p.manager_id.as_deref(), Some("boss@example.com"));
        let google = &w.resource[GOOGLE_USER_SCHEMA];
        assert_eq!(google["orgUnitPath"], json!("/Engineering"));
        assert_eq!(google["customSchemas"]["HR"]["badge"], json!("42"));
        assert!(google.get("etag").is_none() && google.get("lastLoginTime").is_none());
        assert_eq!(
            w.raw["etag"],
            json!("\"abc\""),
            "raw keeps what Google sent"
        );
    }

    #[test]
    fn volatile_fields_do_not_change_the_resource() {
        let reg = SchemaRegistry::builtin();
        let a = user(&reg, &google_user()).unwrap();
        let mut later = google_user();
        later["etag"] = json!("\"def\"");
        later["lastLoginTime"] = json!("2026-02-02T00:00:00.000Z");
        later["thumbnailPhotoEtag"] = json!("x");
        let b = user(&reg, &later).unwrap();
        assert_eq!(a.resource, b.resource);
        later["orgUnitPath"] = json!("/Sales");
        assert_ne!(a.resource, user(&reg, &later).unwrap().resource);
    }
}
