//! Prometheus metrics: OPA's HTTP histogram by name, plus decisions per front door and bundle
//! loads. Rendered in the text format at `GET /metrics`.

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};

/// Every metric the gateway exports, registered once.
pub struct Metrics {
    registry: Registry,
    http_duration: HistogramVec,
    decisions: IntCounterVec,
    decision_duration: HistogramVec,
    bundle_loads: IntCounterVec,
    rego_fallbacks: IntCounterVec,
}

/// How a decision ended, for the `outcome` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Defined,
    Undefined,
    Error,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Defined => "defined",
            Outcome::Undefined => "undefined",
            Outcome::Error => "error",
        }
    }
}

impl Metrics {
    /// Registers every metric.
    ///
    /// # Panics
    /// Never with these fixed names and labels; registration only fails on duplicates.
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "A histogram of duration for requests.",
            ),
            &["code", "handler", "method"],
        )
        .expect("valid metric");
        let decisions = IntCounterVec::new(
            Opts::new(
                "gateway_decisions_total",
                "Decisions made, by front door and outcome.",
            ),
            &["door", "outcome"],
        )
        .expect("valid metric");
        let decision_duration = HistogramVec::new(
            HistogramOpts::new(
                "gateway_decision_duration_seconds",
                "Time spent evaluating decisions, by front door.",
            )
            .buckets(vec![
                0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005,
                0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["door"],
        )
        .expect("valid metric");
        let bundle_loads = IntCounterVec::new(
            Opts::new(
                "gateway_bundle_loads_total",
                "Bundle loads, by bundle and outcome.",
            ),
            &["name", "outcome"],
        )
        .expect("valid metric");
        let rego_fallbacks = IntCounterVec::new(
            Opts::new(
                "gateway_rego_fallbacks_total",
                "Evaluations the compiled Rego evaluator left to regorus, by reason.",
            ),
            &["reason"],
        )
        .expect("valid metric");
        for collector in [
            Box::new(http_duration.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(decisions.clone()),
            Box::new(decision_duration.clone()),
            Box::new(bundle_loads.clone()),
            Box::new(rego_fallbacks.clone()),
        ] {
            registry.register(collector).expect("unique metric");
        }
        Metrics {
            registry,
            http_duration,
            decisions,
            decision_duration,
            bundle_loads,
            rego_fallbacks,
        }
    }

    /// Counts an evaluation the compiled evaluator left to regorus (the engine's hook).
    pub fn rego_fallback_hook(&self) -> rego_runtime::rego::FallbackHook {
        let counter = self.rego_fallbacks.clone();
        rego_runtime::rego::FallbackHook(std::sync::Arc::new(move |reason| {
            counter.with_label_values(&[reason]).inc();
        }))
    }

    /// Records one HTTP request as OPA does (`handler` is OPA's label, e.g. `v1/data`).
    pub fn observe_request(&self, code: u16, handler: &str, method: &str, elapsed: Duration) {
        let code = code.to_string();
        self.http_duration
            .with_label_values(&[code.as_str(), handler, &method.to_ascii_lowercase()])
            .observe(elapsed.as_secs_f64());
    }

    /// Records one decision of a front door.
    pub fn observe_decision(&self, door: &str, outcome: Outcome, elapsed: Duration) {
        self.decisions
            .with_label_values(&[door, outcome.label()])
            .inc();
        self.decision_duration
            .with_label_values(&[door])
            .observe(elapsed.as_secs_f64());
    }

    /// Records a bundle load attempt.
    pub fn observe_bundle_load(&self, name: &str, ok: bool) {
        self.bundle_loads
            .with_label_values(&[name, if ok { "success" } else { "failure" }])
            .inc();
    }

    /// Registers a further collector (another front door's metrics).
    ///
    /// # Errors
    /// When a metric of the same name is registered already.
    pub fn register(
        &self,
        collector: Box<dyn prometheus::core::Collector>,
    ) -> prometheus::Result<()> {
        self.registry.register(collector)
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
