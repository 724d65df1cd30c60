//! The puller inside `roster serve`: one background thread that, every second, looks for
//! Google directories whose next sync is due, that have users queued by push notifications,
//! or whose push channel needs renewing, and works on each under its lease.

use std::sync::Arc;
use std::time::Duration;

use super::{GoogleError, Lease, Puller, watch};
use crate::config::Config;
use crate::domain::{clock, tenancy};
use crate::scim::schema::SchemaRegistry;
use crate::store::google::{GoogleDirectoryRow, SyncOutcome};
use crate::store::{self, Store};

const TICK: Duration = Duration::from_secs(1);
/// Queued users re-read per directory per tick.
const PENDING_BATCH: i64 = 100;

pub struct Scheduler {
    pub store: Arc<Store>,
    pub registry: SchemaRegistry,
    pub config: Config,
    /// What Google posts notifications to: the server's public URL.
    pub public_url: String,
    /// This instance's name on leases.
    pub owner: String,
    pub stats: super::stats::SyncStats,
}

impl Scheduler {
    pub fn spawn(self) -> std::io::Result<std::thread::JoinHandle<()>> {
        std::thread::Builder::new()
            .name("google-puller".into())
            .spawn(move || {
                loop {
                    if let Err(e) = self.tick() {
                        tracing::warn!(error = %e, "Google puller");
                    }
                    std::thread::sleep(TICK);
                }
            })
    }

    fn tick(&self) -> Result<(), GoogleError> {
        for row in self.store.read(store::google::list)? {
            if let Err(e) = self.work_on(&row) {
                tracing::warn!(directory = %row.directory_id, error = %e, "Google directory");
            }
        }
        Ok(())
    }

    fn watch_due(&self, row: &GoogleDirectoryRow) -> Result<bool, GoogleError> {
        if !self.config.google.watch || row.status != "ok" {
            return Ok(false);
        }
        watch::channel_due(&self.store, &row.directory_id, clock::now())
    }

    fn work_on(&self, row: &GoogleDirectoryRow) -> Result<(), GoogleError> {
        let id = row.directory_id.as_str();
        let due = row.next_sync_at <= clock::now();
        // After a failed sync, queued users wait for the next full one rather than retrying
        // against Google every second.
        let pending = if row.status == "ok" {
            self.store
                .read(|c| store::google::pending(c, id, PENDING_BATCH))?
        } else {
            Vec::new()
        };
        if !due && pending.is_empty() && !self.watch_due(row)? {
            return Ok(());
        }
        let lease = match Lease::take(&self.store, id, &self.owner) {
            Ok(lease) => lease,
            Err(GoogleError::Busy(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        let result = self.work_leased(row, due, pending, &lease);
        lease.release(&self.store);
        result
    }

    fn work_leased(
        &self,
        row: &GoogleDirectoryRow,
        due: bool,
        pending: Vec<(String, chrono::NaiveDateTime)>,
        lease: &Lease,
    ) -> Result<(), GoogleError> {
        let id = row.directory_id.as_str();
        let directory = tenancy::find_directory(&self.store, id)?;
        let puller = match Puller::new(
            &self.store,
            &self.registry,
            &self.config.google,
            self.config.secret_key.as_deref(),
            directory,
        ) {
            Ok(p) => p,
            Err(e) => {
                // No usable key (server key missing or changed): say so in the status rather
                // than retrying every second.
                let now = clock::now();
                let outcome = SyncOutcome {
                    status: "error".into(),
                    last_sync_finished_at: row.last_sync_finished_at,
                    last_created: row.last_created,
                    last_updated: row.last_updated,
                    last_deprovisioned: row.last_deprovisioned,
                    last_error: Some(e.to_string()),
                    next_sync_at: now + chrono::Duration::seconds(row.interval_secs),
                };
                self.store.write(|c| {
                    store::google::sync_finished(c, &store::google::RanWith(row), &outcome)
                })?;
                return Err(e);
            }
        };
        if due {
            let started = std::time::Instant::now();
            let synced = puller.sync(lease, &mut |_| Ok(()));
            self.stats.duration.observe(started.elapsed().as_secs_f64());
            let outcome = if synced.is_ok() { "ok" } else { "error" };
            self.stats.runs.with_label_values(&[outcome]).inc();
            match synced {
                Ok(c) => {
                    self.stats.pages.inc_by(c.pages);
                    tracing::info!(
                    directory = %puller.directory.name,
                    created = c.created(),
                    updated = c.updated(),
                    deprovisioned = c.deprovisioned(),
                    "Google sync finished"
                    )
                }
                Err(e) => return Err(e),
            }
        } else {
            let reconciler = puller.reconciler();
            for (user, received) in pending {
                match reconciler.one_user(&user) {
                    Ok(_) => self
                        .store
                        .write(|c| store::google::done_pending(c, id, &user, received))?,
                    Err(e) => {
                        let now = clock::now();
                        puller.record_failure(&e, now, row.next_sync_at)?;
                        return Err(e);
                    }
                }
            }
        }
        if self.config.google.watch {
            let status = self
                .store
                .read(|c| store::google::find(c, id))?
                .map(|r| r.status);
            if status.as_deref() == Some("ok") {
                watch::ensure_channel(
                    &puller,
                    &self.public_url,
                    self.config.google.watch_ttl_secs,
                    clock::now(),
                )?;
            }
        }
        Ok(())
    }
}
