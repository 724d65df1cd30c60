//! `/api/v1/admin/directories`: as `roster directory create|list|update|disable|enable`, and
//! `roster google test` for a Google directory, whose service-account key is uploaded in the
//! body and sealed with the server key before it is stored.

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
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
use crate::google::{self, Check, SettingsView};

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
    /// For kind `google` (refused for any other): its settings. Left out, or without
    /// `service_account_key` and `admin`, the directory awaits its credentials
    /// (`awaiting_credentials`) and is not synced until they arrive.
    google: Option<GoogleSettings>,
}

/// A Google directory's connection, as `roster directory create --kind google` takes it; in a
/// PATCH, any subset of it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct GoogleSettings {
    /// The service account's JSON key file: its JSON object, or that JSON as a string.
    #[schema(value_type = Option<Object>)]
    service_account_key: Option<Value>,
    /// A Workspace admin the service account acts as (domain-wide delegation).
    admin: Option<String>,
    /// The customer id; left out with `domain` too: `my_customer`. Not with `domain`.
    customer: Option<String>,
    /// One domain of the account instead of the whole customer. Not with `customer`.
    domain: Option<String>,
    /// Only these groups (emails) and their members; `[]`: every group.
    groups: Option<Vec<String>>,
    /// How often to sync: `30s`, `5m`, `1h`; default `5m`.
    interval: Option<String>,
}

impl GoogleSettings {
    fn key_file(&self) -> Option<Vec<u8>> {
        self.service_account_key.as_ref().map(|key| match key {
            Value::String(text) => text.as_bytes().to_vec(),
            other => other.to_string().into_bytes(),
        })
    }

    /// The settings as a change; `key_file` holds what `key_file()` read.
    fn changes<'a>(
        &self,
        key_file: Option<&'a [u8]>,
    ) -> Result<google::settings_update::SettingsChanges<'a>, AppError> {
        let target = match (&self.customer, &self.domain) {
            (Some(_), Some(_)) => {
                return Err(AppError::BadRequest(
                    "give `customer` or `domain`, not both".into(),
                ));
            }
            (Some(c), None) => Some(google::Target::Customer(c.clone())),
            (None, Some(d)) => Some(google::Target::Domain(d.clone())),
            (None, None) => None,
        };
        Ok(google::settings_update::SettingsChanges {
            key_file,
            admin: self.admin.clone(),
            target,
            groups: self
                .groups
                .as_ref()
                .map(|all| google::normalize_groups(all.iter().map(String::as_str))),
            interval: self
                .interval
                .as_deref()
                .map(google::parse_interval)
                .transpose()?,
        })
    }
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
    match (kind, new.google) {
        (DirectoryKind::Google, g) => {
            let g = g.unwrap_or_default();
            let secret_key = state.secret_key.clone();
            let (d, settings) = web::block(move || -> Result<_, AppError> {
                let key_file = g.key_file();
                let changes = g.changes(key_file.as_deref())?;
                let d = match (changes.key_file, changes.admin.clone()) {
                    (Some(key_file), Some(admin)) => google::create_directory(
                        &store,
                        secret_key.as_deref(),
                        &tenant,
                        &new.name,
                        policy,
                        google::NewConnection {
                            key_file,
                            admin,
                            target: changes.target.unwrap_or_else(|| {
                                google::Target::Customer(google::MY_CUSTOMER.into())
                            }),
                            groups: changes.groups.flatten(),
                            interval: changes.interval.unwrap_or(google::DEFAULT_INTERVAL),
                        },
                        clock::now(),
                    )?,
                    _ => google::settings_update::create_without_credentials(
                        &store,
                        secret_key.as_deref(),
                        &tenant,
                        &new.name,
                        policy,
                        changes,
                        clock::now(),
                    )?,
                };
                let settings = SettingsView::from(&google::settings(&store, &d)?);
                Ok((d, settings))
            })
            .await??;
            let mut out = shown(&state, &d);
            out["google"] = json!(settings);
            return Ok(HttpResponse::Created().json(out));
        }
        (_, Some(_)) => {
            return Err(AppError::BadRequest(format!(
                "`google` is for kind google, not {}",
                kind.as_str()
            )));
        }
        (_, None) => {}
    }
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

