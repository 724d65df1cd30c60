//! Webhooks: endpoints, Standard Webhooks signing, the dispatcher and its retry schedule
//! (`docs/webhooks.md`). The events table is the outbox: an endpoint keeps, per directory, the
//! cursor of the last event it delivered, in the database, so nothing is lost to a crash of
//! Roster or an outage of the receiver.

pub mod dispatcher;
pub mod schedule;
pub mod secrets;
pub mod sign;
pub mod stats;
pub mod target;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use serde::Serialize;
use serde_json::json;
use thiserror::Error;

use crate::domain::clock::{self, rfc3339};
use crate::domain::event::EventKind;
use crate::domain::feed;
use crate::domain::ids::{EventId, TenantId, TokenId};
use crate::store::events::EventQuery;
use crate::store::webhooks::{DeliveryRow, EndpointRow};
use crate::store::{self, Store, StoreError};
use secrets::Secrets;
use target::{TargetError, TargetPolicy};

#[derive(Debug, Error)]
pub enum DeliveryError {
    #[error("webhook endpoint {0} not found")]
    NotFound(String),
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Feed(#[from] feed::FeedError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Seal(#[from] crate::domain::sealing::SealError),
}

impl From<diesel::result::Error> for DeliveryError {
    fn from(e: diesel::result::Error) -> Self {
        DeliveryError::Store(StoreError::Query(e))
    }
}

/// An endpoint as listings show it: never its secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = WebhookEndpoint)]
pub struct Endpoint {
    pub id: String,
    /// `None`: every tenant's events.
    pub tenant_id: Option<String>,
    pub url: String,
    /// `None`: every type.
    pub types: Option<Vec<String>>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub failing_since: Option<String>,
    /// While a rotated-out secret still signs, until when.
    pub previous_secret_until: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl Endpoint {
    fn of(row: &EndpointRow) -> Endpoint {
        Endpoint {
            id: row.id.clone(),
            tenant_id: row.tenant_id.clone(),
            url: row.url.clone(),
            types: row.types.as_deref().map(split_types),
            enabled: row.enabled,
            disabled_reason: row.disabled_reason.clone(),
            failing_since: row.failing_since.map(rfc3339),
            previous_secret_until: row.previous_until.map(rfc3339),
            created_at: rfc3339(row.created_at),
            updated_at: rfc3339(row.updated_at),
        }
    }

    /// Whether a caller that reads `tenant` (every tenant when `None`) may see this endpoint:
    /// a tenant's caller sees its tenant's endpoints only, not the global ones.
    pub fn visible_to(&self, tenant: Option<&TenantId>) -> bool {
        match tenant {
            None => true,
            Some(t) => self.tenant_id.as_deref() == Some(t.as_str()),
        }
    }
}

fn split_types(text: &str) -> Vec<String> {
    text.split(',').map(str::to_string).collect()
}

/// Checks event type names; `None` or an empty list means every type.
pub fn parse_types(names: &[String]) -> Result<Option<Vec<String>>, DeliveryError> {
    let mut out = Vec::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let kind = EventKind::parse(name).ok_or_else(|| {
            DeliveryError::Invalid(format!("unknown event type '{name}' in types"))
        })?;
        out.push(kind.as_str().to_string());
    }
    Ok((!out.is_empty()).then_some(out))
}

/// A new endpoint and its secret, shown once.
pub struct Created {
    pub endpoint: Endpoint,
    pub secret: String,
}

/// Creates an endpoint that receives the events committed from now on.
pub fn create(
    store: &Store,
    policy: TargetPolicy,
    secrets: &Secrets,
    tenant: Option<&TenantId>,
    url: &str,
    types: Option<Vec<String>>,
    now: NaiveDateTime,
) -> Result<Created, DeliveryError> {
    policy.check_url(url)?;
    let start = feed::newest(store)?.position();
    let secret = sign::new_secret();
    let id = TokenId::generate().to_string();
    let row = EndpointRow {
        secret: secrets.seal(&secret, &id)?,
        id,
        tenant_id: tenant.map(|t| t.to_string()),
        url: url.to_string(),
        types: types.map(|t| t.join(",")),
        previous_secret: None,
        previous_until: None,
        enabled: true,
        disabled_reason: None,
        start_cursor: start,
        scan_cursor: start,
        failing_since: None,
        created_at: now,
        updated_at: now,
    };
    store.write(|conn| store::webhooks::insert_endpoint(conn, &row))?;
    Ok(Created {
        endpoint: Endpoint::of(&row),
        secret,
    })
}

fn find(store: &Store, id: &str) -> Result<EndpointRow, DeliveryError> {
    store
        .read(|conn| store::webhooks::find_endpoint(conn, id))?
        .ok_or_else(|| DeliveryError::NotFound(id.to_string()))
}

pub fn get(store: &Store, id: &str) -> Result<Endpoint, DeliveryError> {
    Ok(Endpoint::of(&find(store, id)?))
}

/// Every endpoint, or one tenant's.
pub fn list(store: &Store, tenant: Option<&TenantId>) -> Result<Vec<Endpoint>, DeliveryError> {
    let rows =
        store.read(|conn| store::webhooks::list_endpoints(conn, tenant.map(|t| t.as_str())))?;
    Ok(rows.iter().map(Endpoint::of).collect())
}

/// What `update` changes; `None` keeps.
#[derive(Debug, Default)]
pub struct Changes {
    pub url: Option<String>,
    pub types: Option<Option<Vec<String>>>,
    pub enabled: Option<bool>,
}

pub fn update(
    store: &Store,
    policy: TargetPolicy,
    id: &str,
    changes: Changes,
    now: NaiveDateTime,
) -> Result<Endpoint, DeliveryError> {
    if let Some(url) = &changes.url {
        policy.check_url(url)?;
    }
    let row = store.write(|conn| -> Result<EndpointRow, DeliveryError> {
        let mut row = store::webhooks::find_endpoint(conn, id)?
            .ok_or_else(|| DeliveryError::NotFound(id.to_string()))?;
        if let Some(url) = changes.url {
            row.url = url;
        }
        if let Some(types) = changes.types {
            row.types = types.map(|t| t.join(","));
        }
        if let Some(enabled) = changes.enabled {
            if enabled && !row.enabled {
                // Enabled again: what waited while it was off goes out now.
                row.disabled_reason = None;
                row.failing_since = None;
                store::webhooks::retry_now(conn, id, now)?;
            }
            row.enabled = enabled;
            if !enabled && row.disabled_reason.is_none() {
                row.disabled_reason = Some("disabled by the operator".into());
            }
        }
        row.updated_at = now;
        store::webhooks::save_endpoint(conn, &row)?;
        Ok(row)
    })?;
    Ok(Endpoint::of(&row))
}

pub fn delete(store: &Store, id: &str) -> Result<(), DeliveryError> {
    if store.write(|conn| store::webhooks::delete_endpoint(conn, id))? {
        Ok(())
    } else {
        Err(DeliveryError::NotFound(id.to_string()))
    }
}

/// A new secret, used at once; the old one keeps signing beside it for `overlap`, so that a
/// receiver can switch at its own pace.
pub fn rotate_secret(
    store: &Store,
    secrets: &Secrets,
    id: &str,
    overlap: Duration,
    now: NaiveDateTime,
) -> Result<(Endpoint, String), DeliveryError> {
    let secret = sign::new_secret();
    let sealed = secrets.seal(&secret, id)?;
    let until = now
        + chrono::Duration::from_std(overlap)
            .map_err(|_| DeliveryError::Invalid("the overlap is too long".into()))?;
    let row = store.write(|conn| -> Result<EndpointRow, DeliveryError> {
        let mut row = store::webhooks::find_endpoint(conn, id)?
            .ok_or_else(|| DeliveryError::NotFound(id.to_string()))?;
        row.previous_secret = Some(std::mem::replace(&mut row.secret, sealed));
        row.previous_until = Some(until);
        row.updated_at = now;
        store::webhooks::save_endpoint(conn, &row)?;
        Ok(row)
    })?;
    Ok((Endpoint::of(&row), secret))
}

/// One delivery attempt as the log shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    pub id: String,
    pub event_id: String,
    pub event_cursor: String,
    pub event_type: String,
    pub directory_id: Option<String>,
    pub attempt: i32,
    pub status: String,
    pub response_code: Option<i32>,
    pub latency_ms: i64,
    pub error: Option<String>,
    pub attempted_at: String,
    pub next_attempt_at: Option<String>,
}

