//! The normalized records the application reads: one shape in events, snapshots, webhook bodies
//! and the application API (`docs/events.md`). Built from the stored user or group; never from
//! SCIM JSON on the wire.

use serde_json::{Map, Value, json};

use super::clock::rfc3339;
use super::error::DomainResult;
use super::group::{DirectoryGroup, MemberKind};
use super::user::DirectoryUser;

/// Schemas whose attributes have a field of their own in the user record.
const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The user record: `{id, idp_id, directory_id, tenant_id, username, email, emails, first_name,
/// last_name, display_name, state, role, roles, job_title, department, employee_id, manager_id,
/// custom_attributes, raw_attributes, created_at, updated_at}`.
pub fn user(u: &DirectoryUser) -> DomainResult<Value> {
    let resource = u.resource.value()?;
    let p = &u.profile;
    Ok(json!({
        "id": u.id,
        "idp_id": p.external_id,
        "directory_id": u.directory_id,
        "tenant_id": u.tenant_id,
        "username": p.user_name,
        "email": p.primary_email,
        "emails": emails(&resource),
        "first_name": p.given_name,
        "last_name": p.family_name,
        "display_name": p.display_name,
        "state": u.state.as_str(),
        "role": u.roles.first().map(|slug| json!({"slug": slug})),
        "roles": u.roles.iter().map(|slug| json!({"slug": slug})).collect::<Vec<_>>(),
        "job_title": p.job_title,
        "department": p.department,
        "employee_id": p.employee_id,
        "manager_id": p.manager_id,
        "custom_attributes": match &u.custom_attributes {
            Some(mapped) => json!(mapped),
            None => custom_attributes(&resource),
        },
        "raw_attributes": resource,
        "created_at": rfc3339(u.created_at),
        "updated_at": rfc3339(u.updated_at),
    }))
}

/// The group record: `{id, idp_id, directory_id, tenant_id, name, raw_attributes, created_at,
/// updated_at}`.
pub fn group(g: &DirectoryGroup) -> DomainResult<Value> {
    Ok(json!({
        "id": g.id,
        "idp_id": g.external_id,
        "directory_id": g.directory_id,
        "tenant_id": g.tenant_id,
        "name": g.display_name,
        "raw_attributes": g.resource.value()?,
        "created_at": rfc3339(g.created_at),
        "updated_at": rfc3339(g.updated_at),
    }))
}

/// How a membership event names its group: `{id, idp_id, name}`.
pub fn group_ref(g: &DirectoryGroup) -> Value {
    json!({"id": g.id, "idp_id": g.external_id, "name": g.display_name})
}

/// The member half of a membership record: `user` with the user record, or `member_group`
/// with the nested group's record.
#[derive(Debug, Clone)]
pub struct MemberRecord {
    pub id: String,
    pub kind: MemberKind,
    pub record: Value,
}

impl MemberRecord {
    pub fn of_user(u: &DirectoryUser) -> DomainResult<MemberRecord> {
        Ok(MemberRecord {
            id: u.id.to_string(),
            kind: MemberKind::User,
            record: user(u)?,
        })
    }

    pub fn of_group(g: &DirectoryGroup) -> DomainResult<MemberRecord> {
        Ok(MemberRecord {
            id: g.id.to_string(),
            kind: MemberKind::Group,
            record: group(g)?,
        })
    }
}

/// `{group: {id, idp_id, name}, user: <user>}`, or `{group, member_group: <group>}`.
pub fn membership(group: &Value, member: &MemberRecord) -> Value {
    let field = match member.kind {
        MemberKind::User => "user",
        MemberKind::Group => "member_group",
    };
    let mut out = Map::new();
    out.insert("group".into(), group.clone());
    out.insert(field.into(), member.record.clone());
    Value::Object(out)
}

fn emails(resource: &Value) -> Value {
    let list = resource
        .get("emails")
        .and_then(Value::as_array)
        .map(|all| {
            all.iter()
                .filter_map(|e| {
                    Some(json!({
                        "value": e.get("value")?.as_str()?,
                        "type": e.get("type").cloned().unwrap_or(Value::Null),
                        "primary": e.get("primary").and_then(Value::as_bool).unwrap_or(false),
                    }))
                })
                .collect()
        })
        .unwrap_or_default();
    Value::Array(list)
}

