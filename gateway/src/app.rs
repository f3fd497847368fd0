//! The state every front door shares: configuration, the policy store, metrics, and the
//! status of configured bundles.

use std::collections::BTreeMap;
use std::sync::RwLock;

use rego_runtime::Limits;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::Store;

/// Shared by every request.
pub struct App {
    pub config: Config,
    pub store: Store,
    pub metrics: Metrics,
    pub bundles: BundleStatus,
    /// The Gatekeeper door's metrics and last audit.
    pub gatekeeper: crate::gatekeeper::Door,
}

impl App {
    /// Evaluation limits for a request, with or without strict builtin errors.
    pub fn limits(&self, strict_builtin_errors: bool) -> Limits {
        Limits {
            timeout: self.config.evaluation_timeout,
            strict_builtin_errors,
            ..Limits::default()
        }
    }
}

/// The last load of each configured bundle, for `/health?bundles` and logs.
#[derive(Default)]
pub struct BundleStatus {
    by_name: RwLock<BTreeMap<String, BundleState>>,
}

/// Where one configured bundle stands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BundleState {
    /// True once the bundle has been activated at least once.
    pub activated: bool,
    /// The error of the last failed load, cleared by the next success.
    pub last_error: Option<String>,
}

impl BundleStatus {
    /// Declares the bundles that must activate before `/health?bundles` passes.
    pub fn expect(&self, names: impl IntoIterator<Item = String>) {
        let mut map = self.by_name.write().unwrap_or_else(|p| p.into_inner());
        for name in names {
            map.entry(name).or_default();
        }
    }

    pub fn record(&self, name: &str, result: Result<(), String>) {
        let mut map = self.by_name.write().unwrap_or_else(|p| p.into_inner());
        let state = map.entry(name.to_string()).or_default();
        match result {
            Ok(()) => {
                state.activated = true;
                state.last_error = None;
            }
            Err(error) => state.last_error = Some(error),
        }
    }

    /// True when every expected bundle has been activated.
    pub fn all_activated(&self) -> bool {
        self.by_name
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .all(|state| state.activated)
    }

    pub fn states(&self) -> BTreeMap<String, BundleState> {
        self.by_name
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}
