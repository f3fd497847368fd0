//! One consistent state of everything loaded: active bundles, policies pushed through the API,
//! the data document, and the engine prepared on them.

use std::collections::BTreeMap;
use std::sync::Arc;

use bundles::Bundle;
use rego_runtime::{
    Engine, Error as EngineError, PolicyModule, PolicySet, Prepared, Problem, RuleInfo, Value,
};

use super::data_ops;
use crate::gatekeeper::state::{GatekeeperContents, PreparedGatekeeper};

/// What a snapshot is built from.
#[derive(Clone, Debug)]
pub struct Contents {
    /// Active bundles by name.
    pub bundles: BTreeMap<String, Arc<Bundle>>,
    /// Modules pushed through `PUT /v1/policies/{id}`, by id.
    pub policies: BTreeMap<String, PolicyModule>,
    /// The whole data document: bundle data at their roots, API writes, and
    /// `system.bundles.<name>.manifest`.
    pub data: Value,
    /// Gatekeeper's templates, constraints and inventory.
    pub gatekeeper: GatekeeperContents,
}

impl Default for Contents {
    fn default() -> Self {
        Contents {
            bundles: BTreeMap::new(),
            policies: BTreeMap::new(),
            data: Value::empty_object(),
            gatekeeper: GatekeeperContents::default(),
        }
    }
}

/// The engines a snapshot is prepared with: one for OPA's policies and one for Gatekeeper's
/// templates, whose builtins see another host (Gatekeeper gives `opa.runtime()` nothing of
/// the process, where `opa run` gives its environment).
#[derive(Clone, Copy)]
pub struct Engines<'a> {
    pub opa: &'a dyn Engine,
    pub gatekeeper: &'a dyn Engine,
}

impl<'a> Engines<'a> {
    /// One engine for both.
    pub fn one(engine: &'a dyn Engine) -> Engines<'a> {
        Engines {
            opa: engine,
            gatekeeper: engine,
        }
    }
}

/// The store's current state; immutable once built.
pub struct Snapshot {
    pub contents: Contents,
    pub prepared: Arc<dyn Prepared>,
    /// Increases by one with every activation.
    pub generation: u64,
    /// Gatekeeper's compiled templates and validated constraints.
    pub gatekeeper: Arc<PreparedGatekeeper>,
}

impl Snapshot {
    /// Prepares `engine` on every module and the data of `contents`.
    ///
    /// # Errors
    /// The engine's compile error.
    pub fn build(
        engines: Engines<'_>,
        contents: Contents,
        generation: u64,
    ) -> Result<Snapshot, EngineError> {
        Snapshot::build_after(engines, contents, generation, None)
    }

