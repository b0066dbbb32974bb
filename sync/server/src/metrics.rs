//! Prometheus metrics (`GET /metrics`, OpenMetrics text), one registry per server.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    /// `ok` or the error code.
    outcome: String,
}

/// The server's counters and histograms.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    syncs: Family<Outcome, Counter>,
    enrollments: Family<Outcome, Counter>,
    changes_accepted: Counter,
    sync_seconds: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("doorstep");
        let syncs = Family::<Outcome, Counter>::default();
        let enrollments = Family::<Outcome, Counter>::default();
        let changes_accepted = Counter::default();
        let sync_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 14));
        registry.register("syncs", "Sync requests by outcome", syncs.clone());
        registry.register(
            "enrollments",
            "Enrollment attempts by outcome",
            enrollments.clone(),
        );
        registry.register(
            "changes_accepted",
            "Automerge changes stored for the first time",
            changes_accepted.clone(),
        );
        registry.register(
            "sync_duration_seconds",
            "Time to answer a sync request",
            sync_seconds.clone(),
        );
        Metrics {
            registry,
            syncs,
            enrollments,
            changes_accepted,
            sync_seconds,
        }
    }
}

impl Metrics {
    /// Counts one sync: the changes it stored, or the code it was refused with.
    pub fn count_sync(&self, result: Result<u64, &'static str>, took: Duration) {
        let outcome = match result {
            Ok(accepted) => {
                self.changes_accepted.inc_by(accepted);
                "ok"
            }
            Err(code) => code,
        };
        self.syncs
            .get_or_create(&Outcome {
                outcome: outcome.to_owned(),
            })
            .inc();
        self.sync_seconds.observe(took.as_secs_f64());
    }

    pub fn count_enrollment(&self, ok: bool) {
        let outcome = if ok { "ok" } else { "refused" };
        self.enrollments
            .get_or_create(&Outcome {
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// The OpenMetrics text of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
