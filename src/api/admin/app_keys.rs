//! `/api/v1/admin/app-keys`: as `roster app-key issue|list|revoke`.

use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::listed;
use crate::api::ApiState;
use crate::api::auth::{self, AdminKey, Caller};
use crate::api::body;
use crate::api::error::AppError;
use crate::domain::ids::TokenId;
use crate::domain::{app_key, clock};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    /// The one tenant the key reads; none: every tenant.
    tenant_id: Option<String>,
}

pub async fn list(state: web::Data<ApiState>, _key: AdminKey) -> Result<HttpResponse, AppError> {
    let store = state.store.clone();
    Ok(listed(web::block(move || app_key::list(&store)).await??))
}

pub async fn issue(
    state: web::Data<ApiState>,
    key: AdminKey,
    bytes: Bytes,
) -> Result<HttpResponse, AppError> {
    let new: NewKey = body::json(&bytes)?;
    let tenant = match &new.tenant_id {
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

pub async fn revoke(
    state: web::Data<ApiState>,
    _key: AdminKey,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (store, id) = (state.store.clone(), TokenId::from_raw(id.into_inner()));
    web::block(move || app_key::revoke(&store, &id, clock::now())).await??;
    Ok(HttpResponse::NoContent().finish())
}
