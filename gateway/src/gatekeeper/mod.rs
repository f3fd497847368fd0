//! The Gatekeeper front door: ConstraintTemplates and Constraints as users apply them to their
//! cluster, the validating webhook, and audit
//! (`reference/gatekeeper.md`).
//!
//! Domain (no HTTP): [`objects`] reads manifests; [`templates`] and [`rewrite`] turn templates
//! into compiled Rego; [`constraints`], [`schema`] and [`matching`] validate and match
//! constraints; [`review`] builds `input.review`; [`inventory`] files `data.inventory`;
//! [`state`] is the Gatekeeper part of a store snapshot; [`evaluate`] reviews one object;
//! [`audit`] runs whole sets; [`loader`] watches files (the `verify` and `test` commands
//! are in `crate::commands`);
//! [`metrics`] keeps Gatekeeper's metric names.
//! HTTP (translation only): [`api`] lists the routes, [`webhook`] serves `/v1/admit`,
//! [`wire`] holds the JSON shapes and [`error`] turns failures into them.

pub mod api;
pub mod audit;
pub mod constraints;
pub mod error;
pub mod evaluate;
pub mod inventory;
pub mod loader;
pub mod matching;
pub mod metrics;
pub mod objects;
pub mod review;
pub mod rewrite;
pub mod schema;
pub mod state;
pub mod templates;
pub mod webhook;
pub mod wire;

use std::sync::{Arc, RwLock};

/// What the Gatekeeper door keeps beside the store: its metrics and the last audit report
/// (read when constraints are listed, never on the webhook path).
pub struct Door {
    pub metrics: metrics::GatekeeperMetrics,
    pub last_audit: RwLock<Option<Arc<audit::AuditReport>>>,
}

impl Door {
    /// Registers the door's metrics.
    ///
    /// # Errors
    /// When Gatekeeper's metric names are registered already.
    pub fn new(registry: &crate::metrics::Metrics) -> prometheus::Result<Door> {
        Ok(Door {
            metrics: metrics::GatekeeperMetrics::register(registry)?,
            last_audit: RwLock::new(None),
        })
    }
}
