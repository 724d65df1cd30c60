//! The webhook dispatcher, one per instance. A round (at most one per `ROUND_EVERY`) reads
//! what is new, then makes one write: streams (an endpoint and a directory) for directories
//! with new events, what the streams that finished their turn did, and the next due streams
//! leased to this instance. Leased streams send meanwhile, each in cursor order, without
//! waiting for each other or for the next round; a directory's events are read and serialized
//! once for every endpoint that has them due. A failure holds back only its own stream, until
//! its next attempt.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use rand::Rng;
use tokio::task::{Id, JoinSet};

use super::target::TargetPolicy;
use serde_json::json;

use super::{DeliveryError, Endpoint, blocking, delivery_row, schedule, send, split_types};
use crate::domain::clock;
use crate::domain::document::Document;
use crate::domain::event::{EventKind, NewEvent};
use crate::domain::feed;
use crate::store::conn::DbConn;
use crate::store::events::{EventQuery, StoredEvent};
use crate::store::webhooks::{DeliveryRow, EndpointRow, StreamRow};
use crate::store::{self, Store};

/// How long a claimed stream stays this instance's without word from it; another instance
/// takes a dead one's streams over after this. A live instance renews its leases every
/// `HEARTBEAT`, so a slow attempt (up to `schedule::ATTEMPT_TIMEOUT`) never loses its lease.
const LEASE: Duration = Duration::from_secs(15);
const HEARTBEAT: Duration = Duration::from_secs(5);
/// Streams leased at once: the most deliveries in flight.
const STREAMS_AT_ONCE: usize = 128;
/// Events a stream sends per lease before others get their turn.
const EVENTS_PER_TURN: i64 = 100;
/// Events read per look for directories with new events.
const SCAN_BATCH: i64 = 5000;
/// How long a drained stream sleeps unless new events wake it (`store::webhooks::wake`): a
/// safety net only.
const IDLE: Duration = Duration::from_secs(3600);
/// When a stream could not read its events (the database refused), its next try: never a
/// tight loop.
const AFTER_READ_FAILURE: Duration = Duration::from_secs(5);
/// The least time between two rounds: events committed meanwhile go out together, so a steady
/// stream of SCIM writes costs the writer at most one of the dispatcher's writes per round,
/// however many endpoints and directories it serves.
const ROUND_EVERY: Duration = Duration::from_millis(20);
/// How often the dispatcher looks without being woken: for retries falling due and for
/// events committed by other instances.
const IDLE_LOOK: Duration = Duration::from_millis(250);

pub struct Dispatcher {
    pub store: Arc<Store>,
    pub policy: TargetPolicy,
    pub secrets: super::secrets::Secrets,
    pub owner: String,
    pub stats: super::stats::DeliveryStats,
}

fn later(now: NaiveDateTime, by: Duration) -> NaiveDateTime {
    now + chrono::Duration::from_std(by).unwrap_or(chrono::Duration::days(1))
}

/// What one stream's turn did, written by the next round.
struct Turn {
    endpoint: String,
    directory: String,
    /// Every event of the stream up to this cursor was delivered or is not subscribed to.
    handled: Option<i64>,
    logs: Vec<DeliveryRow>,
    /// Failures in a row, the next attempt, and whether the receiver answered 410.
    failure: Option<(i32, NaiveDateTime, bool)>,
    /// When the stream is due again, without a failure.
    next: Next,
}

enum Next {
    /// When new events wake it.
    Idle,
    /// At once: it may have more events than its turn read.
    Now,
    At(NaiveDateTime),
}

impl Turn {
    fn nothing(stream: &StreamRow, next: Next) -> Turn {
        Turn {
            endpoint: stream.endpoint_id.clone(),
            directory: stream.directory_id.clone(),
            handled: None,
            logs: Vec::new(),
            failure: None,
            next,
        }
    }
}

/// An event read for a directory's streams, its body serialized once.
struct Outgoing {
    id: String,
    cursor: i64,
    event_type: String,
    directory: String,
    body: Vec<u8>,
}

impl Outgoing {
    fn of(event: StoredEvent) -> Outgoing {
        Outgoing {
            id: event.id.clone(),
            cursor: event.cursor,
            event_type: event.event_type.clone(),
            directory: event.directory_id.clone(),
            body: feed::event_body(event),
        }
    }
}

