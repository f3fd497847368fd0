//! Loads the configured local bundles into the store and keeps them current: a bundle whose
//! files change (or every bundle, on SIGHUP) is read, validated and activated off the request
//! path; a bundle that fails keeps its previous version active and the failure is reported.
//! At start there is no previous version, so [`BundleLoader::load_at_start`] fails instead.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use bundles::activation::check_overlap;
use bundles::sources::{FileSource, Fingerprint};
use bundles::{Bundle, ReadOptions};
use rego_runtime::RegoVersion;

use crate::app::App;
use crate::gatekeeper::loader::GatekeeperLoader;

/// The configured bundles and what is active of each.
pub struct BundleLoader {
    sources: Vec<FileSource>,
    fingerprints: Vec<Option<Fingerprint>>,
    active: BTreeMap<String, Arc<Bundle>>,
    options: ReadOptions,
    /// Gatekeeper's `--gatekeeper` and `--inventory` files, watched the same way.
    gatekeeper: GatekeeperLoader,
}

impl BundleLoader {
    pub fn new(paths: &[std::path::PathBuf], default_rego_version: RegoVersion) -> BundleLoader {
        let sources: Vec<FileSource> = paths.iter().map(FileSource::new).collect();
        BundleLoader {
            fingerprints: vec![None; sources.len()],
            sources,
            active: BTreeMap::new(),
            options: ReadOptions {
                default_rego_version,
                base_dir: String::new(),
            },
            gatekeeper: GatekeeperLoader::default(),
        }
    }

    /// Also watches Gatekeeper's files.
    pub fn with_gatekeeper(mut self, gatekeeper: GatekeeperLoader) -> BundleLoader {
        self.gatekeeper = gatekeeper;
        self
    }

    /// The names `/health?bundles` waits for.
    pub fn names(&self) -> Vec<String> {
        self.sources.iter().map(FileSource::name).collect()
    }

    /// Loads everything configured, as `opa run` does at start: all or nothing. Serving with a
    /// bundle or template missing would answer as if that policy allowed everything.
    ///
    /// # Errors
    /// Every path that failed to load or compile, with its error.
    pub fn load_at_start(&mut self, app: &App) -> anyhow::Result<()> {
        let failures = self.reload(app, true).failures;
        if failures.is_empty() {
            return Ok(());
        }
        anyhow::bail!("load error: {}", failures.join("\n"))
    }

    /// Reads bundles whose files changed since the last call (all of them when `force`) and
    /// activates the resulting set.
    pub fn reload(&mut self, app: &App, force: bool) -> Reloaded {
        let mut outcome = self.reload_bundles(app, force);
        outcome.absorb(self.gatekeeper.reload(app, force));
        outcome
    }

    fn reload_bundles(&mut self, app: &App, force: bool) -> Reloaded {
        let mut outcome = Reloaded::default();
        let mut candidate = self.active.clone();
        let mut changed = Vec::new();
        for (i, source) in self.sources.iter().enumerate() {
            let fingerprint = source.fingerprint();
            if !force && self.fingerprints[i].as_ref() == Some(&fingerprint) {
                continue;
            }
            self.fingerprints[i] = Some(fingerprint);
            let name = source.name();
            match source.load(&self.options) {
                Ok(bundle) => {
                    candidate.insert(name.clone(), Arc::new(bundle));
                    changed.push(name);
                }
                Err(error) => {
                    // Bundle errors name the file they are about.
                    outcome.failures.push(error.to_string());
                    self.report(app, &name, Err(error.to_string()));
                }
            }
        }
        if changed.is_empty() {
            return outcome;
        }

        let bundles: Vec<&Bundle> = candidate.values().map(|b| &**b).collect();
        if let Err(error) = check_overlap(&bundles) {
            outcome.failures.push(error.to_string());
            for name in &changed {
                self.report(app, name, Err(error.to_string()));
            }
            return outcome;
        }
        let set: Vec<Arc<Bundle>> = candidate.values().cloned().collect();
        let activated = app.store.update(|contents| {
            contents.activate_bundles(set);
            Ok::<(), std::convert::Infallible>(())
        });
        match activated {
            Ok(()) => {
                self.active = candidate;
                for name in &changed {
                    self.report(app, name, Ok(()));
                }
                outcome.activated = true;
            }
            Err(error) => {
                for name in &changed {
                    outcome.failures.push(format!("bundle {name}: {error}"));
                    self.report(app, name, Err(error.to_string()));
                }
            }
        }
        outcome
    }

    fn report(&self, app: &App, name: &str, result: Result<(), String>) {
        match &result {
            Ok(()) => tracing::info!(bundle = name, "bundle activated"),
            Err(error) if self.active.contains_key(name) => {
                tracing::error!(bundle = name, error = %error, "bundle load failed; the previous version keeps serving")
            }
            Err(error) => tracing::error!(bundle = name, error = %error, "bundle load failed"),
        }
        app.metrics.observe_bundle_load(name, result.is_ok());
        app.bundles.record(name, result);
    }
}

/// What one reload did: whether a new snapshot went live, and what could not be loaded.
#[derive(Debug, Default)]
pub struct Reloaded {
    pub activated: bool,
    /// One line per failure, naming the path or object and the error.
    pub failures: Vec<String>,
}

impl Reloaded {
    pub fn absorb(&mut self, other: Reloaded) {
        self.activated |= other.activated;
        self.failures.extend(other.failures);
    }
}

/// Polls the bundles every `interval` and reloads everything when `reload_all` is raised
/// (SIGHUP), until `stop` is raised. Runs on its own thread: loading is blocking work.
pub fn spawn_watcher(
    app: Arc<App>,
    mut loader: BundleLoader,
    interval: Duration,
    reload_all: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) -> thread::JoinHandle<()> {
    thread::Builder::new()
        .name("bundle-watcher".into())
        .spawn(move || {
            let tick = interval.min(Duration::from_millis(100));
            let mut since_poll = Duration::ZERO;
            while !stop.load(Ordering::Relaxed) {
                thread::sleep(tick);
                since_poll += tick;
                let force = reload_all.swap(false, Ordering::Relaxed);
                if force || since_poll >= interval {
                    since_poll = Duration::ZERO;
                    loader.reload(&app, force);
                }
            }
        })
        .unwrap_or_else(|e| panic!("cannot start the bundle watcher thread: {e}"))
}
