//! The webhook dispatcher, one per instance: finds the directories with events for each
//! endpoint, leases due streams (an endpoint and a directory), and sends each stream's events
//! in cursor order. Streams go in parallel; a failure holds back only its own stream, until
//! its next attempt.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use rand::Rng;

use super::target::TargetPolicy;
use super::{DeliveryError, blocking, delivery_row, schedule, send, split_types};
use crate::domain::clock;
use crate::domain::event::EventKind;
use crate::domain::feed;
use crate::store::events::{EventQuery, StoredEvent};
use crate::store::webhooks::{DeliveryRow, EndpointRow, StreamRow};
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
/// The least time between two rounds: events committed meanwhile go out together, so a steady
/// stream of SCIM writes costs the writer a few of the dispatcher's reads and writes per
/// round, not per event.
const ROUND_EVERY: Duration = Duration::from_millis(20);
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
                // Two threads: signing, HTTP and the bookkeeping of a thousand streams
                // outgrew one (deliveries per second were bound by it).
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("webhooks")
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
            let started = tokio::time::Instant::now();
            let busy = match self.clone().pass(&client).await {
                Ok(busy) => busy,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook dispatch failed; retrying");
                    false
                }
            };
            tokio::time::sleep_until(started + ROUND_EVERY).await;
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

    /// Sends a leased stream's next events in order and records the turn in one write: the
    /// delivery log, the stream's new cursor, and on a failure its next attempt. A crash
    /// before that write sends the turn's events again, with the same `webhook-id`s.
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
        let mut turn = Turn {
            endpoint: endpoint.id.clone(),
            directory: stream.directory_id.clone(),
            delivered: None,
            logs: Vec::with_capacity(events.len()),
            failure: None,
            more: !drained,
        };
        for event in events {
            let (id, cursor) = (event.id.clone(), event.cursor);
            let (event_type, directory) = (event.event_type.clone(), event.directory_id.clone());
            let body = feed::event_body(event);
            let attempted_at = clock::now();
            let outcome = send(client, self.policy, &endpoint, &id, body).await;
            let attempt = stream.attempt + 1;
            let meta = (id.as_str(), cursor, event_type.as_str(), directory.as_str());
            if outcome.succeeded() {
                turn.logs.push(delivery_row(
                    &endpoint.id,
                    meta,
                    attempt,
                    &outcome,
                    attempted_at,
                    None,
                ));
                turn.delivered = Some(cursor);
                continue;
            }
            let wait =
                schedule::next_wait(attempt as u32, outcome.retry_after, rand::rng().random());
            let next = later(clock::now(), wait);
            turn.logs.push(delivery_row(
                &endpoint.id,
                meta,
                attempt,
                &outcome,
                attempted_at,
                Some(next),
            ));
            turn.failure = Some((attempt, next, outcome.gone()));
            break;
        }
        let me = self.clone();
        blocking(move || me.record(&turn)).await
    }

    /// Writes what a stream's turn did, and gives its lease up. Disables the endpoint on 410
    /// or after failing for `schedule::DISABLE_AFTER`.
    fn record(&self, turn: &Turn) -> Result<(), DeliveryError> {
        let (endpoint, directory) = (turn.endpoint.as_str(), turn.directory.as_str());
        self.store.write(|conn| -> Result<(), DeliveryError> {
            let now = clock::now();
            for log in &turn.logs {
                store::webhooks::insert_delivery(conn, log)?;
            }
            if let Some(cursor) = turn.delivered {
                store::webhooks::progress(
                    conn,
                    endpoint,
                    directory,
                    &self.owner,
                    cursor,
                    later(now, LEASE),
                )?;
            }
            let Some((attempt, next, gone)) = turn.failure else {
                if turn.delivered.is_some() {
                    store::webhooks::set_failing(conn, endpoint, false, now)?;
                }
                // Drained: it waits, idle, unless new events woke it meanwhile. Otherwise it
                // has more to send after other streams' turns.
                let due = turn.more.then_some(now);
                store::webhooks::release(conn, endpoint, directory, &self.owner, due)?;
                return Ok(());
            };
            store::webhooks::fail(conn, endpoint, directory, &self.owner, attempt, next)?;
            store::webhooks::set_failing(conn, endpoint, true, now)?;
            let row = store::webhooks::find_endpoint(conn, endpoint)?;
            let failing_too_long = row
                .and_then(|r| r.failing_since)
                .is_some_and(|since| later(since, schedule::DISABLE_AFTER) <= now);
            if gone {
                tracing::warn!(endpoint, "webhook endpoint answered 410 Gone; disabled");
                store::webhooks::disable(conn, endpoint, "the receiver answered 410 Gone", now)?;
            } else if failing_too_long {
                store::webhooks::disable(conn, endpoint, "failing for 3 days", now)?;
            }
            Ok(())
        })
    }
}

/// What one stream's turn did, written at its end.
struct Turn {
    endpoint: String,
    directory: String,
    /// The cursor of the last event delivered.
    delivered: Option<i64>,
    logs: Vec<DeliveryRow>,
    /// Failures in a row, the next attempt, and whether the receiver answered 410.
    failure: Option<(i32, NaiveDateTime, bool)>,
    /// Whether the stream may have more events than this turn read.
    more: bool,
}
