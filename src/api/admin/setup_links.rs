//! Setup links: `/api/v1/admin/directories/{id}/setup-links`, as `roster directory
//! setup-link`. A new link's URL is shown once; listings show its hint, times and state.

use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::listed;
use crate::api::ApiState;
use crate::api::auth::{self, AdminKey, Caller};
use crate::api::body;
use crate::api::error::AppError;
use crate::api::schemas::ErrorBody;
use crate::domain::setup_link::{self, SetupLinkInfo};
use crate::domain::{clock, lifecycle};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewSetupLink)]
struct NewLink {
    /// How long the link works: `7d` (the default), `24h`, `30m`; at most 90 days.
    expires: Option<String>,
}

/// A new link: its URL, shown this once, and how listings show it.
#[derive(Serialize, ToSchema)]
struct CreatedSetupLink {
    /// The page's address, holding the link's secret: send it to the customer's IT admin.
    url: String,
    #[serde(flatten)]
    link: SetupLinkInfo,
}

/// `{"data": [...]}`.
#[derive(Serialize, ToSchema)]
struct SetupLinkList {
    data: Vec<SetupLinkInfo>,
}

#[utoipa::path(
    post,
    path = "/directories/{id}/setup-links",
    operation_id = "create_setup_link",
    params(("id" = String, Path, description = "A directory id")),
    request_body = NewLink,
    responses(
        (status = 201, description = "The link, its URL shown this once", body = CreatedSetupLink),
        (status = 400, description = "A body that does not parse, or an `expires` that is no duration up to 90 days", body = ErrorBody),
        (status = 404, description = "No such directory for this key", body = ErrorBody),
    )
)]
pub async fn create(
    state: web::Data<ApiState>,
    key: AdminKey,
    id: web::Path<String>,
    bytes: Bytes,
) -> Result<HttpResponse, AppError> {
    let d = auth::directory(&state, key.scope(), &id).await?;
    let asked: NewLink = body::json(&bytes)?;
    let lifetime = match asked.expires.as_deref() {
        Some(text) => lifecycle::parse_duration(text)?,
        None => setup_link::DEFAULT_LIFETIME,
    };
    let store = state.store.clone();
    let made = web::block(move || setup_link::create(&store, &d, lifetime, clock::now())).await??;
    Ok(HttpResponse::Created().json(CreatedSetupLink {
        url: crate::console::setup_url(&state.scim_base_url, made.secret.expose()),
        link: made.info,
    }))
}

#[utoipa::path(
    get,
    path = "/directories/{id}/setup-links",
    operation_id = "list_setup_links",
    params(("id" = String, Path, description = "A directory id")),
    responses(
        (status = 200, description = "The directory's links, newest first; never their URLs", body = SetupLinkList),
        (status = 404, description = "No such directory for this key", body = ErrorBody),
    )
)]
pub async fn list(
    state: web::Data<ApiState>,
    key: AdminKey,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let d = auth::directory(&state, key.scope(), &id).await?;
    let store = state.store.clone();
    let all = web::block(move || setup_link::list(&store, &d, clock::now())).await??;
    Ok(listed(all))
}

#[utoipa::path(
    delete,
    path = "/directories/{id}/setup-links/{link_id}",
    operation_id = "revoke_setup_link",
    params(
        ("id" = String, Path, description = "A directory id"),
        ("link_id" = String, Path, description = "One of its setup links"),
    ),
    responses(
        (status = 200, description = "The link, revoked: its page answers 410 from now on", body = SetupLinkInfo),
        (status = 404, description = "No such directory for this key, or no such link of it", body = ErrorBody),
    )
)]
pub async fn revoke(
    state: web::Data<ApiState>,
    key: AdminKey,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, link) = path.into_inner();
    let d = auth::directory(&state, key.scope(), &id).await?;
    let store = state.store.clone();
    let revoked = web::block(move || setup_link::revoke(&store, &d, &link, clock::now())).await??;
    Ok(HttpResponse::Ok().json(revoked))
}