/// A directory that maps no custom attribute shows the attributes of schema extensions other
/// than the enterprise one (custom `--schema-dir` extensions, Google's record), flattened by
/// attribute name; a name two extensions share keeps the first in URN order.
fn custom_attributes(resource: &Value) -> Value {
    let mut out = Map::new();
    if let Value::Object(doc) = resource {
        let mut urns: Vec<(&String, &Value)> = doc
            .iter()
            .filter(|(k, _)| {
                k.starts_with("urn:") && k.as_str() != CORE_USER && k.as_str() != ENTERPRISE_USER
            })
            .collect();
        urns.sort_by(|a, b| a.0.cmp(b.0));
        for (_, ext) in urns {
            if let Value::Object(attrs) = ext {
                for (name, value) in attrs {
                    out.entry(name.clone()).or_insert_with(|| value.clone());
                }
            }
        }
    }
    Value::Object(out)
}

/// Record fields that say what a record is or when it was written, never what changed.
const NOT_CHANGES: [&str; 6] = [
    "id",
    "directory_id",
    "tenant_id",
    "created_at",
    "updated_at",
    "raw_attributes",
];

/// What an update changed: the names of the record's fields whose values differ, in the
/// record's order, and an object of their values before. `raw_attributes` (the whole SCIM
/// resource) is named only when no other field changed, so that an update of an attribute
/// without a field of its own (a phone number) still says something changed.
pub fn changes(before: &Value, after: &Value) -> (Vec<String>, Value) {
    let (Value::Object(b), Value::Object(a)) = (before, after) else {
        return (Vec::new(), json!({}));
    };
    let mut changed = Vec::new();
    let mut previous = Map::new();
    for (name, now) in a {
        if NOT_CHANGES.contains(&name.as_str()) {
            continue;
        }
        let was = b.get(name).unwrap_or(&Value::Null);
        if was != now {
            changed.push(name.clone());
            previous.insert(name.clone(), was.clone());
        }
    }
    if changed.is_empty() {
        let was = b.get("raw_attributes").unwrap_or(&Value::Null);
        if a.get("raw_attributes").is_some_and(|now| now != was) {
            changed.push("raw_attributes".into());
            previous.insert("raw_attributes".into(), was.clone());
        }
    }
    (changed, Value::Object(previous))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_name_the_fields_that_differ_with_their_values_before() {
        let before = json!({"id": "u1", "username": "a", "job_title": "Engineer",
            "state": "active", "raw_attributes": {"title": "Engineer"}, "updated_at": "t1"});
        let cases = [
            (
                json!({"id": "u1", "username": "a", "job_title": "Manager", "state": "active",
                    "raw_attributes": {"title": "Manager"}, "updated_at": "t2"}),
                vec!["job_title"],
                json!({"job_title": "Engineer"}),
            ),
            (
                json!({"id": "u1", "username": "a", "job_title": null, "state": "inactive",
                    "raw_attributes": {}, "updated_at": "t2"}),
                vec!["job_title", "state"],
                json!({"job_title": "Engineer", "state": "active"}),
            ),
            (
                json!({"id": "u1", "username": "a", "job_title": "Engineer", "state": "active",
                    "raw_attributes": {"title": "Engineer", "nickName": "b"}, "updated_at": "t2"}),
                vec!["raw_attributes"],
                json!({"raw_attributes": {"title": "Engineer"}}),
            ),
        ];
        for (after, changed, previous) in cases {
            let (c, p) = changes(&before, &after);
            assert_eq!(c, changed, "{after}");
            assert_eq!(p, previous, "{after}");
        }
    }

    #[test]
    fn custom_attributes_flatten_extensions_but_the_enterprise_one() {
        let resource = json!({
            "userName": "a",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D"},
            "urn:example:params:scim:schemas:extension:acme:2.0:User": {"badge": 7, "site": "Köln"},
            "urn:roster:params:scim:schemas:extension:google:2.0:User": {"badge": 9, "orgUnit": "/"}
        });
        assert_eq!(
            custom_attributes(&resource),
            json!({"badge": 7, "site": "Köln", "orgUnit": "/"})
        );
        assert_eq!(
            emails(
                &json!({"emails": [{"value": "a@x", "type": "work", "primary": true}, {"value": "b@x"}]})
            ),
            json!([{"value": "a@x", "type": "work", "primary": true},
                   {"value": "b@x", "type": null, "primary": false}])
        );
    }
}
