//! Records every authenticated SCIM request with its response (see docs/request-log.md). The
//! request pays only for keeping references to the bodies and a non-blocking send; a writer
//! thread redacts, caps and inserts in batches, and purges entries past their retention.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::{Ready, ready};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::time::{Duration, Instant};

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{self, HeaderMap, HeaderName};
use actix_web::web::{self, Bytes};
use actix_web::{Error, HttpMessage};
use chrono::NaiveDateTime;
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;

use super::auth::Authed;
use super::redact::{Redactor, redact_query};
use super::{AppState, SCIM_PREFIX};
use crate::domain::clock;
use crate::domain::request_log::{self, Exchange, Retention};
use crate::domain::tenancy::Scope;
use crate::scim::schema::{ResourceKind, SchemaRegistry};
use crate::store::Store;

/// Each stored body keeps at most this much (after redaction); longer ones are marked truncated.
pub const BODY_CAP: usize = 64 * 1024;
/// Requests waiting for the writer; beyond this they are counted and dropped, never waited for.
/// Room for `GATHER` at 80,000 requests a second.
const QUEUE: usize = 4096;
/// Entries per insert transaction.
const BATCH: usize = 256;
/// How long the writer lets entries gather after the first before it writes them. Under load
/// each commit then carries up to `BATCH` entries instead of the few that arrived since the
/// last one, and commits (each rewriting the table's last pages in the WAL) were a quarter of
/// its time.
const GATHER: Duration = Duration::from_millis(50);
const PURGE_EVERY: Duration = Duration::from_secs(600);

/// One exchange as the middleware saw it, not yet redacted. No `Debug`: it holds secrets.
struct Captured {
    scope: Scope,
    received_at: NaiveDateTime,
    method: String,
    path: String,
    query: String,
    base_url: String,
    request_headers: BTreeMap<String, String>,
    request_body: Vec<Bytes>,
    status: u16,
    response_headers: BTreeMap<String, String>,
    response_body: Option<Bytes>,
    duration_us: i64,
}

/// The handle requests send to; cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    tx: SyncSender<Captured>,
    dropped: Arc<AtomicU64>,
}

impl Recorder {
    /// Starts the writer thread, which also purges what is older than `retention` (at once,
    /// then periodically), and redacts by the secrets of `registry`'s schemas. It stops when
    /// the last `Recorder` is dropped.
    pub fn start(
        store: Arc<Store>,
        registry: SchemaRegistry,
        retention: Retention,
    ) -> std::io::Result<Recorder> {
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        let counter = dropped.clone();
        std::thread::Builder::new()
            .name("request-log".into())
            .spawn(move || {
                write_loop(&store, &Redactor::new(registry), retention, &rx, &counter);
            })?;
        Ok(Recorder { tx, dropped })
    }

    fn offer(&self, captured: Captured) {
        if let Err(TrySendError::Full(_)) = self.tx.try_send(captured) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn write_loop(
    store: &Store,
    redactor: &Redactor,
    retention: Retention,
    rx: &Receiver<Captured>,
    dropped: &AtomicU64,
) {
    let every = retention.duration().min(PURGE_EVERY);
    let mut next_purge = Instant::now();
    loop {
        if Instant::now() >= next_purge {
            match request_log::purge(store, retention, clock::now()) {
                Ok(0) => {}
                Ok(n) => tracing::debug!(entries = n, "request log: purged"),
                Err(e) => tracing::warn!(error = %e, "request log: purge failed"),
            }
            next_purge = Instant::now() + every;
        }
        let first = match rx.recv_timeout(next_purge.saturating_duration_since(Instant::now())) {
            Ok(c) => c,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        // Sleep rather than wait on the channel: a waiting receiver is woken by every send,
        // which cost a thread switch per request.
        std::thread::sleep(GATHER);
        let mut pending = vec![first];
        let mut disconnected = false;
        loop {
            while pending.len() < BATCH {
                match rx.try_recv() {
                    Ok(c) => pending.push(c),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        disconnected = true;
                        break;
                    }
                }
            }
            let full = pending.len() == BATCH;
            write(
                store,
                pending.drain(..).map(|c| finish(redactor, c)).collect(),
            );
            if !full || disconnected {
                break;
            }
        }
        let lost = dropped.swap(0, Ordering::Relaxed);
        if lost > 0 {
            tracing::warn!(
                entries = lost,
                "request log: queue full, entries not recorded"
            );
        }
        if disconnected {
            return;
        }
    }
}

fn write(store: &Store, batch: Vec<Exchange>) {
    if request_log::record(store, &batch).is_err() {
        // One bad entry (its directory deleted meanwhile) must not cost the others.
        let lost = batch
            .chunks(1)
            .filter(|one| request_log::record(store, one).is_err())
            .count();
        tracing::warn!(entries = lost, "request log: entries could not be written");
    }
}

/// Redacted, then capped at a character boundary.
fn stored_body(
    redactor: &Redactor,
    kind: Option<ResourceKind>,
    bytes: &[u8],
) -> (Option<String>, bool) {
    if bytes.is_empty() {
        return (None, false);
    }
    // `from_utf8` checks faster than `from_utf8_lossy`, and bodies are UTF-8 all but always.
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => redactor.body(text, kind),
        Err(_) => redactor.body(&String::from_utf8_lossy(bytes), kind),
    };
    if text.len() <= BODY_CAP {
        return (Some(text), false);
    }
    let cut = (0..=BODY_CAP)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    (Some(text[..cut].to_string()), true)
}

fn finish(redactor: &Redactor, c: Captured) -> Exchange {
    // `/Bulk` and the root `/.search` span both types, and count secrets of both.
    let kind = [ResourceKind::User, ResourceKind::Group]
        .into_iter()
        .find(|k| {
            c.path
                .strip_prefix('/')
                .is_some_and(|p| p.split('/').next() == Some(k.endpoint()))
        });
    let (request_body, request_truncated) = stored_body(redactor, kind, &c.request_body.concat());
    let (response_body, response_truncated) = stored_body(
        redactor,
        kind,
        c.response_body.as_deref().unwrap_or_default(),
    );
    Exchange {
        tenant_id: c.scope.tenant_id,
        directory_id: c.scope.directory_id,
        received_at: c.received_at,
        method: c.method,
        path: c.path,
        query: redact_query(&c.query),
        base_url: c.base_url,
        request_headers: c.request_headers,
        request_body,
        request_truncated,
        status: c.status,
        response_headers: c.response_headers,
        response_body,
        response_truncated,
        duration_us: c.duration_us,
    }
}

/// The headers worth keeping, under their usual spelling. Never `Authorization`.
fn kept(headers: &HeaderMap, names: &[(HeaderName, &str)]) -> BTreeMap<String, String> {
    names
        .iter()
        .filter_map(|(name, shown)| {
            let value = headers.get(name)?.to_str().ok()?;
            Some((shown.to_string(), value.to_string()))
        })
        .collect()
}

/// The middleware, for the SCIM scope. Inert when `AppState::request_log` is `None`.
pub struct RecordRequests;

impl<S, B> Transform<S, ServiceRequest> for RecordRequests
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = Error;
    type Transform = RecordRequestsService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RecordRequestsService { service }))
    }
}

