//! The application's HTTP API under `/api/v1`: JSON in and out, application keys, one error
//! shape (`error.rs`). It reaches the store only through domain queries and commands.

pub mod auth;
pub mod error;
pub mod events;
pub mod params;
pub mod snapshot;

use std::sync::Arc;

use actix_web::web;

use crate::store::Store;
use error::AppError;

pub const API_PREFIX: &str = "/api/v1";

pub struct ApiState {
    pub store: Arc<Store>,
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
        .default_service(web::to(no_such_route));
}
