//! Push notifications: a `users.watch` channel per directory, renewed before it expires, and
//! the route Google posts to. A notification only queues the changed user; the instance that
//! holds the directory's lease re-reads it, so any instance behind a load balancer may take
//! the notification.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDateTime};
use rand::RngCore;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{GoogleError, Puller};
use crate::domain::clock;
use crate::http::AppState;
use crate::store::{self, google::WatchChannel};

pub const ROUTE: &str = "/google/notifications/{directory}";

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn address(public_url: &str, directory_id: &str) -> String {
    format!("{public_url}/google/notifications/{directory_id}")
}

/// Renew this long before expiry: a tenth of the channel's lifetime, between 30 s and 1 h.
fn margin(ttl_secs: u64) -> chrono::Duration {
    chrono::Duration::seconds((ttl_secs / 10).clamp(30, 3600) as i64)
}

/// Opens a channel when the directory has none or its channel expires soon, then stops the
/// old one. Runs under the directory's lease.
pub fn ensure_channel(
    puller: &Puller<'_>,
    public_url: &str,
    ttl_secs: u64,
    now: NaiveDateTime,
) -> Result<bool, GoogleError> {
    let id = puller.row.directory_id.as_str();
    let row = puller
        .store
        .read(|c| store::google::find(c, id))?
        .ok_or_else(|| GoogleError::NotGoogle(puller.directory.name.clone()))?;
    if row.watch_channel_id.is_some()
        && row
            .watch_expires_at
            .is_some_and(|e| e > now + margin(ttl_secs))
    {
        return Ok(false);
    }
    let channel_id = uuid::Uuid::new_v4().to_string();
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let token = hex::encode(secret);
    let body = json!({
        "id": channel_id,
        "type": "web_hook",
        "address": address(public_url, id),
        "token": token,
        "params": {"ttl": ttl_secs.to_string()},
    });
    let (param, value) = puller.target().param();
    let answer = puller
        .api
        .post(
            "admin/directory/v1/users/watch",
            &[(param, value.as_str())],
            &body,
        )?
        .ok_or_else(|| GoogleError::NotFound("users/watch".into()))?;
    // `expiration` is milliseconds since the epoch, as a string in Google's JSON.
    let expires = answer["expiration"]
        .as_str()
        .and_then(|s| s.parse::<i64>().ok())
        .or_else(|| answer["expiration"].as_i64())
        .and_then(DateTime::from_timestamp_millis)
        .map(|t| t.naive_utc())
        .unwrap_or(now + chrono::Duration::seconds(ttl_secs as i64));
    let channel = WatchChannel {
        watch_channel_id: Some(channel_id),
        watch_resource_id: answer["resourceId"].as_str().map(str::to_string),
        watch_token_hash: Some(hash(&token)),
        watch_expires_at: Some(expires),
    };
    puller
        .store
        .write(|c| store::google::set_watch(c, id, &channel))?;
    if let Some(old) = row.watch_channel_id {
        let stop = json!({"id": old, "resourceId": row.watch_resource_id});
        if let Err(e) = puller
            .api
            .post("admin/directory_v1/channels/stop", &[], &stop)
        {
            tracing::info!(error = %e, "could not stop the previous push channel; it expires on its own");
        }
    }
    Ok(true)
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// `POST /google/notifications/{directory}`: checks the channel id and token against the
/// directory's current channel, ignores the `sync` message every new channel starts with, and
/// queues the user the body names.
pub async fn notification(
    state: web::Data<AppState>,
    path: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let directory = path.into_inner();
    let channel = header(&req, "x-goog-channel-id")
        .unwrap_or_default()
        .to_string();
    let token = header(&req, "x-goog-channel-token")
        .unwrap_or_default()
        .to_string();
    let resource_state = header(&req, "x-goog-resource-state")
        .unwrap_or_default()
        .to_string();
    let user = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["id"].as_str().map(str::to_string));
    let store = state.store.clone();
    let outcome = web::block(move || -> Result<StatusCode, GoogleError> {
        let row = store.read(|c| store::google::find(c, &directory))?;
        let Some(row) = row else {
            return Ok(StatusCode::NOT_FOUND);
        };
        let channel_ok = row.watch_channel_id.as_deref() == Some(channel.as_str());
        let token_ok = row
            .watch_token_hash
            .as_deref()
            .is_some_and(|h| bool::from(h.as_bytes().ct_eq(hash(&token).as_bytes())));
        if !(channel_ok && token_ok) {
            tracing::warn!(directory = %directory, "push notification with an unknown channel or token refused");
            return Ok(StatusCode::UNAUTHORIZED);
        }
        if resource_state == "sync" {
            return Ok(StatusCode::OK);
        }
        if let Some(user) = user {
            store.read(|c| store::google::add_pending(c, &directory, &user, clock::now()))?;
        }
        Ok(StatusCode::OK)
    })
    .await;
    match outcome {
        Ok(Ok(status)) => HttpResponse::new(status),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "push notification not queued");
            HttpResponse::InternalServerError().finish()
        }
        Err(e) => {
            tracing::error!(error = %e, "push notification not queued");
            HttpResponse::InternalServerError().finish()
        }
    }
}
