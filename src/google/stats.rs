//! What the Google puller counts for `/metrics`.

use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts, Registry};

#[derive(Clone)]
pub struct SyncStats {
    /// Full syncs by `outcome`: `ok` or `error`.
    pub runs: IntCounterVec,
    pub pages: IntCounter,
    pub duration: Histogram,
}

impl Default for SyncStats {
    fn default() -> Self {
        SyncStats {
            runs: IntCounterVec::new(
                Opts::new(
                    "roster_google_sync_runs_total",
                    "Full Google Workspace syncs by outcome (ok, error)",
                ),
                &["outcome"],
            )
            .expect("a valid metric"),
            pages: IntCounter::new(
                "roster_google_sync_pages_total",
                "Admin SDK pages read by successful full syncs",
            )
            .expect("a valid metric"),
            duration: Histogram::with_opts(
                HistogramOpts::new(
                    "roster_google_sync_duration_seconds",
                    "How long full Google Workspace syncs took",
                )
                .buckets(vec![0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0]),
            )
            .expect("a valid metric"),
        }
    }
}

impl SyncStats {
    pub fn register(&self, registry: &Registry) -> prometheus::Result<()> {
        registry.register(Box::new(self.runs.clone()))?;
        registry.register(Box::new(self.pages.clone()))?;
        registry.register(Box::new(self.duration.clone()))
    }
}
