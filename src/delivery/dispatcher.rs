//! The webhook dispatcher, one per instance: finds the directories with events for each
//! endpoint, leases due streams (an endpoint and a directory), and sends each stream's events
//! in cursor order. Streams go in parallel; a failure holds back only its own stream, until
//! its next attempt.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use rand::Rng;

use super::target::TargetPolicy;
use super::{DeliveryError, Outcome, blocking, delivery_row, schedule, send, split_types};
use crate::domain::clock;
use crate::domain::event::EventKind;
use crate::domain::feed;
use crate::store::events::{EventQuery, StoredEvent};
use crate::store::webhooks::{EndpointRow, StreamRow};
use crate::store::{self, Store};

/// How long a claimed stream stays this instance's without word from it; another instance
/// takes a dead one's streams over after this. A live instance renews its leases every
/// `HEARTBEAT`, so a slow attempt (up to `schedule::ATTEMPT_TIMEOUT`) never loses its lease.
const LEASE: Duration = Duration::from_secs(15);
const HEARTBEAT: Duration = Duration::from_secs(5);
/// Streams leased at once: the most deliveries in flight.
const STREAMS_AT_ONCE: i64 = 128;
/// Events a stream sends per lease before others get their turn.
const EVENTS_PER_TURN: i64 = 100;
/// Events read per look for new directories.
const SCAN_BATCH: i64 = 1000;
/// How long a drained stream sleeps unless new events wake it (`store::webhooks::wake`): a
/// safety net only.
const IDLE: Duration = Duration::from_secs(3600);
/// How often the dispatcher looks without being woken: for retries falling due and for
/// events committed by other instances.
const IDLE_LOOK: Duration = Duration::from_millis(250);

pub struct Dispatcher {
    pub store: Arc<Store>,
    pub policy: TargetPolicy,
    pub owner: String,
}

fn later(now: NaiveDateTime, by: Duration) -> NaiveDateTime {
    now + chrono::Duration::from_std(by).unwrap_or(chrono::Duration::days(1))
}

