//! `/api/v1/admin/tenants`: as `roster tenant`.

use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::listed;
use crate::api::ApiState;
use crate::api::auth::{self, AdminKey, Caller};
use crate::api::body;
use crate::api::error::AppError;
use crate::domain::{clock, tenancy};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTenant {
    name: String,
}

pub async fn list(state: web::Data<ApiState>, _key: AdminKey) -> Result<HttpResponse, AppError> {
    let store = state.store.clone();
    Ok(listed(
        web::block(move || tenancy::list_tenants(&store)).await??,
    ))
}

pub async fn create(
    state: web::Data<ApiState>,
    _key: AdminKey,
    bytes: Bytes,
) -> Result<HttpResponse, AppError> {
    let new: NewTenant = body::json(&bytes)?;
    let store = state.store.clone();
    let t = web::block(move || tenancy::create_tenant(&store, &new.name, clock::now())).await??;
    Ok(HttpResponse::Created().json(t))
}

pub async fn get(
    state: web::Data<ApiState>,
    key: AdminKey,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(auth::tenant(&state, key.scope(), &id).await?))
}