/// Directories with new events for an endpoint, found by a round's reads.
struct Found {
    endpoint: String,
    /// Where the endpoint's new streams start: its creation.
    start: i64,
    directories: Vec<String>,
    last: i64,
}

/// What a round leased, with the endpoints as it read them.
struct Leased {
    endpoints: Vec<EndpointRow>,
    streams: Vec<StreamRow>,
}

/// A round whose write failed: its finished turns wait for the next one.
struct Unrecorded {
    error: DeliveryError,
    finished: Vec<Turn>,
}

/// Streams this instance holds: sending, or finished and waiting for the next round's write.
#[derive(Default)]
struct Held {
    sending: JoinSet<Vec<Turn>>,
    /// The streams of each sending task, so that a task that dies still gives its streams up.
    streams_of: HashMap<Id, Vec<StreamRow>>,
    finished: Vec<Turn>,
}

impl Held {
    fn sending(&self) -> usize {
        self.streams_of.values().map(Vec::len).sum()
    }

    fn collect(&mut self, done: Result<(Id, Vec<Turn>), tokio::task::JoinError>) {
        match done {
            Ok((id, turns)) => {
                self.streams_of.remove(&id);
                self.finished.extend(turns);
            }
            Err(e) => {
                tracing::error!(error = %e, "a webhook sending task died");
                let retry = later(clock::now(), AFTER_READ_FAILURE);
                for stream in self.streams_of.remove(&e.id()).unwrap_or_default() {
                    self.finished.push(Turn::nothing(&stream, Next::At(retry)));
                }
            }
        }
    }

    fn collect_ready(&mut self) {
        while let Some(done) = self.sending.try_join_next_with_id() {
            self.collect(done);
        }
    }
}

/// Deliveries take the CPU that the IdPs' requests leave: on a busy machine SCIM writes go
/// first and webhooks catch up when it quietens; their order and durability do not depend on
/// speed. On Linux a thread's nice value is its own and the threads it starts inherit it, so
/// this covers the webhook runtime's workers and blocking threads.
#[cfg(target_os = "linux")]
fn lower_priority() {
    const NICE: libc::c_int = 10;
    // SAFETY: both calls only read their integer arguments and touch no memory of ours.
    let changed = unsafe {
        let thread = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, thread as libc::id_t, NICE)
    };
    if changed != 0 {
        tracing::warn!(
            error = %std::io::Error::last_os_error(),
            "could not lower the webhook threads' priority"
        );
    }
}

/// Stops a running dispatcher (`Dispatcher::spawn`).
pub struct Running {
    /// `Some(grace)` once stopping: how long deliveries in flight may take.
    stop: tokio::sync::watch::Sender<Option<Duration>>,
    thread: std::thread::JoinHandle<()>,
}

impl Running {
    /// Stops claiming streams, lets deliveries in flight finish for up to `grace`, records
    /// what they did, and gives every lease up; returns once that is written.
    pub fn stop(self, grace: Duration) {
        let _ = self.stop.send(Some(grace));
        if self.thread.join().is_err() {
            tracing::error!("the webhook dispatcher died while stopping");
        }
    }
}

impl Dispatcher {
    /// Runs on a thread of its own until stopped.
    pub fn spawn(self) -> std::io::Result<Running> {
        let (stop, stopping) = tokio::sync::watch::channel(None);
        let thread = std::thread::Builder::new()
            .name("webhooks".into())
            .spawn(move || {
                #[cfg(target_os = "linux")]
                lower_priority();
                // Two threads: signing, HTTP and the bookkeeping of a thousand streams
                // outgrew one (deliveries per second were bound by it).
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("webhooks")
                    .enable_all()
                    .build()
                    .expect("the webhook runtime starts");
                runtime.block_on(Arc::new(self).run(stopping));
            })?;
        Ok(Running { stop, thread })
    }

