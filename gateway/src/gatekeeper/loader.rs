//! `--gatekeeper` and `--inventory` files: read at start, and again whenever their
//! fingerprint changes or on SIGHUP, through the bundle watcher. A path that cannot be read
//! keeps what it loaded last; objects that load but fail their checks show in status. Every
//! failure is also returned, so that start-up can refuse to serve without them.

use std::path::PathBuf;

use bundles::sources::{FileSource, Fingerprint};
use rego_runtime::Value;

use super::objects;
use crate::app::App;
use crate::bundle_loader::Reloaded;

/// The configured Gatekeeper paths and what was last seen of them.
#[derive(Default)]
pub struct GatekeeperLoader {
    manifests: Vec<FileSource>,
    inventory: Vec<FileSource>,
    manifest_prints: Option<Vec<Fingerprint>>,
    inventory_prints: Option<Vec<Fingerprint>>,
}

impl GatekeeperLoader {
    /// Watches `manifests` (templates and constraints) and `inventory` (objects) paths.
    pub fn new(manifests: &[PathBuf], inventory: &[PathBuf]) -> GatekeeperLoader {
        GatekeeperLoader {
            manifests: manifests.iter().map(FileSource::new).collect(),
            inventory: inventory.iter().map(FileSource::new).collect(),
            manifest_prints: None,
            inventory_prints: None,
        }
    }

    /// Re-reads the paths that changed (all when `force`).
    pub fn reload(&mut self, app: &App, force: bool) -> Reloaded {
        let mut outcome = Reloaded::default();
        let prints: Vec<Fingerprint> = self.manifests.iter().map(FileSource::fingerprint).collect();
        if !self.manifests.is_empty() && (force || self.manifest_prints.as_ref() != Some(&prints)) {
            self.manifest_prints = Some(prints);
            let started = std::time::Instant::now();
            match read_all(&self.manifests) {
                Ok(objects_read) => {
                    let updated = app.store.update(|contents| {
                        let ignored = contents.gatekeeper.replace_file_objects(&objects_read);
                        Ok::<_, std::convert::Infallible>(ignored)
                    });
                    match updated {
                        Ok(ignored) => {
                            for object in ignored {
                                tracing::warn!(object = %object, "not a ConstraintTemplate or Constraint; ignored");
                            }
                            outcome.activated = true;
                            let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
                            tracing::info!(
                                elapsed_ms,
                                "Gatekeeper objects read, compiled and activated"
                            );
                            outcome.failures.extend(report(app));
                        }
                        Err(error) => {
                            tracing::error!(error = %error, "Gatekeeper objects not activated");
                            outcome
                                .failures
                                .push(format!("Gatekeeper objects: {error}"));
                        }
                    }
                }
                Err(error) => {
                    tracing::error!(error = %error, "reading Gatekeeper objects failed; the previous ones keep serving");
                    outcome.failures.push(error);
                }
            }
        }
        let prints: Vec<Fingerprint> = self.inventory.iter().map(FileSource::fingerprint).collect();
        if !self.inventory.is_empty() && (force || self.inventory_prints.as_ref() != Some(&prints))
        {
            self.inventory_prints = Some(prints);
            match read_all(&self.inventory) {
                Ok(objects_read) => {
                    let objects_read = objects::flatten_lists(objects_read);
                    let count = objects_read.len();
                    let updated = app.store.update(|contents| {
                        contents.gatekeeper.replace_file_inventory(objects_read)
                    });
                    match updated {
                        Ok(()) => {
                            tracing::info!(objects = count, "inventory loaded");
                            outcome.activated = true;
                        }
                        Err(error) => {
                            tracing::error!(error = %error, "inventory not loaded; the previous one keeps serving");
                            outcome.failures.push(format!("inventory: {error}"));
                        }
                    }
                }
                Err(error) => {
                    tracing::error!(error = %error, "reading inventory files failed; the previous inventory keeps serving");
                    outcome.failures.push(error);
                }
            }
        }
        outcome
    }
}

fn read_all(sources: &[FileSource]) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    for source in sources {
        out.extend(objects::read_manifests(source.path())?);
    }
    Ok(out)
}

/// Logs each template and constraint that cannot enforce, refreshes the gauges, and returns
/// one line per object that cannot enforce.
fn report(app: &App) -> Vec<String> {
    let mut failures = Vec::new();
    let snapshot = app.store.snapshot();
    let state = &snapshot.gatekeeper;
    for template in state.templates.values() {
        match template.problem() {
            None => tracing::info!(template = %template.name, "ConstraintTemplate active"),
            Some(problem) => {
                tracing::error!(template = %template.name, code = problem.code, error = %problem.message, "ConstraintTemplate has errors");
                failures.push(format!(
                    "ConstraintTemplate {}: {}: {}",
                    template.name, problem.code, problem.message
                ));
            }
        }
    }
    for constraint in state.constraints.values() {
        if let Err(error) = &constraint.prepared {
            tracing::error!(kind = %constraint.kind, constraint = %constraint.name, error = %error, "Constraint has errors");
            failures.push(format!("{} {}: {error}", constraint.kind, constraint.name));
        }
    }
    app.gatekeeper.metrics.observe_state(state);
    failures
}
