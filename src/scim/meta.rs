use chrono::NaiveDateTime;
use serde_json::{Value, json};

use super::schema::ResourceKind;
use crate::domain::clock::rfc3339;

/// The weak entity tag of a resource version; `meta.version` and the `ETag` header carry it.
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// The version an `If-Match`/`If-None-Match` entity tag names: `W/"3"` or `"3"` give `3`.
pub fn version_of_etag(tag: &str) -> &str {
    let tag = tag.trim();
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    tag.trim_matches('"')
}

/// Where a resource is served: `meta.location` and a 201's `Location`.
pub fn location(kind: ResourceKind, id: &str, base_url: &str) -> String {
    format!("{base_url}/{}/{id}", kind.endpoint())
}

pub fn meta(
    kind: ResourceKind,
    id: &str,
    created: NaiveDateTime,
    modified: NaiveDateTime,
    version: i64,
    base_url: &str,
) -> Value {
    json!({
        "resourceType": kind.name(),
        "created": rfc3339(created),
        "lastModified": rfc3339(modified),
        "location": location(kind, id, base_url),
        "version": etag(version),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_round_trip() {
        for (tag, version) in [("W/\"3\"", "3"), ("\"12\"", "12"), (" W/\"7\" ", "7")] {
            assert_eq!(version_of_etag(tag), version);
        }
        assert_eq!(version_of_etag(&etag(42)), "42");
    }
}
