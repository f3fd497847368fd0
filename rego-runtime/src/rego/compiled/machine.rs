//! Runs a compiled program: queries by backtracking (each step calls the rest of the query
//! once per way it succeeds), rules evaluated once per input and remembered.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use smallvec::SmallVec;

use super::ir::{
    Body, Compare, Expr, Pattern, Program, Query, Rule, RuleId, RuleKind, Step, TraceCall,
};
use super::tracer::{self, Tracer};
use super::{Fault, MAX_NESTING};
use crate::builtins::{self, Builtin, BuiltinError, EvalContext};
use crate::trace::Trace;
use crate::{Number, Value};

pub(super) type Eval<T> = Result<T, Fault>;

/// Whether a query should look for more solutions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Flow {
    Continue,
    Stop,
}

/// The variables of one rule body, function call or query: most have a few, kept on the
/// stack, as a heap allocation per body run costs more than the body's own work.
pub(super) type Frame = SmallVec<[Option<Value>; FRAME_INLINE_SLOTS]>;

/// Variables a frame holds without allocating.
const FRAME_INLINE_SLOTS: usize = 8;

/// A frame of `size` unbound variables.
pub(super) fn new_frame(size: u32) -> Frame {
    smallvec::smallvec![None; size as usize]
}

/// What the rest of a query does with one solution.
pub(super) type Then<'k, 'p> = dyn FnMut(&mut Machine<'p>, &mut Frame) -> Eval<Flow> + 'k;

/// How deep policy functions may call each other: Rego has no recursion (compiling rejects
/// it), so this only guards the evaluator's stack.
const MAX_CALL_DEPTH: u32 = 512;

/// Why a partial object rule has no value: two definitions give one key different values.
const OBJECT_KEYS_CONFLICT: &str = "object keys must be unique";

/// Builtin calls with at most this many operands evaluate them into an array on the stack.
const FEW_OPERANDS: usize = 4;

/// How many steps run between two looks at the clock.
const STEPS_PER_CLOCK_CHECK: u32 = 256;

#[derive(Clone)]
enum Cached {
    Pending,
    Running,
    Done(Option<Value>),
    /// A function's results by arguments (see [`Machine::call_function`]).
    Calls(BTreeMap<Vec<Value>, Option<Value>>),
}

/// An input and the rule values computed for it (`with input as` starts a new one).
struct Context {
    input: Option<Value>,
    rules: Vec<Cached>,
}

/// One evaluation.
pub(super) struct Machine<'p> {
    program: &'p Program,
    data: &'p Value,
    contexts: Vec<Context>,
    current: usize,
    /// What builtins share: strictness, the clock, kept answers, the print sink.
    builtins: EvalContext<'p>,
    deadline: Instant,
    ticks: u32,
    depth: u32,
    /// Queries running inside one another now (see [`MAX_NESTING`]).
    nesting: u32,
    /// Only for `explain=notes`; evaluations without it only test that it is `None`, and
    /// only where a rule body starts or gives a solution.
    tracer: Option<Box<Tracer>>,
}

