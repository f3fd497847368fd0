//! The Rego engine on regorus: modules are parsed, checked, analysed and compiled once per
//! policy set, and a data write swaps in the new data document without doing any of it again;
//! requests evaluate on the compiled evaluator or on pooled clones of regorus's engine.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::num::{NonZeroU32, NonZeroUsize};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, OnceLock};

use crossbeam_queue::ArrayQueue;
use regorus::PolicyLengthConfig;
use regorus::Value as RegoValue;
use regorus::utils::limits::ExecutionTimerConfig;

use super::compiled::{CompiledPolicy, Fault, Unsupported};
use super::convert::{self, Memo, from_regorus, to_regorus};
use super::lowering::Lowered;
use super::output_args::PolicyFunctions;
use super::{checks, declarations, diagnostics, extensions, lowering, rule_paths, safety};
use crate::Value;
use crate::builtins::{EvalContext, EvalState, Host};
use crate::decision_cache::{DecisionCache, NONDETERMINISTIC};
use crate::engine::{
    ConflictMessages, Engine, Entrypoint, Evaluation, Input, Outcome, PathSegment, PolicySet,
    Prepared, PreparedInput, RegoVersion, RuleInfo,
};
use crate::error::{Error, Location, Problem};
use crate::limits::Limits;
use crate::trace::Trace;

/// How many idle evaluators a prepared policy keeps; more requests at once clone the base.
const POOL_CAPACITY: usize = 64;

/// regorus's defaults (1 MiB files, 20,000 lines, 1,024 columns) refuse modules OPA loads
/// (bundle files may reach 1 GiB, and embedded keys or certificates make long lines).
const LENGTH_LIMITS: PolicyLengthConfig = PolicyLengthConfig {
    max_col: NonZeroU32::new(1 << 24).unwrap(),
    max_file_bytes: NonZeroUsize::new(1 << 30).unwrap(),
    max_lines: NonZeroUsize::new(1 << 24).unwrap(),
};

/// How many evaluation steps pass between two clock checks of the time limit.
const TIMER_CHECK_INTERVAL: u32 = 64;

/// How many decisions a prepared snapshot keeps for repeated inputs unless configured.
pub const DEFAULT_DECISION_CACHE_ENTRIES: usize = 10_000;

/// The regorus-backed Rego engine.
#[derive(Clone, Debug)]
pub struct RegoEngine {
    /// Decisions kept per snapshot for repeated inputs (0 turns the cache off); only
    /// deterministic policies use it (see [`crate::decision_cache`]).
    decision_cache_entries: usize,
    /// Whether policies are also compiled for the compiled evaluator (see
    /// [`super::compiled`]); off, every evaluation runs on regorus.
    compiled_evaluator: bool,
    /// Top-level data documents already converted to regorus values, by identity: policy sets
    /// that share a document (every Gatekeeper template sees the same inventory) share one
    /// converted copy instead of holding one each.
    converted_data: Arc<Mutex<Vec<(Value, RegoValue)>>>,
    /// Told the reason whenever the compiled evaluator leaves an evaluation to regorus.
    fallbacks: Option<FallbackHook>,
    /// What builtins are given by the host (`opa.runtime()`'s document, whether and where
    /// `http.send` sends requests), shared by every snapshot.
    host: Arc<Host>,
}

/// Called with the reason each time the compiled evaluator leaves an evaluation to regorus
/// (the gateway counts them in `gateway_rego_fallbacks_total{reason}`).
#[derive(Clone)]
pub struct FallbackHook(pub Arc<dyn Fn(&'static str) + Send + Sync>);

impl std::fmt::Debug for FallbackHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FallbackHook")
    }
}

impl Default for RegoEngine {
    fn default() -> Self {
        RegoEngine::new(DEFAULT_DECISION_CACHE_ENTRIES)
    }
}

impl RegoEngine {
    /// An engine whose snapshots keep up to `decision_cache_entries` decisions.
    pub fn new(decision_cache_entries: usize) -> RegoEngine {
        RegoEngine {
            decision_cache_entries,
            compiled_evaluator: true,
            converted_data: Arc::default(),
            fallbacks: None,
            host: Arc::default(),
        }
    }

    /// This engine, reporting every evaluation its compiled evaluator leaves to regorus.
    pub fn with_fallback_hook(mut self, hook: FallbackHook) -> RegoEngine {
        self.fallbacks = Some(hook);
        self
    }

    /// This engine with `host` as what builtins are given by the host (by default,
    /// [`Host::default`]).
    pub fn with_host(mut self, host: Host) -> RegoEngine {
        self.host = Arc::new(host);
        self
    }