impl Delivery {
    fn of(row: DeliveryRow) -> Delivery {
        Delivery {
            id: row.id,
            event_id: row.event_id,
            event_cursor: row.event_cursor.to_string(),
            event_type: row.event_type,
            directory_id: (!row.directory_id.is_empty()).then_some(row.directory_id),
            attempt: row.attempt,
            status: row.status,
            response_code: row.response_code,
            latency_ms: row.latency_ms,
            error: row.error,
            attempted_at: rfc3339(row.attempted_at),
            next_attempt_at: row.next_attempt_at.map(rfc3339),
        }
    }
}

/// The newest deliveries first.
pub fn deliveries(
    store: &Store,
    id: &str,
    failed_only: bool,
    limit: i64,
) -> Result<Vec<Delivery>, DeliveryError> {
    find(store, id)?;
    let rows = store.read(|conn| store::webhooks::deliveries(conn, id, failed_only, limit))?;
    Ok(rows.into_iter().map(Delivery::of).collect())
}

/// What one attempt came to.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = DeliveryOutcome)]
pub struct Outcome {
    pub status: &'static str,
    pub response_code: Option<u16>,
    pub latency_ms: i64,
    pub error: Option<String>,
    #[serde(skip)]
    pub retry_after: Option<Duration>,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        self.status == "succeeded"
    }

    /// 410 Gone: the receiver says the endpoint no longer exists.
    pub fn gone(&self) -> bool {
        self.response_code == Some(410)
    }
}

