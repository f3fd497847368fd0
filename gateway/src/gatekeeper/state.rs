//! The Gatekeeper part of a store snapshot: what was loaded ([`GatekeeperContents`]: templates,
//! constraints, inventory) and what was prepared from it ([`PreparedGatekeeper`]: compiled
//! templates, validated constraints, grouped for evaluation). Preparing reuses the previous
//! snapshot's compiled templates whose Rego (and, for referential ones, inventory) is unchanged.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rego_runtime::footprint::{Footprint, FootprintBuilder};
use rego_runtime::{Engine, Value};

use super::constraints::{self, ConstraintError, PreparedConstraint};
use super::inventory::Inventory;
use super::objects;
use super::templates::{self, CompiledTemplate, RegoCode, Template, TemplateProblem};

/// Where an object came from: the HTTP API, or the `--gatekeeper` / `--inventory` files
/// (which a reload replaces as a whole).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Api,
    Files,
}

/// One loaded object and where it came from.
#[derive(Clone, Debug)]
pub struct Entry {
    pub object: Value,
    pub origin: Origin,
}

/// Everything Gatekeeper-shaped that was loaded.
#[derive(Clone, Debug, Default)]
pub struct GatekeeperContents {
    /// ConstraintTemplates by `metadata.name`.
    pub templates: BTreeMap<String, Entry>,
    /// Constraints by `(kind, metadata.name)`.
    pub constraints: BTreeMap<(String, String), Entry>,
    /// `data.inventory`.
    pub inventory: Inventory,
    /// The objects the `--inventory` files filed, so that a reload can take them out.
    pub file_inventory: Vec<Value>,
}

/// Why an object was refused by the API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    Template(TemplateProblem),
    Constraint(ConstraintError),
    /// The object is neither (wrong apiVersion or kind for the path).
    Object(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Template(p) => write!(f, "{p}"),
            Refusal::Constraint(e) => write!(f, "{e}"),
            Refusal::Object(m) => f.write_str(m),
        }
    }
}

impl GatekeeperContents {
    /// True when `other` holds the very templates, constraints and inventory of `self`
    /// (compared by identity, which unchanged contents keep): what was prepared from one
    /// serves the other, so a snapshot that changed something else (an OPA data write)
    /// parses and validates none of them again.
    pub fn prepares_like(&self, other: &GatekeeperContents) -> bool {
        fn same_entries<K: Eq>(a: &BTreeMap<K, Entry>, b: &BTreeMap<K, Entry>) -> bool {
            a.len() == b.len()
                && a.iter().zip(b).all(|((key_a, a), (key_b, b))| {
                    key_a == key_b && same_object(&a.object, &b.object)
                })
        }
        same_entries(&self.templates, &other.templates)
            && same_entries(&self.constraints, &other.constraints)
            && self.inventory.same_as(&other.inventory)
    }

    /// Adds or replaces a template after the checks Gatekeeper's admission makes (Rego
    /// errors are not refused: they show in the template's status).
    ///
    /// # Errors
    /// The template's `create_error`.
    pub fn put_template(&mut self, object: Value, origin: Origin) -> Result<String, Refusal> {
        let template = Template::from_object(&object).map_err(Refusal::Template)?;
        self.templates.insert(
            template.name.clone(),
            Entry {
                object: objects::without_member(&object, "status"),
                origin,
            },
        );
        Ok(template.name)
    }

    /// Removes a template and, as deleting its CRD does, its constraints.
    pub fn delete_template(&mut self, name: &str) -> bool {
        let removed = self.templates.remove(name).is_some();
        if removed {
            self.constraints
                .retain(|(kind, _), _| constraints::template_name(kind) != name);
        }
        removed
    }

    /// Adds or replaces a constraint after validating it against its template.
    ///
    /// # Errors
    /// The validation error (schema, selectors, missing template).
    pub fn put_constraint(
        &mut self,
        object: Value,
        origin: Origin,
    ) -> Result<(String, String), Refusal> {
        constraints::check_metadata(&object).map_err(Refusal::Constraint)?;
        let kind = objects::kind(&object).to_string();
        let template_name = constraints::template_name(&kind);
        let template = self
            .templates
            .get(&template_name)
            .and_then(|entry| Template::from_object(&entry.object).ok())
            .ok_or(Refusal::Constraint(ConstraintError::MissingTemplate(
                template_name,
            )))?;
        constraints::prepare(&object, &template).map_err(Refusal::Constraint)?;
        let name = objects::name(&object).to_string();
        self.constraints.insert(
            (kind.clone(), name.clone()),
            Entry {
                object: objects::without_member(&object, "status"),
                origin,
            },
        );
        Ok((kind, name))
    }

