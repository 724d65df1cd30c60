//! ServiceProviderConfig, ResourceTypes and Schemas (RFC 7644 §4): what the server really does.

use serde_json::{Value, json};

use super::bulk::MAX_OPERATIONS as BULK_MAX_OPERATIONS;
use super::cursor::CURSOR_TIMEOUT_SECS;
use super::list::{DEFAULT_COUNT, MAX_COUNT};
use super::schema::{ResourceType, SchemaRegistry};

pub fn service_provider_config(base_url: &str, max_body_bytes: usize) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": {"supported": true},
        "bulk": {"supported": true, "maxOperations": BULK_MAX_OPERATIONS, "maxPayloadSize": max_body_bytes},
        "filter": {"supported": true, "maxResults": MAX_COUNT},
        "changePassword": {"supported": false},
        "sort": {"supported": true},
        "pagination": {
            "cursor": true,
            "index": true,
            "defaultPaginationMethod": "index",
            "defaultPageSize": DEFAULT_COUNT,
            "maxPageSize": MAX_COUNT,
            "cursorTimeout": CURSOR_TIMEOUT_SECS,
        },
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "A per-directory bearer token issued with `roster token issue`.",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base_url}/ServiceProviderConfig"),
        },
    })
}

pub fn resource_type(rt: &ResourceType, base_url: &str) -> Value {
    let name = rt.kind.name();
    let extensions: Vec<Value> = rt
        .extensions
        .iter()
        .map(|e| json!({"schema": e.schema, "required": e.required}))
        .collect();
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": name,
        "name": name,
        "endpoint": format!("/{}", rt.kind.endpoint()),
        "description": rt.description,
        "schema": rt.kind.core_schema(),
        "schemaExtensions": extensions,
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{base_url}/ResourceTypes/{name}"),
        },
    })
}

pub fn resource_types(reg: &SchemaRegistry, base_url: &str) -> Vec<Value> {
    reg.resource_types()
        .iter()
        .map(|rt| resource_type(rt, base_url))
        .collect()
}

pub fn schemas(reg: &SchemaRegistry, base_url: &str) -> Vec<Value> {
    reg.schemas()
        .iter()
        .map(|s| reg.schema_document(s, base_url))
        .collect()
}
