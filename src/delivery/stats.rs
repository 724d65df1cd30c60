//! What the webhook dispatcher counts for `/metrics`.

use prometheus::{IntCounterVec, Opts, Registry};

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

    pub(super) fn attempted(&self, delivered: bool) {
        let outcome = if delivered { "delivered" } else { "failed" };
        self.attempts.with_label_values(&[outcome]).inc();
    }
}
