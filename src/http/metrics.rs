//! `GET /metrics` in Prometheus text format (docs/operations.md) and the middleware that counts
//! every request. Label values come from short fixed sets (a route's pattern, never its path;
//! a method; a status; a directory kind), so no user id, token or raw path can become a
//! series.

use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

use super::AppState;
use super::auth::Authed;
use crate::delivery::stats::DeliveryStats;
use crate::google::stats::SyncStats;
use crate::store::Store;

/// Every series this process exports, and the HTTP ones it counts itself.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    write_queue: IntGauge,
    pool_in_use: IntGauge,
    pool_idle: IntGauge,
    webhook_lag: prometheus::Gauge,
}

fn gauge(registry: &Registry, name: &str, help: &str) -> prometheus::Result<IntGauge> {
    let g = IntGauge::new(name, help)?;
    registry.register(Box::new(g.clone()))?;
    Ok(g)
}

impl Metrics {
    pub fn new(
        store: &Store,
        deliveries: &DeliveryStats,
        syncs: &SyncStats,
    ) -> prometheus::Result<Metrics> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "roster_http_requests_total",
                "HTTP requests by route pattern, method, status and directory kind",
            ),
            &["route", "method", "status", "kind"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "roster_http_request_duration_seconds",
                "Time from a request's head to its answer, by route pattern, method and directory kind",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
            ]),
            &["route", "method", "kind"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        store.stats().register(&registry)?;
        deliveries.register(&registry)?;
        syncs.register(&registry)?;
        Ok(Metrics {
            write_queue: gauge(
                &registry,
                "roster_write_queue_depth",
                "Writes waiting for SQLite's writer (0 on PostgreSQL)",
            )?,
            pool_in_use: gauge(
                &registry,
                "roster_db_pool_connections_in_use",
                "Pooled database connections handed out",
            )?,
            pool_idle: gauge(
                &registry,
                "roster_db_pool_connections_idle",
                "Pooled database connections open and idle",
            )?,
            webhook_lag: {
                let g = prometheus::Gauge::new(
                    "roster_webhook_lag_seconds",
                    "Age of the oldest event not yet delivered to an enabled webhook endpoint",
                )?;
                registry.register(Box::new(g.clone()))?;
                g
            },
            registry,
            requests,
            latency,
        })
    }
}

/// Methods outside the standard set count as one, so a client cannot mint series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

pub async fn count(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let started = Instant::now();
    let method = method_label(req.method());
    let res = next.call(req).await?;
    if let Some(state) = state {
        let metrics = &state.metrics;
        let route = res.request().match_pattern();
        let route = route.as_deref().unwrap_or("unmatched");
        let kind = res
            .request()
            .extensions()
            .get::<Authed>()
            .map_or("none", |a| a.kind.as_str());
        metrics
            .requests
            .with_label_values(&[route, method, res.status().as_str(), kind])
            .inc();
        metrics
            .latency
            .with_label_values(&[route, method, kind])
            .observe(started.elapsed().as_secs_f64());
    }
    Ok(res)
}

/// Open like `/healthz`: series carry counts and timings only, no ids (docs/operations.md says
/// how to keep it off a public address).
pub async fn scrape(state: web::Data<AppState>) -> HttpResponse {
    let metrics: &Arc<Metrics> = &state.metrics;
    let gauges = state.store.gauges();
    metrics
        .write_queue
        .set(i64::try_from(gauges.write_queue).unwrap_or(i64::MAX));
    metrics.pool_in_use.set(i64::from(gauges.pool_in_use));
    metrics.pool_idle.set(i64::from(gauges.pool_idle));
    let store = state.store.clone();
    let lag = web::block(move || DeliveryStats::lag(&store, crate::domain::clock::now())).await;
    match lag {
        Ok(Ok(lag)) => metrics.webhook_lag.set(lag.as_secs_f64()),
        Ok(Err(e)) => tracing::warn!(error = %e, "metrics: webhook lag could not be read"),
        Err(e) => tracing::warn!(error = %e, "metrics: webhook lag could not be read"),
    }
    let mut text = Vec::new();
    if let Err(e) = TextEncoder::new().encode(&metrics.registry.gather(), &mut text) {
        tracing::error!(error = %e, "metrics could not be encoded");
        return HttpResponse::InternalServerError().finish();
    }
    HttpResponse::Ok()
        .content_type(prometheus::TEXT_FORMAT)
        .body(text)
}
