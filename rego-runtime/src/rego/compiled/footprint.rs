//! The memory a compiled program is made of, as the cache lines it spans, to bring into cache
//! before an evaluation.
//!
//! Most webhook calls find a policy out of cache: between two calls the host's other work
//! evicts it. Evaluating then walks the program node by node, and each node's address is
//! known only once its parent is read, so every line missed costs a full trip to memory, one
//! after the other. Asking for all of a program's lines at once, before the walk, lets the
//! memory system fetch them side by side.

use std::sync::Arc;

use super::ir::{Body, Expr, Pattern, Program, Query, Step};
use crate::Value;

const LINE: usize = 64;

/// The cache lines of one program, in address order.
pub(super) struct Footprint {
    lines: Box<[usize]>,
}

impl Footprint {
    pub fn of(program: &Program) -> Footprint {
        let mut walk = Walk::default();
        walk.slice(&program.rules);
        for rule in &program.rules {
            walk.slice(&rule.definitions);
            if let Some(default) = &rule.default {
                walk.value(default);
            }
            for definition in &rule.definitions {
                walk.slice(&definition.bodies);
                definition.bodies.iter().for_each(|body| walk.body(body));
            }
        }
        let mut lines = walk.lines;
        lines.sort_unstable();
        lines.dedup();
        Footprint {
            lines: lines.into_boxed_slice(),
        }
    }

    /// Asks for every line to be brought into cache; returns at once.
    pub fn prefetch(&self) {
        for &line in &self.lines {
            prefetch(line);
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code, reason = "a prefetch instruction, which cannot fault")]
fn prefetch(address: usize) {
    use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
    // SAFETY: a prefetch is a hint that never faults and reads nothing into the program, so
    // any address is sound; these are of live allocations the caller holds.
    unsafe { _mm_prefetch::<_MM_HINT_T0>(address as *const i8) }
}

#[cfg(not(target_arch = "x86_64"))]
fn prefetch(_address: usize) {}

/// The lines found so far, unsorted.
#[derive(Default)]
struct Walk {
    lines: Vec<usize>,
}

impl Walk {
    /// The lines of `bytes` bytes from `start`.
    fn span(&mut self, start: *const u8, bytes: usize) {
        if bytes == 0 {
            return;
        }
        let first = start as usize / LINE;
        let last = (start as usize + bytes - 1) / LINE;
        self.lines.extend((first..=last).map(|line| line * LINE));
    }

    /// What an `Arc` points to, with the counts before it (a clone writes them).
    fn arc<T: ?Sized>(&mut self, shared: &Arc<T>) {
        let counts = 2 * std::mem::size_of::<usize>();
        let start = Arc::as_ptr(shared).cast::<u8>().wrapping_sub(counts);
        self.span(start, counts + std::mem::size_of_val(&**shared));
    }

    fn slice<T>(&mut self, items: &[T]) {
        self.span(items.as_ptr().cast(), std::mem::size_of_val(items));
    }

    fn one<T>(&mut self, item: &T) {
        self.span((item as *const T).cast(), std::mem::size_of::<T>());
    }

    fn body(&mut self, body: &Body) {
        self.slice(&body.params);
        body.params.iter().for_each(|p| self.pattern(p));
        self.query(&body.query);
        body.key
            .iter()
            .chain(&body.value)
            .for_each(|e| self.expr(e));
    }

    fn query(&mut self, query: &Query) {
        self.slice(&query.steps);
        for step in &query.steps {
            match step {
                Step::Test(expr) => self.expr(expr),
                Step::Bind { pattern, value } => {
                    self.pattern(pattern);
                    self.expr(value);
                }
                Step::Scan {
                    collection,
                    key,
                    value,
                } => {
                    self.expr(collection);
                    self.pattern(key);
                    self.pattern(value);
                }
                Step::Not(query) => self.query(query),
                Step::Every(every) => {
                    self.one(&**every);
                    self.expr(&every.domain);
                    self.pattern(&every.key);
                    self.pattern(&every.value);
                    self.query(&every.body);
                }
                Step::WithInput { replacements, body } => {
                    self.slice(replacements);
                    for replacement in replacements {
                        self.slice(&replacement.path);
                        replacement.path.iter().for_each(|v| self.value(v));
                        self.expr(&replacement.value);
                    }
                    self.query(body);
                }
            }
        }
    }

    fn pattern(&mut self, pattern: &Pattern) {
        match pattern {
            Pattern::Any | Pattern::Bind(_) => {}
            Pattern::Equal(expr) => self.expr(expr),
            Pattern::Array(items) => {
                self.slice(items);
                items.iter().for_each(|p| self.pattern(p));
            }
            Pattern::Object(entries) => {
                self.slice(entries);
                for (key, value) in entries {
                    self.expr(key);
                    self.pattern(value);
                }
            }
        }
    }

