//! Webhook endpoints with their deliveries, and a retry button on a delivery: the event is
//! sent again now (`delivery::replay` of that one event), and the attempt is logged like any.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::error::ConsoleError;
use super::session::{Posted, SignedIn};
use super::{Chrome, ConsoleState, page};
use crate::delivery::{self, Delivery, DeliveryError, Endpoint};
use crate::domain::feed::Cursor;

/// Deliveries shown on an endpoint's page, newest first.
const DELIVERIES: i64 = 100;

#[derive(Template)]
#[template(path = "webhooks.html")]
struct WebhooksPage {
    chrome: Chrome,
    endpoints: Vec<Endpoint>,
}

pub async fn list(
    state: web::Data<ConsoleState>,
    signed: SignedIn,
) -> Result<HttpResponse, ConsoleError> {
    let (store, tenant) = (state.store.clone(), signed.scope().only().cloned());
    let endpoints = web::block(move || delivery::list(&store, tenant.as_ref())).await??;
    page(&WebhooksPage {
        chrome: Chrome::of(&signed, "webhooks"),
        endpoints,
    })
}

/// The endpoint `id` if the session's key may see it: a tenant's key sees its tenant's
/// endpoints only, as on the admin API.
async fn visible(
    state: &web::Data<ConsoleState>,
    signed: &SignedIn,
    id: &str,
) -> Result<Endpoint, ConsoleError> {
    let (store, wanted) = (state.store.clone(), id.to_string());
    match web::block(move || delivery::get(&store, &wanted)).await? {
        Ok(e) if e.visible_to(signed.scope().only()) => Ok(e),
        Ok(_) | Err(DeliveryError::NotFound(_)) => Err(ConsoleError::NotFound(format!(
            "webhook endpoint {id} not found"
        ))),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "webhook.html")]
struct WebhookPage {
    chrome: Chrome,
    endpoint: Endpoint,
    deliveries: Vec<Delivery>,
    failed_only: bool,
    /// What the last retry came to, when this page answers one.
    retried: Option<String>,
}

#[derive(Deserialize)]
pub struct WebhookQuery {
    failed: Option<String>,
}

async fn endpoint_page(
    state: &web::Data<ConsoleState>,
    signed: &SignedIn,
    id: &str,
    failed_only: bool,
    retried: Option<String>,
) -> Result<HttpResponse, ConsoleError> {
    let endpoint = visible(state, signed, id).await?;
    let (store, wanted) = (state.store.clone(), id.to_string());
    let deliveries =
        web::block(move || delivery::deliveries(&store, &wanted, failed_only, DELIVERIES))
            .await??;
    page(&WebhookPage {
        chrome: Chrome::of(signed, "webhooks"),
        endpoint,
        deliveries,
        failed_only,
        retried,
    })
}

pub async fn show(
    state: web::Data<ConsoleState>,
    signed: SignedIn,
    id: web::Path<String>,
    query: web::Query<WebhookQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let failed_only = query.failed.as_deref() == Some("true");
    endpoint_page(&state, &signed, &id, failed_only, None).await
}

#[derive(Deserialize)]
pub struct Retry {
    /// The delivered event's cursor.
    cursor: String,
}

pub async fn retry(
    state: web::Data<ConsoleState>,
    id: web::Path<String>,
    posted: Posted<Retry>,
) -> Result<HttpResponse, ConsoleError> {
    let Posted { signed, form } = posted;
    visible(&state, &signed, &id).await?;
    let at = Cursor::parse(form.cursor.trim())?.position();
    let from = Cursor::at(at - 1).to_string();
    let done = delivery::replay(
        state.store.clone(),
        &state.webhook_client,
        state.webhook_policy,
        &state.webhook_secrets,
        &id,
        &from,
        Some(&at.to_string()),
    )
    .await?;
    let said = if done.sent == 0 {
        format!("event {at} is no longer in the feed; nothing was sent")
    } else if done.failed == 0 {
        format!("event {at} was sent again and delivered")
    } else {
        format!("event {at} was sent again and failed; see the newest delivery below")
    };
    endpoint_page(&state, &signed, &id, false, Some(said)).await
}