pub struct RecordRequestsService<S> {
    service: S,
}

impl<S, B> Service<ServiceRequest> for RecordRequestsService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Error>>;

    forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let Some((state, recorder)) = state.and_then(|s| s.request_log.clone().map(|r| (s, r)))
        else {
            let fut = self.service.call(req);
            return Box::pin(async move { Ok(fut.await?.map_into_boxed_body()) });
        };
        let started = Instant::now();
        let received_at = clock::now();
        let method = req.method().to_string();
        let path = req
            .path()
            .strip_prefix(SCIM_PREFIX)
            .unwrap_or(req.path())
            .to_string();
        let query = req.query_string().to_string();
        let request_headers = kept(
            req.headers(),
            &[
                (header::USER_AGENT, "User-Agent"),
                (header::CONTENT_TYPE, "Content-Type"),
                (header::IF_MATCH, "If-Match"),
                (header::IF_NONE_MATCH, "If-None-Match"),
            ],
        );
        // The handler reads the body as usual; the log keeps references to the same chunks,
        // up to the size limit beyond which the handler refuses the request anyway.
        let chunks: Rc<RefCell<Vec<Bytes>>> = Rc::default();
        let sink = chunks.clone();
        let limit = state.max_body_bytes;
        let mut seen = 0usize;
        let tee = req.take_payload().inspect(move |chunk| {
            if let Ok(chunk) = chunk
                && seen <= limit
            {
                seen += chunk.len();
                sink.borrow_mut().push(chunk.clone());
            }
        });
        req.set_payload(Payload::Stream {
            payload: Box::pin(tee),
        });
        let fut = self.service.call(req);
        Box::pin(async move {
            let res = fut.await?;
            let duration_us = i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX);
            // Unauthenticated requests belong to no directory and are not recorded: anyone could
            // otherwise fill the log.
            let Some(authed) = res.request().extensions().get::<Authed>().cloned() else {
                return Ok(res.map_into_boxed_body());
            };
            let status = res.status().as_u16();
            let response_headers = kept(
                res.headers(),
                &[
                    (header::CONTENT_TYPE, "Content-Type"),
                    (header::ETAG, "ETag"),
                    (header::LOCATION, "Location"),
                ],
            );
            let mut response_body = None;
            let res = res.map_body(|_, body| {
                let body = body.boxed();
                if matches!(body.size(), BodySize::None) {
                    return body;
                }
                match body.try_into_bytes() {
                    Ok(bytes) => {
                        response_body = Some(bytes.clone());
                        BoxBody::new(bytes)
                    }
                    Err(streamed) => streamed,
                }
            });
            recorder.offer(Captured {
                scope: authed.scope,
                received_at,
                method,
                path,
                query,
                base_url: state.base_url.clone(),
                request_headers,
                request_body: chunks.take(),
                status,
                response_headers,
                response_body,
                duration_us,
            });
            Ok(res)
        })
    }
}
