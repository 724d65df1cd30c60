use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderValue;
use actix_web::http::{StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse};
use serde::Serialize;

use super::auth::Authed;
use crate::idp;
use crate::scim::operations::Rendered;

pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";

/// Relabels a SCIM response `application/json` for a directory whose IdP adapter asks for it
/// (see `Adapter::plain_json_responses`). A middleware, so errors (which carry no directory)
/// are relabelled with everything else. Requests without a valid token, discovery among them
/// (OneLogin's flow makes none), name no directory and keep the SCIM label.
pub async fn media_type_for_adapter(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let plain = res
        .request()
        .extensions()
        .get::<Authed>()
        .is_some_and(|a| idp::for_kind(a.kind).plain_json_responses());
    let headers = res.headers_mut();
    if plain && headers.contains_key(header::CONTENT_TYPE) {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    Ok(res)
}

pub fn scim(status: StatusCode, body: &impl Serialize) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, SCIM_CONTENT_TYPE))
        .body(json_bytes(body))
}

/// A single resource, with `ETag` from `meta.version` and, on 201, `Location` from
/// `meta.location`.
pub fn scim_text(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, SCIM_CONTENT_TYPE))
        .body(body)
}

pub fn resource(status: StatusCode, rendered: Rendered) -> HttpResponse {
    let mut r = HttpResponse::build(status);
    r.insert_header((header::CONTENT_TYPE, SCIM_CONTENT_TYPE));
    r.insert_header((header::ETAG, rendered.version.as_str()));
    if status == StatusCode::CREATED {
        r.insert_header((header::LOCATION, rendered.location.as_str()));
    }
    r.body(rendered.body)
}

/// Serialized straight into bytes, not through `Value::to_string`'s `fmt::Display` adapter.
fn json_bytes(body: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(body).unwrap_or_default()
}
