//! `/api/v1/admin/directories`: as `roster directory create|list|update|disable|enable` for
//! directories an IdP pushes to over SCIM. Google directories, whose key file is uploaded and
//! sealed, are made with the CLI for now.

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::listed;
use crate::api::ApiState;
use crate::api::auth::{self, AdminKey, Caller};
use crate::api::body;
use crate::api::error::AppError;
use crate::api::params::Params;
use crate::api::schemas::{
    AdminDirectory, AdminDirectoryList, CreatedDirectory, DeletingDirectory, ErrorBody,
};
use crate::domain::lifecycle::{Deprovisioning, PolicyChanges};
use crate::domain::tenancy::{self, Directory, DirectoryKind};
use crate::domain::{clock, directory_removal};

/// The policy's words, as a directory shows them; what is left out keeps its value.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = DeprovisioningChanges)]
struct Policy {
    /// `deactivate` or `delete`.
    on_deactivate: Option<String>,
    /// `soft` or `hard`.
    on_delete: Option<String>,
    /// `30d`, `12h`, ...
    retention: Option<String>,
    /// `keep` or `deactivate`.
    on_group_loss: Option<String>,
}

impl Policy {
    fn changes(self) -> PolicyChanges {
        PolicyChanges {
            on_deactivate: self.on_deactivate,
            on_delete: self.on_delete,
            retention: self.retention,
            on_group_loss: self.on_group_loss,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewDirectory {
    tenant_id: String,
    name: String,
    /// `entra`, `okta`, `onelogin`, `jumpcloud`, `ping`, `rippling` or `generic`.
    kind: String,
    /// Left out: the kind's defaults.
    #[serde(default)]
    deprovisioning: Policy,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct DirectoryChanges {
    name: Option<String>,
    #[serde(default)]
    deprovisioning: Policy,
}

fn shown(state: &ApiState, d: &Directory) -> Value {
    let mut out = json!(d);
    out["scim_base_url"] = json!(state.scim_base_url);
    out
}

#[utoipa::path(
    get,
    path = "/directories",
    operation_id = "admin_list_directories",
    params(("tenant_id" = Option<String>, Query, description = "Only this tenant's directories")),
    responses(
        (status = 200, description = "The directories the key manages", body = AdminDirectoryList),
        (status = 404, description = "A `tenant_id` the key may not manage", body = ErrorBody),
    )
)]
pub async fn list(
    state: web::Data<ApiState>,
    key: AdminKey,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let params = Params::of(req.query_string())?;
    let wanted = params
        .text("tenant_id")
        .or(key.scope().only().map(|t| t.as_str()));
    let tenant = match wanted {
        Some(t) => Some(auth::tenant(&state, key.scope(), t).await?),
        None => None,
    };
    let store = state.store.clone();
    let all = web::block(move || tenancy::list_directories(&store, tenant.as_ref())).await??;
    Ok(listed(
        all.iter().map(|d| shown(&state, d)).collect::<Vec<_>>(),
    ))
}

#[utoipa::path(
    post,
    path = "/directories",
    operation_id = "create_directory",
    request_body = NewDirectory,
    responses(
        (status = 201, description = "The directory and its first SCIM token, shown this once", body = CreatedDirectory),
        (status = 400, description = "A body that does not parse, an unknown field or a bad value", body = ErrorBody),
        (status = 404, description = "A `tenant_id` the key may not manage", body = ErrorBody),
        (status = 409, description = "The tenant has a directory of that name (`conflict`)", body = ErrorBody),
    )
)]
pub async fn create(
    state: web::Data<ApiState>,
    key: AdminKey,
    bytes: Bytes,
) -> Result<HttpResponse, AppError> {
    let new: NewDirectory = body::json(&bytes)?;
    let kind: DirectoryKind = new.kind.parse()?;
    let policy = new
        .deprovisioning
        .changes()
        .apply(Deprovisioning::default_for(kind))?;
    let tenant = auth::tenant(&state, key.scope(), &new.tenant_id).await?;
    let store = state.store.clone();
    let (d, issued) = web::block(move || {
        tenancy::create_scim_directory(&store, &tenant, &new.name, kind, policy, clock::now())
    })
    .await??;
    let mut out = shown(&state, &d);
    out["token"] = json!(issued.secret.expose());
    out["token_id"] = json!(issued.id);
    Ok(HttpResponse::Created().json(out))
}