    /// This engine with the compiled evaluator on or off (on by default).
    pub fn with_compiled_evaluator(mut self, on: bool) -> RegoEngine {
        self.compiled_evaluator = on;
        self
    }

    /// `data` in regorus's form, reusing conversions of top-level documents shared by
    /// identity with earlier policy sets.
    fn convert_data(&self, data: &Value) -> RegoValue {
        let Some(entries) = data.as_object() else {
            return to_regorus(data);
        };
        let mut memo = self
            .converted_data
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        // Forget documents nobody else holds any more; their addresses could be reused.
        memo.retain(|(value, _)| shared_elsewhere(value));
        let mut converted = BTreeMap::new();
        for (key, value) in entries.iter() {
            let hit = memo
                .iter()
                .find(|(known, _)| same_allocation(known, value))
                .map(|(_, rego)| rego.clone());
            let rego = hit.unwrap_or_else(|| {
                let rego = to_regorus(value);
                if is_large(value) {
                    memo.push((value.clone(), rego.clone()));
                }
                rego
            });
            converted.insert(to_regorus(key), rego);
        }
        RegoValue::from(converted)
    }
}

/// True when two values are the same allocation (cheap clones of one document).
fn same_allocation(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => Arc::ptr_eq(x, y),
        (Value::Array(x), Value::Array(y)) => Arc::ptr_eq(x, y),
        _ => false,
    }
}

/// True when something besides the memo still holds the document.
fn shared_elsewhere(value: &Value) -> bool {
    match value {
        Value::Object(x) => Arc::strong_count(x) > 1,
        Value::Array(x) => Arc::strong_count(x) > 1,
        _ => false,
    }
}

/// Only documents worth remembering: each memo entry costs a comparison per prepare. Size is
/// counted through nesting (Gatekeeper's inventory has two keys and thousands of objects).
fn is_large(value: &Value) -> bool {
    const LARGE: usize = 64;
    fn count(value: &Value, seen: &mut usize) {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Object(entries) => Box::new(entries.values()),
            Value::Array(items) => Box::new(items.iter()),
            Value::Set(items) => Box::new(items.iter()),
            _ => return,
        };
        for child in children {
            *seen += 1;
            if *seen >= LARGE {
                return;
            }
            count(child, seen);
        }
    }
    let mut seen = 0;
    count(value, &mut seen);
    seen >= LARGE
}

impl Engine for RegoEngine {
    fn prepare(&self, policies: &PolicySet) -> Result<Arc<dyn Prepared>, Error> {
        let data = self.convert_data(&policies.data);
        let mut prepared = PreparedRego::new(policies, data, self.decision_cache_entries)?;
        prepared.host = self.host.clone();
        let negating: HashSet<String> = prepared
            .modules
            .lowered
            .iter()
            .filter(|(_, lowered)| lowered.negates_whole_expressions)
            .map(|(file, _)| file.clone())
            .collect();
        let modules = prepared.source.engine.clone().get_modules().clone();
        // Compiled even when the compiled evaluator is off: compiling finds the unsafe
        // variables regorus does not report.
        let compilation = CompiledPolicy::compile(&modules, policies.data.clone(), &negating);
        if !compilation.unsafe_variables.is_empty() {
            return Err(prepared.remap_error(Error::Compile(compilation.unsafe_variables)));
        }
        prepared.compiled = if self.compiled_evaluator {
            // Turned off, regorus answers by choice: nothing falls back.
            prepared.fallbacks = self.fallbacks.clone();
            compilation.policy
        } else {
            Err(Unsupported("the compiled evaluator is off"))
        };
        if let Err(Unsupported(why)) = &prepared.compiled {
            tracing::debug!("policy left to regorus: {why}");
        }
        Ok(Arc::new(prepared))
    }

    fn prepare_input(&self, value: &Value) -> PreparedInput {
        PreparedInput {
            value: value.clone(),
            engine_form: Arc::new(LazyInput::default()),
        }
    }
}

/// An input converted once for many evaluations, with the memo of its containers, so that
/// builtins given parts of it convert them back for free.
struct ConvertedInput {
    value: RegoValue,
    memo: Arc<Memo>,
}

/// The regorus form of a prepared input, converted when a first evaluation falls to regorus
/// (the compiled evaluator reads the input as it is).
#[derive(Default)]
struct LazyInput(std::sync::OnceLock<ConvertedInput>);

impl ConvertedInput {
    /// This engine's form of `prepared`, if this engine prepared it.
    fn of(prepared: &PreparedInput) -> Option<&ConvertedInput> {
        let lazy: &LazyInput = prepared.engine_form.downcast_ref()?;
        Some(lazy.0.get_or_init(|| {
            let mut memo = Memo::default();
            let value = memo.convert(&prepared.value);
            ConvertedInput {
                value,
                memo: Arc::new(memo),
            }
        }))
    }
}

