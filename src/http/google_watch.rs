//! `POST /google/notifications/{directory}`: Google's push notifications for a Google
//! directory's users (`google::watch`).

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::AppState;
use super::error::ApiError;
use crate::domain::clock;
use crate::google::watch::{self, Notification};

fn header(req: &HttpRequest, name: &str) -> String {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

pub async fn notification(
    state: web::Data<AppState>,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let notification = Notification {
        directory_id: path.into_inner(),
        channel_id: header(&req, "x-goog-channel-id"),
        token: header(&req, "x-goog-channel-token"),
        resource_state: header(&req, "x-goog-resource-state"),
        user_id: serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v["id"].as_str().map(str::to_string)),
    };
    let store = state.store.clone();
    web::block(move || watch::notify(&store, &notification, clock::now())).await??;
    Ok(HttpResponse::Ok().finish())
}
