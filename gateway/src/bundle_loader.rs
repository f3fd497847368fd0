//! Loads the configured local bundles into the store and keeps them current: a bundle whose
//! files change (or every bundle, on SIGHUP) is read, validated and activated off the request
//! path; a bundle that fails keeps its previous version active and the failure is reported.

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

    /// Reads bundles whose files changed since the last call (all of them when `force`) and
    /// activates the resulting set. Returns true when a new snapshot was activated.
    pub fn reload(&mut self, app: &App, force: bool) -> bool {
        let bundles = self.reload_bundles(app, force);
        let gatekeeper = self.gatekeeper.reload(app, force);
        bundles || gatekeeper
    }

    fn reload_bundles(&mut self, app: &App, force: bool) -> bool {
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
                Err(error) => self.report(app, &name, Err(error.to_string())),
            }
        }
        if changed.is_empty() {
            return false;
        }

        let bundles: Vec<&Bundle> = candidate.values().map(|b| &**b).collect();
        if let Err(error) = check_overlap(&bundles) {
            for name in &changed {
                self.report(app, name, Err(error.to_string()));
            }
            return false;
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
                true
            }
            Err(error) => {
                for name in &changed {
                    self.report(app, name, Err(error.to_string()));
                }
                false
            }
        }
    }

    fn report(&self, app: &App, name: &str, result: Result<(), String>) {
        match &result {
            Ok(()) => tracing::info!(bundle = name, "bundle activated"),
            Err(error) => {
                tracing::error!(bundle = name, error = %error, "bundle load failed; the previous version keeps serving")
            }
        }
        app.metrics.observe_bundle_load(name, result.is_ok());
        app.bundles.record(name, result);
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