/// The error of an evaluation that ran out of time, as OPA words it.
fn cancelled() -> Error {
    Error::Evaluation(Problem {
        code: "eval_cancel_error",
        message: "caller cancelled query execution".to_string(),
        location: None,
    })
}

/// A regorus engine ready to evaluate, with the builtin table installed for it alone.
struct PooledEngine {
    engine: regorus::Engine,
    /// Where its builtins find the evaluation running on it.
    slot: Arc<extensions::Slot>,
}

/// A snapshot's modules and data: the compiled evaluator's policy, and a regorus engine that
/// has run its analysis, for what the compiled evaluator leaves to regorus.
pub struct PreparedRego {
    /// What preparing the modules gave, shared with every [`Prepared::with_data`] of them.
    modules: Arc<PreparedModules>,
    /// The base data document.
    data: Value,
    /// regorus's engine on `data`, ready to clone per evaluation: built with the modules, or
    /// for [`Prepared::with_data`] when an evaluation first falls to regorus (the compiled
    /// evaluator reads `data` as it is, so a data write that regorus never reads costs no
    /// conversion). An error is the reason every regorus evaluation fails. Without the
    /// builtin table: each pooled clone installs it with a slot of its own, as regorus's
    /// extensions are shared by the clones of an engine.
    base: OnceLock<Result<regorus::Engine, String>>,
    /// The latest analysed regorus engine of these modules, with the data it holds: `base` is
    /// built from it, converting only the parts of `data` that writes changed since.
    source: Arc<RegorusSource>,
    /// Idle clones of `base` with the table installed, made when regorus first evaluates
    /// (like the decision cache, not allocated for a data document no request reads before
    /// the next write).
    idle: OnceLock<ArrayQueue<PooledEngine>>,
    /// Decisions for repeated inputs; `None` when off or the policy is nondeterministic.
    decisions: OnceLock<Option<DecisionCache>>,
    /// The policy for the compiled evaluator, or why it has none (regorus evaluates all).
    compiled: Result<CompiledPolicy, Unsupported>,
    /// Told of each evaluation left to regorus; `None` when the compiled evaluator is off.
    fallbacks: Option<FallbackHook>,
    /// The engine's host, given to every builtin call of both evaluators.
    host: Arc<Host>,
}

/// An analysed regorus engine and the data document it holds, in the project's form.
struct RegorusSource {
    engine: regorus::Engine,
    data: Value,
}

/// What preparing modules gives, whatever the data they are evaluated against.
struct PreparedModules {
    /// Per module file, how lowering moved columns, to map locations back.
    lowered: HashMap<String, Lowered>,
    rules: Vec<RuleInfo>,
    /// Every rule and function definition, to name the rule in conflict errors.
    definitions: Vec<rule_paths::Definition>,
    /// Every rule path as `data.a.b` text; exact paths evaluate through the faster rule API.
    rule_paths: HashSet<String>,
    /// Decisions each data document keeps; 0 when the cache is off or the policy is
    /// nondeterministic.
    decision_cache_entries: usize,
    conflict_messages: ConflictMessages,
    /// Whether ad-hoc queries are Rego v1: as the last module's version, which is what
    /// regorus's engine is left set to.
    queries_v1: bool,
}

