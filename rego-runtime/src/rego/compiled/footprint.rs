//! A compiled program's [`Footprint`]: every node and constant evaluation may read.

use crate::footprint::{Footprint, FootprintBuilder};

use super::ir::{Body, Expr, Pattern, Program, Query, Step};

/// The lines of every node of `program` and of its constants.
pub(super) fn of(program: &Program) -> Footprint {
    let mut walk = Walk::default();
    walk.0.slice(&program.rules);
    for rule in &program.rules {
        walk.0.slice(&rule.definitions);
        if let Some(default) = &rule.default {
            walk.0.value(default);
        }
        for definition in &rule.definitions {
            walk.0.slice(&definition.bodies);
            definition.bodies.iter().for_each(|body| walk.body(body));
        }
    }
    walk.0.build()
}

/// The IR's shapes over the builder's.
#[derive(Default)]
struct Walk(FootprintBuilder);

impl Walk {
    fn body(&mut self, body: &Body) {
        self.0.slice(&body.params);
        body.params.iter().for_each(|p| self.pattern(p));
        self.query(&body.query);
        body.key
            .iter()
            .chain(&body.value)
            .for_each(|e| self.expr(e));
    }

    fn query(&mut self, query: &Query) {
        self.0.slice(&query.steps);
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
                    self.0.item(&**every);
                    self.expr(&every.domain);
                    self.pattern(&every.key);
                    self.pattern(&every.value);
                    self.query(&every.body);
                }
                Step::WithInput { replacements, body } => {
                    self.0.slice(replacements);
                    for replacement in replacements {
                        self.0.slice(&replacement.path);
                        replacement.path.iter().for_each(|v| self.0.value(v));
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
                self.0.slice(items);
                items.iter().for_each(|p| self.pattern(p));
            }
            Pattern::Object(entries) => {
                self.0.slice(entries);
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
            Expr::Const(value) => self.0.value(value),
            Expr::Local(_) | Expr::Input | Expr::Data | Expr::Rule(_) => {}
            // Rare, and their parts are names looked up by name anyway.
            Expr::Virtual(_) | Expr::Print(_) => {}
            Expr::Index { base, path } => {
                self.boxed(base);
                self.exprs(path);
            }
            Expr::Builtin { args, .. } | Expr::Function { args, .. } => self.exprs(args),
            Expr::Trace(call) => self.expr(&call.message),
            Expr::Compare { lhs, rhs, .. } => {
                self.boxed(lhs);
                self.boxed(rhs);
            }
            Expr::Array(items) | Expr::Set(items) => self.exprs(items),
            Expr::Object(entries) => {
                self.0.slice(entries);
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
        self.0.item(expr);
        self.expr(expr);
    }

    fn exprs(&mut self, exprs: &[Expr]) {
        self.0.slice(exprs);
        exprs.iter().for_each(|e| self.expr(e));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Value;
    use crate::rego::compiled::ir::{Compare, Definition, Rule, RuleKind};

    fn address<T: ?Sized>(item: &T) -> *const u8 {
        (item as *const T).cast()
    }

    #[test]
    fn spans_every_node_and_constant_evaluation_reads() {
        let long = "a string constant long enough to span more than one cache line of its own";
        let program = Program {
            rules: vec![Rule {
                unsupported: None,
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
                    sites: Vec::new(),
                }],
                default: None,
            }],
        };
        let footprint = of(&program);
        let has = |address: *const u8| footprint.contains(address);
        let rule = &program.rules[0];
        let body = &rule.definitions[0].bodies[0];
        assert!(has(address(program.rules.as_slice())));
        assert!(has(address(rule.definitions.as_slice())));
        assert!(has(address(rule.definitions[0].bodies.as_slice())));
        assert!(has(address(body.query.steps.as_slice())));
        let Step::Test(Expr::Compare { lhs, rhs, .. }) = &body.query.steps[0] else {
            unreachable!("built above");
        };
        assert!(has(address(&**lhs)));
        let Expr::Const(Value::String(text)) = &**rhs else {
            unreachable!("built above");
        };
        assert!(text.len() > 64, "the constant spans more than one line");
        assert!(text.as_bytes().iter().all(|b| has(b)));
        let Some(Expr::Array(items)) = &body.value else {
            unreachable!("built above");
        };
        let Expr::Const(Value::Object(object)) = &items[0] else {
            unreachable!("built above");
        };
        let (key, value) = object.iter().next().expect("one entry");
        assert!(has(address(key)) && has(address(value)));
        let Value::String(text) = value else {
            unreachable!("built above");
        };
        assert!(has(address(text.as_bytes())));
    }
}
