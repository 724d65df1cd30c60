//! Deleted users' personal data leave the events feed with the directory's retention: once a
//! user was deleted longer ago than the retention, every retained event that carries the
//! user's record (its own events, and membership events naming it) keeps only what tells the
//! application which user and directory it was about. The events stay, in order, so a
//! replay still ends in the same state; an application that read them in time already has
//! what they said. Events are pruned whole later by `events_retention`.

use chrono::NaiveDateTime;
use serde_json::{Map, Value};

use super::error::DomainResult;
use super::tenancy::Directory;
use crate::store::{self, Store};

/// Fields of a user record that identify it or describe the event, not the person.
const KEPT: [&str; 8] = [
    "id",
    "directory_id",
    "tenant_id",
    "state",
    "created_at",
    "updated_at",
    "role",
    "roles",
];

/// Users whose events one pass looks for: bounds one statement's `OR` list.
const USERS_PER_PASS: i64 = 100;

/// The record with every personal field emptied (same keys, so typed readers still parse
/// it) and `"redacted": true`.
pub fn redact_user(record: &Value) -> Value {
    let Value::Object(fields) = record else {
        return record.clone();
    };
    let mut out = Map::new();
    for (name, value) in fields {
        let kept = if KEPT.contains(&name.as_str()) {
            value.clone()
        } else {
            match value {
                Value::Array(_) => Value::Array(Vec::new()),
                Value::Object(_) => Value::Object(Map::new()),
                _ => Value::Null,
            }
        };
        out.insert(name.clone(), kept);
    }
    out.insert("redacted".into(), Value::Bool(true));
    Value::Object(out)
}

/// What an event's data becomes once `users` are erased, or `None` when it names none of them.
/// A user's own events are found by their resource id, whatever shape their data has.
fn erased(
    event_type: &str,
    resource_id: &str,
    data: &Value,
    erasing: impl Fn(&str) -> bool,
) -> Option<Value> {
    if event_type.starts_with("group.user_") {
        if !data["user"]["id"].as_str().is_some_and(erasing) {
            return None;
        }
        let mut data = data.clone();
        data["user"] = redact_user(&data["user"]);
        data["redacted"] = Value::Bool(true);
        return Some(data);
    }
    if !event_type.starts_with("user.") || !erasing(resource_id) {
        return None;
    }
    Some(match data {
        Value::Object(_) => redact_user(data),
        _ => serde_json::json!({"id": resource_id, "redacted": true}),
    })
}

/// Erases the records of `directory`'s users deleted before `before` from its events; returns
/// how many events changed.
pub fn erase_deleted_users(
    store: &Store,
    directory: &Directory,
    before: NaiveDateTime,
) -> DomainResult<u64> {
    let id = directory.id.as_str();
    let mut changed = 0;
    loop {
        let users = store
            .read(|conn| store::events::deleted_users_to_erase(conn, id, before, USERS_PER_PASS))?;
        if users.is_empty() {
            return Ok(changed);
        }
        let found = store.read(|conn| store::events::events_naming_users(conn, id, &users))?;
        let rewrites: Vec<(i64, String)> = found
            .into_iter()
            .filter_map(|(cursor, event_type, resource_id, data)| {
                let data: Value = serde_json::from_str(&data).unwrap_or(Value::Null);
                let erasing = |id: &str| users.iter().any(|u| u == id);
                erased(&event_type, &resource_id, &data, erasing).map(|d| (cursor, d.to_string()))
            })
            .collect();
        // Each pass marks the users' `user.deleted` events, so the next finds other users;
        // a pass that changed nothing would find the same ones again.
        if rewrites.is_empty() {
            return Ok(changed);
        }
        rewrite(store, &rewrites)?;
        changed += rewrites.len() as u64;
    }
}

/// Events read per pass when a whole directory's are erased.
const EVENTS_PER_PASS: i64 = 500;

/// Erases every user record from the events of a directory being deleted: once its users
/// are gone, nothing in the feed should still say who they were. Returns how many events
/// changed; resumes where a stopped deletion left off, as erased events are marked.
pub fn erase_directory(store: &Store, directory: &Directory) -> DomainResult<u64> {
    let id = directory.id.as_str();
    let (mut after, mut changed) = (0, 0);
    loop {
        let found = store
            .read(|conn| store::events::unerased_user_events(conn, id, after, EVENTS_PER_PASS))?;
        let Some(&(last, ..)) = found.last() else {
            return Ok(changed);
        };
        after = last;
        let rewrites: Vec<(i64, String)> = found
            .into_iter()
            .filter_map(|(cursor, event_type, resource_id, data)| {
                let data: Value = serde_json::from_str(&data).unwrap_or(Value::Null);
                erased(&event_type, &resource_id, &data, |_| true).map(|d| (cursor, d.to_string()))
            })
            .collect();
        rewrite(store, &rewrites)?;
        changed += rewrites.len() as u64;
    }
}

fn rewrite(store: &Store, rewrites: &[(i64, String)]) -> DomainResult<()> {
    for batch in rewrites.chunks(500) {
        store.write(|conn| -> Result<(), store::StoreError> {
            for (cursor, data) in batch {
                store::events::rewrite_redacted(conn, *cursor, data)?;
            }
            Ok(())
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_redacted_user_keeps_its_shape_and_ids_but_no_personal_field() {
        let user = json!({
            "id": "u1", "idp_id": "okta-9", "directory_id": "d1", "tenant_id": "t1",
            "username": "ana@example.com", "email": "ana@example.com",
            "emails": [{"value": "ana@example.com"}], "first_name": "Ana", "state": "active",
            "custom_attributes": {"costCenter": "4130"}, "raw_attributes": {"userName": "ana"},
            "created_at": "2026-12-01T00:00:00Z", "updated_at": "2026-12-02T00:00:00Z",
        });
        let out = redact_user(&user);
        assert!(!out.to_string().contains("ana") && !out.to_string().contains("okta-9"));
        assert_eq!(out["id"], "u1");
        assert_eq!(out["state"], "active");
        assert_eq!(out["emails"], json!([]));
        assert_eq!(out["custom_attributes"], json!({}));
        assert_eq!(out["redacted"], true);
        assert_eq!(
            out.as_object().unwrap().len(),
            user.as_object().unwrap().len() + 1
        );
    }

    #[test]
    fn only_events_naming_an_erased_user_change() {
        let users = |id: &str| id == "u1";
        let member = |id: &str| json!({"group": {"id": "g1", "name": "Eng"}, "user": {"id": id, "email": "x@y"}});
        let erased_membership = erased("group.user_added", "g1", &member("u1"), users).unwrap();
        assert_eq!(erased_membership["group"]["name"], "Eng");
        assert_eq!(erased_membership["user"]["email"], Value::Null);
        assert!(erased("group.user_added", "g1", &member("u2"), users).is_none());
        let own = json!({"id": "u1", "email": "x@y"});
        assert_eq!(
            erased("user.updated", "u1", &own, users).unwrap()["email"],
            Value::Null
        );
        assert!(erased("user.updated", "u11", &own, users).is_none());
        assert_eq!(
            erased("user.deleted", "u1", &Value::Null, users).unwrap(),
            json!({"id": "u1", "redacted": true})
        );
    }
}
