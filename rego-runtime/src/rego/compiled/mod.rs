//! The compiled evaluator: a policy's modules, already parsed and checked by regorus, are
//! compiled once per snapshot into rules whose names are resolved and whose bodies are
//! ordered, then evaluated on the project's own values with the builtin table called
//! directly. It answers every evaluation it can; anything it does not support (at compile
//! time) and every error (at run time) is left to regorus, which words errors as users see
//! them.
//!
//! - [`symbols`]: rule paths, packages and imports; [`scope`]: variables of one frame;
//! - [`needs`]: what a statement needs bound, to order bodies; [`negation`]: what OPA
//!   evaluates before a negation; [`lower`]: syntax to [`ir`];
//! - [`rules`]: rule definitions; [`machine`]: evaluation; [`syntax`]: walks over the
//!   syntax tree.

mod footprint;
mod ir;
mod lower;
mod machine;
mod needs;
mod negation;
mod rules;
mod scope;
mod symbols;
mod syntax;
mod tracer;

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use regorus::unstable::{Module, Ref};

use self::ir::{Expr, Program, RuleKind};
use self::lower::Lowerer;
use self::machine::{Flow, Frame, Machine, new_frame};
use self::scope::Scope;
use self::symbols::{ModuleNames, Symbols};
use crate::builtins::EvalContext;
use crate::engine::PathSegment;
use crate::{Limits, Problem, Value};

/// Why an evaluation stopped without an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Something this evaluator leaves to regorus, which words the error users see
    /// (a conflict, a strict builtin error, recursion).
    Fallback(&'static str),
    /// The evaluation ran past its deadline.
    Timeout,
    /// Queries nested deeper than the evaluator's stack allows (regorus would overflow it).
    TooDeep,
    /// An ad-hoc query OPA's compiler rejects (unsafe variables).
    Rejected(Vec<Problem>),
}

/// True when this evaluator evaluates calls of the builtin `name` itself: a builtin of the
/// table, or one it compiles (`print`, and `:=` and `=`, which OPA lists as `assign` and
/// `eq`). `rego.metadata.*` calls reach neither evaluator: lowering replaces them with their
/// values. A policy that calls anything else is left to regorus.
pub(crate) fn compiles_builtin(name: &str) -> bool {
    matches!(
        name,
        "print" | "assign" | "eq" | "rego.metadata.chain" | "rego.metadata.rule"
    ) || crate::builtins::lookup(name).is_some()
}

/// Why a policy or query is left to regorus: the construct this evaluator does not compile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unsupported(pub &'static str);

/// How many queries may run inside one another (scans within scans, rules within rules):
/// each costs stack, and past this an evaluation fails rather than overflow the stack of a
/// thread with [`crate::limits::EVALUATION_STACK_BYTES`] (measured for chains of rules:
/// ~2.5 KiB a level in a release build, ~9 KiB in a debug build).
pub(crate) const MAX_NESTING: u32 = 4_000;

/// What an evaluation answers and, when traced, what it traced (what `print` wrote is in
/// the evaluation's [`EvalState`]).
pub(super) struct Answer<T> {
    pub value: T,
    pub trace: crate::Trace,
}

/// A policy compiled for this evaluator, with the base data it evaluates against.
pub(super) struct CompiledPolicy {
    /// Shared by every data document the policy is evaluated against (see
    /// [`CompiledPolicy::with_data`]).
    code: Arc<Code>,
    data: Value,
}

/// What compiling gives, independent of base data.
struct Code {
    program: Program,
    footprint: crate::footprint::Footprint,
    symbols: Symbols,
    /// Documents asked for before, resolved: clients ask for the same few paths on every
    /// request, and resolving one looks each prefix up by name (rules and packages only, so
    /// the answer holds for any base data).
    documents: Mutex<Vec<(Vec<PathSegment>, Arc<Expr>)>>,
}

/// Why a policy is left to regorus when base data sits where a rule is defined.
const RULE_WHERE_DATA_IS: Unsupported = Unsupported("a rule where base data is");

/// Resolved document paths kept at most; past this the oldest is forgotten.
const DOCUMENTS_KEPT: usize = 16;

/// What compiling a policy gives.
pub(super) struct Compilation {
    /// The compiled policy, or the first construct this evaluator leaves to regorus.
    pub policy: Result<CompiledPolicy, Unsupported>,
    /// The variables OPA's compiler rejects as unsafe (found in every rule looked at, the
    /// policy compiled or not), in OPA's order: the policy must not be served if any.
    pub unsafe_variables: Vec<Problem>,
}

impl CompiledPolicy {
    /// Compiles `modules` (as regorus parsed them) against base `data`; `negating` names the
    /// files that import negated bodies (an import lowering removed).
    ///
    pub fn compile(
        modules: &[Ref<Module>],
        data: Value,
        negating: &HashSet<String>,
    ) -> Compilation {
        let mut unsafe_variables = Vec::new();
        let policy = Self::compile_rules(modules, data, negating, &mut unsafe_variables);
        sort_problems(&mut unsafe_variables);
        Compilation {
            policy,
            unsafe_variables,
        }
    }

