//! What the store counts for `/metrics`: events appended, SQLite's group-commit sizes, and, read
//! when scraped, the write queue and the connection pool.

use prometheus::{Histogram, HistogramOpts, IntCounter, Registry};

#[derive(Clone)]
pub struct StoreStats {
    pub events_appended: IntCounter,
    /// Writes per committed group (SQLite); a PostgreSQL write is a transaction of its own.
    pub group_commit_size: Histogram,
}

impl Default for StoreStats {
    fn default() -> Self {
        StoreStats {
            events_appended: IntCounter::new(
                "roster_events_appended_total",
                "Events appended to the feed, counted once their write committed",
            )
            .expect("a valid metric"),
            group_commit_size: Histogram::with_opts(
                HistogramOpts::new(
                    "roster_group_commit_size",
                    "Writes per committed group on SQLite",
                )
                .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0]),
            )
            .expect("a valid metric"),
        }
    }
}

impl StoreStats {
    pub fn register(&self, registry: &Registry) -> prometheus::Result<()> {
        registry.register(Box::new(self.events_appended.clone()))?;
        registry.register(Box::new(self.group_commit_size.clone()))
    }
}

/// The store's state at one moment.
#[derive(Debug, Clone, Copy)]
pub struct Gauges {
    /// Writes waiting for SQLite's writer (queued or about to take its lock); 0 on PostgreSQL.
    pub write_queue: usize,
    pub pool_in_use: u32,
    pub pool_idle: u32,
}
