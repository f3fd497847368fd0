//! OPA's safety check, made before regorus analyses a policy or query: a body whose
//! variables can never all be bound is `rego_unsafe_var_error` in OPA, while regorus prints
//! "could not schedule all statements" to stderr (which a server must never do) and fails
//! only when it evaluates.
//!
//! The model is generous: every statement binds at least what OPA lets it bind and needs at
//! most what OPA needs, and statements are placed in any order that works. A variable it
//! cannot bind is therefore unsafe in OPA too; cases it lets through are left to the later
//! checks as before.

use std::collections::{BTreeSet, HashMap};

use regorus::unstable::{AssignOp, Expr, Literal, Module, Query, Ref, Rule, RuleHead, Span};

use super::checks::{dotted, ref_start};
use super::diagnostics;
use crate::error::Problem;

/// Every unsafe variable of `modules`, located as OPA locates it: at the statement that
/// cannot be placed, or at the head term for a head variable no body binds.
pub fn unsafe_variables(modules: &[Ref<Module>]) -> Vec<Problem> {
    let mut rule_names: HashMap<Vec<String>, BTreeSet<String>> = HashMap::new();
    for module in modules {
        let names = rule_names.entry(package(module)).or_default();
        for rule in &module.policy {
            let refr = match rule.as_ref() {
                Rule::Spec { head, .. } => match head {
                    RuleHead::Compr { refr, .. }
                    | RuleHead::Set { refr, .. }
                    | RuleHead::Func { refr, .. } => refr,
                },
                Rule::Default { refr, .. } => refr,
            };
            names.insert(ref_start(refr).text().to_string());
        }
    }
    let mut problems = Vec::new();
    for module in modules {
        let mut globals: BTreeSet<String> = ["input", "data"].map(String::from).into();
        globals.extend(
            rule_names
                .get(&package(module))
                .into_iter()
                .flatten()
                .cloned(),
        );
        for import in &module.imports {
            let mut path = Vec::new();
            if dotted(&import.refr, &mut path) {
                let alias = import.r#as.as_ref().map(|s| s.text().to_string());
                globals.extend(alias.or_else(|| path.last().cloned()));
            }
        }
        for rule in &module.policy {
            if let Rule::Spec { head, bodies, .. } = rule.as_ref() {
                check_rule(head, bodies, &globals, &mut problems);
            }
        }
    }
    problems
}

/// The unsafe variables of an ad-hoc query, where only `input` and `data` are in scope.
pub fn unsafe_in_query(query: &Query) -> Vec<Problem> {
    let globals: BTreeSet<String> = ["input", "data"].map(String::from).into();
    let mut checker = Checker::default();
    checker.query(query, &globals);
    checker.problems
}

fn package(module: &Module) -> Vec<String> {
    let mut path = Vec::new();
    dotted(&module.package.refr, &mut path);
    path
}

fn check_rule<'a>(
    head: &'a RuleHead,
    bodies: &'a [regorus::unstable::RuleBody],
    globals: &BTreeSet<String>,
    problems: &mut Vec<Problem>,
) {
    let mut base = globals.clone();
    // What the head reads: its key terms (the ref's brackets after the name, a set key),
    // and its value, which an `else` body replaces with its own.
    let mut keys: Vec<&'a Expr> = Vec::new();
    let mut value = None;
    match head {
        RuleHead::Compr { refr, assign, .. } => {
            brackets_of(refr, &mut keys);
            value = assign.as_ref().map(|a| a.value.as_ref());
        }
        RuleHead::Set { refr, key, .. } => {
            brackets_of(refr, &mut keys);
            keys.extend(key.as_deref());
        }
        RuleHead::Func { args, assign, .. } => {
            // Arguments are bound by the call.
            for arg in args {
                let mut terms = Terms::default();
                terms.all(arg);
                base.extend(terms.names());
            }
            value = assign.as_ref().map(|a| a.value.as_ref());
        }
    }
    let mut checker = Checker::default();
    let head_terms = |own: Option<&'a Expr>| {
        [
            keys.as_slice(),
            &[own.or(value)].into_iter().flatten().collect::<Vec<_>>(),
        ]
        .concat()
    };
    if bodies.is_empty() {
        checker.head(&head_terms(None), &base);
    }
    for body in bodies {
        let safe = checker.query(&body.query, &base);
        checker.head(
            &head_terms(body.assign.as_ref().map(|a| a.value.as_ref())),
            &safe,
        );
    }
    problems.append(&mut checker.problems);
}