    fn compile_rules(
        modules: &[Ref<Module>],
        data: Value,
        negating: &HashSet<String>,
        unsafe_variables: &mut Vec<Problem>,
    ) -> Result<CompiledPolicy, Unsupported> {
        let named = modules
            .iter()
            .map(|module| {
                let file = module.package.span.source.file();
                Ok((
                    ModuleNames::of(module, negating.contains(file))?,
                    module.as_ref(),
                ))
            })
            .collect::<Result<Vec<_>, Unsupported>>()?;
        let symbols = Symbols::collect(&named)?;
        check_data(&symbols, &data)?;
        let rules = rules::compile(&symbols, &named, unsafe_variables)?;
        let program = Program { rules }.packed();
        Ok(CompiledPolicy {
            code: Arc::new(Code {
                footprint: footprint::of(&program),
                program,
                symbols,
                documents: Mutex::default(),
            }),
            data,
        })
    }

    /// The first construct this evaluator does not compile in any rule (those rules, and
    /// decisions that reach them, are regorus's).
    pub fn first_unsupported(&self) -> Option<&'static str> {
        self.code
            .program
            .rules
            .iter()
            .find_map(|rule| rule.unsupported)
    }

    /// The same compiled rules against other base `data`: nothing is compiled again, and the
    /// check costs a lookup per rule path.
    ///
    /// # Errors
    /// [`Unsupported`] when `data` holds something where a rule is defined.
    pub fn with_data(&self, data: Value) -> Result<CompiledPolicy, Unsupported> {
        check_data(&self.code.symbols, &data)?;
        Ok(CompiledPolicy {
            code: self.code.clone(),
            data,
        })
    }

    /// True when compiling failed only because of base data ([`CompiledPolicy::with_data`]
    /// cannot help: there are no compiled rules to reuse).
    pub fn refused_for_data(why: Unsupported) -> bool {
        why == RULE_WHERE_DATA_IS
    }

    /// Asks for the program's memory to be brought into cache, ahead of evaluations that
    /// would otherwise miss on it node by node; returns at once.
    pub fn warm(&self) {
        self.code.footprint.prefetch();
    }

    /// The document at `data.<path>` for `input`, with builtins calling in `builtins`.
    ///
    /// # Errors
    /// [`Fault::Timeout`] past the limits' deadline, [`Fault::Fallback`] for what regorus must
    /// answer.
    pub fn document(
        &self,
        path: &[PathSegment],
        input: Option<Value>,
        limits: &Limits,
        traced: bool,
        builtins: EvalContext<'_>,
    ) -> Result<Answer<Option<Value>>, Fault> {
        let document = self.resolved(path)?;
        let mut machine = self.machine(input, limits, traced, builtins);
        let value = machine.eval(&document, &mut Frame::new())?;
        Ok(Answer {
            value,
            trace: machine.take_trace(),
        })
    }

    /// The expression of `data.<path>`, resolved once and remembered.
    fn resolved(&self, path: &[PathSegment]) -> Result<Arc<Expr>, Fault> {
        let documents = || {
            self.code
                .documents
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        };
        if let Some((_, expr)) = documents().iter().find(|(known, _)| known == path) {
            return Ok(expr.clone());
        }
        let expr = Arc::new(self.resolve(path)?);
        let mut documents = documents();
        if documents.len() >= DOCUMENTS_KEPT {
            documents.remove(0);
        }
        documents.push((path.to_vec(), expr.clone()));
        Ok(expr)
    }

    /// The expression of `data.<path>`: the rule or package it names, then the keys below.
    fn resolve(&self, path: &[PathSegment]) -> Result<Expr, Fault> {
        let mut names = Vec::new();
        let mut rest = path.iter();
        let (base, mut steps) = loop {
            if let Some(id) = self.code.symbols.rule(&names) {
                if self.code.program.rules[id].kind == RuleKind::Function {
                    return Err(Fault::Fallback("a function asked for as a document"));
                }
                break (Expr::Rule(id), Vec::new());
            }
            if !self.code.symbols.leads_to_rules(&names) {
                let steps = names
                    .iter()
                    .map(|n| Expr::Const(Value::string(n)))
                    .collect();
                break (Expr::Data, steps);
            }
            match rest.as_slice().first() {
                Some(PathSegment::Key(key)) => {
                    names.push(key.clone());
                    rest.next();
                }
                _ => {
                    break (
                        self.code.symbols.virtual_document(names.clone()),
                        Vec::new(),
                    );
                }
            }
        };
        steps.extend(rest.map(|segment| {
            Expr::Const(match segment {
                PathSegment::Key(key) => Value::string(key),
                PathSegment::Index(index) => Value::int(*index),
            })
        }));
        Ok(if steps.is_empty() {
            base
        } else {
            Expr::Index {
                base: Box::new(base),
                path: steps,
            }
        })
    }

    /// The solutions of an ad-hoc query, each the bindings of the query's named variables.
    ///
    /// # Errors
    /// As [`CompiledPolicy::document`]; [`Fault::Fallback`] also for a query this evaluator
    /// does not compile.
    pub fn query(
        &self,
        query: &regorus::unstable::Query,
        input: Option<Value>,
        limits: &Limits,
        traced: bool,
        builtins: EvalContext<'_>,
    ) -> Result<Answer<Vec<BTreeMap<String, Value>>>, Fault> {
        let names = ModuleNames::query();
        let mut lowerer = Lowerer::new(Scope::new(&self.code.symbols, &names));
        let compiled = lowerer.open_query(&query.stmts, &[]);
        if !lowerer.unsafe_variables.is_empty() {
            sort_problems(&mut lowerer.unsafe_variables);
            return Err(Fault::Rejected(lowerer.unsafe_variables));
        }
        let mut compiled = compiled.map_err(|Unsupported(why)| Fault::Fallback(why))?;
        if lowerer.scope.innermost().is_empty() && is_one_value(&query.stmts) {
            answer_with_value(&mut compiled);
        }
        let outputs: Vec<(String, u32)> = lowerer
            .scope
            .innermost()
            .into_iter()
            // As OPA, without the `$_` variables it generates.
            .filter(|(name, _)| !name.starts_with('$'))
            .collect();
        let mut frame = new_frame(lowerer.scope.frame_size());
        let mut machine = self.machine(input, limits, traced, builtins);
        let mut solutions = Vec::new();
        machine.run(&compiled, &mut frame, &mut |_, f| {
            let bindings = outputs
                .iter()
                .filter_map(|(name, slot)| Some((name.clone(), f[*slot as usize].clone()?)))
                .collect();
            solutions.push(bindings);
            Ok(Flow::Continue)
        })?;
        Ok(Answer {
            value: solutions,
            trace: machine.take_trace(),
        })
    }

    fn machine<'m>(
        &'m self,
        input: Option<Value>,
        limits: &Limits,
        traced: bool,
        builtins: EvalContext<'m>,
    ) -> Machine<'m> {
        let deadline = limits.deadline();
        Machine::new(
            &self.code.program,
            &self.data,
            input,
            builtins,
            deadline,
            traced,
        )
    }
}

