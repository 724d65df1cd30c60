//! SCIM User documents to domain user writes, and stored users back to SCIM.

use serde_json::{Map, Value, json};

use super::index::indexed_values;
use super::meta::meta;
use super::schema::{ENTERPRISE_USER_SCHEMA, ResourceKind, SchemaRegistry};
use crate::domain::user::{DirectoryUser, UserProfile, UserWrite};

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

/// The primary email's value, else the first email's.
fn primary_email(doc: &Map<String, Value>) -> Option<String> {
    let emails = doc.get("emails")?.as_array()?;
    let primary = emails
        .iter()
        .find(|e| e.get("primary").and_then(Value::as_bool) == Some(true))
        .or_else(|| emails.first())?;
    text(primary.get("value"))
}

/// A canonical User document (see `resource::canonicalize`) as a domain write.
pub fn user_write(reg: &SchemaRegistry, doc: Map<String, Value>, raw: Value) -> UserWrite {
    let enterprise = doc.get(ENTERPRISE_USER_SCHEMA);
    let profile = UserProfile {
        user_name: text(doc.get("userName")).unwrap_or_default(),
        external_id: text(doc.get("externalId")),
        active: doc.get("active").and_then(Value::as_bool).unwrap_or(true),
        display_name: text(doc.get("displayName")),
        given_name: text(doc.get("name").and_then(|n| n.get("givenName"))),
        family_name: text(doc.get("name").and_then(|n| n.get("familyName"))),
        primary_email: primary_email(&doc),
        job_title: text(doc.get("title")),
        department: text(enterprise.and_then(|e| e.get("department"))),
        employee_id: text(enterprise.and_then(|e| e.get("employeeNumber"))),
        manager_id: text(
            enterprise
                .and_then(|e| e.get("manager"))
                .and_then(|m| m.get("value")),
        ),
    };
    let index = indexed_values(reg, ResourceKind::User, &doc);
    UserWrite {
        profile,
        resource: Value::Object(doc),
        raw,
        index,
    }
}

/// What a response adds to a stored user's document: `id`, the groups it belongs to directly
/// (`(id, displayName)` pairs), and `meta`.
pub fn response_members(
    user: &DirectoryUser,
    groups: &[(String, String)],
    base_url: &str,
) -> Vec<(&'static str, Value)> {
    let mut added = vec![("id", json!(user.id))];
    if !groups.is_empty() {
        let groups = groups
            .iter()
            .map(|(id, name)| {
                json!({
                    "value": id,
                    "$ref": format!("{base_url}/Groups/{id}"),
                    "display": name,
                    "type": "direct",
                })
            })
            .collect();
        added.push(("groups", Value::Array(groups)));
    }
    added.push((
        "meta",
        meta(
            ResourceKind::User,
            user.id.as_str(),
            user.created_at,
            user.updated_at,
            user.version,
            base_url,
        ),
    ));
    added
}
