//! Roster's limit on a request's header fields, answered with a SCIM error.
//!
//! actix-http answers a request head it cannot parse itself, before any middleware runs: 400
//! for a malformed request line or header, 431 for more than 96 header fields or a head over
//! its fixed 128 KiB buffer, always with an empty body, and past the buffer the connection
//! may be reset under the unread rest. Neither the limit nor those answers can be configured
//! (actix-http 3.20, `h1/decoder.rs`, `h1/dispatcher.rs`). Holding header fields to a lower
//! limit here gives every head between the two a SCIM 431 an IdP can log and show.

use actix_web::ResponseError;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use super::error::ApiError;

/// Half of actix-http's buffer, and far above any head an IdP sends (a bearer token and a few
/// short headers).
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Header fields as they travel: `name: value` and CRLF each.
fn header_bytes(req: &ServiceRequest) -> usize {
    req.headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum()
}

pub async fn limit_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if header_bytes(&req) > MAX_HEADER_BYTES {
        let refused = ApiError::HeadersTooLarge(MAX_HEADER_BYTES).error_response();
        return Ok(req.into_response(refused).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}