/// Changes a Google directory's settings, as `roster directory update` does: any subset of
/// the create's `google` object. New credentials reset the sync state and make the next sync
/// due now.
#[utoipa::path(
    patch,
    path = "/directories/{id}/google",
    operation_id = "update_google_settings",
    params(("id" = String, Path, description = "A Google directory's id")),
    request_body = GoogleSettings,
    responses(
        (status = 200, description = "The directory's Google settings and sync state after the change; never the key", body = SettingsView),
        (status = 400, description = "A body that does not parse, an unknown field or a bad value (a key file that is no service-account key, an admin that is no email, an interval like `5 minutes`)", body = ErrorBody),
        (status = 404, description = "No such directory for this key, or not a Google directory", body = ErrorBody),
        (status = 409, description = "A key was given but no server key is configured to seal it (`server_key_missing`)", body = ErrorBody),
    )
)]
pub async fn update_google_settings(
    state: web::Data<ApiState>,
    key: AdminKey,
    id: web::Path<String>,
    bytes: Bytes,
) -> Result<HttpResponse, AppError> {
    let d = auth::directory(&state, key.scope(), &id).await?;
    let asked: GoogleSettings = body::json(&bytes)?;
    let (store, secret_key) = (state.store.clone(), state.secret_key.clone());
    let settings = web::block(move || -> Result<_, AppError> {
        let key_file = asked.key_file();
        let changes = asked.changes(key_file.as_deref())?;
        let row = google::settings_update::update(
            &store,
            secret_key.as_deref(),
            &d,
            changes,
            clock::now(),
        )?;
        Ok(SettingsView::from(&row))
    })
    .await??;
    Ok(HttpResponse::Ok().json(settings))
}

/// What `roster google test` answers.
#[derive(Serialize, ToSchema)]
struct GoogleChecks {
    ok: bool,
    checks: Vec<Check>,
}

#[utoipa::path(
    get,
    path = "/directories/{id}/google",
    operation_id = "get_google_settings",
    params(("id" = String, Path, description = "A Google directory's id")),
    responses(
        (status = 200, description = "The directory's Google settings and sync state; never the key", body = SettingsView),
        (status = 404, description = "No such directory for this key, or not a Google directory", body = ErrorBody),
    )
)]
pub async fn google_settings(
    state: web::Data<ApiState>,
    key: AdminKey,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let d = auth::directory(&state, key.scope(), &id).await?;
    let store = state.store.clone();
    let settings = web::block(move || -> Result<_, AppError> {
        Ok(SettingsView::from(&google::settings(&store, &d)?))
    })
    .await??;
    Ok(HttpResponse::Ok().json(settings))
}

#[utoipa::path(
    post,
    path = "/directories/{id}/google/test",
    operation_id = "test_google_connection",
    params(("id" = String, Path, description = "A Google directory's id")),
    responses(
        (status = 200, description = "Each check of the credentials and scopes, as `roster google test` makes them; `ok` when all passed", body = GoogleChecks),
        (status = 404, description = "No such directory for this key, or not a Google directory", body = ErrorBody),
        (status = 409, description = "No server key is configured to open the stored key (`server_key_missing`)", body = ErrorBody),
    )
)]
pub async fn google_test(
    state: web::Data<ApiState>,
    key: AdminKey,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let d = auth::directory(&state, key.scope(), &id).await?;
    let checked = state.clone();
    let checks = web::block(move || -> Result<_, AppError> {
        let puller = google::Puller::new(
            &checked.store,
            &checked.registry,
            &checked.google,
            checked.secret_key.as_deref(),
            d,
        )?;
        Ok(google::test_connection(&puller))
    })
    .await??;
    let ok = checks.iter().all(|c| c.ok);
    Ok(HttpResponse::Ok().json(GoogleChecks { ok, checks }))
}
