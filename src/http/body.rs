//! The JSON body of a SCIM request, read under the configured size limit.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde_json::Value;

use super::AppState;
use super::error::ApiError;
use crate::scim::error::ScimError;

pub struct ScimBody(pub Value);

impl FromRequest for ScimBody {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map_or(1 << 20, |s| s.max_body_bytes);
        let declared = req
            .headers()
            .get(actix_web::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if declared.is_some_and(|n| n > limit) {
                return Err(ApiError::PayloadTooLarge(limit));
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk =
                    chunk.map_err(|e| ApiError::Scim(ScimError::InvalidSyntax(e.to_string())))?;
                if body.len() + chunk.len() > limit {
                    return Err(ApiError::PayloadTooLarge(limit));
                }
                body.extend_from_slice(&chunk);
            }
            serde_json::from_slice(&body).map(ScimBody).map_err(|e| {
                ApiError::Scim(ScimError::InvalidSyntax(format!(
                    "the body is not valid JSON: {e}"
                )))
            })
        })
    }
}