    /// An expression's own memory is its parent's; this adds what it points to.
    fn expr(&mut self, expr: &Expr) {
        match expr {
            Expr::Const(value) => self.value(value),
            Expr::Local(_) | Expr::Input | Expr::Data | Expr::Rule(_) => {}
            // Rare, and their parts are names looked up by name anyway.
            Expr::Virtual(_) | Expr::Print(_) => {}
            Expr::Index { base, path } => {
                self.boxed(base);
                self.exprs(path);
            }
            Expr::Builtin { args, .. } | Expr::Function { args, .. } => self.exprs(args),
            Expr::Compare { lhs, rhs, .. } => {
                self.boxed(lhs);
                self.boxed(rhs);
            }
            Expr::Array(items) | Expr::Set(items) => self.exprs(items),
            Expr::Object(entries) => {
                self.slice(entries);
                for (key, value) in entries {
                    self.expr(key);
                    self.expr(value);
                }
            }
            Expr::ArrayComprehension { term, query } | Expr::SetComprehension { term, query } => {
                self.boxed(term);
                self.query(query);
            }
            Expr::ObjectComprehension { key, value, query } => {
                self.boxed(key);
                self.boxed(value);
                self.query(query);
            }
        }
    }

    fn boxed(&mut self, expr: &Expr) {
        self.one(expr);
        self.expr(expr);
    }

    fn exprs(&mut self, exprs: &[Expr]) {
        self.slice(exprs);
        exprs.iter().for_each(|e| self.expr(e));
    }

    /// A constant's heap memory: string bytes, and the slots of collections' members.
    fn value(&mut self, value: &Value) {
        match value {
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
            Value::String(text) => self.arc(text),
            Value::Array(items) => {
                self.arc(items);
                self.slice(items.as_slice());
                items.iter().for_each(|v| self.value(v));
            }
            Value::Object(entries) => {
                self.arc(entries);
                for (key, member) in entries.iter() {
                    self.one(key);
                    self.one(member);
                    self.value(key);
                    self.value(member);
                }
            }
            Value::Set(members) => {
                self.arc(members);
                for member in members.iter() {
                    self.one(member);
                    self.value(member);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rego::compiled::ir::{Compare, Definition, Rule, RuleKind};

    fn line_of<T: ?Sized>(item: &T) -> usize {
        (item as *const T).cast::<u8>() as usize / LINE * LINE
    }

    #[test]
    fn spans_every_node_and_constant_evaluation_reads() {
        let long = "a string constant long enough to span more than one cache line of its own";
        let program = Program {
            rules: vec![Rule {
                path: vec!["p".to_string()],
                kind: RuleKind::Complete,
                definitions: vec![Definition {
                    bodies: vec![Body {
                        params: Vec::new(),
                        query: Query {
                            steps: vec![Step::Test(Expr::Compare {
                                op: Compare::Equal,
                                lhs: Box::new(Expr::Input),
                                rhs: Box::new(Expr::Const(Value::string(long))),
                            })],
                        },
                        key: None,
                        value: Some(Expr::Array(vec![Expr::Const(
                            Value::from_json(r#"{"key": "value"}"#).expect("json"),
                        )])),
                        frame_size: 0,
                        first_solution_only: true,
                    }],
                }],
                default: None,
            }],
        };
        let footprint = Footprint::of(&program);
        let has = |line: usize| footprint.lines.binary_search(&line).is_ok();
        let rule = &program.rules[0];
        let body = &rule.definitions[0].bodies[0];
        assert!(has(line_of(program.rules.as_slice())));
        assert!(has(line_of(rule.definitions.as_slice())));
        assert!(has(line_of(rule.definitions[0].bodies.as_slice())));
        assert!(has(line_of(body.query.steps.as_slice())));
        let Step::Test(Expr::Compare { lhs, rhs, .. }) = &body.query.steps[0] else {
            unreachable!("built above");
        };
        assert!(has(line_of(&**lhs)));
        let Expr::Const(Value::String(text)) = &**rhs else {
            unreachable!("built above");
        };
        let (first, last) = (
            line_of(text.as_bytes()),
            line_of(&text.as_bytes()[long.len() - 1]),
        );
        assert!(first < last, "the constant spans two lines");
        assert!((first..=last).step_by(LINE).all(has));
        let Some(Expr::Array(items)) = &body.value else {
            unreachable!("built above");
        };
        let Expr::Const(Value::Object(object)) = &items[0] else {
            unreachable!("built above");
        };
        let (key, value) = object.iter().next().expect("one entry");
        assert!(has(line_of(key)) && has(line_of(value)));
        let Value::String(text) = value else {
            unreachable!("built above");
        };
        assert!(has(line_of(text.as_bytes())));
        assert!(
            footprint.lines.windows(2).all(|w| w[0] < w[1]),
            "sorted, once each"
        );
    }
}