    /// Like [`Snapshot::build`], reusing what `previous` prepared from unchanged inputs: the
    /// OPA engine when bundles and policies are the same (as it is when the data document is
    /// the same too, or with the new data swapped in, when only data changed); Gatekeeper's
    /// whole preparation when its objects are the same, else every template whose Rego,
    /// constraints' parameters (and inventory, if it reads it) are the same. So a data write
    /// recompiles no module, a Gatekeeper change does not recompile OPA policies, and an OPA
    /// data write neither parses nor compiles templates.
    ///
    /// # Errors
    /// The engine's compile error, or data where a rule is defined (Gatekeeper problems stay
    /// in their objects' status).
    pub fn build_after(
        engines: Engines<'_>,
        contents: Contents,
        generation: u64,
        previous: Option<&Snapshot>,
    ) -> Result<Snapshot, EngineError> {
        let same_modules = previous.filter(|p| same_modules(&p.contents, &contents));
        let prepared = match same_modules {
            Some(previous) if same_data(&previous.contents.data, &contents.data) => {
                previous.prepared.clone()
            }
            Some(previous) => match previous.prepared.with_data(contents.data.clone()) {
                Some(prepared) => checked_data(prepared, &contents.data)?,
                None => prepare(engines.opa, &contents)?,
            },
            None => prepare(engines.opa, &contents)?,
        };
        let gatekeeper = match previous {
            Some(previous)
                if previous
                    .contents
                    .gatekeeper
                    .prepares_like(&contents.gatekeeper) =>
            {
                previous.gatekeeper.clone()
            }
            _ => Arc::new(PreparedGatekeeper::build(
                engines.gatekeeper,
                &contents.gatekeeper,
                previous.map(|p| &*p.gatekeeper),
            )),
        };
        Ok(Snapshot {
            contents,
            prepared,
            generation,
            gatekeeper,
        })
    }
}

/// Prepares `engine` on every module and the data of `contents`.
fn prepare(engine: &dyn Engine, contents: &Contents) -> Result<Arc<dyn Prepared>, EngineError> {
    let prepared = engine.prepare(&PolicySet {
        modules: contents.all_modules().cloned().collect(),
        data: contents.data.clone(),
        disabled_builtins: Vec::new(),
        conflict_messages: Default::default(),
    })?;
    checked_data(prepared, &contents.data)
}

/// `prepared`, unless `data` holds something where one of its rules is defined.
fn checked_data(
    prepared: Arc<dyn Prepared>,
    data: &Value,
) -> Result<Arc<dyn Prepared>, EngineError> {
    let conflicts = data_conflicts(data, prepared.rules());
    if !conflicts.is_empty() {
        return Err(EngineError::Compile(conflicts));
    }
    Ok(prepared)
}

/// True when `a` and `b` hold the same modules: the same bundles and API policies.
fn same_modules(a: &Contents, b: &Contents) -> bool {
    a.policies == b.policies
        && a.bundles.len() == b.bundles.len()
        && a.bundles
            .iter()
            .zip(&b.bundles)
            .all(|((n1, b1), (n2, b2))| n1 == n2 && Arc::ptr_eq(b1, b2))
}

/// True when two data documents are the same allocation, which unchanged contents keep.
fn same_data(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => Arc::ptr_eq(x, y),
        _ => false,
    }
}

impl Contents {
    /// Bundle modules then API modules: every module the engine compiles.
    pub fn all_modules(&self) -> impl Iterator<Item = &PolicyModule> {
        self.bundles
            .values()
            .flat_map(|bundle| bundle.modules.iter())
            .chain(self.policies.values())
    }

    /// The module with `id`, from a bundle or the API.
    pub fn module(&self, id: &str) -> Option<&PolicyModule> {
        self.all_modules().find(|module| module.id == id)
    }

    /// Every bundle's roots, by bundle name.
    pub fn bundle_roots(&self) -> BTreeMap<&str, Vec<String>> {
        self.bundles
            .iter()
            .map(|(name, bundle)| (name.as_str(), bundle.manifest.effective_roots()))
            .collect()
    }

