//! Gatekeeper's Prometheus metrics under Gatekeeper's names (`website/docs/metrics.md`),
//! registered in the gateway's registry. Counters carry the `_total` suffix that Gatekeeper's
//! OpenTelemetry exporter appends, so existing dashboards keep working.

use std::time::Duration;

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts};

use super::state::PreparedGatekeeper;
use crate::metrics::Metrics;

/// How a validation request ended, for `admission_status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdmissionStatus {
    Allow,
    Deny,
    Error,
}

impl AdmissionStatus {
    fn label(self) -> &'static str {
        match self {
            AdmissionStatus::Allow => "allow",
            AdmissionStatus::Deny => "deny",
            AdmissionStatus::Error => "error",
        }
    }
}

/// Gatekeeper's metrics.
pub struct GatekeeperMetrics {
    request_count: IntCounterVec,
    request_duration: HistogramVec,
    violations: IntGaugeVec,
    constraint_templates: IntGaugeVec,
    constraints: IntGaugeVec,
    audit_duration: HistogramVec,
    audit_last_run: IntGaugeVec,
}

/// Gatekeeper's buckets: 1–10 ms by 1 ms, to 100 ms by 10 ms, to 1 s by 100 ms, to 10 s by
/// 0.5 s (raised to 10 s after reports of slow validations, gatekeeper#4036).
fn validation_buckets() -> Vec<f64> {
    let mut buckets = Vec::new();
    buckets.extend((1..=10).map(|i| f64::from(i) / 1000.0));
    buckets.extend((2..=10).map(|i| f64::from(i) / 100.0));
    buckets.extend((2..=10).map(|i| f64::from(i) / 10.0));
    buckets.extend((3..=20).map(|i| f64::from(i) / 2.0));
    buckets
}

impl GatekeeperMetrics {
    /// Creates the metrics and registers them in `registry`.
    ///
    /// # Errors
    /// When a metric of the same name is registered already.
    pub fn register(registry: &Metrics) -> prometheus::Result<GatekeeperMetrics> {
        let request_count = IntCounterVec::new(
            Opts::new(
                "gatekeeper_validation_request_count_total",
                "The number of requests that are routed to validation webhook",
            ),
            &["admission_status", "admission_dryrun"],
        )?;
        let request_duration = HistogramVec::new(
            HistogramOpts::new(
                "gatekeeper_validation_request_duration_seconds",
                "The response time in seconds",
            )
            .buckets(validation_buckets()),
            &["admission_status"],
        )?;
        let violations = IntGaugeVec::new(
            Opts::new(
                "gatekeeper_violations",
                "Total number of audited violations",
            ),
            &["enforcement_action"],
        )?;
        let constraint_templates = IntGaugeVec::new(
            Opts::new(
                "gatekeeper_constraint_templates",
                "Number of observed constraint templates",
            ),
            &["status"],
        )?;
        let constraints = IntGaugeVec::new(
            Opts::new(
                "gatekeeper_constraints",
                "Current number of known constraints",
            ),
            &["enforcement_action", "status"],
        )?;
        let audit_duration = HistogramVec::new(
            HistogramOpts::new(
                "gatekeeper_audit_duration_seconds",
                "Latency of audit operation in seconds",
            )
            .buckets(vec![
                1.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1200.0, 1500.0, 1800.0,
            ]),
            &[],
        )?;
        let audit_last_run = IntGaugeVec::new(
            Opts::new(
                "gatekeeper_audit_last_run_time",
                "Timestamp of last audit run starting time",
            ),
            &[],
        )?;
        for collector in [
            Box::new(request_count.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(request_duration.clone()),
            Box::new(violations.clone()),
            Box::new(constraint_templates.clone()),
            Box::new(constraints.clone()),
            Box::new(audit_duration.clone()),
            Box::new(audit_last_run.clone()),
        ] {
            registry.register(collector)?;
        }
        Ok(GatekeeperMetrics {
            request_count,
            request_duration,
            violations,
            constraint_templates,
            constraints,
            audit_duration,
            audit_last_run,
        })
    }

    /// Records one validation request.
    pub fn observe_request(&self, status: AdmissionStatus, dry_run: bool, elapsed: Duration) {
        self.request_count
            .with_label_values(&[status.label(), if dry_run { "true" } else { "false" }])
            .inc();
        self.request_duration
            .with_label_values(&[status.label()])
            .observe(elapsed.as_secs_f64());
    }

    /// Sets the template and constraint gauges from a snapshot.
    pub fn observe_state(&self, state: &PreparedGatekeeper) {
        let (active, error) = state.template_counts();
        self.constraint_templates
            .with_label_values(&["active"])
            .set(i64::try_from(active).unwrap_or(i64::MAX));
        self.constraint_templates
            .with_label_values(&["error"])
            .set(i64::try_from(error).unwrap_or(i64::MAX));
        self.constraints.reset();
        for constraint in state.constraints.values() {
            let (action, status) = match &constraint.prepared {
                Ok(prepared) => (prepared.action.as_str(), "active"),
                Err(_) => (
                    super::objects::str_at(&constraint.object, &["spec", "enforcementAction"]),
                    "error",
                ),
            };
            let action = if action.is_empty() { "deny" } else { action };
            self.constraints.with_label_values(&[action, status]).inc();
        }
    }

    /// Records an audit run: its duration, start time and violations per action.
    pub fn observe_audit(&self, started_unix: i64, elapsed: Duration, by_action: &[(String, u64)]) {
        self.audit_duration
            .with_label_values::<&str>(&[])
            .observe(elapsed.as_secs_f64());
        self.audit_last_run
            .with_label_values::<&str>(&[])
            .set(started_unix);
        self.violations.reset();
        for (action, count) in by_action {
            self.violations
                .with_label_values(&[action])
                .set(i64::try_from(*count).unwrap_or(i64::MAX));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_match_gatekeepers() {
        let buckets = validation_buckets();
        assert_eq!(buckets.len(), 46);
        assert!((buckets[0] - 0.001).abs() < 1e-12);
        assert!((buckets[10] - 0.02).abs() < 1e-12);
        assert!((buckets[19] - 0.2).abs() < 1e-12);
        assert!((buckets[28] - 1.5).abs() < 1e-12);
        assert!((buckets[45] - 10.0).abs() < 1e-12);
    }
}
