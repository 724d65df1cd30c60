//! `/api/v1/admin/tenants`: as `roster tenant`. A tenant's admin key sees its own tenant only,
//! and makes none.

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

pub async fn list(state: web::Data<ApiState>, key: AdminKey) -> Result<HttpResponse, AppError> {
    let store = state.store.clone();
    let all = web::block(move || tenancy::list_tenants(&store)).await??;
    let scope = key.scope();
    Ok(listed(
        all.into_iter()
            .filter(|t| scope.allows(&t.id))
            .collect::<Vec<_>>(),
    ))
}

pub async fn create(
    state: web::Data<ApiState>,
    key: AdminKey,
    bytes: Bytes,
) -> Result<HttpResponse, AppError> {
    if key.scope().only().is_some() {
        return Err(AppError::Forbidden(
            "a tenant's admin key cannot create tenants".into(),
        ));
    }
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
