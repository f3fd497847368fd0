//! The Rego engine on regorus: modules and data are parsed, checked and indexed once per
//! snapshot; requests evaluate on pooled clones of that prepared engine.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::num::NonZeroU32;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use crossbeam_queue::ArrayQueue;
use regorus::Value as RegoValue;
use regorus::utils::limits::ExecutionTimerConfig;

use super::convert::{from_regorus, to_regorus};
use super::lowering::Lowered;
use super::{checks, diagnostics, extensions, lowering, rule_paths};
use crate::Value;
use crate::engine::{
    Engine, Entrypoint, Evaluation, Input, Outcome, PathSegment, PolicySet, Prepared, RegoVersion,
    RuleInfo,
};
use crate::error::{Error, Problem};
use crate::limits::Limits;

/// How many idle evaluators a prepared policy keeps; more requests at once clone the base.
const POOL_CAPACITY: usize = 64;

/// How many evaluation steps pass between two clock checks of the time limit.
const TIMER_CHECK_INTERVAL: u32 = 64;

/// The regorus-backed Rego engine.
#[derive(Clone, Copy, Debug, Default)]
pub struct RegoEngine;

impl Engine for RegoEngine {
    fn prepare(&self, policies: &PolicySet) -> Result<Arc<dyn Prepared>, Error> {
        Ok(Arc::new(PreparedRego::new(policies)?))
    }
}

/// A snapshot's modules and data inside a regorus engine that has already run its analysis.
pub struct PreparedRego {
    base: regorus::Engine,
    /// Per module file, how lowering moved columns, to map locations back.
    lowered: HashMap<String, Lowered>,
    idle: ArrayQueue<regorus::Engine>,
    rules: Vec<RuleInfo>,
    /// Every rule path as `data.a.b` text; exact paths evaluate through the faster rule API.
    rule_paths: HashSet<String>,
}

impl PreparedRego {
    /// Parses every module, loads the data and runs regorus's analysis.
    ///
    /// # Errors
    /// Every parse problem at once, or the first analysis problem.
    pub fn new(policies: &PolicySet) -> Result<PreparedRego, Error> {
        let mut engine = regorus::Engine::new();
        engine.set_gather_prints(true);
        extensions::install(&mut engine).map_err(|e| Error::Internal(e.to_string()))?;

        let mut problems = Vec::new();
        let mut lowered_files = HashMap::new();
        for module in &policies.modules {
            engine.set_rego_v0(module.rego_version == RegoVersion::V0);
            let lowered = lowering::lower(&module.source, module.rego_version);
            if let Err(error) = engine.add_policy(module.file.clone(), lowered.text.clone()) {
                problems.push(diagnostics::parse_problem(&error.to_string()));
            }
            lowered_files.insert(module.file.clone(), lowered);
        }
        let remap = |problems: Vec<Problem>| -> Vec<Problem> {
            problems
                .into_iter()
                .map(|p| remap_problem(&lowered_files, p))
                .collect()
        };
        if !problems.is_empty() {
            return Err(Error::Compile(remap(problems)));
        }
        problems.extend(checks::undefined_functions(
            &mut engine,
            &policies.disabled_builtins,
        ));
        problems.extend(checks::recursion(&mut engine));
        if !problems.is_empty() {
            return Err(Error::Compile(remap(problems)));
        }

        engine.add_data(to_regorus(&policies.data)).map_err(|e| {
            Error::Compile(remap(vec![diagnostics::compile_problem(&e.to_string())]))
        })?;

        // regorus analyses modules on the first evaluation; do it now, off the request path,
        // so that compile errors surface at load time as they do in OPA.
        engine.eval_query("true".to_string(), false).map_err(|e| {
            Error::Compile(remap(vec![diagnostics::compile_problem(&e.to_string())]))
        })?;
        let _ = engine.take_prints();

        let mut rules = rule_paths::collect(&mut engine);
        for rule in &mut rules {
            if let Some(lowered) = lowered_files.get(&rule.location.file) {
                rule.location.col = lowered.original_col(rule.location.row, rule.location.col);
            }
        }
        let rule_paths = rules
            .iter()
            .filter_map(|rule| {
                let segments: Vec<PathSegment> =
                    rule.path.iter().cloned().map(PathSegment::Key).collect();
                rule_text(&segments)
            })
            .collect();
        Ok(PreparedRego {
            base: engine,
            lowered: lowered_files,
            idle: ArrayQueue::new(POOL_CAPACITY),
            rules,
            rule_paths,
        })
    }

