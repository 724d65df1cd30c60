//! JSON request bodies of the API: an empty body is an empty object, and a body that does not
//! parse is a 400 that says why.

use actix_web::web::Bytes;
use serde::Deserialize;

use super::error::AppError;

pub fn json<T: for<'de> Deserialize<'de>>(bytes: &Bytes) -> Result<T, AppError> {
    let bytes: &[u8] = if bytes.is_empty() { b"{}" } else { bytes };
    serde_json::from_slice(bytes)
        .map_err(|e| AppError::BadRequest(format!("invalid JSON body: {e}")))
}