impl<'p> Machine<'p> {
    pub fn new(
        program: &'p Program,
        data: &'p Value,
        input: Option<Value>,
        builtins: EvalContext<'p>,
        deadline: Instant,
        traced: bool,
    ) -> Machine<'p> {
        let mut machine = Machine {
            program,
            data,
            contexts: Vec::new(),
            current: 0,
            builtins,
            deadline,
            ticks: 0,
            depth: 0,
            nesting: 0,
            tracer: traced.then(|| Box::new(Tracer::new())),
        };
        machine.enter(input);
        machine
    }

    /// What a traced evaluation recorded; empty when untraced.
    pub fn take_trace(&mut self) -> Trace {
        self.tracer
            .take()
            .map_or_else(Trace::default, |tracer| tracer.finish())
    }

    /// Reports that body `body` of definition `definition` of `rule` starts: true when
    /// traced, and then the caller reports its end with [`Machine::trace_exit`].
    fn trace_enter(&mut self, rule: RuleId, definition: usize, body: usize) -> bool {
        let Some(tracer) = self.tracer.as_deref_mut() else {
            return false;
        };
        let rule = &self.program.rules[rule];
        let site = rule
            .definitions
            .get(definition)
            .and_then(|d| d.sites.get(body));
        tracer.enter(rule, site);
        true
    }

    fn trace_redo(&mut self) {
        if let Some(tracer) = self.tracer.as_deref_mut() {
            tracer.redo();
        }
    }

    fn trace_exit(&mut self) {
        if let Some(tracer) = self.tracer.as_deref_mut() {
            tracer.exit();
        }
    }

    /// Whether the definitions of `rule` after one that succeeded go untraced: OPA skips
    /// them (the machine still evaluates them, for the same answer).
    fn traces_after_success(&self, rule: RuleId) -> bool {
        self.tracer.is_some() && tracer::exits_early(&self.program.rules[rule])
    }

    fn trace_mute(&mut self, muted: bool) {
        if let Some(tracer) = self.tracer.as_deref_mut() {
            if muted {
                tracer.mute();
            } else {
                tracer.unmute();
            }
        }
    }

    /// Makes a new context for `input` current; answers the index of the one before.
    fn enter(&mut self, input: Option<Value>) -> usize {
        let previous = self.current;
        self.contexts.push(Context {
            input,
            rules: vec![Cached::Pending; self.program.rules.len()],
        });
        self.current = self.contexts.len() - 1;
        previous
    }

    /// The value of rule `id` (a document: not a function), computed once per context.
    pub fn rule(&mut self, id: RuleId) -> Eval<Option<Value>> {
        if let Some(why) = self.program.rules[id].unsupported {
            return Err(Fault::Fallback(why));
        }
        match &self.contexts[self.current].rules[id] {
            Cached::Done(value) => return Ok(value.clone()),
            Cached::Running => return Err(Fault::Fallback("a rule that depends on itself")),
            Cached::Pending | Cached::Calls(_) => {}
        }
        let context = self.current;
        self.contexts[context].rules[id] = Cached::Running;
        let value = self.evaluate_rule(id);
        self.contexts[context].rules[id] = match &value {
            Ok(value) => Cached::Done(value.clone()),
            Err(_) => Cached::Pending,
        };
        value
    }

    fn evaluate_rule(&mut self, id: RuleId) -> Eval<Option<Value>> {
        let program = self.program;
        let rule = &program.rules[id];
        match rule.kind {
            RuleKind::Complete => {
                // Written out here and in `function_value`, not shared: a helper's frame per
                // rule level would cost the nesting the stack allows.
                let quiet_after_success = self.traces_after_success(id);
                let mut result = None;
                for (d, definition) in rule.definitions.iter().enumerate() {
                    if let Some(value) = self.definition_value(id, d, &definition.bodies, &[])? {
                        result = agree(result, value)?;
                        if quiet_after_success {
                            self.trace_mute(true);
                        }
                    }
                }
                if quiet_after_success {
                    self.trace_mute(false);
                }
                Ok(result.or_else(|| rule.default.clone()))
            }
            // Apart, so that the frame of this function, which every level of nested
            // complete rules pays for, holds only what complete rules need.
            RuleKind::Set => self.set_value(id),
            RuleKind::Object => self.object_value(id),
            RuleKind::Function => Err(Fault::Fallback("a function used as a value")),
        }
    }

    #[inline(never)]
    fn set_value(&mut self, id: RuleId) -> Eval<Option<Value>> {
        let program = self.program;
        let rule = &program.rules[id];
        let mut members = BTreeSet::new();
        for (d, b, body) in bodies(rule) {
            let Some(key) = &body.key else { continue };
            let mut frame = new_frame(body.frame_size);
            let traced = self.trace_enter(id, d, b);
            let run = self.steps(&body.query.steps, &mut frame, &mut |m, f| {
                if let Some(member) = m.eval(key, f)? {
                    members.insert(member);
                }
                if traced {
                    m.trace_redo();
                }
                Ok(Flow::Continue)
            });
            if traced {
                self.trace_exit();
            }
            run?;
        }
        Ok(Some(Value::Set(Arc::new(members))))
    }

    #[inline(never)]
    fn object_value(&mut self, id: RuleId) -> Eval<Option<Value>> {
        let program = self.program;
        let rule = &program.rules[id];
        let mut entries: BTreeMap<Value, Value> = BTreeMap::new();
        for (d, b, body) in bodies(rule) {
            let Some(key) = &body.key else { continue };
            let mut frame = new_frame(body.frame_size);
            let traced = self.trace_enter(id, d, b);
            let run = self.steps(&body.query.steps, &mut frame, &mut |m, f| {
                let Some(key) = m.eval(key, f)? else {
                    return Ok(Flow::Continue);
                };
                let Some(value) = m.head_value(body, f)? else {
                    return Ok(Flow::Continue);
                };
                match entries.get(&key) {
                    Some(existing) if *existing != value => {
                        return Err(Fault::Fallback(OBJECT_KEYS_CONFLICT));
                    }
                    Some(_) => {}
                    None => {
                        entries.insert(key, value);
                    }
                }
                if traced {
                    m.trace_redo();
                }
                Ok(Flow::Continue)
            });
            if traced {
                self.trace_exit();
            }
            run?;
        }
        Ok(Some(Value::Object(Arc::new(entries))))
    }

    /// The value of one definition: its first body with a solution decides, then `else`s.
    fn definition_value(
        &mut self,
        id: RuleId,
        definition: usize,
        bodies: &[Body],
        args: &[Value],
    ) -> Eval<Option<Value>> {
        for (b, body) in bodies.iter().enumerate() {
            let mut frame = new_frame(body.frame_size);
            for (param, arg) in body.params.iter().zip(args) {
                if !self.matches(param, arg, &mut frame)? {
                    // Every body of a definition has the same parameters.
                    return Ok(None);
                }
            }
            let traced = self.trace_enter(id, definition, b);
            let value = self.body_value(body, &mut frame, traced);
            if traced {
                self.trace_exit();
            }
            if let Some(value) = value? {
                return Ok(Some(value));
            }
        }
        Ok(None)
    }

    /// The value a body's head gives for one solution (`true` when it names none); undefined
    /// leaves the solution out, as OPA's compiler makes the head term part of the body.
    fn head_value(&mut self, body: &Body, frame: &mut Frame) -> Eval<Option<Value>> {
        match &body.value {
            Some(value) => self.eval(value, frame),
            None => Ok(Some(Value::Bool(true))),
        }
    }

    /// The head value a body gives; its solutions must all agree.
    fn body_value(&mut self, body: &Body, frame: &mut Frame, traced: bool) -> Eval<Option<Value>> {
        let mut result: Option<Value> = None;
        self.steps(&body.query.steps, frame, &mut |m, f| {
            let Some(value) = m.head_value(body, f)? else {
                return Ok(Flow::Continue);
            };
            result = agree(result.take(), value)?;
            if body.first_solution_only {
                return Ok(Flow::Stop);
            }
            if traced {
                m.trace_redo();
            }
            Ok(Flow::Continue)
        })?;
        Ok(result)
    }

    /// A function's result for `args`, computed once per context, as OPA caches calls: a
    /// second call with the same arguments neither runs the body nor prints again (helpers
    /// such as `added(c)` are called again and again with the same container).
    fn call_function(&mut self, id: RuleId, args: Vec<Value>) -> Eval<Option<Value>> {
        if let Some(why) = self.program.rules[id].unsupported {
            return Err(Fault::Fallback(why));
        }
        let context = self.current;
        if let Cached::Calls(calls) = &self.contexts[context].rules[id]
            && let Some(known) = calls.get(&args)
        {
            return Ok(known.clone());
        }
        if self.depth >= MAX_CALL_DEPTH {
            return Err(Fault::Fallback("functions nested too deep"));
        }
        self.depth += 1;
        let result = self.function_value(id, &args);
        self.depth -= 1;
        if let Ok(value) = &result {
            let cached = &mut self.contexts[context].rules[id];
            if !matches!(cached, Cached::Calls(_)) {
                *cached = Cached::Calls(BTreeMap::new());
            }
            if let Cached::Calls(calls) = cached {
                calls.insert(args, value.clone());
            }
        }
        result
    }

    fn function_value(&mut self, id: RuleId, args: &[Value]) -> Eval<Option<Value>> {
        let program = self.program;
        let rule = &program.rules[id];
        let quiet_after_success = self.traces_after_success(id);
        let mut result = None;
        for (d, definition) in rule.definitions.iter().enumerate() {
            if let Some(value) = self.definition_value(id, d, &definition.bodies, args)? {
                result = agree(result, value)?;
                if quiet_after_success {
                    self.trace_mute(true);
                }
            }
        }
        if quiet_after_success {
            self.trace_mute(false);
        }
        Ok(result.or_else(|| rule.default.clone()))
    }

    /// Runs a query, calling `then` once per solution until it answers [`Flow::Stop`].
    pub fn run(&mut self, query: &Query, frame: &mut Frame, then: &mut Then<'_, 'p>) -> Eval<Flow> {
        self.steps(&query.steps, frame, then)
    }

    fn steps(&mut self, steps: &[Step], frame: &mut Frame, then: &mut Then<'_, 'p>) -> Eval<Flow> {
        if self.nesting >= MAX_NESTING {
            return Err(Fault::TooDeep);
        }
        self.nesting += 1;
        let flow = self.run_steps(steps, frame, then);
        self.nesting -= 1;
        flow
    }

    /// Steps that succeed at most once (tests, bindings, `not`, `every`) run in a loop; only
    /// steps with many solutions (scans) and `with` nest a call per solution.
    fn run_steps(
        &mut self,
        mut steps: &[Step],
        frame: &mut Frame,
        then: &mut Then<'_, 'p>,
    ) -> Eval<Flow> {
        loop {
            let Some((step, rest)) = steps.split_first() else {
                return then(self, frame);
            };
            self.ticks = self.ticks.wrapping_add(1);
            if self.ticks.is_multiple_of(STEPS_PER_CLOCK_CHECK) && Instant::now() >= self.deadline {
                return Err(Fault::Timeout);
            }
            let passed = match step {
                Step::Test(expr) => {
                    !matches!(self.eval(expr, frame)?, Some(Value::Bool(false)) | None)
                }
                Step::Bind { pattern, value } => match self.eval(value, frame)? {
                    Some(value) => self.matches(pattern, &value, frame)?,
                    None => false,
                },
                Step::Not(query) => !self.succeeds(&query.steps, frame)?,
                Step::Every(every) => {
                    self.every(&every.domain, &every.key, &every.value, &every.body, frame)?
                }
                Step::Scan {
                    collection,
                    key,
                    value,
                } => {
                    let Some(collection) = self.eval(collection, frame)? else {
                        return Ok(Flow::Continue);
                    };
                    return self.scan(&collection, key, value, frame, &mut |m, f| {
                        m.steps(rest, f, then)
                    });
                }
                Step::WithInput { replacements, body } => {
                    return self.with_input(replacements, body, rest, frame, then);
                }
            };
            if !passed {
                return Ok(Flow::Continue);
            }
            steps = rest;
        }
    }

    /// True when `steps` have a solution.
    fn succeeds(&mut self, steps: &[Step], frame: &mut Frame) -> Eval<bool> {
        let mut found = false;
        self.steps(steps, frame, &mut |_, _| {
            found = true;
            Ok(Flow::Stop)
        })?;
        Ok(found)
    }

    /// `every key, value in domain { body }`.
    fn every(
        &mut self,
        domain: &Expr,
        key: &Pattern,
        value: &Pattern,
        body: &Query,
        frame: &mut Frame,
    ) -> Eval<bool> {
        // Only a collection is a domain: `every` over a string is undefined, as in OPA.
        let Some(domain @ (Value::Array(_) | Value::Object(_) | Value::Set(_))) =
            self.eval(domain, frame)?
        else {
            return Ok(false);
        };
        let mut all = true;
        self.scan(&domain, key, value, frame, &mut |m, f| {
            let found = m.succeeds(&body.steps, f)?;
            all &= found;
            Ok(if found { Flow::Continue } else { Flow::Stop })
        })?;
        Ok(all)
    }

    /// A statement with `with input...`: its own steps under the replaced input, the rest of
    /// the query under the input before.
    fn with_input(
        &mut self,
        replacements: &[super::ir::Replacement],
        body: &Query,
        rest: &[Step],
        frame: &mut Frame,
        then: &mut Then<'_, 'p>,
    ) -> Eval<Flow> {
        let mut input = self.contexts[self.current].input.clone();
        for replacement in replacements {
            let Some(value) = self.eval(&replacement.value, frame)? else {
                return Ok(Flow::Continue);
            };
            input = Some(replaced(input, &replacement.path, value));
        }
        let outer = self.enter(input);
        let inner = self.current;
        let flow = self.steps(&body.steps, frame, &mut |m, f| {
            m.current = outer;
            let flow = m.steps(rest, f, then);
            m.current = inner;
            flow
        });
        self.current = outer;
        self.contexts.truncate(inner);
        flow
    }

    /// Calls `then` per member of `collection` whose key and value match.
    fn scan(
        &mut self,
        collection: &Value,
        key: &Pattern,
        value: &Pattern,
        frame: &mut Frame,
        then: &mut Then<'_, 'p>,
    ) -> Eval<Flow> {
        match collection {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if self.matches(key, &Value::int(i as i64), frame)?
                        && self.matches(value, item, frame)?
                        && then(self, frame)? == Flow::Stop
                    {
                        return Ok(Flow::Stop);
                    }
                }
            }
            Value::Object(entries) => {
                for (k, v) in entries.iter() {
                    if self.matches(key, k, frame)?
                        && self.matches(value, v, frame)?
                        && then(self, frame)? == Flow::Stop
                    {
                        return Ok(Flow::Stop);
                    }
                }
            }
            Value::Set(members) => {
                for member in members.iter() {
                    if self.matches(key, member, frame)?
                        && self.matches(value, member, frame)?
                        && then(self, frame)? == Flow::Stop
                    {
                        return Ok(Flow::Stop);
                    }
                }
            }
            _ => {}
        }
        Ok(Flow::Continue)
    }

    /// Matches `value` against `pattern`, binding its free variables in `frame`.
    fn matches(&mut self, pattern: &Pattern, value: &Value, frame: &mut Frame) -> Eval<bool> {
        match pattern {
            Pattern::Any => Ok(true),
            Pattern::Bind(slot) => {
                frame[*slot as usize] = Some(value.clone());
                Ok(true)
            }
            Pattern::Equal(expr) => Ok(self
                .operand(expr, frame)?
                .is_some_and(|known| *known == *value)),
            Pattern::Array(items) => {
                let Value::Array(values) = value else {
                    return Ok(false);
                };
                if values.len() != items.len() {
                    return Ok(false);
                }
                for (item, value) in items.iter().zip(values.iter()) {
                    if !self.matches(item, value, frame)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Pattern::Object(fields) => {
                let Value::Object(entries) = value else {
                    return Ok(false);
                };
                if entries.len() != fields.len() {
                    return Ok(false);
                }
                for (key, item) in fields {
                    let Some(key) = self.operand(key, frame)? else {
                        return Ok(false);
                    };
                    let Some(value) = entries.get(&*key) else {
                        return Ok(false);
                    };
                    if !self.matches(item, value, frame)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
        }
    }

    /// The value of an expression, `None` when undefined.
    pub fn eval(&mut self, expr: &Expr, frame: &mut Frame) -> Eval<Option<Value>> {
        Ok(match expr {
            Expr::Const(value) => Some(value.clone()),
            Expr::Local(slot) => frame[*slot as usize].clone(),
            Expr::Input => self.contexts[self.current].input.clone(),
            Expr::Data => Some(self.data.clone()),
            Expr::Rule(id) => self.rule(*id)?,
            Expr::Virtual(document) => {
                self.virtual_document(&document.path, &document.rules, &document.packages)?
            }
            Expr::Index { base, path } => self.index(base, path, frame)?,
            Expr::Builtin { builtin, args } if args.len() <= FEW_OPERANDS => {
                // Most builtins take one to three operands: kept on the stack, not the heap.
                let mut operands: [Value; FEW_OPERANDS] = std::array::from_fn(|_| Value::Null);
                for (operand, arg) in operands.iter_mut().zip(args) {
                    match self.eval(arg, frame)? {
                        Some(value) => *operand = value,
                        None => return Ok(None),
                    }
                }
                self.call_builtin(builtin, &operands[..args.len()])?
            }
            Expr::Builtin { builtin, args } => match self.operands(args, frame)? {
                Some(operands) => self.call_builtin(builtin, &operands)?,
                None => None,
            },
            Expr::Function { rule, args } => match self.operands(args, frame)? {
                Some(operands) => self.call_function(*rule, operands)?,
                None => None,
            },
            Expr::Trace(call) => self.trace(call, frame)?,
            Expr::Print(print) => {
                let mut line = format!("{}: ", print.location);
                for (i, arg) in print.args.iter().enumerate() {
                    if i > 0 {
                        line.push(' ');
                    }
                    match self.eval(arg, frame)? {
                        None => line.push_str("<undefined>"),
                        Some(Value::String(text)) => line.push_str(&text),
                        Some(value) => printable(&value, &mut line),
                    }
                }
                self.builtins.print(line);
                Some(Value::Bool(true))
            }
            Expr::Compare { op, lhs, rhs } => {
                let (Some(a), Some(b)) = (self.operand(lhs, frame)?, self.operand(rhs, frame)?)
                else {
                    return Ok(None);
                };
                Some(Value::Bool(holds(*op, a.cmp(&b))))
            }
            Expr::Array(items) => self.operands(items, frame)?.map(Value::array),
            Expr::Set(items) => self.operands(items, frame)?.map(Value::set),
            Expr::Object(pairs) => {
                let mut entries = BTreeMap::new();
                for (key, value) in pairs {
                    let (Some(k), Some(v)) = (self.eval(key, frame)?, self.eval(value, frame)?)
                    else {
                        return Ok(None);
                    };
                    // Pairs come in OPA's order of their key terms: a later equal key wins.
                    entries.insert(k, v);
                }
                Some(Value::Object(Arc::new(entries)))
            }
            Expr::ArrayComprehension { term, query } => {
                let mut items = Vec::new();
                self.steps(&query.steps, frame, &mut |m, f| {
                    items.extend(m.eval(term, f)?);
                    Ok(Flow::Continue)
                })?;
                Some(Value::array(items))
            }
            Expr::SetComprehension { term, query } => {
                let mut items = BTreeSet::new();
                self.steps(&query.steps, frame, &mut |m, f| {
                    items.extend(m.eval(term, f)?);
                    Ok(Flow::Continue)
                })?;
                Some(Value::Set(Arc::new(items)))
            }
            Expr::ObjectComprehension { key, value, query } => {
                let mut entries: BTreeMap<Value, Value> = BTreeMap::new();
                self.steps(&query.steps, frame, &mut |m, f| {
                    let (Some(k), Some(v)) = (m.eval(key, f)?, m.eval(value, f)?) else {
                        return Ok(Flow::Continue);
                    };
                    match entries.get(&k) {
                        Some(existing) if *existing != v => {
                            Err(Fault::Fallback("object comprehension keys must be unique"))
                        }
                        _ => {
                            entries.insert(k, v);
                            Ok(Flow::Continue)
                        }
                    }
                })?;
                Some(Value::Object(Arc::new(entries)))
            }
        })
    }

    /// Every operand, or `None` when one is undefined.
    fn operands(&mut self, exprs: &[Expr], frame: &mut Frame) -> Eval<Option<Vec<Value>>> {
        let mut values = Vec::with_capacity(exprs.len());
        for expr in exprs {
            match self.eval(expr, frame)? {
                Some(value) => values.push(value),
                None => return Ok(None),
            }
        }
        Ok(Some(values))
    }

    /// `base[path...]`, walking borrowed values so that only the result is cloned.
    /// [`Machine::eval`], borrowing a constant instead of cloning it: a clone of a shared
    /// value writes its reference count, which a comparison with a literal does not need.
    fn operand<'e>(&mut self, expr: &'e Expr, frame: &mut Frame) -> Eval<Option<Cow<'e, Value>>> {
        Ok(match expr {
            Expr::Const(value) => Some(Cow::Borrowed(value)),
            other => self.eval(other, frame)?.map(Cow::Owned),
        })
    }

    fn index(&mut self, base: &Expr, path: &[Expr], frame: &mut Frame) -> Eval<Option<Value>> {
        let constant = path.iter().all(|step| matches!(step, Expr::Const(_)));
        let keys = if constant {
            Vec::new()
        } else {
            match self.operands(path, frame)? {
                Some(values) => values,
                None => return Ok(None),
            }
        };
        let key = |i: usize| -> &Value {
            match &path[i] {
                Expr::Const(value) if constant => value,
                _ => &keys[i],
            }
        };
        let owned;
        let mut first = 0;
        let root: Option<&Value> = match base {
            Expr::Local(slot) => frame[*slot as usize].as_ref(),
            Expr::Input => self.contexts[self.current].input.as_ref(),
            Expr::Data => Some(self.data),
            Expr::Rule(id) => {
                owned = match self.rule(*id) {
                    // OPA looks a partial object's key up rule by rule: keys that conflict
                    // elsewhere in the object do not matter to this one.
                    Err(Fault::Fallback(why))
                        if why == OBJECT_KEYS_CONFLICT
                            && !path.is_empty()
                            && self.program.rules[*id].kind == RuleKind::Object =>
                    {
                        first = 1;
                        self.object_entry(*id, key(0))?
                    }
                    value => value?,
                };
                owned.as_ref()
            }
            other => {
                owned = self.eval(other, frame)?;
                owned.as_ref()
            }
        };
        // Base data is OPA's store, whose paths are strings: `data.a[2]` reads key "2".
        let stored = matches!(base, Expr::Data | Expr::Virtual(_));
        let mut at = root;
        for i in first..path.len() {
            at = at.and_then(|collection| {
                collection
                    .child(key(i))
                    .or_else(|| stored.then(|| stored_child(collection, key(i)))?)
            });
        }
        Ok(at.cloned())
    }

    /// The value partial object rule `id` gives `key`; its definitions must agree on it.
    fn object_entry(&mut self, id: RuleId, wanted: &Value) -> Eval<Option<Value>> {
        let program = self.program;
        if let Some(why) = program.rules[id].unsupported {
            return Err(Fault::Fallback(why));
        }
        let mut result = None;
        for body in program.rules[id].definitions.iter().flat_map(|d| &d.bodies) {
            let Some(key) = &body.key else { continue };
            let mut frame = new_frame(body.frame_size);
            self.steps(&body.query.steps, &mut frame, &mut |m, f| {
                if m.eval(key, f)?.as_ref() != Some(wanted) {
                    return Ok(Flow::Continue);
                }
                let Some(value) = m.head_value(body, f)? else {
                    return Ok(Flow::Continue);
                };
                result = agree(result.take(), value)?;
                Ok(Flow::Continue)
            })?;
        }
        Ok(result)
    }

    /// `trace(message)`: the builtin's answer, and the note when traced. Kept out of `eval`,
    /// whose frame every nested expression pays for.
    #[inline(never)]
    fn trace(&mut self, call: &TraceCall, frame: &mut Frame) -> Eval<Option<Value>> {
        let Some(message) = self.eval(&call.message, frame)? else {
            return Ok(None);
        };
        let result = self.call_builtin(call.builtin, std::slice::from_ref(&message))?;
        if result.is_some()
            && let Some(tracer) = self.tracer.as_deref_mut()
        {
            tracer.note(&call.site, &message);
        }
        Ok(result)
    }

    fn call_builtin(&mut self, builtin: &Builtin, operands: &[Value]) -> Eval<Option<Value>> {
        match builtins::call(builtin, &mut self.builtins, operands) {
            Ok(value) => Ok(Some(value)),
            // Some builtins answer nothing without failing (`max([])`), strict or not.
            Err(BuiltinError::Undefined) => Ok(None),
            // The table computes with numbers up to 128 bits; regorus's arithmetic goes beyond.
            Err(_)
                if operands
                    .iter()
                    .any(|o| matches!(o, Value::Number(Number::Big(_)))) =>
            {
                Err(Fault::Fallback("arithmetic on integers beyond 128 bits"))
            }
            // regorus words strict errors with their location; it evaluates this request.
            Err(_) if self.builtins.strict() => Err(Fault::Fallback(
                "a builtin error under strict-builtin-errors",
            )),
            Err(_) => Ok(None),
        }
    }

    /// Base data at `path` merged with the values of `rules` (all below `path`), with an
    /// object for each of `packages` (relative to `path`).
    fn virtual_document(
        &mut self,
        path: &[String],
        rules: &[RuleId],
        packages: &[Vec<String>],
    ) -> Eval<Option<Value>> {
        let mut document = Some(self.data);
        for name in path {
            document = document.and_then(|d| d.child(&Value::string(name)));
        }
        let mut document = match document {
            None => Value::empty_object(),
            Some(found @ Value::Object(_)) => found.clone(),
            Some(_) => return Err(Fault::Fallback("rules and base data overlap")),
        };
        for package in packages {
            if object_at(&mut document, package).is_none() {
                return Err(Fault::Fallback("rules and base data overlap"));
            }
        }
        let program = self.program;
        for &id in rules {
            let rule = &program.rules[id];
            let Some((name, parents)) = rule.path[path.len()..].split_last() else {
                continue;
            };
            let Some(parent) = object_at(&mut document, parents) else {
                return Err(Fault::Fallback("rules and base data overlap"));
            };
            if rule.kind == RuleKind::Function {
                continue;
            }
            let Some(value) = self.rule(id)? else {
                continue;
            };
            let Value::Object(entries) = parent else {
                return Err(Fault::Fallback("rules and base data overlap"));
            };
            if Arc::make_mut(entries)
                .insert(Value::string(name), value)
                .is_some()
            {
                return Err(Fault::Fallback("rules and base data overlap"));
            }
        }
        Ok(Some(document))
    }
}

/// A value as `print` writes it inside a line: JSON scalars, `[a, b]`, `{a, b}` for sets and
/// `{k: v}` for objects, as the regorus engine writes them.
fn printable(value: &Value, out: &mut String) {
    let items = |out: &mut String,
                 open: char,
                 close: char,
                 items: &mut dyn Iterator<Item = (&Value, Option<&Value>)>| {
        out.push(open);
        for (i, (item, value)) in items.enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            printable(item, out);
            if let Some(value) = value {
                out.push_str(": ");
                printable(value, out);
            }
        }
        out.push(close);
    };
    match value {
        Value::Array(members) => items(out, '[', ']', &mut members.iter().map(|m| (m, None))),
        Value::Set(members) => items(out, '{', '}', &mut members.iter().map(|m| (m, None))),
        Value::Object(entries) => items(
            out,
            '{',
            '}',
            &mut entries.iter().map(|(k, v)| (k, Some(v))),
        ),
        scalar => out.push_str(&scalar.to_json()),
    }
}