impl Dispatcher {
    /// Runs on a thread of its own until the process ends.
    pub fn spawn(self) -> std::io::Result<()> {
        std::thread::Builder::new()
            .name("webhooks".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("the webhook runtime starts");
                runtime.block_on(Arc::new(self).run());
            })?;
        Ok(())
    }

    async fn run(self: Arc<Self>) {
        let client = super::target::client(self.policy);
        let beating = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(HEARTBEAT).await;
                let me = beating.clone();
                let renewed = blocking(move || {
                    let until = later(clock::now(), LEASE);
                    Ok(me
                        .store
                        .write(|conn| store::webhooks::renew_leases(conn, &me.owner, until))?)
                })
                .await;
                if let Err(e) = renewed {
                    tracing::warn!(error = %e, "could not renew webhook leases");
                }
            }
        });
        let mut commits = self.store.feed_changes();
        loop {
            commits.borrow_and_update();
            let busy = match self.clone().pass(&client).await {
                Ok(busy) => busy,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook dispatch failed; retrying");
                    false
                }
            };
            if !busy {
                let _ = tokio::time::timeout(IDLE_LOOK, commits.changed()).await;
            }
        }
    }

    /// One round: discover, claim, deliver. `true` when it delivered anything.
    async fn pass(self: Arc<Self>, client: &reqwest::Client) -> Result<bool, DeliveryError> {
        let me = self.clone();
        // Reads first, a write only when there is something to write: the dispatcher wakes
        // on every commit, and on SQLite each of its writes would take the writer's turn.
        let claimed = blocking(move || {
            let endpoints = me.store.read(store::webhooks::enabled_endpoints)?;
            if endpoints.is_empty() {
                return Ok(None);
            }
            me.discover(&endpoints)?;
            let now = clock::now();
            if !me.store.read(|conn| store::webhooks::any_due(conn, now))? {
                return Ok(None);
            }
            let streams = me.store.write(|conn| {
                store::webhooks::claim_due(
                    conn,
                    &me.owner,
                    now,
                    later(now, LEASE),
                    later(now, IDLE),
                    STREAMS_AT_ONCE,
                )
            })?;
            Ok(Some((endpoints, streams)))
        })
        .await?;
        let Some((endpoints, streams)) = claimed else {
            return Ok(false);
        };
        if streams.is_empty() {
            return Ok(false);
        }
        let endpoints: std::collections::HashMap<String, EndpointRow> =
            endpoints.into_iter().map(|e| (e.id.clone(), e)).collect();
        let mut running = tokio::task::JoinSet::new();
        for stream in streams {
            let Some(endpoint) = endpoints.get(&stream.endpoint_id).cloned() else {
                continue;
            };
            let (me, client) = (self.clone(), client.clone());
            running.spawn(async move {
                if let Err(e) = me.deliver(&client, endpoint, stream).await {
                    tracing::warn!(error = %e, "webhook stream failed");
                }
            });
        }
        while running.join_next().await.is_some() {}
        Ok(true)
    }

    /// Creates the streams of directories that have events for an endpoint since it last
    /// looked (a batch per endpoint per round).
    fn discover(&self, endpoints: &[EndpointRow]) -> Result<(), DeliveryError> {
        let mut found = Vec::new();
        for endpoint in endpoints {
            let (directories, last) = self.store.read(|conn| {
                store::events::directories_after(
                    conn,
                    endpoint.scan_cursor.max(endpoint.start_cursor),
                    endpoint.tenant_id.as_deref(),
                    SCAN_BATCH,
                )
            })?;
            if let Some(last) = last {
                found.push((endpoint, directories, last));
            }
        }
        if found.is_empty() {
            return Ok(());
        }
        self.store.write(|conn| -> Result<(), DeliveryError> {
            let now = clock::now();
            for (endpoint, directories, last) in &found {
                store::webhooks::ensure_streams(
                    conn,
                    &endpoint.id,
                    directories,
                    endpoint.start_cursor,
                    now,
                )?;
                store::webhooks::wake(conn, &endpoint.id, directories, now)?;
                store::webhooks::set_scan_cursor(conn, &endpoint.id, *last)?;
            }
            Ok(())
        })
    }

    fn next_events(
        &self,
        endpoint: &EndpointRow,
        stream: &StreamRow,
    ) -> Result<Vec<StoredEvent>, DeliveryError> {
        let types: Option<Vec<&'static str>> = endpoint.types.as_deref().map(|t| {
            split_types(t)
                .iter()
                .filter_map(|n| EventKind::parse(n).map(EventKind::as_str))
                .collect()
        });
        let tenants: Option<Vec<String>> = endpoint.tenant_id.clone().map(|t| vec![t]);
        Ok(self.store.read(|conn| {
            store::events::read(
                conn,
                &EventQuery {
                    after: stream.cursor,
                    skip: None,
                    tenant_ids: tenants.as_deref(),
                    directory_id: Some(&stream.directory_id),
                    types: types.as_deref(),
                    limit: EVENTS_PER_TURN,
                },
            )
        })?)
    }

    /// Sends a leased stream's next events in order; stops at the first failure, which
    /// schedules the stream's next attempt, and gives the lease up when done.
    async fn deliver(
        self: Arc<Self>,
        client: &reqwest::Client,
        endpoint: EndpointRow,
        stream: StreamRow,
    ) -> Result<(), DeliveryError> {
        let events = {
            let (me, endpoint, stream) = (self.clone(), endpoint.clone(), stream.clone());
            blocking(move || me.next_events(&endpoint, &stream)).await?
        };
        let drained = events.len() < EVENTS_PER_TURN as usize;
        let (endpoint_id, directory) = (endpoint.id.clone(), stream.directory_id.clone());
        for event in events {
            let meta = (
                event.id.clone(),
                event.cursor,
                event.event_type.clone(),
                event.directory_id.clone(),
            );
            let body = feed::event_body(event)?;
            let attempted_at = clock::now();
            let outcome = send(client, self.policy, &endpoint, &meta.0, body).await;
            let attempt = stream.attempt + 1;
            let me = self.clone();
            let (endpoint_id, directory) = (endpoint_id.clone(), directory.clone());
            if !outcome.succeeded() {
                return blocking(move || {
                    me.failed(
                        &endpoint_id,
                        &directory,
                        attempt,
                        &outcome,
                        &meta,
                        attempted_at,
                    )
                })
                .await;
            }
            let log = delivery_row(
                &endpoint_id,
                (&meta.0, meta.1, &meta.2, &meta.3),
                attempt,
                &outcome,
                attempted_at,
                None,
            );
            blocking(move || {
                me.store.write(|conn| -> Result<(), DeliveryError> {
                    store::webhooks::insert_delivery(conn, &log)?;
                    let now = clock::now();
                    store::webhooks::progress(
                        conn,
                        &endpoint_id,
                        &directory,
                        &me.owner,
                        meta.1,
                        later(now, LEASE),
                    )?;
                    store::webhooks::set_failing(conn, &endpoint_id, false, now)?;
                    Ok(())
                })
            })
            .await?;
        }
        // Drained: it waits, idle, unless new events woke it meanwhile. Otherwise it has more
        // to send after other streams' turns.
        let me = self.clone();
        blocking(move || {
            let due = (!drained).then(clock::now);
            me.store.write(|conn| {
                store::webhooks::release(conn, &endpoint_id, &directory, &me.owner, due)
            })?;
            Ok(())
        })
        .await
    }

    /// Logs a failed attempt and schedules the stream's next one; disables the endpoint on
    /// 410 or after failing for `schedule::DISABLE_AFTER`.
    fn failed(
        &self,
        endpoint: &str,
        directory: &str,
        attempt: i32,
        outcome: &Outcome,
        event: &(String, i64, String, String),
        attempted_at: NaiveDateTime,
    ) -> Result<(), DeliveryError> {
        let now = clock::now();
        let wait = schedule::next_wait(attempt as u32, outcome.retry_after, rand::rng().random());
        let next = later(now, wait);
        let log = delivery_row(
            endpoint,
            (&event.0, event.1, &event.2, &event.3),
            attempt,
            outcome,
            attempted_at,
            Some(next),
        );
        self.store.write(|conn| -> Result<(), DeliveryError> {
            store::webhooks::insert_delivery(conn, &log)?;
            store::webhooks::fail(conn, endpoint, directory, &self.owner, attempt, next)?;
            store::webhooks::set_failing(conn, endpoint, true, now)?;
            let row = store::webhooks::find_endpoint(conn, endpoint)?;
            let failing_too_long = row
                .and_then(|r| r.failing_since)
                .is_some_and(|since| later(since, schedule::DISABLE_AFTER) <= now);
            if outcome.gone() {
                store::webhooks::disable(conn, endpoint, "the receiver answered 410 Gone", now)?;
            } else if failing_too_long {
                store::webhooks::disable(conn, endpoint, "failing for 3 days", now)?;
            }
            Ok(())
        })?;
        if outcome.gone() {
            tracing::warn!(endpoint, "webhook endpoint answered 410 Gone; disabled");
        }
        Ok(())
    }
}
