//! SCIM tokens: `/api/v1/admin/directories/{id}/tokens` and `/api/v1/admin/tokens/{id}`, as
//! `roster token issue|list|revoke|rotate`. Listings show each token's hint (its first
//! characters), times and state, never the token.

use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use chrono::NaiveDateTime;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::listed;
use crate::api::ApiState;
use crate::api::auth::{self, AdminKey, Caller};
use crate::api::body;
use crate::api::error::AppError;
use crate::api::schemas::{ErrorBody, IssuedToken, RotatedToken, TokenList, TokenRecord};
use crate::domain::ids::TokenId;
use crate::domain::token::{self, TokenInfo};
use crate::domain::{clock, lifecycle};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = TokenRotation)]
struct Rotation {
    /// How long the old token keeps working: `0`, `90s`, `30m`, `24h`, `7d`.
    overlap: Option<String>,
}

fn shown(t: &TokenInfo, now: NaiveDateTime) -> Value {
    let mut out = json!(t);
    out["state"] = json!(t.state(now));
    out
}

/// Token `id` if the key may manage its directory (and, when given, it is `directory`'s).
async fn visible(
    state: &web::Data<ApiState>,
    key: &AdminKey,
    id: &str,
    directory: Option<&str>,
) -> Result<TokenInfo, AppError> {
    let (store, wanted) = (state.store.clone(), TokenId::from_raw(id));
    let found = web::block(move || token::get(&store, &wanted)).await??;
    let in_directory = directory.is_none_or(|d| d == found.directory_id.as_str());
    if in_directory && key.scope().allows(&found.tenant_id) {
        Ok(found)
    } else {
        Err(AppError::NotFound(format!("token {id} not found")))
    }
}

#[utoipa::path(
    get,
    path = "/directories/{id}/tokens",
    operation_id = "list_tokens",
    params(("id" = String, Path, description = "A directory id")),
    responses((status = 200, description = "The directory's tokens, never the tokens themselves", body = TokenList), (status = 404, description = "No such directory for this key", body = ErrorBody))
)]
pub async fn list(
    state: web::Data<ApiState>,
    key: AdminKey,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let d = auth::directory(&state, key.scope(), &id).await?;
    let store = state.store.clone();
    let all = web::block(move || token::list(&store, Some(&d))).await??;
    let now = clock::now();
    Ok(listed(
        all.iter().map(|t| shown(t, now)).collect::<Vec<_>>(),
    ))
}

#[utoipa::path(
    post,
    path = "/directories/{id}/tokens",
    operation_id = "issue_token",
    params(("id" = String, Path, description = "A directory id")),
    responses((status = 201, description = "A new SCIM token, shown this once", body = IssuedToken), (status = 404, description = "No such directory for this key", body = ErrorBody))
)]
pub async fn issue(
    state: web::Data<ApiState>,
    key: AdminKey,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let d = auth::directory(&state, key.scope(), &id).await?;
    let store = state.store.clone();
    let issued = web::block(move || token::issue(&store, &d, clock::now())).await??;
    Ok(HttpResponse::Created().json(json!({
        "id": issued.id,
        "directory_id": issued.directory_id,
        "hint": issued.hint,
        "token": issued.secret.expose(),
    })))
}

#[utoipa::path(
    get,
    path = "/tokens/{id}",
    operation_id = "get_token",
    params(("id" = String, Path, description = "A token id")),
    responses((status = 200, description = "The token", body = TokenRecord), (status = 404, description = "No such token for this key", body = ErrorBody))
)]
pub async fn get(
    state: web::Data<ApiState>,
    key: AdminKey,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let t = visible(&state, &key, &id, None).await?;
    Ok(HttpResponse::Ok().json(shown(&t, clock::now())))
}

#[utoipa::path(
    get,
    path = "/directories/{id}/tokens/{token_id}",
    operation_id = "get_directory_token",
    params(("id" = String, Path, description = "A directory id"), ("token_id" = String, Path, description = "A token id")),
    responses((status = 200, description = "The token", body = TokenRecord), (status = 404, description = "No such token in this directory for this key", body = ErrorBody))
)]
pub async fn get_in_directory(
    state: web::Data<ApiState>,
    key: AdminKey,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (directory, id) = path.into_inner();
    let t = visible(&state, &key, &id, Some(&directory)).await?;
    Ok(HttpResponse::Ok().json(shown(&t, clock::now())))
}

async fn revoked(state: web::Data<ApiState>, t: TokenInfo) -> Result<HttpResponse, AppError> {
    let store = state.store.clone();
    web::block(move || token::revoke(&store, &t.id, clock::now())).await??;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    delete,
    path = "/tokens/{id}",
    operation_id = "revoke_token",
    params(("id" = String, Path, description = "A token id")),
    responses((status = 204, description = "Revoked: refused within a second on every instance"), (status = 404, description = "No such live token for this key", body = ErrorBody))
)]
pub async fn revoke(
    state: web::Data<ApiState>,
    key: AdminKey,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let t = visible(&state, &key, &id, None).await?;
    revoked(state, t).await
}

#[utoipa::path(
    delete,
    path = "/directories/{id}/tokens/{token_id}",
    operation_id = "revoke_directory_token",
    params(("id" = String, Path, description = "A directory id"), ("token_id" = String, Path, description = "A token id")),
    responses((status = 204, description = "Revoked"), (status = 404, description = "No such live token in this directory for this key", body = ErrorBody))
)]
pub async fn revoke_in_directory(
    state: web::Data<ApiState>,
    key: AdminKey,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (directory, id) = path.into_inner();
    let t = visible(&state, &key, &id, Some(&directory)).await?;
    revoked(state, t).await
}

/// A new token for the same directory, usable at once; the old one works until the end of
/// the overlap (24 hours unless asked).
#[utoipa::path(
    post,
    path = "/tokens/{id}/rotate",
    operation_id = "rotate_token",
    params(("id" = String, Path, description = "A live token id")),
    request_body(content = Option<Rotation>, description = "Optional; the overlap is 24h unless given"),
    responses(
        (status = 201, description = "The new token, shown this once, and the old one with its expiry", body = RotatedToken),
        (status = 400, description = "A bad body or overlap", body = ErrorBody),
        (status = 404, description = "No such live token for this key", body = ErrorBody),
    )
)]
pub async fn rotate(
    state: web::Data<ApiState>,
    key: AdminKey,
    id: web::Path<String>,
    bytes: Bytes,
) -> Result<HttpResponse, AppError> {
    let t = visible(&state, &key, &id, None).await?;
    let asked: Rotation = body::json(&bytes)?;
    let overlap = match asked.overlap.as_deref() {
        Some(text) => lifecycle::parse_duration(text)
            .map_err(|e| AppError::BadRequest(format!("overlap: {e}")))?,
        None => chrono::Duration::hours(24),
    };
    let (store, now) = (state.store.clone(), clock::now());
    let r = web::block(move || token::rotate(&store, &t.id, overlap, now)).await??;
    Ok(HttpResponse::Created().json(json!({
        "id": r.issued.id,
        "directory_id": r.issued.directory_id,
        "hint": r.issued.hint,
        "token": r.issued.secret.expose(),
        "previous": shown(&r.old, now),
    })))
}