    /// Replaces the active bundle set: erases the data under the old bundles' roots, writes
    /// each new bundle's data at its roots, and records manifests under `system.bundles`.
    pub fn activate_bundles(&mut self, bundles: Vec<Arc<Bundle>>) {
        for (name, old) in std::mem::take(&mut self.bundles) {
            for root in old.manifest.effective_roots() {
                erase(&mut self.data, &root);
            }
            let _ = data_ops::write(
                &mut self.data,
                data_ops::Op::Remove,
                &["system".into(), "bundles".into(), name],
                None,
            );
        }
        for bundle in bundles {
            for root in bundle.manifest.effective_roots() {
                let path = split_root(&root);
                let value = bundles::data_tree::get(&bundle.data, &path).cloned();
                if let Some(value) = value {
                    if path.is_empty() {
                        if let Some(entries) = value.as_object() {
                            for (key, child) in entries.iter() {
                                let key = key.as_str().unwrap_or_default().to_string();
                                let _ = data_ops::write(
                                    &mut self.data,
                                    data_ops::Op::Add,
                                    &[key],
                                    Some(child.clone()),
                                );
                            }
                        }
                    } else if data_ops::make_dir(&mut self.data, &path[..path.len() - 1]).is_ok() {
                        let _ =
                            data_ops::write(&mut self.data, data_ops::Op::Add, &path, Some(value));
                    }
                }
            }
            // OPA records each bundle's manifest and etag (empty for local bundles).
            let record = Value::object([
                ("etag", Value::string("")),
                ("manifest", bundle.manifest.to_value()),
            ]);
            let path = [
                "system".to_string(),
                "bundles".to_string(),
                bundle.name.clone(),
            ];
            if data_ops::make_dir(&mut self.data, &path[..2]).is_ok() {
                let _ = data_ops::write(&mut self.data, data_ops::Op::Add, &path, Some(record));
            }
            self.bundles.insert(bundle.name.clone(), bundle);
        }
        // An empty `system.bundles` (no bundles left) is removed as OPA leaves no trace.
        for path in [["system", "bundles"].as_slice(), ["system"].as_slice()] {
            let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
            if data_ops::read(&self.data, &path)
                .and_then(Value::as_object)
                .is_some_and(|o| o.is_empty())
            {
                let _ = data_ops::write(&mut self.data, data_ops::Op::Remove, &path, None);
            }
        }
    }
}

/// OPA refuses base data where a rule is defined: a rule's path may not hold data, nor pass
/// through a non-object (`CheckPathConflicts` with `storage.NonEmpty`).
fn data_conflicts(data: &Value, rules: &[RuleInfo]) -> Vec<Problem> {
    // Runs on every data write: nothing here copies a path or allocates a key.
    let mut seen = std::collections::BTreeSet::new();
    rules
        .iter()
        .filter(|rule| !rule.path.is_empty() && seen.insert(rule.path.as_slice()))
        .filter(|rule| non_empty(data, &rule.path))
        .map(|rule| Problem {
            code: "rego_compile_error",
            message: format!(
                "conflicting rule for data path {} found",
                rule.path.join("/")
            ),
            location: Some(rule.location.clone()),
        })
        .collect()
}

fn non_empty(data: &Value, path: &[String]) -> bool {
    let mut node = data;
    for key in path {
        if node.as_object().is_none() {
            return true;
        }
        match node.get(key) {
            Some(child) => node = child,
            None => return false,
        }
    }
    true
}