    /// Removes a constraint.
    pub fn delete_constraint(&mut self, kind: &str, name: &str) -> bool {
        self.constraints
            .remove(&(kind.to_string(), name.to_string()))
            .is_some()
    }

    /// Replaces everything that came from `--gatekeeper` files with `objects`, kept in file
    /// order: templates first, then constraints. Objects that are neither are returned.
    pub fn replace_file_objects(&mut self, objects_in_files: &[Value]) -> Vec<String> {
        self.templates.retain(|_, e| e.origin != Origin::Files);
        self.constraints.retain(|_, e| e.origin != Origin::Files);
        let mut ignored = Vec::new();
        for object in objects_in_files {
            let group = objects::group_of(objects::api_version(object));
            if group == templates::GROUP && objects::kind(object) == "ConstraintTemplate" {
                let name = objects::name(object).to_string();
                self.templates.insert(
                    name,
                    Entry {
                        object: objects::without_member(object, "status"),
                        origin: Origin::Files,
                    },
                );
            }
        }
        for object in objects_in_files {
            let group = objects::group_of(objects::api_version(object));
            if group == constraints::GROUP {
                // Invalid constraints are kept: their status shows the error.
                self.constraints.insert(
                    (
                        objects::kind(object).to_string(),
                        objects::name(object).to_string(),
                    ),
                    Entry {
                        object: objects::without_member(object, "status"),
                        origin: Origin::Files,
                    },
                );
            } else if group != templates::GROUP {
                ignored.push(format!(
                    "{} {}",
                    objects::api_version(object),
                    objects::name(object)
                ));
            }
        }
        ignored
    }

    /// Replaces what the `--inventory` files filed.
    ///
    /// # Errors
    /// An object the inventory cannot file (no apiVersion or kind).
    pub fn replace_file_inventory(&mut self, objects_in_files: Vec<Value>) -> Result<(), String> {
        for old in std::mem::take(&mut self.file_inventory) {
            self.inventory.remove(&old)?;
        }
        for object in &objects_in_files {
            self.inventory.add(object)?;
        }
        self.file_inventory = objects_in_files;
        Ok(())
    }
}

/// A template as prepared in a snapshot.
pub struct TemplateState {
    pub name: String,
    pub object: Value,
    /// The parsed template; its error is a `create_error`.
    pub template: Result<Arc<Template>, TemplateProblem>,
    /// The compiled Rego; its error is an `ingest_error` (or the parse error again).
    pub compiled: Result<Arc<CompiledTemplate>, TemplateProblem>,
    code: Option<RegoCode>,
    /// The inventory a referential template was compiled with.
    inventory: Option<Inventory>,
}

impl TemplateState {
    /// The problem that keeps the template from enforcing, if any.
    pub fn problem(&self) -> Option<&TemplateProblem> {
        self.compiled.as_ref().err()
    }
}

/// A constraint as prepared in a snapshot.
pub struct ConstraintState {
    pub kind: String,
    pub name: String,
    pub object: Value,
    pub prepared: Result<Arc<PreparedConstraint>, ConstraintError>,
}

/// A ready template and its valid constraints, in name order.
pub struct TemplateGroup {
    pub template: Arc<Template>,
    pub compiled: Arc<CompiledTemplate>,
    pub constraints: Vec<Arc<PreparedConstraint>>,
}

/// Everything Gatekeeper evaluates in one snapshot.
#[derive(Default)]
pub struct PreparedGatekeeper {
    pub templates: BTreeMap<String, Arc<TemplateState>>,
    pub constraints: BTreeMap<(String, String), ConstraintState>,
    /// Templates with at least one valid constraint, by constraint kind.
    pub groups: Vec<TemplateGroup>,
    pub inventory: Inventory,
    /// What matching a review reads of `groups`, prefetched as a review starts.
    pub matching: Footprint,
}