/// The index terms of a rule ref: `x` of `p[x]`, `k` of `p.q[k]`.
fn brackets_of<'a>(refr: &'a Expr, out: &mut Vec<&'a Expr>) {
    match refr {
        Expr::RefDot { refr, .. } => brackets_of(refr, out),
        Expr::RefBrack { refr, index, .. } => {
            brackets_of(refr, out);
            out.push(index);
        }
        _ => {}
    }
}

/// The problems of one rule (or query); a variable is reported once.
#[derive(Default)]
struct Checker {
    problems: Vec<Problem>,
    reported: BTreeSet<String>,
}

/// One way a statement can be placed: once `needs` are bound, it binds `gives`.
struct Placement {
    needs: Vec<String>,
    gives: Vec<String>,
}

impl Checker {
    /// Places `query`'s statements given the `outer` bound variables, reports what stays
    /// unbound, checks nested queries, and returns the variables bound at its end.
    fn query(&mut self, query: &Query, outer: &BTreeSet<String>) -> BTreeSet<String> {
        let plans: Vec<(Vec<Placement>, Terms)> = query.stmts.iter().map(plan).collect();
        let mut safe = outer.clone();
        let mut placed = vec![false; plans.len()];
        loop {
            let mut progress = false;
            for (i, (options, _)) in plans.iter().enumerate() {
                if placed[i] {
                    continue;
                }
                for option in options {
                    if option.needs.iter().all(|v| safe.contains(v)) {
                        placed[i] = true;
                        progress = true;
                        safe.extend(option.gives.iter().cloned());
                    }
                }
            }
            if !progress {
                break;
            }
        }
        for (i, stmt) in query.stmts.iter().enumerate() {
            if placed[i] {
                continue;
            }
            let mut unbound: Vec<&String> = plans[i]
                .0
                .iter()
                .flat_map(|option| &option.needs)
                .filter(|v| !safe.contains(*v))
                .collect();
            unbound.sort();
            unbound.dedup();
            for name in unbound {
                self.report(name, &stmt.span);
            }
        }
        for (i, stmt) in query.stmts.iter().enumerate() {
            if !placed[i] {
                continue;
            }
            for nested in &plans[i].1.nested {
                self.comprehension(nested, &safe);
            }
            if let Literal::Every {
                key, value, query, ..
            } = &stmt.literal
            {
                let mut inner = safe.clone();
                inner.extend(key.iter().chain([value]).map(|s| s.text().to_string()));
                self.query(query, &inner);
            }
        }
        safe
    }

    /// A comprehension: its body, then its head terms against what the body binds.
    fn comprehension(&mut self, expr: &Expr, outer: &BTreeSet<String>) {
        let (terms, query): (Vec<&Expr>, &Query) = match expr {
            Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => {
                (vec![term.as_ref()], query)
            }
            Expr::ObjectCompr {
                key, value, query, ..
            } => (vec![key.as_ref(), value.as_ref()], query),
            _ => return,
        };
        let safe = self.query(query, outer);
        self.head(&terms, &safe);
    }

    /// Head terms: each variable must be bound; comprehensions in them are checked.
    fn head(&mut self, terms: &[&Expr], safe: &BTreeSet<String>) {
        for term in terms {
            let mut found = Terms::default();
            found.all(term);
            for (name, span) in found.spans {
                if !safe.contains(&name) {
                    self.report(&name, span);
                }
            }
            for nested in found.nested {
                self.comprehension(nested, safe);
            }
        }
    }

    fn report(&mut self, name: &str, span: &Span) {
        if self.reported.insert(name.to_string()) {
            self.problems.push(Problem {
                code: "rego_unsafe_var_error",
                message: format!("var {name} is unsafe"),
                location: Some(diagnostics::location(span)),
            });
        }
    }
}