    fn run(
        &self,
        engine: &mut regorus::Engine,
        entrypoint: Entrypoint<'_>,
        input: Input<'_>,
        limits: &Limits,
    ) -> Result<Outcome, Error> {
        engine.set_strict_builtin_errors(limits.strict_builtin_errors);
        engine.set_execution_timer_config(ExecutionTimerConfig {
            limit: limits.timeout,
            check_interval: NonZeroU32::new(TIMER_CHECK_INTERVAL).unwrap_or(NonZeroU32::MIN),
        });
        engine.set_input(match input {
            Input::Undefined => RegoValue::Undefined,
            Input::Json(text) => {
                RegoValue::from_json_str(text).map_err(|e| Error::InvalidInput(e.to_string()))?
            }
            Input::Value(value) => to_regorus(value),
        });
        let evaluation_error = |e: anyhow::Error| {
            let problem = diagnostics::evaluation_problem(&e.to_string());
            if problem.code.starts_with("rego_") {
                Error::Compile(vec![problem])
            } else {
                Error::Evaluation(problem)
            }
        };
        match entrypoint {
            Entrypoint::Data(path) => {
                let rule = rule_text(path);
                if let Some(rule) = rule.filter(|r| self.rule_paths.contains(r)) {
                    let value = engine.eval_rule(rule).map_err(evaluation_error)?;
                    return Ok(Outcome::Document(from_regorus(&value)));
                }
                let results = engine
                    .eval_query(query_text(path), false)
                    .map_err(evaluation_error)?;
                let value = results
                    .result
                    .first()
                    .and_then(|r| r.expressions.first())
                    .and_then(|e| from_regorus(&e.value));
                Ok(Outcome::Document(value))
            }
            Entrypoint::Query(query) => {
                check_query_syntax(query)?;
                let results = engine
                    .eval_query(query.to_string(), false)
                    .map_err(|e| query_error(&e.to_string()))?;
                let solutions = results
                    .result
                    .iter()
                    .map(|solution| bindings(&solution.bindings))
                    .collect();
                Ok(Outcome::Bindings(solutions))
            }
        }
    }
}

impl Prepared for PreparedRego {
    fn evaluate(
        &self,
        entrypoint: Entrypoint<'_>,
        input: Input<'_>,
        limits: &Limits,
    ) -> Result<Evaluation, Error> {
        let mut engine = self.idle.pop().unwrap_or_else(|| self.base.clone());
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            extensions::with_strictness(limits.strict_builtin_errors, || {
                self.run(&mut engine, entrypoint, input, limits)
            })
        }));
        match outcome {
            Ok(outcome) => {
                let prints = engine.take_prints().unwrap_or_default();
                // A full pool means many requests ran at once; the extra clone is dropped.
                let _ = self.idle.push(engine);
                Ok(Evaluation {
                    outcome: outcome.map_err(|e| self.remap_error(e))?,
                    prints,
                })
            }
            // The engine that panicked is dropped: its state is unknown.
            Err(panic) => Err(Error::Internal(panic_message(&*panic))),
        }
    }

    fn rules(&self) -> &[RuleInfo] {
        &self.rules
    }
}

impl PreparedRego {
    /// Moves an error's locations from lowered columns back to the user's source.
    fn remap_error(&self, error: Error) -> Error {
        match error {
            Error::Compile(problems) => Error::Compile(
                problems
                    .into_iter()
                    .map(|p| remap_problem(&self.lowered, p))
                    .collect(),
            ),
            Error::Evaluation(problem) => Error::Evaluation(remap_problem(&self.lowered, problem)),
            other => other,
        }
    }
}

fn remap_problem(lowered: &HashMap<String, Lowered>, mut problem: Problem) -> Problem {
    if let Some(location) = &mut problem.location {
        if let Some(map) = lowered.get(&location.file) {
            location.col = map.original_col(location.row, location.col);
        }
    }
    problem
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "the engine panicked".to_string())
}

/// `data.a.b` when every segment is a plain identifier, the form `eval_rule` accepts.
fn rule_text(path: &[PathSegment]) -> Option<String> {
    let mut text = String::from("data");
    for segment in path {
        match segment {
            PathSegment::Key(key) if is_identifier(key) => {
                text.push('.');
                text.push_str(key);
            }
            _ => return None,
        }
    }
    Some(text)
}

fn is_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !lowering::is_keyword(key)
}

/// `data["a"][0]`: a query for any path, whatever its keys contain.
fn query_text(path: &[PathSegment]) -> String {
    let mut text = String::from("data");
    for segment in path {
        match segment {
            PathSegment::Key(key) => {
                text.push('[');
                text.push_str(&serde_json::to_string(key).unwrap_or_default());
                text.push(']');
            }
            PathSegment::Index(index) => {
                text.push_str(&format!("[{index}]"));
            }
        }
    }
    text
}

/// Parses a query alone first, so that syntax errors are reported as parse errors, located in
/// the query (OPA names no file for it).
fn check_query_syntax(query: &str) -> Result<(), Error> {
    let parsed =
        regorus::Source::from_contents(String::new(), query.to_string()).and_then(|source| {
            regorus::unstable::Parser::new(&source)?
                .parse_user_query()
                .map(|_| ())
        });
    parsed.map_err(|e| {
        let mut problem = diagnostics::parse_problem(&e.to_string());
        if let Some(location) = &mut problem.location {
            location.file.clear();
        }
        Error::Compile(vec![problem])
    })
}

fn query_error(text: &str) -> Error {
    let problem = diagnostics::evaluation_problem(text);
    if problem.code == "eval_internal_error" {
        Error::Compile(vec![diagnostics::compile_problem(text)])
    } else if problem.code.starts_with("rego_") {
        Error::Compile(vec![problem])
    } else {
        Error::Evaluation(problem)
    }
}

fn bindings(value: &RegoValue) -> BTreeMap<String, Value> {
    let mut map = BTreeMap::new();
    if let Ok(entries) = value.as_object() {
        for (key, value) in entries.iter() {
            if let (Ok(name), Some(value)) = (key.as_string(), from_regorus(value)) {
                // OPA drops the generated `$_` wildcard variables from bindings.
                if !name.starts_with('$') {
                    map.insert(name.to_string(), value);
                }
            }
        }
    }
    map
}
