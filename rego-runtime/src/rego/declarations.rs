//! OPA's checks of local declarations in a query, which regorus does not make: within one
//! body a variable may be declared once (`x := ...`, `some x`), and not after it was used
//! (`x = 1; x := 2`), and nothing may be assigned under `not`. OPA refuses such a query at
//! compile time (`rego_compile_error: var x assigned above`) where regorus evaluates it.
//! Comprehension and `every` bodies are scopes of their own, where outer names may be
//! declared again.

use std::collections::HashMap;

use regorus::unstable::{AssignOp, Expr, Literal, Query, Span};

use super::diagnostics;
use crate::error::Problem;

/// How a name first appeared in a scope, which decides OPA's message for a second declaration.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Occurrence {
    Seen,
    Assigned,
    Declared,
}

struct Scopes {
    stack: Vec<HashMap<String, Occurrence>>,
    problems: Vec<Problem>,
}

/// Every declaration OPA's compiler refuses in `query`, in the order it finds them.
pub fn check_query(query: &Query) -> Vec<Problem> {
    let mut scopes = Scopes {
        stack: vec![HashMap::new()],
        problems: Vec::new(),
    };
    scopes.body(query);
    scopes.problems
}

impl Scopes {
    fn current(&mut self) -> &mut HashMap<String, Occurrence> {
        self.stack.last_mut().expect("a scope is always open")
    }

    fn is_declared(&self, name: &str) -> bool {
        self.stack
            .iter()
            .any(|scope| matches!(scope.get(name), Some(o) if *o != Occurrence::Seen))
    }

    /// A use of `name`: remembered in the current scope unless an enclosing one declares it.
    fn see(&mut self, name: &str) {
        if is_special(name) || self.is_declared(name) {
            return;
        }
        self.current()
            .entry(name.to_string())
            .or_insert(Occurrence::Seen);
    }

    /// A declaration of the variable at `span`.
    fn declare(&mut self, span: &Span, occurrence: Occurrence) {
        let name = span.text();
        if name == "_" {
            return;
        }
        let message = match self.current().get(name) {
            None => {
                self.current().insert(name.to_string(), occurrence);
                return;
            }
            Some(Occurrence::Seen) => format!("var {name} referenced above"),
            Some(Occurrence::Assigned) => format!("var {name} assigned above"),
            Some(Occurrence::Declared) => format!("var {name} declared above"),
        };
        self.problem(span, message);
    }

    fn problem(&mut self, span: &Span, message: String) {
        let mut location = diagnostics::location(span);
        // A query has no file in OPA's errors.
        location.file.clear();
        self.problems.push(Problem {
            code: "rego_compile_error",
            message,
            location: Some(location),
        });
    }

    fn scoped(&mut self, inside: impl FnOnce(&mut Scopes)) {
        self.stack.push(HashMap::new());
        inside(self);
        self.stack.pop();
    }