/// Sorts problems as OPA sorts compile errors: by location, then message (OPA finds unsafe
/// variables in a set, whose order is no order).
fn sort_problems(problems: &mut [Problem]) {
    let at = |p: &Problem| p.location.as_ref().map(|l| (l.file.clone(), l.row, l.col));
    problems.sort_by(|a, b| at(a).cmp(&at(b)).then_with(|| a.message.cmp(&b.message)));
}

/// True for a query of one expression that is neither an assignment nor a unification.
fn is_one_value(stmts: &[regorus::unstable::LiteralStmt]) -> bool {
    matches!(stmts, [stmt] if matches!(&stmt.literal,
        regorus::unstable::Literal::Expr { expr, .. }
            if !matches!(expr.as_ref(), regorus::unstable::Expr::AssignExpr { .. })))
}

/// A query of one expression without variables (`1 == 2`, `data.p with input as {}`) has a
/// result whenever the expression is defined, `false` included, as OPA's query API answers;
/// a test would drop it.
fn answer_with_value(query: &mut ir::Query) {
    let steps = match query.steps.as_mut_slice() {
        [ir::Step::WithInput { body, .. }] => &mut body.steps,
        _ => &mut query.steps,
    };
    if let [step @ ir::Step::Test(_)] = steps.as_mut_slice() {
        let ir::Step::Test(expr) =
            std::mem::replace(step, ir::Step::Test(Expr::Const(Value::Null)))
        else {
            return;
        };
        *step = ir::Step::Bind {
            pattern: ir::Pattern::Any,
            value: expr,
        };
    }
}

/// Refuses base data that holds something where a rule is defined: this evaluator does not
/// merge rules with base data.
fn check_data(symbols: &Symbols, data: &Value) -> Result<(), Unsupported> {
    if symbols
        .rules
        .iter()
        .any(|(path, _)| overlaps_data(data, path))
    {
        return Err(RULE_WHERE_DATA_IS);
    }
    Ok(())
}

/// True when base data holds something at `path` or a non-object along it, where a rule
/// would have to merge with it.
fn overlaps_data(data: &Value, path: &[String]) -> bool {
    let mut at = data;
    for name in path {
        if at.as_object().is_none() {
            return true;
        }
        match at.get(name) {
            Some(next) => at = next,
            None => return false,
        }
    }
    true
}