/// The lines matching reads: each group's template and constraints, their matchers and
/// parameters (the input of every constraint that matches).
fn matching_footprint(groups: &[TemplateGroup]) -> Footprint {
    let mut lines = FootprintBuilder::default();
    lines.slice(groups);
    for group in groups {
        lines.arc(&group.template);
        lines.slice(&group.template.operations);
        group
            .template
            .operations
            .iter()
            .for_each(|op| lines.str(op));
        lines.arc(&group.compiled);
        lines.slice(&group.constraints);
        for constraint in &group.constraints {
            lines.arc(constraint);
            lines.str(&constraint.action);
            lines.value(&constraint.parameters);
            if let Some(matcher) = &constraint.matcher {
                matcher.add_footprint(&mut lines);
            }
        }
    }
    lines.build()
}

impl PreparedGatekeeper {
    /// Compiles and validates `contents`, reusing `previous`'s compiled templates whose inputs
    /// (the Rego, and the inventory if they read it) did not change.
    /// Never fails: problems are kept per template and constraint.
    pub fn build(
        engine: &dyn Engine,
        contents: &GatekeeperContents,
        previous: Option<&PreparedGatekeeper>,
    ) -> PreparedGatekeeper {
        let parsed: BTreeMap<&String, Result<Arc<Template>, TemplateProblem>> = contents
            .templates
            .iter()
            .map(|(name, entry)| (name, Template::from_object(&entry.object).map(Arc::new)))
            .collect();

        // Constraints are validated against the parsed template only.
        let mut validated: Vec<((String, String), Validated)> =
            Vec::with_capacity(contents.constraints.len());
        let mut by_template: BTreeMap<String, Vec<Arc<PreparedConstraint>>> = BTreeMap::new();
        for ((kind, name), entry) in &contents.constraints {
            let template_name = constraints::template_name(kind);
            let prepared = match parsed.get(&template_name) {
                None => Err(ConstraintError::MissingTemplate(template_name.clone())),
                Some(Err(_)) => Err(ConstraintError::TemplateNotReady(template_name.clone())),
                Some(Ok(template)) => constraints::prepare(&entry.object, template).map(Arc::new),
            };
            if let Ok(prepared) = &prepared {
                by_template
                    .entry(template_name)
                    .or_default()
                    .push(prepared.clone());
            }
            validated.push(((kind.clone(), name.clone()), prepared));
        }

        let mut states: BTreeMap<String, TemplateState> = BTreeMap::new();
        let mut to_compile: Vec<Job> = Vec::new();
        for (name, template) in parsed {
            let Some(entry) = contents.templates.get(name) else {
                continue;
            };
            let code = template.as_ref().ok().and_then(|t| t.rego.clone());
            let mut compiled = match &template {
                Err(problem) => Err(problem.clone()),
                Ok(_) if code.is_none() => Err(TemplateProblem {
                    code: templates::CODE_CREATE_ERROR,
                    message: "no language driver is installed that handles this constraint template: available drivers: map[Rego:1], wanted \"\"".to_string(),
                }),
                // Replaced below, by reuse or by compiling; stays only if the engine failed.
                Ok(_) => Err(TemplateProblem {
                    code: templates::CODE_INGEST_ERROR,
                    message: "the Rego engine failed while compiling this template".to_string(),
                }),
            };
            let mut inventory = None;
            if let Some(code) = &code {
                let reusable = previous
                    .and_then(|p| p.templates.get(name))
                    .filter(|old| old.code.as_ref() == Some(code))
                    .filter(|old| {
                        old.inventory
                            .as_ref()
                            .is_none_or(|inv| inv.same_as(&contents.inventory))
                    });
                match reusable {
                    Some(old) => {
                        compiled = old.compiled.clone();
                        inventory = old.inventory.clone();
                    }
                    None => to_compile.push(Job {
                        name: name.clone(),
                        code: code.clone(),
                    }),
                }
            }
            states.insert(
                name.clone(),
                TemplateState {
                    name: name.clone(),
                    object: entry.object.clone(),
                    template,
                    compiled,
                    code,
                    inventory,
                },
            );
        }

        for (name, result) in compile_all(engine, &to_compile, contents.inventory.tree()) {
            if let Some(state) = states.get_mut(&name) {
                state.inventory = match &result {
                    Ok(compiled) if compiled.referential => Some(contents.inventory.clone()),
                    _ => None,
                };
                state.compiled = result.map(Arc::new);
            }
        }
        let templates: BTreeMap<String, Arc<TemplateState>> = states
            .into_iter()
            .map(|(name, state)| (name, Arc::new(state)))
            .collect();

        let ready = |template_name: &str| {
            templates
                .get(template_name)
                .is_some_and(|state| state.compiled.is_ok())
        };
        let mut constraints_out = BTreeMap::new();
        for ((kind, name), prepared) in validated {
            let template_name = constraints::template_name(&kind);
            let prepared = prepared.and_then(|c| {
                if ready(&template_name) {
                    Ok(c)
                } else {
                    Err(ConstraintError::TemplateNotReady(template_name.clone()))
                }
            });
            let object = contents
                .constraints
                .get(&(kind.clone(), name.clone()))
                .map(|entry| entry.object.clone())
                .unwrap_or_default();
            constraints_out.insert(
                (kind.clone(), name.clone()),
                ConstraintState {
                    kind,
                    name,
                    object,
                    prepared,
                },
            );
        }
        let mut groups: Vec<TemplateGroup> = by_template
            .into_iter()
            .filter_map(|(name, constraints)| {
                let state = templates.get(&name)?;
                Some(TemplateGroup {
                    template: state.template.as_ref().ok()?.clone(),
                    compiled: state.compiled.as_ref().ok()?.clone(),
                    constraints,
                })
            })
            .collect();
        groups.sort_by(|a, b| a.template.kind.cmp(&b.template.kind));
        PreparedGatekeeper {
            templates,
            constraints: constraints_out,
            matching: matching_footprint(&groups),
            groups,
            inventory: contents.inventory.clone(),
        }
    }