impl PreparedRego {
    /// Parses every module, loads the data and runs regorus's analysis.
    ///
    /// # Errors
    /// Every parse problem at once, or the first analysis problem.
    pub fn new(
        policies: &PolicySet,
        data: RegoValue,
        decision_cache_entries: usize,
    ) -> Result<PreparedRego, Error> {
        let mut engine = regorus::Engine::new();
        engine.set_policy_length_config(LENGTH_LIMITS);
        engine.set_gather_prints(true);

        let mut problems = Vec::new();
        let mut lowered_files = HashMap::new();
        let functions = PolicyFunctions::of(policies.modules.iter().map(|m| &*m.source));
        for module in &policies.modules {
            engine.set_rego_v0(module.rego_version == RegoVersion::V0);
            let lowered = lowering::lower_in(&module.source, module.rego_version, &functions);
            if let Some(error) = &lowered.annotation_error {
                problems.push(Problem {
                    code: "rego_parse_error",
                    message: error.message.clone(),
                    location: Some(Location {
                        file: module.file.clone(),
                        row: error.row,
                        col: 1,
                    }),
                });
                continue;
            }
            if let Some(error) = &lowered.rejection {
                problems.push(Problem {
                    code: error.code,
                    message: error.message.clone(),
                    location: Some(Location {
                        file: module.file.clone(),
                        row: error.row,
                        col: error.col,
                    }),
                });
                continue;
            }
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
        if problems.is_empty() {
            // Before regorus's analysis, which prints to stderr on a body it cannot order.
            problems.extend(safety::unsafe_variables(engine.get_modules()));
        }
        if problems.is_empty() {
            // OPA's type checker runs only on modules that passed the stages before it.
            problems.extend(super::typecheck::check(&mut engine));
        }
        if !problems.is_empty() {
            return Err(Error::Compile(remap(problems)));
        }

        engine.add_data(data).map_err(|e| {
            Error::Compile(remap(vec![diagnostics::compile_problem(&e.to_string())]))
        })?;

        // regorus analyses modules on the first evaluation; do it now, off the request path,
        // so that compile errors surface at load time as they do in OPA.
        engine.eval_query("true".to_string(), false).map_err(|e| {
            Error::Compile(remap(vec![diagnostics::compile_problem(&e.to_string())]))
        })?;
        let _ = engine.take_prints();

        let deterministic = !checks::calls_any(&mut engine, &NONDETERMINISTIC);
        let mut definitions = rule_paths::definitions(&mut engine);
        for definition in &mut definitions {
            if let Some(lowered) = lowered_files.get(&definition.location.file) {
                definition.location.col =
                    lowered.original_col(definition.location.row, definition.location.col);
            }
        }
        let rules: Vec<RuleInfo> = definitions
            .iter()
            .filter(|d| !d.function)
            .map(|d| RuleInfo {
                path: d.path.clone(),
                location: d.location.clone(),
            })
            .collect();
        let rule_paths = rules
            .iter()
            .filter_map(|rule| {
                let segments: Vec<PathSegment> =
                    rule.path.iter().cloned().map(PathSegment::Key).collect();
                rule_text(&segments)
            })
            .collect();
        let modules = PreparedModules {
            lowered: lowered_files,
            rules,
            definitions,
            rule_paths,
            decision_cache_entries: if deterministic {
                decision_cache_entries
            } else {
                0
            },
            conflict_messages: policies.conflict_messages,
            queries_v1: policies
                .modules
                .last()
                .is_none_or(|m| m.rego_version == RegoVersion::V1),
        };
        Ok(PreparedRego {
            data: policies.data.clone(),
            base: OnceLock::from(Ok(engine.clone())),
            source: Arc::new(RegorusSource {
                engine,
                data: policies.data.clone(),
            }),
            idle: OnceLock::new(),
            decisions: OnceLock::new(),
            compiled: Err(Unsupported("not compiled")),
            fallbacks: None,
            host: Arc::default(),
            modules: Arc::new(modules),
        })
    }

    /// regorus's engine on this data, analysed; built on first use after
    /// [`Prepared::with_data`].
    ///
    /// # Errors
    /// [`Error::Internal`] when regorus refused the data (it accepted the same modules
    /// before, so this is not the policy's fault).
    fn base(&self) -> Result<&regorus::Engine, Error> {
        let base = self.base.get_or_init(|| {
            let source = &self.source;
            let data =
                convert::to_regorus_reusing(&self.data, &source.data, &source.engine.get_data());
            let mut engine = source.engine.clone();
            engine.clear_data();
            engine.add_data(data).map_err(|e| e.to_string())?;
            // Data changes make regorus analyse the modules again: once, here, as at prepare.
            engine
                .eval_query("true".to_string(), false)
                .map_err(|e| e.to_string())?;
            let _ = engine.take_prints();
            Ok(engine)
        });
        base.as_ref()
            .map_err(|e| Error::Internal(format!("regorus refused the data: {e}")))
    }

    /// The evaluation on the compiled evaluator, its builtins calling in `state`, or why
    /// regorus must answer instead.
    fn evaluate_compiled(
        &self,
        entrypoint: Entrypoint<'_>,
        input: Input<'_>,
        limits: &Limits,
        traced: bool,
        state: &mut EvalState,
    ) -> Result<Result<(Evaluation, Trace), Error>, &'static str> {
        let compiled = self.compiled.as_ref().map_err(|Unsupported(why)| *why)?;
        let input = match input {
            Input::Undefined => None,
            // Invalid JSON is regorus's to report.
            Input::Json(text) => {
                Some(Value::from_json(text).map_err(|_| "input that is not JSON")?)
            }
            Input::Value(value) => Some(value.clone()),
            Input::Prepared(prepared) => Some(prepared.value.clone()),
        };
        let builtins = EvalContext::new(&self.host, state);
        let answer = match entrypoint {
            Entrypoint::Data(path) => compiled
                .document(path, input, limits, traced, builtins)
                .map(|answer| (Outcome::Document(answer.value), answer.trace)),
            Entrypoint::Query(text) => {
                let query = lowering::lower_query(text, self.query_version())
                    .map_err(|_| "a query the lowering pass refuses")?;
                let query = parse_query(&query, self.modules.queries_v1)
                    .ok_or("a query that does not parse")?;
                compiled
                    .query(&query, input, limits, traced, builtins)
                    .map(|answer| (Outcome::Bindings(answer.value), answer.trace))
            }
        };
        match answer {
            Ok((outcome, trace)) => {
                let prints = state.take_prints();
                Ok(Ok((Evaluation { outcome, prints }, trace)))
            }
            Err(Fault::Timeout) => Ok(Err(cancelled())),
            Err(Fault::TooDeep) => Ok(Err(Error::Evaluation(Problem {
                code: "eval_internal_error",
                message: format!(
                    "the policy nests queries deeper than {} levels",
                    super::compiled::MAX_NESTING
                ),
                location: None,
            }))),
            Err(Fault::Rejected(problems)) => Ok(Err(Error::Compile(problems))),
            Err(Fault::Fallback(why)) => Err(why),
        }
    }