/// The secrets that sign at `now`: the current one, and the previous one during a rotation.
fn signing_secrets(
    secrets: &Secrets,
    row: &EndpointRow,
    now: NaiveDateTime,
) -> Result<Vec<String>, DeliveryError> {
    let mut signing = vec![secrets.open(&row.secret, &row.id)?];
    if let (Some(previous), Some(until)) = (&row.previous_secret, row.previous_until)
        && until > now
    {
        signing.push(secrets.open(previous, &row.id)?);
    }
    Ok(signing)
}

/// `Retry-After` in seconds or as an HTTP date.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let text = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(text).ok()?;
    (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .ok()
}

/// Sends one signed request. The URL is checked again (the policy may have changed, and a
/// literal address never reaches the resolver); the resolver checks what a name resolves to.
pub async fn send(
    client: &reqwest::Client,
    policy: TargetPolicy,
    secrets: &Secrets,
    row: &EndpointRow,
    event_id: &str,
    body: Vec<u8>,
) -> Outcome {
    let started = Instant::now();
    let failed = |error: String, code: Option<u16>, retry: Option<Duration>| Outcome {
        status: "failed",
        response_code: code,
        latency_ms: started.elapsed().as_millis() as i64,
        error: Some(error),
        retry_after: retry,
    };
    let url = match policy.check_url(&row.url) {
        Ok(url) => url,
        Err(e) => return failed(e.to_string(), None, None),
    };
    let signing = match signing_secrets(secrets, row, clock::now()) {
        Ok(signing) => signing,
        Err(e) => return failed(e.to_string(), None, None),
    };
    let timestamp = chrono::Utc::now().timestamp();
    let signing: Vec<&str> = signing.iter().map(String::as_str).collect();
    let signature = sign::header(&signing, event_id, timestamp, &body);
    let sent = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("webhook-id", event_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await;
    match sent {
        Ok(response) => {
            let code = response.status();
            let retry = retry_after(response.headers());
            if code.is_success() {
                Outcome {
                    status: "succeeded",
                    response_code: Some(code.as_u16()),
                    latency_ms: started.elapsed().as_millis() as i64,
                    error: None,
                    retry_after: None,
                }
            } else {
                failed(format!("answered {code}"), Some(code.as_u16()), retry)
            }
        }
        Err(e) => {
            let mut why = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                why = format!("{why}: {s}");
                source = s.source();
            }
            failed(why, None, None)
        }
    }
}

fn delivery_row(
    endpoint: &str,
    event: (&str, i64, &str, &str),
    attempt: i32,
    outcome: &Outcome,
    attempted_at: NaiveDateTime,
    next_attempt_at: Option<NaiveDateTime>,
) -> DeliveryRow {
    let (event_id, cursor, event_type, directory) = event;
    DeliveryRow {
        id: EventId::generate().to_string(),
        endpoint_id: endpoint.to_string(),
        event_id: event_id.to_string(),
        event_cursor: cursor,
        event_type: event_type.to_string(),
        directory_id: directory.to_string(),
        attempt,
        status: outcome.status.to_string(),
        response_code: outcome.response_code.map(i32::from),
        latency_ms: outcome.latency_ms,
        error: outcome.error.clone(),
        attempted_at,
        next_attempt_at,
    }
}