    /// How many templates enforce, and how many have errors.
    pub fn template_counts(&self) -> (usize, usize) {
        let ok = self
            .templates
            .values()
            .filter(|t| t.compiled.is_ok())
            .count();
        (ok, self.templates.len() - ok)
    }
}

/// True when `a` and `b` are the same object or array (cheap clones of one value).
fn same_object(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => Arc::ptr_eq(a, b),
        (Value::Array(a), Value::Array(b)) => Arc::ptr_eq(a, b),
        _ => false,
    }
}

/// A constraint validated against its parsed template (not yet against its compiled Rego).
type Validated = Result<Arc<PreparedConstraint>, ConstraintError>;

/// One template to compile.
struct Job {
    name: String,
    code: RegoCode,
}

type Compiled = Result<CompiledTemplate, TemplateProblem>;

/// Compiles templates on every core: loading 50 templates is dominated by compiling.
fn compile_all(engine: &dyn Engine, jobs: &[Job], inventory: &Value) -> Vec<(String, Compiled)> {
    // Asking for the core count reads cgroup files: not for the common case of nothing to
    // compile (every OPA data write builds a snapshot).
    let workers = match jobs.len() {
        0 | 1 => 1,
        n => std::thread::available_parallelism().map_or(1, |cores| cores.get().min(n)),
    };
    if workers <= 1 {
        return jobs
            .iter()
            .map(|job| (job.name.clone(), compile_one(engine, job, inventory)))
            .collect();
    }
    let next = AtomicUsize::new(0);
    let mut results: Vec<(String, Compiled)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(job) = jobs.get(i) else {
                            break;
                        };
                        done.push((job.name.clone(), compile_one(engine, job, inventory)));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    results.sort_by(|a, b| a.0.cmp(&b.0));
    results
}

fn compile_one(engine: &dyn Engine, job: &Job, inventory: &Value) -> Compiled {
    templates::compile(engine, &job.code, inventory)
}

#[cfg(test)]
mod tests {
    //! What a rebuild recompiles: constraints are evaluated with their parameters in the
    //! input, so a constraint change recompiles nothing, and an inventory change only the
    //! referential templates.

    use super::*;
    use rego_runtime::rego::RegoEngine;

    fn template(kind: &str, rego_body: &str) -> Value {
        let name = kind.to_lowercase();
        let yaml = format!(
            "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata: {{name: {name}}}\nspec:\n  crd: {{spec: {{names: {{kind: {kind}}}, validation: {{legacySchema: true}}}}}}\n  targets:\n  - target: admission.k8s.gatekeeper.sh\n    rego: |\n      package {name}\n      violation[{{\"msg\": \"m\"}}] {{ {rego_body} }}\n"
        );
        objects::parse_documents(&yaml).expect("yaml").remove(0)
    }

    fn constraint(kind: &str, name: &str, parameters: &str) -> Value {
        let yaml = format!(
            "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: {kind}\nmetadata: {{name: {name}}}\nspec:\n  parameters: {parameters}\n"
        );
        objects::parse_documents(&yaml).expect("yaml").remove(0)
    }