    /// Counts and logs an evaluation the compiled evaluator left to regorus.
    fn report_fallback(&self, entrypoint: Entrypoint<'_>, reason: &'static str) {
        if tracing::enabled!(tracing::Level::DEBUG) {
            let policy = match entrypoint {
                Entrypoint::Data(path) => rule_text(path).unwrap_or_else(|| "data".to_string()),
                Entrypoint::Query(_) => "an ad-hoc query".to_string(),
            };
            tracing::debug!(policy, reason, "evaluation left to regorus");
        }
        if let Some(FallbackHook(hook)) = &self.fallbacks {
            hook(reason);
        }
    }

    fn run(
        &self,
        engine: &mut regorus::Engine,
        entrypoint: Entrypoint<'_>,
        input: Input<'_>,
        limits: &Limits,
    ) -> Result<Outcome, Error> {
        engine.set_strict_builtin_errors(limits.strict_builtin_errors);
        // What the compiled evaluator left of the request's budget, not a fresh timeout.
        let remaining = limits.remaining();
        if remaining.is_zero() {
            return Err(cancelled());
        }
        engine.set_execution_timer_config(ExecutionTimerConfig {
            limit: remaining,
            check_interval: NonZeroU32::new(TIMER_CHECK_INTERVAL).unwrap_or(NonZeroU32::MIN),
        });
        engine.set_input(match input {
            Input::Undefined => RegoValue::Undefined,
            Input::Json(text) => {
                RegoValue::from_json_str(text).map_err(|e| Error::InvalidInput(e.to_string()))?
            }
            Input::Value(value) => to_regorus(value),
            Input::Prepared(prepared) => match ConvertedInput::of(prepared) {
                Some(converted) => converted.value.clone(),
                None => to_regorus(&prepared.value),
            },
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
                if let Some(rule) = rule.filter(|r| self.modules.rule_paths.contains(r)) {
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
                let query = lowering::lower_query(query, self.query_version()).map_err(|e| {
                    Error::Compile(vec![Problem {
                        code: e.code,
                        message: e.message,
                        location: Some(Location {
                            file: String::new(),
                            row: e.row,
                            col: e.col,
                        }),
                    }])
                })?;
                check_query_syntax(&query, self.modules.queries_v1)?;
                let parsed = parse_query(&query, self.modules.queries_v1);
                // Before regorus's analysis, which prints to stderr on a query it cannot order.
                let unsafe_variables = parsed.as_deref().map(safety::unsafe_in_query);
                if let Some(problems) = unsafe_variables.filter(|p| !p.is_empty()) {
                    return Err(Error::Compile(problems));
                }
                let one_expression = parsed.is_none_or(|q| q.stmts.len() == 1);
                let results = engine
                    .eval_query(query, false)
                    .map_err(|e| query_error(&e.to_string()))?;
                // regorus answers a solution that stopped at a false expression; in OPA only
                // a query of one expression answers with a false value.
                let solutions = results
                    .result
                    .iter()
                    .filter(|solution| {
                        one_expression
                            || solution
                                .expressions
                                .iter()
                                .all(|e| e.value != RegoValue::Bool(false))
                    })
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
        let limits = &limits.started();
        let decisions = self
            .decisions
            .get_or_init(|| DecisionCache::new(self.modules.decision_cache_entries));
        let cache_key = match (decisions, entrypoint, input) {
            (Some(_), Entrypoint::Data(path), Input::Json(text)) => rule_text(path)
                .and_then(|rule| DecisionCache::key(&rule, limits.strict_builtin_errors, text)),
            _ => None,
        };
        if let (Some(cache), Some(key)) = (decisions, &cache_key)
            && let Some(decision) = cache.get(key)
        {
            return Ok(Evaluation {
                outcome: Outcome::Document(decision),
                prints: Vec::new(),
            });
        }
        let (evaluation, _) = self.evaluate_uncached(entrypoint, input, limits, false)?;
        if let (Some(cache), Some(key), Outcome::Document(decision)) =
            (decisions, cache_key, &evaluation.outcome)
        {
            cache.put(key, decision.clone());
        }
        Ok(evaluation)
    }

    /// Never from the decision cache: the notes come from evaluating.
    fn evaluate_traced(
        &self,
        entrypoint: Entrypoint<'_>,
        input: Input<'_>,
        limits: &Limits,
    ) -> Result<(Evaluation, Trace), Error> {
        self.evaluate_uncached(entrypoint, input, &limits.started(), true)
    }

    fn with_data(&self, data: Value) -> Option<Arc<dyn Prepared>> {
        let compiled = match &self.compiled {
            Ok(compiled) => compiled.with_data(data.clone()),
            // The modules were never compiled: only preparing them again can.
            Err(why) if CompiledPolicy::refused_for_data(*why) => return None,
            Err(why) => Err(*why),
        };
        // The newest converted engine: this one's, if an evaluation built it.
        let source = match self.base.get() {
            Some(Ok(engine)) => Arc::new(RegorusSource {
                engine: engine.clone(),
                data: self.data.clone(),
            }),
            _ => self.source.clone(),
        };
        Some(Arc::new(PreparedRego {
            modules: self.modules.clone(),
            data,
            base: OnceLock::new(),
            source,
            idle: OnceLock::new(),
            decisions: OnceLock::new(),
            compiled,
            fallbacks: self.fallbacks.clone(),
            host: self.host.clone(),
        }))
    }

    fn rules(&self) -> &[RuleInfo] {
        &self.modules.rules
    }

    fn slow_path_reason(&self) -> Option<&'static str> {
        match &self.compiled {
            Ok(compiled) => compiled.first_unsupported(),
            Err(Unsupported(why)) => Some(why),
        }
    }

    fn warm(&self) {
        if let Ok(compiled) = &self.compiled {
            compiled.warm();
        }
    }
}

impl PreparedRego {
    /// OPA's compile-time checks of a query's local declarations, which neither evaluator
    /// makes (a query that does not parse is left to them, to report as they do).
    fn check_declarations(&self, text: &str) -> Result<(), Error> {
        let Ok(lowered) = lowering::lower_query(text, self.query_version()) else {
            return Ok(());
        };
        let Some(query) = parse_query(&lowered, self.modules.queries_v1) else {
            return Ok(());
        };
        let problems = declarations::check_query(&query);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Compile(problems))
        }
    }