/// Sends a signed `webhook.test` event to the endpoint now, and logs the attempt.
pub async fn test(
    store: Arc<Store>,
    client: &reqwest::Client,
    policy: TargetPolicy,
    secrets: &Secrets,
    id: &str,
) -> Result<Outcome, DeliveryError> {
    let row = {
        let (store, id) = (store.clone(), id.to_string());
        blocking(move || find(&store, &id)).await?
    };
    let now = clock::now();
    let event_id = EventId::generate().to_string();
    let body = json!({
        "id": event_id,
        "cursor": null,
        "type": "webhook.test",
        "tenant_id": row.tenant_id,
        "directory_id": null,
        "created_at": rfc3339(now),
        "data": {"endpoint_id": row.id, "message": "a test event from Roster"},
    });
    let outcome = send(
        client,
        policy,
        secrets,
        &row,
        &event_id,
        body.to_string().into_bytes(),
    )
    .await;
    let log = delivery_row(
        &row.id,
        (&event_id, 0, "webhook.test", ""),
        1,
        &outcome,
        now,
        None,
    );
    blocking(move || {
        store.write(|conn| store::webhooks::insert_delivery(conn, &log))?;
        Ok(())
    })
    .await?;
    Ok(outcome)
}

/// What a replay did.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Replayed {
    pub sent: u64,
    pub succeeded: u64,
    pub failed: u64,
}

/// The most events one replay sends.
pub const REPLAY_MAX: i64 = 10_000;

/// Sends the endpoint's events after cursor `from` up to and including `to` again, in cursor
/// order, now, logging each attempt (the `webhook-id` is each event's own id, as the first
/// time). The live deliveries go on as they were.
pub async fn replay(
    store: Arc<Store>,
    client: &reqwest::Client,
    policy: TargetPolicy,
    secrets: &Secrets,
    id: &str,
    from: &str,
    to: Option<&str>,
) -> Result<Replayed, DeliveryError> {
    let from = feed::Cursor::parse(from)?.position();
    let to = to
        .map(feed::Cursor::parse)
        .transpose()?
        .map(|c| c.position());
    let (row, events) = {
        let (store, id) = (store.clone(), id.to_string());
        blocking(move || {
            let row = find(&store, &id)?;
            let types: Option<Vec<&'static str>> = row.types.as_deref().map(|t| {
                split_types(t)
                    .iter()
                    .filter_map(|n| EventKind::parse(n).map(EventKind::as_str))
                    .collect()
            });
            let tenants: Option<Vec<String>> = row.tenant_id.clone().map(|t| vec![t]);
            let events = store.read(|conn| {
                store::events::read(
                    conn,
                    &EventQuery {
                        after: from,
                        skip: None,
                        tenant_ids: tenants.as_deref(),
                        directory_id: None,
                        types: types.as_deref(),
                        limit: REPLAY_MAX,
                    },
                )
            })?;
            Ok((row, events))
        })
        .await?
    };
    let mut done = Replayed::default();
    for event in events {
        if to.is_some_and(|to| event.cursor > to) {
            break;
        }
        let meta = (
            event.id.clone(),
            event.cursor,
            event.event_type.clone(),
            event.directory_id.clone(),
        );
        let body = feed::event_body(event);
        let now = clock::now();
        let outcome = send(client, policy, secrets, &row, &meta.0, body).await;
        done.sent += 1;
        if outcome.succeeded() {
            done.succeeded += 1;
        } else {
            done.failed += 1;
        }
        let log = delivery_row(
            &row.id,
            (&meta.0, meta.1, &meta.2, &meta.3),
            1,
            &outcome,
            now,
            None,
        );
        let store = store.clone();
        blocking(move || {
            store.write(|conn| store::webhooks::insert_delivery(conn, &log))?;
            Ok(())
        })
        .await?;
    }
    Ok(done)
}

/// Runs a store call off the async thread.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, DeliveryError> + Send + 'static,
) -> Result<T, DeliveryError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| DeliveryError::Invalid(format!("a delivery task failed: {e}")))?
}
