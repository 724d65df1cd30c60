//! Every request gets an id: the one the client or a proxy in front sent in `X-Request-Id`
//! when it is sane, a new one otherwise. It is answered in `X-Request-Id`, carried by the
//! request's tracing span (so every log line the request causes names it), and written on the
//! request's access line. An operator then finds a client's complaint in the logs by the id
//! the client saw.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Longer ids are replaced: a log line must not carry whatever a client chooses to send.
const MAX_LEN: usize = 128;

/// An incoming id worth keeping: short, and of characters that need no escaping in any log
/// format (a UUID, a ULID, a trace id, `host-1234` all pass).
fn sane(value: &HeaderValue) -> Option<&str> {
    let id = value.to_str().ok()?;
    let ok = !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    ok.then_some(id)
}

pub async fn tag(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = match req.headers().get(&HEADER).and_then(sane) {
        Some(id) => id.to_string(),
        None => uuid::Uuid::new_v4().simple().to_string(),
    };
    let header = HeaderValue::from_str(&id).expect("a sane id or a UUID is a header value");
    let span = tracing::info_span!("request", request_id = %id);
    let started = Instant::now();
    let method = req.method().clone();
    let answered = next.call(req).instrument(span.clone()).await;
    let _entered = span.enter();
    let mut res = match answered {
        Ok(res) => res,
        Err(e) => {
            tracing::info!(target: "roster::access", request_id = %id, %method, error = %e, "request failed");
            return Err(e);
        }
    };
    res.headers_mut().insert(HEADER, header);
    // No query string and no headers: both may carry what a log must not (a filter on an
    // email address, a bearer token).
    tracing::info!(
        target: "roster::access",
        request_id = %id,
        %method,
        path = %crate::console::redacted_path(res.request().path()),
        route = res.request().match_pattern().as_deref().unwrap_or("unmatched"),
        status = res.status().as_u16(),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_ids_are_kept() {
        let keep = |s: &str| sane(&HeaderValue::from_str(s).unwrap()).is_some();
        assert!(keep("0b6f2f4e-9a59-4c8e-b3c5-1f1d2a3b4c5d"));
        assert!(keep("lb-01:12345.6_x"));
        assert!(!keep(""));
        assert!(!keep("has space"));
        assert!(!keep("quote\"d"));
        assert!(!keep(&"a".repeat(MAX_LEN + 1)));
        assert!(keep(&"a".repeat(MAX_LEN)));
    }
}