    /// Evaluates on the compiled evaluator, or on regorus when it cannot; `traced` also
    /// records the trace (regorus records only the notes).
    fn evaluate_uncached(
        &self,
        entrypoint: Entrypoint<'_>,
        input: Input<'_>,
        limits: &Limits,
        traced: bool,
    ) -> Result<(Evaluation, Trace), Error> {
        if let Entrypoint::Query(text) = entrypoint {
            self.check_declarations(text)?;
        }
        // One state for the whole evaluation: when regorus takes over from the compiled
        // evaluator, builtins still see the same clock reading and kept answers.
        let mut state = EvalState::new(limits.strict_builtin_errors);
        // A panic in the compiled evaluator (a bug) must not cost the request: regorus answers.
        match catch_unwind(AssertUnwindSafe(|| {
            self.evaluate_compiled(entrypoint, input, limits, traced, &mut state)
        })) {
            Ok(Ok(evaluation)) => return evaluation,
            Ok(Err(reason)) => self.report_fallback(entrypoint, reason),
            Err(panic) => {
                tracing::warn!(
                    "the compiled evaluator panicked, regorus evaluates instead: {}",
                    panic_message(&*panic)
                );
                self.report_fallback(entrypoint, "a panic in the compiled evaluator");
            }
        }
        // regorus evaluates from the start: what the compiled evaluator printed is dropped,
        // and the notes are regorus's (the compiled evaluator records its own with locations).
        state.take_prints();
        state.collect_notes(traced);
        let idle = self.idle.get_or_init(|| ArrayQueue::new(POOL_CAPACITY));
        let mut pooled = match idle.pop() {
            Some(pooled) => pooled,
            None => self.pooled_engine()?,
        };
        let input_memo = match input {
            Input::Prepared(prepared) => ConvertedInput::of(prepared).map(|c| c.memo.clone()),
            _ => None,
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let PooledEngine { engine, slot } = &mut pooled;
            slot.run(state, || {
                convert::with_memo(input_memo, || self.run(engine, entrypoint, input, limits))
            })
        }));
        match outcome {
            Ok((outcome, mut state)) => {
                let mut prints = state.take_prints();
                prints.extend(pooled.engine.take_prints().unwrap_or_default());
                // A full pool means many requests ran at once; the extra clone is dropped.
                let _ = idle.push(pooled);
                let evaluation = Evaluation {
                    outcome: outcome.map_err(|e| self.remap_error(e))?,
                    prints,
                };
                let mut trace = Trace::default();
                if traced {
                    trace = Trace::started();
                    for note in state.take_notes() {
                        trace.note_at_top(note);
                    }
                }
                Ok((evaluation, trace))
            }
            // The engine that panicked is dropped: its state is unknown.
            Err(panic) => Err(Error::Internal(panic_message(&*panic))),
        }
    }
}

