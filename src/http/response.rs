use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use serde_json::Value;

pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";

pub fn scim(status: StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, SCIM_CONTENT_TYPE))
        .body(body.to_string())
}

/// A single resource, with `ETag` from `meta.version` and, on 201, `Location` from
/// `meta.location` (taken from the full rendering, before any projection).
pub fn resource(status: StatusCode, full: &Value, projected: &Value) -> HttpResponse {
    let mut r = HttpResponse::build(status);
    r.insert_header((header::CONTENT_TYPE, SCIM_CONTENT_TYPE));
    if let Some(version) = full.pointer("/meta/version").and_then(Value::as_str) {
        r.insert_header((header::ETAG, version));
    }
    if let (StatusCode::CREATED, Some(location)) = (
        status,
        full.pointer("/meta/location").and_then(Value::as_str),
    ) {
        r.insert_header((header::LOCATION, location));
    }
    r.body(projected.to_string())
}