/// `a/b` to `["a", "b"]`; the empty root is the empty path.
pub fn split_root(root: &str) -> Vec<String> {
    root.split('/')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// Removes whatever is at `root` (the whole document for the empty root).
fn erase(data: &mut Value, root: &str) {
    let path = split_root(root);
    if path.is_empty() {
        *data = Value::empty_object();
    } else {
        let _ = data_ops::write(data, data_ops::Op::Remove, &path, None);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use rego_runtime::rego::RegoEngine;
    use rego_runtime::{Entrypoint, Input, Limits, Outcome, PathSegment, RegoVersion};

    use super::*;

    /// The Rego engine, counting how often it prepares modules.
    #[derive(Default)]
    struct CountingEngine {
        engine: RegoEngine,
        prepared: AtomicUsize,
    }

    impl Engine for CountingEngine {
        fn prepare(&self, policies: &PolicySet) -> Result<Arc<dyn Prepared>, EngineError> {
            self.prepared.fetch_add(1, Ordering::Relaxed);
            self.engine.prepare(policies)
        }
    }

    /// A ConstraintTemplate, as Gatekeeper users write them.
    const TEMPLATE: &str = "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata: {name: k8sx}\nspec:\n  crd: {spec: {names: {kind: K8sX}}}\n  targets:\n  - target: admission.k8s.gatekeeper.sh\n    rego: |\n      package x\n      violation[{\"msg\": \"m\"}] { true }\n";

    fn contents() -> Contents {
        let mut contents = Contents::default();
        let template = crate::gatekeeper::objects::parse_documents(TEMPLATE).expect("yaml");
        contents
            .gatekeeper
            .put_template(template[0].clone(), crate::gatekeeper::state::Origin::Api)
            .expect("template");
        contents.policies.insert(
            "k8s".to_string(),
            PolicyModule {
                id: "k8s".to_string(),
                file: "k8s".to_string(),
                source: Arc::from("package k8s\n\npods := count(object.keys(data.pods))\n"),
                rego_version: RegoVersion::V1,
            },
        );
        contents
    }

    fn pods(snapshot: &Snapshot) -> Option<Value> {
        let path = [
            PathSegment::Key("k8s".to_string()),
            PathSegment::Key("pods".to_string()),
        ];
        let evaluation = snapshot
            .prepared
            .evaluate(
                Entrypoint::Data(&path),
                Input::Json("{}"),
                &Limits::default(),
            )
            .expect("evaluation");
        match evaluation.outcome {
            Outcome::Document(value) => value,
            Outcome::Bindings(_) => panic!("a document was asked for"),
        }
    }

    fn write(contents: &mut Contents, path: &[&str], value: Option<&str>) {
        let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
        data_ops::make_dir(&mut contents.data, &path[..path.len() - 1]).expect("parents");
        let op = if value.is_some() {
            data_ops::Op::Add
        } else {
            data_ops::Op::Remove
        };
        let value = value.map(|v| Value::from_json(v).expect("json"));
        data_ops::write(&mut contents.data, op, &path, value).expect("write");
    }

    #[test]
    fn data_writes_prepare_no_module_and_no_template_again() {
        let engine = CountingEngine::default();
        let mut snapshot = Snapshot::build(Engines::one(&engine), contents(), 0).expect("build");
        assert_eq!(pods(&snapshot), None);
        // The OPA policy and the template.
        assert_eq!(engine.prepared.load(Ordering::Relaxed), 2);
        for i in 0..3 {
            let mut next = snapshot.contents.clone();
            write(&mut next, &["pods", &format!("p{i}")], Some("{}"));
            let after = Snapshot::build_after(Engines::one(&engine), next, i + 1, Some(&snapshot))
                .expect("build");
            assert!(Arc::ptr_eq(&snapshot.gatekeeper, &after.gatekeeper));
            snapshot = after;
            assert_eq!(pods(&snapshot), Some(Value::int(i as i64 + 1)));
        }
        let mut next = snapshot.contents.clone();
        write(&mut next, &["pods", "p0"], None);
        snapshot =
            Snapshot::build_after(Engines::one(&engine), next, 4, Some(&snapshot)).expect("build");
        assert_eq!(pods(&snapshot), Some(Value::int(2)));
        assert_eq!(engine.prepared.load(Ordering::Relaxed), 2);

        // Data where a rule is defined is refused as before.
        let mut next = snapshot.contents.clone();
        write(&mut next, &["k8s", "pods"], Some("1"));
        let refused = Snapshot::build_after(Engines::one(&engine), next, 5, Some(&snapshot));
        let Err(EngineError::Compile(problems)) = refused else {
            panic!("data at a rule's path must be refused");
        };
        assert_eq!(
            problems[0].message,
            "conflicting rule for data path k8s/pods found"
        );

        // A policy change prepares the modules again; a template change prepares Gatekeeper.
        let mut next = snapshot.contents.clone();
        next.policies.clear();
        let after =
            Snapshot::build_after(Engines::one(&engine), next, 6, Some(&snapshot)).expect("build");
        assert_eq!(engine.prepared.load(Ordering::Relaxed), 3);
        assert!(Arc::ptr_eq(&snapshot.gatekeeper, &after.gatekeeper));
        let mut next = snapshot.contents.clone();
        next.gatekeeper.delete_template("k8sx");
        let after =
            Snapshot::build_after(Engines::one(&engine), next, 7, Some(&snapshot)).expect("build");
        assert!(!Arc::ptr_eq(&snapshot.gatekeeper, &after.gatekeeper));
        assert_eq!(after.gatekeeper.template_counts(), (0, 0));
    }
}