impl PreparedRego {
    /// The Rego version ad-hoc queries are parsed with.
    fn query_version(&self) -> RegoVersion {
        if self.modules.queries_v1 {
            RegoVersion::V1
        } else {
            RegoVersion::V0
        }
    }

    /// A clone of the base engine with the builtin table installed, calling in a slot of
    /// its own. Costs one extension per table builtin; made when the pool is empty.
    fn pooled_engine(&self) -> Result<PooledEngine, Error> {
        let mut engine = self.base()?.clone();
        let slot = extensions::install(&mut engine, self.host.clone())
            .map_err(|e| Error::Internal(e.to_string()))?;
        Ok(PooledEngine { engine, slot })
    }

    /// Moves an error's locations from lowered columns back to the user's source.
    fn remap_error(&self, error: Error) -> Error {
        match error {
            Error::Compile(problems) => Error::Compile(
                problems
                    .into_iter()
                    .map(|p| remap_problem(&self.modules.lowered, p))
                    .collect(),
            ),
            Error::Evaluation(problem) => {
                let called = self.called_function(&problem);
                let problem = remap_problem(&self.modules.lowered, problem);
                Error::Evaluation(self.name_conflict(problem, called))
            }
            other => other,
        }
    }

    /// OPA names the rule in a conflict: `rule data.p produced conflicting values`,
    /// `function data.f produced conflicting values for the same inputs`; a rule with a
    /// dynamic key (a partial object) conflicts as `object keys must be unique`.
    fn name_conflict(&self, mut problem: Problem, called: Option<String>) -> Problem {
        let Some(location) = &problem.location else {
            return problem;
        };
        if problem.message == diagnostics::FUNCTION_CONFLICT
            && self.modules.conflict_messages == ConflictMessages::Current
            && let Some(path) = called
        {
            problem.message =
                format!("function {path} produced conflicting values for the same inputs");
            return problem;
        }
        let defined_here = self
            .modules
            .definitions
            .iter()
            .find(|d| d.location.file == location.file && d.location.row == location.row);
        let Some(definition) = defined_here else {
            return problem;
        };
        let path = format!("data.{}", definition.path.join("."));
        if self.modules.conflict_messages == ConflictMessages::Gatekeeper {
            if problem.message == diagnostics::COMPLETE_RULE_CONFLICT && definition.static_head {
                let first = self
                    .modules
                    .definitions
                    .iter()
                    .find(|d| d.path == definition.path && d.location.file == location.file);
                problem.location = first.map(|d| d.location.clone());
            }
            return problem;
        }
        if problem.message == diagnostics::COMPLETE_RULE_CONFLICT {
            problem.message = if definition.static_head {
                format!("rule {path} produced conflicting values")
            } else {
                diagnostics::OBJECT_KEYS_MUST_BE_UNIQUE.to_string()
            };
        } else if problem.message == diagnostics::FUNCTION_CONFLICT {
            problem.message =
                format!("function {path} produced conflicting values for the same inputs");
        }
        problem
    }
}

