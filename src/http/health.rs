//! Probes for orchestrators: `/healthz` says the process answers, `/readyz` that it can serve
//! (docs/operations.md). Neither needs a token, and neither says more than a probe needs.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::AppState;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().body("ok")
}

/// 200 when the database answers, its migrations are applied and the SQLite writer runs;
/// 503 with the reason otherwise, so a load balancer stops sending and an operator reads why.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let store = state.store.clone();
    let checked = web::block(move || store.readiness()).await;
    let reason = match checked {
        Ok(Ok(())) => return HttpResponse::Ok().json(json!({"status": "ready"})),
        Ok(Err(not_ready)) => not_ready.to_string(),
        Err(_) => "the readiness check failed".to_string(),
    };
    HttpResponse::ServiceUnavailable().json(json!({"status": "not ready", "reason": reason}))
}
