//! `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`: read-only, open to any client.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::AppState;
use super::error::ApiError;
use super::response;
use crate::scim::discovery;
use crate::scim::list::{Paging, list_response};

pub async fn service_provider_config(state: web::Data<AppState>) -> HttpResponse {
    response::scim(
        StatusCode::OK,
        &discovery::service_provider_config(&state.base_url, state.max_body_bytes),
    )
}

fn listed(items: Vec<serde_json::Value>) -> HttpResponse {
    let total = items.len() as u64;
    response::scim(
        StatusCode::OK,
        &list_response(total, 1, items, &Paging::Index, None),
    )
}

pub async fn resource_types(state: web::Data<AppState>) -> HttpResponse {
    listed(discovery::resource_types(&state.registry, &state.base_url))
}

pub async fn resource_type(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state
        .registry
        .resource_types()
        .iter()
        .find(|rt| rt.kind.name().eq_ignore_ascii_case(&id))
        .map(|rt| {
            response::scim(
                StatusCode::OK,
                &discovery::resource_type(rt, &state.base_url),
            )
        })
        .ok_or_else(|| ApiError::NotFound(format!("resource type {id} not found")))
}

pub async fn schemas(state: web::Data<AppState>) -> HttpResponse {
    listed(discovery::schemas(&state.registry, &state.base_url))
}

pub async fn schema(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state
        .registry
        .schema(&id)
        .map(|s| {
            response::scim(
                StatusCode::OK,
                &state.registry.schema_document(s, &state.base_url),
            )
        })
        .ok_or_else(|| ApiError::NotFound(format!("schema {id} not found")))
}

pub async fn read_only() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed(
        "discovery endpoints are read-only".into(),
    ))
}
