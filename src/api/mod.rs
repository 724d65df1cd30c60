//! The HTTP API under `/api/v1`: the application's routes (application keys) and the admin
//! routes under `/api/v1/admin` (admin keys); JSON in and out, one error shape (`error.rs`).
//! It reaches the store only through domain queries and commands.

pub mod admin;
pub mod auth;
pub mod body;
pub mod directories;
pub mod error;
pub mod events;
pub mod groups;
pub mod openapi;
pub mod page;
pub mod params;
pub mod schemas;
pub mod snapshot;
pub mod users;
pub mod webhooks;

use std::sync::Arc;

use actix_web::web;

use crate::store::Store;
use auth::AppKey;
use error::AppError;

pub const API_PREFIX: &str = "/api/v1";

pub struct ApiState {
    pub store: Arc<Store>,
    /// The SCIM base URL identity providers are given, shown with each directory.
    pub scim_base_url: String,
    pub webhook_policy: crate::delivery::target::TargetPolicy,
    pub webhook_secrets: crate::delivery::secrets::Secrets,
    /// For test events and replays sent while a request waits.
    pub webhook_client: reqwest::Client,
    /// The User schemas custom attributes' source paths are resolved against.
    pub registry: crate::scim::schema::SchemaRegistry,
    /// For Google directories made and checked over the admin API.
    pub google: crate::config::GoogleConfig,
    /// The configured server key (`ROSTER_SECRET_KEY`), which seals Google keys.
    pub secret_key: Option<String>,
}

async fn no_such_route() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::NotFound("no such endpoint".into()))
}

async fn wrong_method() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::MethodNotAllowed)
}

/// The application routes' part of the OpenAPI document (paths relative to `/api/v1`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    openapi::serve,
    events::list,
    directories::list,
    directories::get,
    directories::users,
    directories::groups,
    users::lookup,
    users::get,
    users::groups,
    groups::get,
    groups::users,
    snapshot::stream,
), components(schemas(
    // Named only inside `Event.data`'s `anyOf`, which the paths do not collect.
    schemas::MembershipRecord,
    schemas::DirectoryStateRecord,
    schemas::InvalidCredentialsRecord,
    schemas::WebhookDisabledRecord,
)))]
pub struct AppApi;

/// The webhook routes, served under both `/api/v1` and `/api/v1/admin` by the same handlers.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    webhooks::list,
    webhooks::create,
    webhooks::get,
    webhooks::update,
    webhooks::delete,
    webhooks::rotate_secret,
    webhooks::test,
    webhooks::deliveries,
    webhooks::replay,
))]
pub struct WebhooksApi;

/// The routes inside `/api/v1`. Each path is one resource holding its methods, so another
/// method answers 405 rather than 404.
///
/// Adding a route: register it here (or in `admin::routes`), put `#[utoipa::path]` on its
/// handler with the path relative to where it is registered, and list the handler in
/// `AppApi`, `WebhooksApi` or `admin::AdminApi`; `tests/it/openapi.rs` fails until all three
/// are done (`docs/api.md`, "The OpenAPI document").
pub fn routes(cfg: &mut web::ServiceConfig) {
    let resource = |path: &str| web::resource(path).default_service(web::to(wrong_method));
    cfg.configure(admin::routes);
    cfg.service(resource("/openapi.json").route(web::get().to(openapi::serve)))
        .service(resource("/events").route(web::get().to(events::list)))
        .service(resource("/directories").route(web::get().to(directories::list)))
        .service(resource("/directories/{id}").route(web::get().to(directories::get)))
        .service(resource("/directories/{id}/users").route(web::get().to(directories::users)))
        .service(resource("/directories/{id}/groups").route(web::get().to(directories::groups)))
        .service(resource("/users").route(web::get().to(users::lookup)))
        .service(resource("/users/{id}").route(web::get().to(users::get)))
        .service(resource("/users/{id}/groups").route(web::get().to(users::groups)))
        .service(resource("/groups/{id}").route(web::get().to(groups::get)))
        .service(resource("/groups/{id}/users").route(web::get().to(groups::users)))
        .service(resource("/directories/{id}/snapshot").route(web::get().to(snapshot::stream)))
        .service(
            resource("/webhooks")
                .route(web::get().to(webhooks::list::<AppKey>))
                .route(web::post().to(webhooks::create::<AppKey>)),
        )
        .service(
            resource("/webhooks/{id}")
                .route(web::get().to(webhooks::get::<AppKey>))
                .route(web::patch().to(webhooks::update::<AppKey>))
                .route(web::delete().to(webhooks::delete::<AppKey>)),
        )
        .service(
            resource("/webhooks/{id}/rotate-secret")
                .route(web::post().to(webhooks::rotate_secret::<AppKey>)),
        )
        .service(resource("/webhooks/{id}/test").route(web::post().to(webhooks::test::<AppKey>)))
        .service(
            resource("/webhooks/{id}/deliveries")
                .route(web::get().to(webhooks::deliveries::<AppKey>)),
        )
        .service(
            resource("/webhooks/{id}/replay").route(web::post().to(webhooks::replay::<AppKey>)),
        )
        .default_service(web::to(no_such_route));
}
