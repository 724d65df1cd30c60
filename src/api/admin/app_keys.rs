//! `/api/v1/admin/app-keys`: as `roster app-key issue|list|revoke`.

use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::listed;
use crate::api::ApiState;
use crate::api::auth::{self, AdminKey, Caller};
use crate::api::body;
use crate::api::error::AppError;
use crate::api::schemas::{AppKeyList, ErrorBody, IssuedAppKey};
use crate::domain::app_key::{self, AppKeyInfo};
use crate::domain::clock;
use crate::domain::ids::TokenId;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewAppKey)]
struct NewKey {
    /// The one tenant the key reads; none: every tenant.
    tenant_id: Option<String>,
}

/// The application keys an admin key may manage: a tenant's admin key, its tenant's keys only
/// (a key of every tenant reads more than its tenant).
fn manages(key: &AdminKey, k: &AppKeyInfo) -> bool {
    match key.scope().only() {
        None => true,
        Some(own) => k.tenant_id.as_ref() == Some(own),
    }
}

#[utoipa::path(
    get,
    path = "/app-keys",
    operation_id = "list_app_keys",
    responses((status = 200, description = "The application keys the key manages, never the keys themselves", body = AppKeyList))
)]
pub async fn list(state: web::Data<ApiState>, key: AdminKey) -> Result<HttpResponse, AppError> {
    let store = state.store.clone();
    let all = web::block(move || app_key::list(&store)).await??;
    Ok(listed(
        all.into_iter()
            .filter(|k| manages(&key, k))
            .collect::<Vec<_>>(),
    ))
}

#[utoipa::path(
    post,
    path = "/app-keys",
    operation_id = "issue_app_key",
    request_body(content = Option<NewKey>, description = "Optional; no `tenant_id`: the admin key's tenant, or every tenant"),
    responses(
        (status = 201, description = "The key, shown this once", body = IssuedAppKey),
        (status = 400, description = "A body that does not parse, an unknown field or a bad value", body = ErrorBody),
        (status = 404, description = "A `tenant_id` the key may not manage", body = ErrorBody),
    )
)]
pub async fn issue(
    state: web::Data<ApiState>,
    key: AdminKey,
    bytes: Bytes,
) -> Result<HttpResponse, AppError> {
    let new: NewKey = body::json(&bytes)?;
    // A tenant's admin key issues keys for its tenant, never for every tenant.
    let wanted = new
        .tenant_id
        .as_deref()
        .or(key.scope().only().map(|t| t.as_str()));
    let tenant = match wanted {
        Some(t) => Some(auth::tenant(&state, key.scope(), t).await?),
        None => None,
    };
    let store = state.store.clone();
    let issued =
        web::block(move || app_key::issue(&store, tenant.as_ref(), clock::now())).await??;
    let mut out = json!(issued.info);
    out["key"] = json!(issued.secret.expose());
    Ok(HttpResponse::Created().json(out))
}

#[utoipa::path(
    delete,
    path = "/app-keys/{id}",
    operation_id = "revoke_app_key",
    params(("id" = String, Path, description = "An application key id")),
    responses((status = 204, description = "Revoked: refused from the next request on"), (status = 404, description = "No such live key for this admin key", body = ErrorBody))
)]
pub async fn revoke(
    state: web::Data<ApiState>,
    key: AdminKey,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (store, wanted) = (state.store.clone(), id.into_inner());
    let all = web::block(move || app_key::list(&store)).await??;
    if !all
        .iter()
        .any(|k| k.id.as_str() == wanted && manages(&key, k))
    {
        return Err(AppError::NotFound(format!(
            "application key {wanted} not found"
        )));
    }
    let (store, id) = (state.store.clone(), TokenId::from_raw(wanted));
    web::block(move || app_key::revoke(&store, &id, clock::now())).await??;
    Ok(HttpResponse::NoContent().finish())
}
