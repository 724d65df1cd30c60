//! SCIM Group documents to domain group writes, and stored groups back to SCIM.

use serde_json::{Map, Value, json};

use super::index::indexed_values;
use super::meta::meta;
use super::schema::{ResourceKind, SchemaRegistry};
use crate::domain::group::{DirectoryGroup, GroupWrite, NamedMember};

/// A canonical Group document (members already taken out) as a domain write.
pub fn group_write(reg: &SchemaRegistry, doc: Map<String, Value>, raw: Value) -> GroupWrite {
    let text = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_string);
    let display_name = text("displayName").unwrap_or_default();
    let external_id = text("externalId");
    let index = indexed_values(reg, ResourceKind::Group, &doc);
    GroupWrite {
        display_name,
        external_id,
        resource: Value::Object(doc),
        raw,
        index,
    }
}

/// What a response adds to a stored group's document: `id`, its `members` when the response
/// carries them (`None`: they were never read), and `meta`.
pub fn response_members(
    group: &DirectoryGroup,
    members: Option<&[NamedMember]>,
    base_url: &str,
) -> Vec<(&'static str, Value)> {
    let mut added = vec![("id", json!(group.id))];
    if let Some(members) = members.filter(|m| !m.is_empty()) {
        let members = members
            .iter()
            .map(|NamedMember { member: m, display }| {
                let endpoint = match m.kind {
                    crate::domain::group::MemberKind::User => "Users",
                    crate::domain::group::MemberKind::Group => "Groups",
                };
                let mut member = json!({
                    "value": m.id,
                    "$ref": format!("{base_url}/{endpoint}/{}", m.id),
                    "type": m.kind.as_str(),
                });
                if let Some(display) = display {
                    member["display"] = json!(display);
                }
                member
            })
            .collect();
        added.push(("members", Value::Array(members)));
    }
    added.push((
        "meta",
        meta(
            ResourceKind::Group,
            group.id.as_str(),
            group.created_at,
            group.updated_at,
            group.version,
            base_url,
        ),
    ));
    added
}
