//! `/api/v1/admin/directories/{id}/attributes`: a directory's custom attributes, as `roster
//! directory attribute add|list|update|remove`. A change answers at once; the directory's
//! users are re-derived in the background, with progress in the list's `rederive`.

use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::api::ApiState;
use crate::api::auth::{self, AdminKey, Caller};
use crate::api::body;
use crate::api::error::AppError;
use crate::api::schemas::ErrorBody;
use crate::domain::clock;
use crate::domain::custom_attribute::{self, Mapping, Rederive, SourceKind};
use crate::domain::tenancy::Scope;
use crate::scim::source_path;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewAttribute {
    name: String,
    source: String,
    /// `scim` (the default) or `google`.
    kind: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AttributeChange {
    source: String,
    kind: Option<String>,
}

/// The directory's mappings and its last re-derivation.
#[derive(Serialize, ToSchema)]
struct AttributeList {
    data: Vec<Mapping>,
    rederive: Option<Rederive>,
}

/// A mapping as created or changed, with the re-derivation the change started.
#[derive(Serialize, ToSchema)]
struct ChangedAttribute {
    #[serde(flatten)]
    mapping: Mapping,
    rederive: Option<Rederive>,
}

/// A removed mapping, with the re-derivation the removal started.
#[derive(Serialize, ToSchema)]
struct RemovedAttribute {
    name: String,
    deleted: bool,
    rederive: Option<Rederive>,
}

fn source(
    state: &ApiState,
    kind: Option<&str>,
    text: &str,
) -> Result<custom_attribute::SourcePath, AppError> {
    let kind: SourceKind = kind.unwrap_or("scim").parse()?;
    Ok(source_path::parse(&state.registry, kind, text)?)
}

/// Answers a change with the mapping (JSON null once removed) and the re-derivation it
/// started, which goes on in the background.
async fn changed(
    state: &web::Data<ApiState>,
    scope: Scope,
    status: actix_web::http::StatusCode,
    mapping: serde_json::Value,
) -> Result<HttpResponse, AppError> {
    custom_attribute::rederive_in_background(state.store.clone(), scope.clone());
    let store = state.store.clone();
    let progress = web::block(move || custom_attribute::progress(&store, &scope)).await??;
    let mut out = mapping;
    if let serde_json::Value::Object(o) = &mut out {
        o.insert("rederive".into(), json!(progress));
    }
    Ok(HttpResponse::build(status).json(out))
}

#[utoipa::path(
    get,
    path = "/directories/{id}/attributes",
    operation_id = "list_custom_attributes",
    params(("id" = String, Path, description = "A directory id")),
    responses((status = 200, description = "The directory's custom attributes and its last re-derivation", body = AttributeList), (status = 404, description = "No such directory (or attribute) for this key", body = ErrorBody))
)]
pub async fn list(
    state: web::Data<ApiState>,
    key: AdminKey,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let scope = auth::directory(&state, key.scope(), &id).await?.scope();
    let store = state.store.clone();
    let (all, progress) = web::block(move || -> Result<_, AppError> {
        Ok((
            custom_attribute::list(&store, &scope)?,
            custom_attribute::progress(&store, &scope)?,
        ))
    })
    .await??;
    Ok(HttpResponse::Ok().json(json!({"data": all, "rederive": progress})))
}

#[utoipa::path(
    post,
    path = "/directories/{id}/attributes",
    operation_id = "create_custom_attribute",
    params(("id" = String, Path, description = "A directory id")),
    request_body = NewAttribute,
    responses((status = 201, description = "The mapping; existing users are re-derived in the background", body = ChangedAttribute), (status = 400, description = "A body that does not parse, an unknown field, a bad name (`invalid_request`) or a source path that does not resolve (`invalid_path`)", body = ErrorBody), (status = 404, description = "No such directory (or attribute) for this key", body = ErrorBody), (status = 409, description = "The name is taken (`conflict`)", body = ErrorBody))
)]
pub async fn create(
    state: web::Data<ApiState>,
    key: AdminKey,
    id: web::Path<String>,
    bytes: Bytes,
) -> Result<HttpResponse, AppError> {
    let new: NewAttribute = body::json(&bytes)?;
    let scope = auth::directory(&state, key.scope(), &id).await?.scope();
    let path = source(&state, new.kind.as_deref(), &new.source)?;
    let (store, in_block) = (state.store.clone(), scope.clone());
    let m = web::block(move || {
        custom_attribute::create(&store, &in_block, &new.name, path, clock::now())
    })
    .await??;
    changed(
        &state,
        scope,
        actix_web::http::StatusCode::CREATED,
        json!(m),
    )
    .await
}

#[utoipa::path(
    patch,
    path = "/directories/{id}/attributes/{name}",
    operation_id = "update_custom_attribute",
    params(("id" = String, Path, description = "A directory id"), ("name" = String, Path, description = "The custom attribute's name")),
    request_body = AttributeChange,
    responses((status = 200, description = "The mapping; existing users are re-derived in the background", body = ChangedAttribute), (status = 400, description = "A body that does not parse, an unknown field, a bad name (`invalid_request`) or a source path that does not resolve (`invalid_path`)", body = ErrorBody), (status = 404, description = "No such directory (or attribute) for this key", body = ErrorBody))
)]
pub async fn update(
    state: web::Data<ApiState>,
    key: AdminKey,
    path: web::Path<(String, String)>,
    bytes: Bytes,
) -> Result<HttpResponse, AppError> {
    let (id, name) = path.into_inner();
    let change: AttributeChange = body::json(&bytes)?;
    let scope = auth::directory(&state, key.scope(), &id).await?.scope();
    let parsed = source(&state, change.kind.as_deref(), &change.source)?;
    let (store, in_block) = (state.store.clone(), scope.clone());
    let m = web::block(move || {
        custom_attribute::update(&store, &in_block, &name, parsed, clock::now())
    })
    .await??;
    changed(&state, scope, actix_web::http::StatusCode::OK, json!(m)).await
}

#[utoipa::path(
    delete,
    path = "/directories/{id}/attributes/{name}",
    operation_id = "delete_custom_attribute",
    params(("id" = String, Path, description = "A directory id"), ("name" = String, Path, description = "The custom attribute's name")),
    responses((status = 200, description = "The mapping is gone; existing users are re-derived in the background", body = RemovedAttribute), (status = 404, description = "No such directory (or attribute) for this key", body = ErrorBody))
)]
pub async fn delete(
    state: web::Data<ApiState>,
    key: AdminKey,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, name) = path.into_inner();
    let scope = auth::directory(&state, key.scope(), &id).await?.scope();
    let (store, in_block) = (state.store.clone(), scope.clone());
    let gone = name.clone();
    web::block(move || custom_attribute::remove(&store, &in_block, &name, clock::now())).await??;
    changed(
        &state,
        scope,
        actix_web::http::StatusCode::OK,
        json!({"name": gone, "deleted": true}),
    )
    .await
}