/// The one value several solutions or definitions must agree on.
fn agree(known: Option<Value>, value: Value) -> Eval<Option<Value>> {
    match known {
        Some(known) if known != value => Err(Fault::Fallback("conflicting values")),
        _ => Ok(Some(value)),
    }
}

fn holds(op: Compare, ordering: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    match op {
        Compare::Equal => ordering == Equal,
        Compare::NotEqual => ordering != Equal,
        Compare::Less => ordering == Less,
        Compare::LessOrEqual => ordering != Greater,
        Compare::Greater => ordering == Greater,
        Compare::GreaterOrEqual => ordering != Less,
    }
}

/// `collection[key]` for a number key of an object in base data: the key's text.
fn stored_child<'v>(collection: &'v Value, key: &Value) -> Option<&'v Value> {
    match (collection, key) {
        (Value::Object(entries), Value::Number(n)) => entries.get(&Value::string(n.to_string())),
        _ => None,
    }
}

/// The object at `path` inside `document`, made empty where missing; `None` where something
/// other than an object is in the way.
fn object_at<'d>(document: &'d mut Value, path: &[String]) -> Option<&'d mut Value> {
    let Some((first, rest)) = path.split_first() else {
        return matches!(document, Value::Object(_)).then_some(document);
    };
    let Value::Object(entries) = document else {
        return None;
    };
    let next = Arc::make_mut(entries)
        .entry(Value::string(first))
        .or_insert_with(Value::empty_object);
    object_at(next, rest)
}

/// `input` with `value` at `path` (`with input.a.b as value`), objects made where missing.
fn replaced(input: Option<Value>, path: &[Value], value: Value) -> Value {
    let Some((first, rest)) = path.split_first() else {
        return value;
    };
    let mut entries = match input {
        Some(Value::Object(entries)) => entries,
        _ => Arc::new(BTreeMap::new()),
    };
    let map = Arc::make_mut(&mut entries);
    let inner = map.remove(first);
    map.insert(first.clone(), replaced(inner, rest, value));
    Value::Object(entries)
}

/// Every body of a rule with its definition's and its own index.
fn bodies(rule: &Rule) -> impl Iterator<Item = (usize, usize, &Body)> {
    rule.definitions
        .iter()
        .enumerate()
        .flat_map(|(d, definition)| {
            definition
                .bodies
                .iter()
                .enumerate()
                .map(move |(b, body)| (d, b, body))
        })
}
