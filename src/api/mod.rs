//! The application's HTTP API under `/api/v1`: JSON in and out, application keys, one error
//! shape (`error.rs`). It reaches the store only through domain queries and commands.

pub mod auth;
pub mod error;
pub mod events;
pub mod params;
pub mod snapshot;
pub mod webhooks;

use std::sync::Arc;

use actix_web::web;

use crate::store::Store;
use error::AppError;

pub const API_PREFIX: &str = "/api/v1";

pub struct ApiState {
    pub store: Arc<Store>,
    pub webhook_policy: crate::delivery::target::TargetPolicy,
    /// For test events and replays sent while a request waits.
    pub webhook_client: reqwest::Client,
}

async fn no_such_route() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::NotFound("no such endpoint".into()))
}

/// The routes inside `/api/v1`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/events", web::get().to(events::list))
        .route(
            "/directories/{id}/snapshot",
            web::get().to(snapshot::stream),
        )
        .route("/webhooks", web::get().to(webhooks::list))
        .route("/webhooks", web::post().to(webhooks::create))
        .route("/webhooks/{id}", web::get().to(webhooks::get))
        .route("/webhooks/{id}", web::patch().to(webhooks::update))
        .route("/webhooks/{id}", web::delete().to(webhooks::delete))
        .route(
            "/webhooks/{id}/rotate-secret",
            web::post().to(webhooks::rotate_secret),
        )
        .route("/webhooks/{id}/test", web::post().to(webhooks::test))
        .route(
            "/webhooks/{id}/deliveries",
            web::get().to(webhooks::deliveries),
        )
        .route("/webhooks/{id}/replay", web::post().to(webhooks::replay))
        .default_service(web::to(no_such_route));
}