    fn compiled<'a>(state: &'a PreparedGatekeeper, name: &str) -> &'a Arc<CompiledTemplate> {
        state.templates[name].compiled.as_ref().expect("compiled")
    }

    #[test]
    fn the_matching_footprint_spans_constraints_matchers_and_parameters() {
        let engine = RegoEngine::default();
        let mut contents = GatekeeperContents::default();
        contents
            .put_template(template("K8sA", "input.parameters.x"), Origin::Api)
            .expect("template");
        let object = objects::parse_documents(
            "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sA\nmetadata: {name: a1}\n\
             spec:\n  parameters: {x: a parameter string}\n  match:\n    \
             kinds: [{apiGroups: [\"\"], kinds: [Pod]}]\n    namespaces: [prod-*]\n    \
             labelSelector: {matchLabels: {team: web}}\n",
        )
        .expect("yaml")
        .remove(0);
        contents
            .put_constraint(object, Origin::Api)
            .expect("constraint");
        let state = PreparedGatekeeper::build(&engine, &contents, None);
        let has = |address: *const u8| state.matching.contains(address);
        let group = &state.groups[0];
        let constraint = &group.constraints[0];
        assert!(has(group.constraints.as_ptr().cast()));
        assert!(has(Arc::as_ptr(constraint).cast()));
        let matcher = constraint.matcher.as_ref().expect("a matcher");
        assert!(has(matcher.kinds[0].kinds[0].as_ptr()));
        assert!(has(matcher.namespaces[0].as_ptr()));
        assert!(has(matcher
            .label_selector
            .as_ref()
            .expect("selector")
            .match_labels[0]
            .1
            .as_ptr()));
        let Some(Value::String(text)) = constraint.parameters.get("x") else {
            unreachable!("the parameter");
        };
        assert!(has(text.as_ptr()));
    }

    #[test]
    fn rebuilds_recompile_only_what_changed() {
        let engine = RegoEngine::default();
        let mut contents = GatekeeperContents::default();
        for object in [
            template("K8sA", "input.parameters.x"),
            template("K8sB", "input.parameters.x"),
            template("K8sRef", "data.inventory.cluster[_]"),
        ] {
            contents
                .put_template(object, Origin::Api)
                .expect("template");
        }
        for object in [
            constraint("K8sA", "a1", "{x: 1}"),
            constraint("K8sB", "b1", "{x: 1}"),
            constraint("K8sRef", "r1", "{}"),
        ] {
            contents
                .put_constraint(object, Origin::Api)
                .expect("constraint");
        }
        let first = PreparedGatekeeper::build(&engine, &contents, None);

        contents
            .put_constraint(constraint("K8sA", "a1", "{x: 2}"), Origin::Api)
            .expect("constraint");
        let second = PreparedGatekeeper::build(&engine, &contents, Some(&first));
        assert!(Arc::ptr_eq(
            compiled(&first, "k8sa"),
            compiled(&second, "k8sa")
        ));
        assert!(Arc::ptr_eq(
            compiled(&first, "k8sb"),
            compiled(&second, "k8sb")
        ));
        assert!(Arc::ptr_eq(
            compiled(&first, "k8sref"),
            compiled(&second, "k8sref")
        ));

        contents
            .inventory
            .add(
                &Value::from_json(
                    r#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"n"}}"#,
                )
                .expect("json"),
            )
            .expect("inventory");
        let third = PreparedGatekeeper::build(&engine, &contents, Some(&second));
        assert!(Arc::ptr_eq(
            compiled(&second, "k8sa"),
            compiled(&third, "k8sa")
        ));
        assert!(!Arc::ptr_eq(
            compiled(&second, "k8sref"),
            compiled(&third, "k8sref")
        ));
        assert!(compiled(&third, "k8sref").referential);

        // A constraint of a template that does not compile is not ready, whatever its own
        // validity.
        contents
            .put_template(template("K8sA", "x := 1; x := 2"), Origin::Api)
            .expect("template");
        let fourth = PreparedGatekeeper::build(&engine, &contents, Some(&third));
        assert!(fourth.templates["k8sa"].problem().is_some());
        assert!(matches!(
            fourth.constraints[&("K8sA".to_string(), "a1".to_string())].prepared,
            Err(ConstraintError::TemplateNotReady(_))
        ));
        assert_eq!(fourth.groups.len(), 2);
    }
}