/// How a statement can be placed, and the statement's variables and comprehensions.
fn plan(stmt: &regorus::unstable::LiteralStmt) -> (Vec<Placement>, Terms<'_>) {
    let mut everything = Terms::default();
    let mut options = match &stmt.literal {
        Literal::SomeVars { .. } => vec![always()],
        Literal::SomeIn {
            key,
            value,
            collection,
            ..
        } => {
            let source = Terms::of(collection);
            let mut gives = source.indices.clone();
            for term in key.iter().chain([value]) {
                let mut bound = Terms::default();
                bound.all(term.as_ref());
                gives.extend(bound.names());
                everything.absorb(bound);
            }
            let option = Placement {
                needs: source.reads.clone(),
                gives,
            };
            everything.absorb(source);
            vec![option]
        }
        Literal::Expr { expr, .. } => expression(expr, &mut everything),
        Literal::NotExpr { expr, .. } => {
            let terms = Terms::of(expr);
            let option = Placement {
                needs: terms.reads.clone(),
                gives: Vec::new(),
            };
            everything.absorb(terms);
            vec![option]
        }
        // A domain's free index iterates, as a ref's does anywhere.
        Literal::Every { domain, .. } => {
            let terms = Terms::of(domain);
            let option = Placement {
                needs: terms.reads.clone(),
                gives: terms.indices.clone(),
            };
            everything.absorb(terms);
            vec![option]
        }
    };
    // `with f as g` names functions; only other values are read.
    for modifier in &stmt.with_mods {
        if matches!(
            modifier.r#as.as_ref(),
            Expr::Var { .. } | Expr::RefDot { .. }
        ) {
            continue;
        }
        let terms = Terms::of(&modifier.r#as);
        for option in &mut options {
            option.needs.extend(terms.reads.iter().cloned());
        }
        everything.absorb(terms);
    }
    // What a statement binds itself (`x == input.xs[x]` iterates first) it does not need.
    for option in &mut options {
        let Placement { needs, gives } = option;
        needs.retain(|name| !gives.contains(name));
    }
    (options, everything)
}

/// The ways an expression statement can be placed.
fn expression<'a>(expr: &'a Expr, everything: &mut Terms<'a>) -> Vec<Placement> {
    match expr {
        Expr::AssignExpr { op, lhs, rhs, .. } => {
            let left = Terms::of(lhs);
            let right = Terms::of(rhs);
            let composite = |e: &Expr| {
                matches!(
                    e,
                    Expr::Array { .. } | Expr::Set { .. } | Expr::Object { .. }
                )
            };
            let mut options = Vec::new();
            if *op == AssignOp::Eq && composite(lhs) && composite(rhs) {
                // Term by term: generously, all at once.
                options.push(Placement {
                    needs: Vec::new(),
                    gives: [left.names(), right.names()].concat(),
                });
            }
            // The right side computed, the left side bound (and the other way for `=`).
            options.push(Placement {
                needs: right.reads.clone(),
                gives: [left.names(), right.indices.clone()].concat(),
            });
            if *op == AssignOp::Eq {
                options.push(Placement {
                    needs: left.reads.clone(),
                    gives: [right.names(), left.indices.clone()].concat(),
                });
            }
            everything.absorb(left);
            everything.absorb(right);
            options
        }
        // A call may bind its last operand (an output operand, or a relation's result).
        Expr::Call { params, .. } if !params.is_empty() => {
            let (last, inputs) = params.split_last().unwrap_or((&params[0], &[]));
            let mut needs = Vec::new();
            let mut gives = Vec::new();
            for param in inputs {
                let terms = Terms::of(param);
                needs.extend(terms.reads.iter().cloned());
                gives.extend(terms.indices.iter().cloned());
                everything.absorb(terms);
            }
            let terms = Terms::of(last);
            gives.extend(terms.names());
            everything.absorb(terms);
            vec![Placement { needs, gives }]
        }
        other => {
            let terms = Terms::of(other);
            let option = Placement {
                needs: terms.reads.clone(),
                gives: terms.indices.clone(),
            };
            everything.absorb(terms);
            vec![option]
        }
    }
}

fn always() -> Placement {
    Placement {
        needs: Vec::new(),
        gives: Vec::new(),
    }
}

/// The variables of a term: those it reads, those inside brackets (which iteration binds),
/// every occurrence with its span, and the comprehensions in it (scopes of their own).
#[derive(Default)]
struct Terms<'a> {
    reads: Vec<String>,
    indices: Vec<String>,
    spans: Vec<(String, &'a Span)>,
    nested: Vec<&'a Expr>,
}