#[utoipa::path(
    get,
    path = "/directories/{id}",
    operation_id = "admin_get_directory",
    params(("id" = String, Path, description = "A directory id")),
    responses((status = 200, description = "The directory", body = AdminDirectory), (status = 404, description = "No such directory for this key", body = ErrorBody))
)]
pub async fn get(
    state: web::Data<ApiState>,
    key: AdminKey,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let d = auth::directory(&state, key.scope(), &id).await?;
    Ok(HttpResponse::Ok().json(shown(&state, &d)))
}

async fn toggle(
    state: web::Data<ApiState>,
    key: AdminKey,
    id: &str,
    disable: bool,
) -> Result<HttpResponse, AppError> {
    let d = auth::directory(&state, key.scope(), id).await?;
    let store = state.store.clone();
    let d = web::block(move || tenancy::set_disabled(&store, &d, disable, clock::now())).await??;
    Ok(HttpResponse::Ok().json(shown(&state, &d)))
}

/// Refuses the directory's SCIM tokens and stops syncing it; its data stays readable.
#[utoipa::path(
    post,
    path = "/directories/{id}/disable",
    operation_id = "disable_directory",
    params(("id" = String, Path, description = "A directory id")),
    responses((status = 200, description = "The directory, with `disabled_at`", body = AdminDirectory), (status = 404, description = "No such directory for this key", body = ErrorBody))
)]
pub async fn disable(
    state: web::Data<ApiState>,
    key: AdminKey,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    toggle(state, key, &id, true).await
}

#[utoipa::path(
    post,
    path = "/directories/{id}/enable",
    operation_id = "enable_directory",
    params(("id" = String, Path, description = "A directory id")),
    responses((status = 200, description = "The directory, `disabled_at` null", body = AdminDirectory), (status = 404, description = "No such directory for this key", body = ErrorBody))
)]
pub async fn enable(
    state: web::Data<ApiState>,
    key: AdminKey,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    toggle(state, key, &id, false).await
}

/// Begins deleting a directory (its tokens are refused from this answer on) and removes its
/// rows in the background: 202, and the directory answers 404 once it is gone; the feed ends
/// with `directory.deleted`. A server stopped midway finishes at its next start.
#[utoipa::path(
    delete,
    path = "/directories/{id}",
    operation_id = "delete_directory",
    params(("id" = String, Path, description = "A directory id")),
    responses((status = 202, description = "The deletion began; the directory answers 404 once its rows are gone", body = DeletingDirectory), (status = 404, description = "No such directory for this key", body = ErrorBody))
)]
pub async fn delete(
    state: web::Data<ApiState>,
    key: AdminKey,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let d = auth::directory(&state, key.scope(), &id).await?;
    let (store, doomed) = (state.store.clone(), d.clone());
    web::block(move || directory_removal::begin(&store, &doomed, clock::now())).await??;
    directory_removal::finish_in_background(state.store.clone(), d.clone());
    let mut out = shown(&state, &d);
    out["state"] = json!("deleting");
    Ok(HttpResponse::Accepted().json(out))
}

#[utoipa::path(
    patch,
    path = "/directories/{id}",
    operation_id = "update_directory",
    params(("id" = String, Path, description = "A directory id")),
    request_body = DirectoryChanges,
    responses(
        (status = 200, description = "The directory", body = AdminDirectory),
        (status = 400, description = "A body that does not parse, an unknown field or a bad value", body = ErrorBody),
        (status = 404, description = "No such directory for this key", body = ErrorBody),
        (status = 409, description = "The tenant has a directory of that name (`conflict`)", body = ErrorBody),
    )
)]
pub async fn update(
    state: web::Data<ApiState>,
    key: AdminKey,
    id: web::Path<String>,
    bytes: Bytes,
) -> Result<HttpResponse, AppError> {
    let d = auth::directory(&state, key.scope(), &id).await?;
    let asked: DirectoryChanges = body::json(&bytes)?;
    let policy = asked.deprovisioning.changes().apply(d.deprovisioning)?;
    let store = state.store.clone();
    let d =
        web::block(move || tenancy::update_directory(&store, &d, asked.name.as_deref(), policy))
            .await??;
    Ok(HttpResponse::Ok().json(shown(&state, &d)))
}
