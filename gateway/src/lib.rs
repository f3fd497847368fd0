//! The gateway: configuration, the policy store, the front doors, and the server.
//!
//! - [`cli`], [`config`]: flags and config file to a validated [`config::Config`].
//! - [`store`]: the snapshot store every door reads.
//! - [`bundle_loader`]: local bundles into the store, hot-reloaded.
//! - [`opa_api`]: OPA's REST API.
//! - [`gatekeeper`]: Gatekeeper's templates, constraints, webhook, audit, `verify`, `test`.
//! - [`doors`]: every front door and the paths it owns, listed once.
//! - [`server`], [`http`], [`tls`]: HTTP serving; [`metrics`], [`logging`]: observability.
//! - [`stdout`]: command reports, cut short quietly when the reader goes away.

pub mod app;
pub mod bundle_loader;
pub mod cli;
pub mod commands;
pub mod config;
pub mod doors;
pub mod gatekeeper;
pub mod go_duration;
pub mod go_json;
pub mod http;
pub mod logging;
pub mod metrics;
pub mod opa_api;
pub mod server;
pub mod stdout;
pub mod store;
pub mod tls;

use std::sync::Arc;

/// The engine allocates and frees small values (strings, paths, maps) at a high rate on every
/// evaluation; mimalloc spends about a fifth fewer instructions per Gatekeeper review than
/// the system allocator (`cargo bench -p gateway --bench gatekeeper_review` under callgrind),
/// at the same idle RSS (built without transparent huge pages, see the workspace manifest).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use rego_runtime::Value;
use rego_runtime::builtins::Host;
use rego_runtime::rego::RegoEngine;

use app::{App, BundleStatus};
use bundle_loader::BundleLoader;
use config::Config;
use metrics::Metrics;
use store::Store;

/// What builtins see of the gateway: `opa.runtime()` answers, as `opa run` does, the
/// environment the process started with and the version (OPA adds its configuration file,
/// with credentials removed; the gateway's configuration is not a document of OPA's shape).
fn builtin_host() -> Host {
    let env = std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)));
    Host::default().with_runtime(Value::object([
        // As the provenance the REST API reports, the build leaves no commit.
        ("commit", Value::string("")),
        (
            "env",
            Value::object(env.map(|(name, value)| (name, Value::string(value)))),
        ),
        ("version", Value::string(env!("CARGO_PKG_VERSION"))),
    ]))
}

/// Builds the shared state and activates everything configured (bundles, Gatekeeper objects,
/// inventory), all or nothing as `opa run` starts.
///
/// # Errors
/// A configured path that does not load and compile, or an engine that cannot start.
pub fn build_app(config: Config) -> anyhow::Result<(Arc<App>, BundleLoader)> {
    let metrics = Metrics::new();
    let engine = RegoEngine::new(config.decision_cache_entries)
        .with_compiled_evaluator(config.compiled_evaluator)
        .with_fallback_hook(metrics.rego_fallback_hook());
    // Gatekeeper's templates get no `opa.runtime()` document: real Gatekeeper gives them none,
    // and the process environment is the webhook's, not theirs to read.
    let gatekeeper_engine = engine
        .clone()
        .with_host(Host::default().with_runtime(Value::empty_object()));
    let opa_engine = engine.with_host(builtin_host());
    let store = Store::new(Arc::new(opa_engine), Arc::new(gatekeeper_engine))?;
    let mut loader =
        BundleLoader::new(&config.bundles, config.default_rego_version).with_gatekeeper(
            gatekeeper::loader::GatekeeperLoader::new(&config.gatekeeper, &config.inventory),
        );
    let gatekeeper = gatekeeper::Door::new(&metrics)?;
    let app = Arc::new(App {
        config,
        store,
        metrics,
        bundles: BundleStatus::default(),
        gatekeeper,
    });
    app.bundles.expect(loader.names());
    loader.load_at_start(&app)?;
    app.gatekeeper
        .metrics
        .observe_state(&app.store.snapshot().gatekeeper);
    Ok((app, loader))
}
