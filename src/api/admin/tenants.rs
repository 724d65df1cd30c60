//! `/api/v1/admin/tenants`: as `roster tenant`. A tenant's admin key sees its own tenant only,
//! and makes none.

use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::ToSchema;

use super::listed;
use crate::api::ApiState;
use crate::api::auth::{self, AdminKey, Caller};
use crate::api::body;
use crate::api::error::AppError;
use crate::api::schemas::{ErrorBody, TenantList};
use crate::domain::tenancy::Tenant;
use crate::domain::{clock, tenancy};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewTenant {
    name: String,
}

#[utoipa::path(
    get,
    path = "/tenants",
    operation_id = "list_tenants",
    responses((status = 200, description = "The tenants the key manages", body = TenantList))
)]
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

#[utoipa::path(
    post,
    path = "/tenants",
    operation_id = "create_tenant",
    request_body = NewTenant,
    responses(
        (status = 201, description = "The tenant", body = Tenant),
        (status = 400, description = "A body that does not parse, an unknown field or a bad value", body = ErrorBody),
        (status = 403, description = "A tenant's admin key cannot create tenants", body = ErrorBody),
        (status = 409, description = "The name is taken (`conflict`)", body = ErrorBody),
    )
)]
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

#[utoipa::path(
    get,
    path = "/tenants/{id}",
    operation_id = "get_tenant",
    params(("id" = String, Path, description = "A tenant id (not its name)")),
    responses((status = 200, description = "The tenant", body = Tenant), (status = 404, description = "No such tenant for this key", body = ErrorBody))
)]
pub async fn get(
    state: web::Data<ApiState>,
    key: AdminKey,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(auth::tenant(&state, key.scope(), &id).await?))
}