impl PreparedRego {
    /// The function a function conflict is about, when regorus locates it at the call
    /// (`p if f(1)`) rather than in the function: the first policy function called on that
    /// line.
    fn called_function(&self, problem: &Problem) -> Option<String> {
        if problem.message != diagnostics::FUNCTION_CONFLICT {
            return None;
        }
        let location = problem.location.as_ref()?;
        let line = self
            .modules
            .lowered
            .get(&location.file)?
            .text
            .lines()
            .nth(usize::try_from(location.row).ok()?.checked_sub(1)?)?;
        // The package of the rule the line belongs to: the last definition above it.
        let caller = self
            .modules
            .definitions
            .iter()
            .filter(|d| d.location.file == location.file && d.location.row <= location.row)
            .max_by_key(|d| d.location.row)?;
        let package = &caller.path[..caller.path.len().saturating_sub(1)];
        call_names(line).into_iter().find_map(|name| {
            let wanted: Vec<&str> = name
                .strip_prefix("data.")
                .unwrap_or(&name)
                .split('.')
                .collect();
            self.modules
                .definitions
                .iter()
                .filter(|d| d.function)
                .find(|d| {
                    let path = d.path.iter().map(String::as_str);
                    // `data.a.f` is the full path; `f` names a function of the caller's package.
                    path.clone().eq(wanted.iter().copied())
                        || (d.path.len() == package.len() + wanted.len()
                            && d.path[..package.len()] == *package
                            && path.skip(package.len()).eq(wanted.iter().copied()))
                })
                .map(|d| format!("data.{}", d.path.join(".")))
        })
    }
}

/// Every `name(` or `a.b.name(` on a line, in order.
fn call_names(line: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut current = String::new();
    for c in line.chars() {
        if c.is_alphanumeric() || matches!(c, '_' | '.') {
            current.push(c);
            continue;
        }
        if c == '(' && !current.is_empty() {
            names.push(current.clone());
        }
        current.clear();
    }
    names
}

fn remap_problem(lowered: &HashMap<String, Lowered>, mut problem: Problem) -> Problem {
    if let Some(location) = &mut problem.location
        && let Some(map) = lowered.get(&location.file)
    {
        location.col = map.original_col(location.row, location.col);
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

/// A parser for a query, Rego v1 unless `v1` is false.
fn query_parser(
    source: &regorus::Source,
    v1: bool,
) -> anyhow::Result<regorus::unstable::Parser<'_>> {
    let mut parser = regorus::unstable::Parser::new(source)?;
    parser.set_max_col(LENGTH_LIMITS.max_col);
    if v1 {
        parser.enable_rego_v1()?;
    }
    Ok(parser)
}

fn query_source(query: &str) -> anyhow::Result<regorus::Source> {
    regorus::Source::from_contents_with_limits(
        String::new(),
        query.to_string(),
        LENGTH_LIMITS.max_file_bytes,
        LENGTH_LIMITS.max_lines,
    )
}

/// A query's syntax tree, when it parses.
fn parse_query(query: &str, v1: bool) -> Option<regorus::unstable::Ref<regorus::unstable::Query>> {
    let source = query_source(query).ok()?;
    query_parser(&source, v1).ok()?.parse_user_query().ok()
}

/// Parses a query alone first, so that syntax errors are reported as parse errors, located in
/// the query (OPA names no file for it).
fn check_query_syntax(query: &str, v1: bool) -> Result<(), Error> {
    let parsed = query_source(query)
        .and_then(|source| query_parser(&source, v1)?.parse_user_query().map(|_| ()));
    parsed.map_err(|e| {
        let mut problem = diagnostics::parse_problem(&e.to_string());
        if let Some(location) = &mut problem.location {
            location.file.clear();
        }
        Error::Compile(vec![problem])
    })
}

fn query_error(text: &str) -> Error {
    if diagnostics::is_analysis_error(text) {
        return Error::Compile(vec![diagnostics::compile_problem(text)]);
    }
    let problem = diagnostics::evaluation_problem(text);
    if problem.code.starts_with("rego_") {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_nested_document_is_converted_once_for_every_prepare() {
        // Gatekeeper's inventory: two keys on top, many objects below; every referential
        // template is prepared with it and must share one converted copy.
        let names: Vec<String> = (0..100)
            .map(|i| format!(r#""ns{i}": {{"metadata": {{"name": "ns{i}"}}}}"#))
            .collect();
        let inventory = Value::from_json(&format!(
            r#"{{"cluster": {{"v1": {{"Namespace": {{{}}}}}}}, "namespace": {{}}}}"#,
            names.join(", ")
        ))
        .expect("json");
        let engine = RegoEngine::default();
        let data = |constraint: &str| {
            Value::object([
                ("inventory", inventory.clone()),
                ("constraints", Value::string(constraint)),
            ])
        };
        let first = engine.convert_data(&data("a"));
        let second = engine.convert_data(&data("b"));
        let (RegoValue::Object(a), RegoValue::Object(b)) =
            (&first["inventory"], &second["inventory"])
        else {
            panic!("inventory is an object");
        };
        assert!(std::ptr::eq(&**a, &**b));
        assert_ne!(first["constraints"], second["constraints"]);
    }
}
