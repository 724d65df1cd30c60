//! What the webhook dispatcher counts for `/metrics`.

use chrono::NaiveDateTime;
use prometheus::{IntCounterVec, Opts, Registry};

use super::DeliveryError;
use crate::store::{self, Store};

#[derive(Clone)]
pub struct DeliveryStats {
    /// Delivery attempts by `outcome`: `delivered`, or `failed` (to be retried, or the
    /// endpoint disabled).
    pub attempts: IntCounterVec,
}

impl Default for DeliveryStats {
    fn default() -> Self {
        DeliveryStats {
            attempts: IntCounterVec::new(
                Opts::new(
                    "roster_webhook_deliveries_total",
                    "Webhook delivery attempts by outcome (delivered, failed)",
                ),
                &["outcome"],
            )
            .expect("a valid metric"),
        }
    }
}

impl DeliveryStats {
    pub fn register(&self, registry: &Registry) -> prometheus::Result<()> {
        registry.register(Box::new(self.attempts.clone()))
    }

    /// How long the oldest event not yet delivered to some enabled endpoint has waited, as
    /// of `now`; zero when every endpoint is caught up.
    pub fn lag(store: &Store, now: NaiveDateTime) -> Result<std::time::Duration, DeliveryError> {
        let oldest = store.read(store::webhooks::oldest_unhandled)?;
        Ok(oldest
            .and_then(|t| (now - t).to_std().ok())
            .unwrap_or_default())
    }

    pub(super) fn attempted(&self, delivered: bool) {
        let outcome = if delivered { "delivered" } else { "failed" };
        self.attempts.with_label_values(&[outcome]).inc();
    }
}