    fn body(&mut self, query: &Query) {
        for stmt in &query.stmts {
            match &stmt.literal {
                Literal::SomeVars { vars, .. } => {
                    for var in vars {
                        self.declare(var, Occurrence::Declared);
                    }
                }
                Literal::SomeIn {
                    key,
                    value,
                    collection,
                    ..
                } => {
                    self.uses(collection);
                    for pattern in key.iter().chain(std::iter::once(value)) {
                        self.pattern(pattern, Occurrence::Declared);
                    }
                }
                Literal::Every {
                    key,
                    value,
                    domain,
                    query,
                    ..
                } => {
                    self.uses(domain);
                    self.scoped(|scopes| {
                        for var in key.iter().chain(std::iter::once(value)) {
                            scopes.declare(var, Occurrence::Declared);
                        }
                        scopes.body(query);
                    });
                }
                Literal::Expr { expr, .. } => match expr.as_ref() {
                    Expr::AssignExpr {
                        op: AssignOp::ColEq,
                        lhs,
                        rhs,
                        ..
                    } => {
                        // OPA reads the value (and `with` values) before declaring.
                        self.uses(rhs);
                        for modifier in &stmt.with_mods {
                            self.uses(&modifier.r#as);
                        }
                        self.pattern(lhs, Occurrence::Assigned);
                        continue;
                    }
                    other => self.uses(other),
                },
                Literal::NotExpr { span, expr } => match expr.as_ref() {
                    Expr::AssignExpr {
                        op: AssignOp::ColEq,
                        ..
                    } => self.problem(
                        span,
                        "cannot assign vars inside negated expression".to_string(),
                    ),
                    other => self.uses(other),
                },
            }
            for modifier in &stmt.with_mods {
                self.uses(&modifier.r#as);
            }
        }
    }

    /// Declares the variables of an assignment's or `some`'s left side (`x`, `[a, b]`,
    /// `{"k": v}`); anything else there is read.
    fn pattern(&mut self, expr: &Expr, occurrence: Occurrence) {
        match expr {
            Expr::Var { span, .. } => self.declare(span, occurrence),
            Expr::Array { items, .. } => items.iter().for_each(|i| self.pattern(i, occurrence)),
            Expr::Object { fields, .. } => {
                for (_, key, value) in fields {
                    self.uses(key);
                    self.pattern(value, occurrence);
                }
            }
            other => self.uses(other),
        }
    }

    /// Every variable `expr` reads; comprehensions open a scope of their own.
    fn uses(&mut self, expr: &Expr) {
        match expr {
            Expr::Var { span, .. } => self.see(span.text()),
            // A called function's name is not a variable.
            Expr::Call { params, .. } => params.iter().for_each(|p| self.uses(p)),
            Expr::Array { items, .. } | Expr::Set { items, .. } => {
                items.iter().for_each(|i| self.uses(i))
            }
            Expr::Object { fields, .. } => {
                for (_, key, value) in fields {
                    self.uses(key);
                    self.uses(value);
                }
            }
            Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => self
                .scoped(|scopes| {
                    scopes.body(query);
                    scopes.uses(term);
                }),
            Expr::ObjectCompr {
                key, value, query, ..
            } => self.scoped(|scopes| {
                scopes.body(query);
                scopes.uses(key);
                scopes.uses(value);
            }),
            Expr::UnaryExpr { expr, .. } => self.uses(expr),
            Expr::RefDot { refr, .. } => self.uses(refr),
            Expr::RefBrack { refr, index, .. } => {
                self.uses(refr);
                self.uses(index);
            }
            Expr::BinExpr { lhs, rhs, .. }
            | Expr::BoolExpr { lhs, rhs, .. }
            | Expr::ArithExpr { lhs, rhs, .. }
            | Expr::AssignExpr { lhs, rhs, .. } => {
                self.uses(lhs);
                self.uses(rhs);
            }
            Expr::Membership {
                key,
                value,
                collection,
                ..
            } => {
                if let Some(key) = key {
                    self.uses(key);
                }
                self.uses(value);
                self.uses(collection);
            }
            _ => {}
        }
    }
}

/// Names that are never local variables: the wildcard and the root documents.
fn is_special(name: &str) -> bool {
    matches!(name, "_" | "input" | "data")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<(String, u32, u32)> {
        let source =
            regorus::Source::from_contents(String::new(), text.to_string()).expect("source");
        let mut parser = regorus::unstable::Parser::new(&source).expect("parser");
        parser.enable_rego_v1().expect("v1");
        let query = parser.parse_user_query().expect("query");
        check_query(&query)
            .into_iter()
            .map(|p| {
                let at = p.location.expect("location");
                (p.message, at.row, at.col)
            })
            .collect()
    }

    // Each confirmed with `POST /v1/query` on OPA 1.22.2.
    #[test]
    fn refuses_what_opa_refuses() {
        let one = |message: &str, col| vec![(message.to_string(), 1, col)];
        assert_eq!(problems("x := 1; x := 2"), one("var x assigned above", 9));
        assert_eq!(problems("x = 1; x := 2"), one("var x referenced above", 8));
        assert_eq!(problems("some x; x := 1"), one("var x declared above", 9));
        assert_eq!(
            problems("x := 1; not x := 2"),
            one("cannot assign vars inside negated expression", 9)
        );
        assert_eq!(
            problems("x := 1\nx := 2"),
            vec![("var x assigned above".to_string(), 2, 1)]
        );
    }

    #[test]
    fn allows_what_opa_allows() {
        assert!(problems("x := 1; y := [x | x := 2]").is_empty());
        assert!(problems("x := 1; every y in [1] { x := y }").is_empty());
        assert!(problems("x := input.a; y := x + 1").is_empty());
        assert!(problems("_ := 1; _ := 2").is_empty());
        assert!(problems("f(x); y := 1").is_empty());
    }
}