impl<'a> Terms<'a> {
    fn of(expr: &'a Expr) -> Terms<'a> {
        let mut terms = Terms::default();
        terms.walk(expr, false);
        terms
    }

    /// Every variable of `expr` counts as read (head terms, bound operands).
    fn all(&mut self, expr: &'a Expr) {
        self.walk(expr, false);
        self.reads.append(&mut self.indices);
    }

    fn names(&self) -> Vec<String> {
        self.reads.iter().chain(&self.indices).cloned().collect()
    }

    fn absorb(&mut self, other: Terms<'a>) {
        self.reads.extend(other.reads);
        self.indices.extend(other.indices);
        self.spans.extend(other.spans);
        self.nested.extend(other.nested);
    }

    fn walk(&mut self, expr: &'a Expr, in_index: bool) {
        match expr {
            Expr::Var { span, .. } => {
                let name = span.text();
                // Each `_` is a fresh variable; OPA's rules for it are left to later checks.
                if name != "_" {
                    if in_index {
                        self.indices.push(name.to_string());
                    } else {
                        self.reads.push(name.to_string());
                    }
                    self.spans.push((name.to_string(), span));
                }
            }
            Expr::RefDot { refr, .. } => self.walk(refr, in_index),
            Expr::RefBrack { refr, index, .. } => {
                self.walk(refr, in_index);
                self.walk(index, true);
            }
            // The function's name is no variable.
            Expr::Call { params, .. } => params.iter().for_each(|p| self.walk(p, in_index)),
            Expr::Array { items, .. } | Expr::Set { items, .. } => {
                items.iter().for_each(|i| self.walk(i, in_index));
            }
            Expr::Object { fields, .. } => {
                for (_, key, value) in fields {
                    self.walk(key, in_index);
                    self.walk(value, in_index);
                }
            }
            Expr::ArrayCompr { .. } | Expr::SetCompr { .. } | Expr::ObjectCompr { .. } => {
                self.nested.push(expr);
            }
            Expr::UnaryExpr { expr, .. } => self.walk(expr, in_index),
            Expr::BinExpr { lhs, rhs, .. }
            | Expr::BoolExpr { lhs, rhs, .. }
            | Expr::ArithExpr { lhs, rhs, .. }
            | Expr::AssignExpr { lhs, rhs, .. } => {
                self.walk(lhs, in_index);
                self.walk(rhs, in_index);
            }
            Expr::Membership {
                key,
                value,
                collection,
                ..
            } => {
                if let Some(key) = key {
                    self.walk(key, in_index);
                }
                self.walk(value, in_index);
                self.walk(collection, in_index);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unsafe_in(source: &str) -> Vec<String> {
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(false);
        engine
            .add_policy("p.rego".to_string(), source.to_string())
            .expect("parses");
        unsafe_variables(engine.get_modules())
            .into_iter()
            .map(|p| {
                let at = p.location.expect("located");
                format!("{} {}:{}", p.message, at.row, at.col)
            })
            .collect()
    }

    #[test]
    fn reports_what_no_statement_can_bind_as_opa_does() {
        assert_eq!(
            unsafe_in("package t\n\np := x if x == 5\n"),
            ["var x is unsafe 3:11"]
        );
        assert_eq!(
            unsafe_in("package t\n\np := [x | x > 1]\n"),
            ["var x is unsafe 3:11"]
        );
        assert_eq!(
            unsafe_in("package t\n\np if { x == 1; y > x; z := y }\n"),
            ["var x is unsafe 3:8", "var y is unsafe 3:16"]
        );
        assert_eq!(
            unsafe_in("package t\n\np contains x if { y := 1 }\n"),
            ["var x is unsafe 3:12"]
        );
        assert_eq!(
            unsafe_in("package t\n\np if { z := [a | a > b] }\n"),
            ["var a is unsafe 3:18", "var b is unsafe 3:18"]
        );
    }

    #[test]
    fn lets_every_way_of_binding_through() {
        for source in [
            "package t\n\np if { y > x; x := 1; y = 2 }\n",
            "package t\n\np contains x if { some x in input.xs }\n",
            "package t\n\np contains k if { input.o[k] }\n",
            "package t\n\nf(a) := b if { b := a }\n",
            "package t\n\np := y if { count([1], y) }\n",
            "package t\n\np if { [x, 1] = [1, y]; x == y }\n",
            "package t\n\np if { q == 1 }\n\nq := 1\n",
            "package t\n\nimport data.lib.x as l\n\np if { l == 1 }\n",
            "package t\n\np if { every v in input.xs { v > 0 } }\n",
            "package t\n\np := [v | some v in input.xs]\n",
            "package t\n\np if { x := 1; [y | y := x] }\n",
            "package t\n\np if { count(input.xs) > 1 with input as {\"xs\": [1, 2]} }\n",
        ] {
            assert_eq!(unsafe_in(source), Vec::<String>::new(), "{source}");
        }
    }

    #[test]
    fn queries_have_only_input_and_data() {
        let source =
            regorus::Source::from_contents(String::new(), "x = y".to_string()).expect("source");
        let mut parser = regorus::unstable::Parser::new(&source).expect("parser");
        parser.enable_rego_v1().expect("v1");
        let query = parser.parse_user_query().expect("parses");
        let found: Vec<String> = unsafe_in_query(&query)
            .into_iter()
            .map(|p| p.message)
            .collect();
        assert_eq!(found, ["var x is unsafe", "var y is unsafe"]);
    }
}
