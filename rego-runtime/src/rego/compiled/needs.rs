//! Which unbound variables a statement needs before it can run, so that a body's statements
//! run in an order where each finds its inputs bound (OPA reorders bodies the same way:
//! `reorderBodyForSafety` in `ast/compile.go`). A reference that iterates (`xs[i]` with `i`
//! free) binds its variable instead of needing it.

use std::collections::HashSet;

use regorus::unstable::{AssignOp, Expr as Ast, Literal, LiteralStmt};

use super::ir::Slot;
use super::scope::{Name, Scope, pattern_names};
use super::symbols::{Segment, flatten, var_name};
use super::syntax::{Nested, statement_names, term_names};

/// A need nothing can meet: a wildcard or construct that cannot be evaluated where it is.
pub(super) const NEVER: Slot = Slot::MAX;

impl Scope<'_> {
    fn unbound(&self, slot: Slot, assumed: &[Slot]) -> bool {
        !self.is_bound(slot) && !assumed.contains(&slot)
    }

    /// Unbound variables `expr` needs to be evaluated. Variables that its references iterate
    /// over are added to `assumed` (bound from there on) instead.
    pub fn eval_needs(&self, expr: &Ast, assumed: &mut Vec<Slot>, out: &mut Vec<Slot>) {
        match expr {
            Ast::Var { .. } => match var_name(expr) {
                Some("_") => out.push(NEVER),
                Some(name) => {
                    if let Name::Local(slot) = self.resolve(name)
                        && self.unbound(slot, assumed)
                    {
                        out.push(slot);
                    }
                }
                None => {}
            },
            Ast::RefDot { .. } | Ast::RefBrack { .. } => {
                let flat = flatten(expr);
                self.eval_needs(flat.root, assumed, out);
                for segment in &flat.segments {
                    let Segment::Index(index) = segment else {
                        continue;
                    };
                    match var_name(index) {
                        Some("_") => {}
                        Some(name) => match self.resolve(name) {
                            Name::Local(slot) if self.unbound(slot, assumed) => assumed.push(slot),
                            _ => {}
                        },
                        None => self.eval_needs(index, assumed, out),
                    }
                }
            }
            Ast::Array { items, .. } | Ast::Set { items, .. } => {
                for item in items {
                    self.eval_needs(item, assumed, out);
                }
            }
            Ast::Object { fields, .. } => {
                for (_, key, value) in fields {
                    self.eval_needs(key, assumed, out);
                    self.eval_needs(value, assumed, out);
                }
            }
            Ast::Call { params, .. } => {
                for param in params {
                    self.eval_needs(param, assumed, out);
                }
            }
            Ast::UnaryExpr { expr, .. } => self.eval_needs(expr, assumed, out),
            Ast::BinExpr { lhs, rhs, .. }
            | Ast::BoolExpr { lhs, rhs, .. }
            | Ast::ArithExpr { lhs, rhs, .. } => {
                self.eval_needs(lhs, assumed, out);
                self.eval_needs(rhs, assumed, out);
            }
            Ast::Membership {
                key,
                value,
                collection,
                ..
            } => {
                if let Some(key) = key {
                    self.eval_needs(key, assumed, out);
                }
                self.eval_needs(value, assumed, out);
                self.eval_needs(collection, assumed, out);
            }
            Ast::ArrayCompr { term, query, .. } | Ast::SetCompr { term, query, .. } => {
                self.closure_needs(&query.stmts, &[term], &[], out)
            }
            Ast::ObjectCompr {
                key, value, query, ..
            } => self.closure_needs(&query.stmts, &[key, value], &[], out),
            Ast::AssignExpr { .. } => out.push(NEVER),
            _ => {}
        }
    }

    /// Unbound variables needed to match a value against `expr` as a pattern: its free
    /// variables bind, its other terms must be evaluable.
    pub fn pattern_needs(&self, expr: &Ast, assumed: &mut Vec<Slot>, out: &mut Vec<Slot>) {
        match expr {
            Ast::Var { .. } => {}
            Ast::Array { items, .. } => {
                for item in items {
                    self.pattern_needs(item, assumed, out);
                }
            }
            Ast::Object { fields, .. } => {
                for (_, key, value) in fields {
                    self.eval_needs(key, assumed, out);
                    self.pattern_needs(value, assumed, out);
                }
            }
            other => self.eval_needs(other, assumed, out),
        }
    }

    /// Variables of enclosing queries that a nested query (and its result terms) reads;
    /// `declared` are names the nested query declares for itself.
    pub fn closure_needs(
        &self,
        stmts: &[LiteralStmt],
        terms: &[&regorus::unstable::Ref<Ast>],
        declared: &[&str],
        out: &mut Vec<Slot>,
    ) {
        let mut own: HashSet<&str> = declared.iter().copied().collect();
        declared_deep(stmts, &mut own);
        let mut names = Vec::new();
        for stmt in stmts {
            statement_names(stmt, Nested::Entered, &mut names);
        }
        for term in terms {
            term_names(term, Nested::Entered, &mut names);
        }
        for name in names {
            if own.contains(name) {
                continue;
            }
            if let Name::Local(slot) = self.resolve(name)
                && !self.is_bound(slot)
            {
                out.push(slot);
            }
        }
    }

    /// The slots of this frame a statement mentions anywhere, nested queries included.
    pub fn mentions(&self, stmt: &LiteralStmt) -> Vec<Slot> {
        let mut names = Vec::new();
        statement_names(stmt, Nested::Entered, &mut names);
        self.locals(names)
    }

    /// The slots of this frame that terms mention anywhere, nested queries included.
    pub fn term_mentions(&self, terms: &[&Ast]) -> Vec<Slot> {
        let mut names = Vec::new();
        for term in terms {
            term_names(term, Nested::Entered, &mut names);
        }
        self.locals(names)
    }

    fn locals(&self, names: Vec<&str>) -> Vec<Slot> {
        names
            .into_iter()
            .filter_map(|name| self.local(name))
            .collect()
    }

    /// Unbound variables a statement needs; `mentioned_elsewhere` tells the slots that
    /// statements not yet placed mention (a negation waits for those to be bound).
    pub fn statement_needs(
        &self,
        stmt: &LiteralStmt,
        mentioned_elsewhere: &dyn Fn(Slot) -> bool,
    ) -> Vec<Slot> {
        let mut out = Vec::new();
        let mut assumed = Vec::new();
        for with in &stmt.with_mods {
            self.eval_needs(&with.r#as, &mut assumed, &mut out);
        }
        match &stmt.literal {
            Literal::SomeVars { .. } => {}
            Literal::SomeIn {
                key,
                value,
                collection,
                ..
            } => {
                self.eval_needs(collection, &mut assumed, &mut out);
                if let Some(key) = key {
                    self.pattern_needs(key, &mut assumed, &mut out);
                }
                self.pattern_needs(value, &mut assumed, &mut out);
            }
            Literal::Expr { expr, .. } => match expr.as_ref() {
                Ast::AssignExpr {
                    op: AssignOp::ColEq,
                    lhs,
                    rhs,
                    ..
                } => {
                    self.eval_needs(rhs, &mut assumed, &mut out);
                    self.pattern_needs(lhs, &mut assumed, &mut out);
                }
                Ast::AssignExpr {
                    op: AssignOp::Eq,
                    lhs,
                    rhs,
                    ..
                } => out.extend(self.unification_needs(lhs, rhs, &assumed)),
                other => match self.output_call(other) {
                    Some((_, operands, output)) => {
                        for operand in operands {
                            self.eval_needs(operand, &mut assumed, &mut out);
                        }
                        self.pattern_needs(output, &mut assumed, &mut out);
                    }
                    None => self.eval_needs(other, &mut assumed, &mut out),
                },
            },
            Literal::NotExpr { .. } => {
                for slot in self.mentions(stmt) {
                    if !self.is_bound(slot) && mentioned_elsewhere(slot) {
                        out.push(slot);
                    }
                }
            }
            Literal::Every {
                key,
                value,
                domain,
                query,
                ..
            } => {
                self.eval_needs(domain, &mut assumed, &mut out);
                let mut declared = vec![value.text()];
                declared.extend(key.as_ref().map(|k| k.text()));
                self.closure_needs(&query.stmts, &[], &declared, &mut out);
            }
        }
        out
    }

    /// What `lhs = rhs` needs: nothing when either side can be evaluated and the other
    /// matched against it.
    pub fn unification_needs(&self, lhs: &Ast, rhs: &Ast, assumed: &[Slot]) -> Vec<Slot> {
        let side = |value: &Ast, pattern: &Ast| {
            let mut assumed = assumed.to_vec();
            let mut out = Vec::new();
            self.eval_needs(value, &mut assumed, &mut out);
            self.pattern_needs(pattern, &mut assumed, &mut out);
            out
        };
        let right_to_left = side(rhs, lhs);
        if right_to_left.is_empty() {
            return right_to_left;
        }
        let left_to_right = side(lhs, rhs);
        if left_to_right.is_empty() {
            return left_to_right;
        }
        right_to_left
    }
}

/// Names a query declares for itself anywhere inside (`some`, `:=`, `every` variables).
fn declared_deep<'e>(stmts: &'e [LiteralStmt], out: &mut HashSet<&'e str>) {
    for stmt in stmts {
        let mut names = Vec::new();
        match &stmt.literal {
            Literal::SomeVars { vars, .. } => names.extend(vars.iter().map(|v| v.text())),
            Literal::SomeIn { key, value, .. } => {
                if let Some(key) = key {
                    pattern_names(key, &mut names);
                }
                pattern_names(value, &mut names);
            }
            Literal::Expr { expr, .. } => {
                if let Ast::AssignExpr {
                    op: AssignOp::ColEq,
                    lhs,
                    ..
                } = expr.as_ref()
                {
                    pattern_names(lhs, &mut names);
                }
            }
            Literal::Every {
                key, value, query, ..
            } => {
                names.push(value.text());
                names.extend(key.as_ref().map(|k| k.text()));
                declared_deep(&query.stmts, out);
            }
            Literal::NotExpr { .. } => {}
        }
        out.extend(names);
    }
}