    async fn run(self: Arc<Self>, mut stopping: tokio::sync::watch::Receiver<Option<Duration>>) {
        let client = super::target::client(self.policy);
        let beating = self.clone();
        let heartbeat = tokio::spawn(async move {
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
        let mut held = Held::default();
        let grace = loop {
            if let Some(grace) = *stopping.borrow_and_update() {
                break grace;
            }
            commits.borrow_and_update();
            let started = tokio::time::Instant::now();
            held.collect_ready();
            // The finished turns give their leases up in the round's write, before it claims.
            let capacity = STREAMS_AT_ONCE.saturating_sub(held.sending());
            let finished = std::mem::take(&mut held.finished);
            let me = self.clone();
            match blocking(move || Ok(me.round(finished, capacity))).await {
                Ok(Ok(leased)) => self.start(&client, &mut held, &leased.endpoints, leased.streams),
                Ok(Err(Unrecorded { error, finished })) => {
                    tracing::warn!(%error, "webhook dispatch failed; retrying");
                    held.finished = finished;
                }
                Err(e) => tracing::error!(error = %e, "a webhook round died"),
            }
            tokio::time::sleep_until(started + ROUND_EVERY).await;
            if !held.finished.is_empty() {
                continue;
            }
            // Until there is something to do: new events, a stream's end, or time to look.
            tokio::select! {
                _ = commits.changed() => {}
                Some(done) = held.sending.join_next_with_id(), if !held.sending.is_empty() => {
                    held.collect(done);
                }
                _ = tokio::time::sleep(IDLE_LOOK) => {}
                _ = stopping.changed() => {}
            }
        };
        heartbeat.abort();
        self.stop(held, grace).await;
    }

    /// The end of `run`: deliveries in flight get `grace` to finish (those cut short are
    /// sent again by whoever takes their stream next: at least once), what they did is
    /// recorded, and every lease of this instance is given up.
    async fn stop(self: Arc<Self>, mut held: Held, grace: Duration) {
        let finishing = async {
            while let Some(done) = held.sending.join_next_with_id().await {
                held.collect(done);
            }
        };
        if tokio::time::timeout(grace, finishing).await.is_err() {
            held.sending.abort_all();
            while let Some(done) = held.sending.join_next_with_id().await {
                held.collect(done);
            }
        }
        let finished = std::mem::take(&mut held.finished);
        let me = self.clone();
        let written = blocking(move || {
            if let Err(Unrecorded { error, .. }) = me.round(finished, 0) {
                tracing::warn!(%error, "webhook turns could not be recorded at shutdown");
            }
            Ok(me
                .store
                .write(|conn| store::webhooks::release_all(conn, &me.owner))?)
        })
        .await;
        if let Err(e) = written {
            tracing::warn!(error = %e, "webhook leases could not be given up at shutdown");
        }
    }

    /// A round's reads and its one write: new streams, the finished turns, new leases. Gives
    /// the finished turns back when the write failed, for the next round.
    fn round(&self, finished: Vec<Turn>, capacity: usize) -> Result<Leased, Unrecorded> {
        let reads = || -> Result<_, DeliveryError> {
            let endpoints = self.store.read(store::webhooks::enabled_endpoints)?;
            let found = self.discover(&endpoints)?;
            // Reads first, a write only when there is something to write: the dispatcher
            // wakes on every commit, and on SQLite each of its writes takes the writer's turn.
            let claim = capacity > 0
                && !endpoints.is_empty()
                && (!found.is_empty()
                    || !finished.is_empty()
                    || self
                        .store
                        .read(|conn| store::webhooks::any_due(conn, clock::now()))?);
            Ok((endpoints, found, claim))
        };
        let (endpoints, found, claim) = match reads() {
            Ok(read) => read,
            Err(error) => return Err(Unrecorded { error, finished }),
        };
        if found.is_empty() && finished.is_empty() && !claim {
            return Ok(Leased {
                endpoints,
                streams: Vec::new(),
            });
        }
        let written = self.store.write(|conn| -> Result<_, DeliveryError> {
            let now = clock::now();
            for f in &found {
                store::webhooks::ensure_streams(conn, &f.endpoint, &f.directories, f.start, now)?;
                store::webhooks::wake(conn, &f.endpoint, &f.directories, now)?;
                store::webhooks::set_scan_cursor(conn, &f.endpoint, f.last)?;
            }
            // An endpoint deleted while its streams were sending has nothing left to record.
            let live = store::webhooks::endpoint_ids(conn)?;
            for turn in finished.iter().filter(|t| live.contains(&t.endpoint)) {
                self.record(conn, turn, now)?;
            }
            if !claim {
                return Ok(Vec::new());
            }
            Ok(store::webhooks::claim_due(
                conn,
                &self.owner,
                now,
                later(now, LEASE),
                later(now, IDLE),
                capacity as i64,
            )?)
        });
        match written {
            Ok(streams) => Ok(Leased { endpoints, streams }),
            Err(error) => Err(Unrecorded { error, finished }),
        }
    }

    /// The directories with events each endpoint has not looked at yet: one read per distinct
    /// position, so endpoints that are caught up (nearly always all of them) share one read.
    fn discover(&self, endpoints: &[EndpointRow]) -> Result<Vec<Found>, DeliveryError> {
        let mut by_position: HashMap<i64, Vec<&EndpointRow>> = HashMap::new();
        for endpoint in endpoints {
            let position = endpoint.scan_cursor.max(endpoint.start_cursor);
            by_position.entry(position).or_default().push(endpoint);
        }
        let mut found = Vec::new();
        for (position, endpoints) in by_position {
            let span = self
                .store
                .read(|conn| store::events::directories_after(conn, position, SCAN_BATCH))?;
            let Some(last) = span.last else { continue };
            for endpoint in endpoints {
                let directories = span
                    .directories
                    .iter()
                    .filter(|(_, tenant)| endpoint.tenant_id.as_deref().is_none_or(|t| t == tenant))
                    .map(|(directory, _)| directory.clone())
                    .collect();
                found.push(Found {
                    endpoint: endpoint.id.clone(),
                    start: endpoint.start_cursor,
                    directories,
                    last,
                });
            }
        }
        Ok(found)
    }

    /// Starts sending the streams a round leased: a task per directory.
    fn start(
        self: &Arc<Self>,
        client: &reqwest::Client,
        held: &mut Held,
        endpoints: &[EndpointRow],
        claimed: Vec<StreamRow>,
    ) {
        let endpoints: HashMap<&str, &EndpointRow> =
            endpoints.iter().map(|e| (e.id.as_str(), e)).collect();
        let mut by_directory: HashMap<String, Vec<(StreamRow, EndpointRow)>> = HashMap::new();
        for stream in claimed {
            match endpoints.get(stream.endpoint_id.as_str()) {
                Some(endpoint) => by_directory
                    .entry(stream.directory_id.clone())
                    .or_default()
                    .push((stream, (*endpoint).clone())),
                // Disabled or deleted since the round read it: nothing to send.
                None => held.finished.push(Turn::nothing(&stream, Next::Idle)),
            }
        }
        for (directory, streams) in by_directory {
            let rows = streams.iter().map(|(s, _)| s.clone()).collect();
            let (me, client) = (self.clone(), client.clone());
            let task = held
                .sending
                .spawn(async move { me.send_directory(&client, directory, streams).await });
            held.streams_of.insert(task.id(), rows);
        }
    }

    /// One turn of each of a directory's leased streams: its events read once, then each
    /// stream sends those after its own cursor, the streams side by side.
    async fn send_directory(
        self: Arc<Self>,
        client: &reqwest::Client,
        directory: String,
        streams: Vec<(StreamRow, EndpointRow)>,
    ) -> Vec<Turn> {
        let after = streams.iter().map(|(s, _)| s.cursor).min().unwrap_or(0);
        let me = self.clone();
        let read = blocking(move || {
            Ok(me.store.read(|conn| {
                store::events::read(
                    conn,
                    &EventQuery {
                        after,
                        skip: None,
                        tenant_ids: None,
                        directory_id: Some(&directory),
                        types: None,
                        limit: EVENTS_PER_TURN,
                    },
                )
            })?)
        })
        .await;
        let events = match read {
            Ok(events) => events,
            Err(e) => {
                tracing::warn!(error = %e, "could not read a directory's events for its webhooks");
                let retry = later(clock::now(), AFTER_READ_FAILURE);
                return streams
                    .iter()
                    .map(|(s, _)| Turn::nothing(s, Next::At(retry)))
                    .collect();
            }
        };
        let more = events.len() as i64 == EVENTS_PER_TURN;
        let events: Vec<Outgoing> = events.into_iter().map(Outgoing::of).collect();
        let turns = streams
            .into_iter()
            .map(|(stream, endpoint)| self.send_stream(client, endpoint, stream, &events, more));
        futures_util::future::join_all(turns).await
    }

    /// Sends a stream's events in order, up to its first failure.
    async fn send_stream(
        &self,
        client: &reqwest::Client,
        endpoint: EndpointRow,
        stream: StreamRow,
        events: &[Outgoing],
        more: bool,
    ) -> Turn {
        let subscribed: Option<Vec<String>> = endpoint.types.as_deref().map(split_types);
        let mut turn = Turn::nothing(&stream, if more { Next::Now } else { Next::Idle });
        for event in events.iter().filter(|e| e.cursor > stream.cursor) {
            let wanted = subscribed
                .as_ref()
                .is_none_or(|types| types.contains(&event.event_type));
            if !wanted {
                turn.handled = Some(event.cursor);
                continue;
            }
            let attempted_at = clock::now();
            let outcome = send(
                client,
                self.policy,
                &self.secrets,
                &endpoint,
                &event.id,
                event.body.clone(),
            )
            .await;
            self.stats.attempted(outcome.succeeded());
            let attempt = stream.attempt + 1;
            let meta = (
                event.id.as_str(),
                event.cursor,
                event.event_type.as_str(),
                event.directory.as_str(),
            );
            if outcome.succeeded() {
                turn.logs.push(delivery_row(
                    &endpoint.id,
                    meta,
                    attempt,
                    &outcome,
                    attempted_at,
                    None,
                ));
                turn.handled = Some(event.cursor);
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
        turn
    }

    /// Writes what a stream's turn did, and gives its lease up. Disables the endpoint on 410
    /// or after failing for `schedule::DISABLE_AFTER`.
    fn record(
        &self,
        conn: &mut DbConn,
        turn: &Turn,
        now: NaiveDateTime,
    ) -> Result<(), DeliveryError> {
        let (endpoint, directory) = (turn.endpoint.as_str(), turn.directory.as_str());
        for log in &turn.logs {
            store::webhooks::insert_delivery(conn, log)?;
        }
        if let Some(cursor) = turn.handled {
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
            if !turn.logs.is_empty() {
                store::webhooks::set_failing(conn, endpoint, false, now)?;
            }
            // Idle: it waits unless new events woke it meanwhile (`wake`).
            let due = match turn.next {
                Next::Idle => None,
                Next::Now => Some(now),
                Next::At(at) => Some(at),
            };
            store::webhooks::release(conn, endpoint, directory, &self.owner, due)?;
            return Ok(());
        };
        store::webhooks::fail(conn, endpoint, directory, &self.owner, attempt, next)?;
        store::webhooks::set_failing(conn, endpoint, true, now)?;
        let row = store::webhooks::find_endpoint(conn, endpoint)?;
        let failing_too_long = row
            .as_ref()
            .and_then(|r| r.failing_since)
            .is_some_and(|since| later(since, schedule::DISABLE_AFTER) <= now);
        let reason = if gone {
            "the receiver answered 410 Gone"
        } else if failing_too_long {
            "failing for 3 days"
        } else {
            return Ok(());
        };
        tracing::warn!(endpoint, reason, "webhook endpoint disabled");
        store::webhooks::disable(conn, endpoint, reason, now)?;
        let directory = store::tenancy::find_directories(conn, directory)?
            .into_iter()
            .find(|d| d.id.as_str() == directory);
        if let (Some(row), Some(directory)) = (row, directory) {
            let disabled = store::webhooks::EndpointRow {
                enabled: false,
                disabled_reason: Some(reason.to_string()),
                updated_at: now,
                ..row
            };
            let data = json!({"endpoint": Endpoint::of(&disabled), "reason": reason});
            let event = NewEvent::new(
                EventKind::WebhookDisabled,
                endpoint.to_string(),
                Document::from_value(&data),
            );
            store::events::append(conn, &directory.scope(), &[event], now)?;
        }
        Ok(())
    }
}
