//! Which parts of a negated expression OPA evaluates before the negation: its compiler binds
//! the operands of calls (refs, nested calls, comprehensions) and the dynamic steps of refs to
//! generated variables in statements placed before the expression (`rewriteDynamics` and
//! `expandExpr` in `ast/compile.go`), and those statements are not negated. So
//! `not startswith(input.x, "a")` fails when `input.x` is undefined, while
//! `not input.x == "a"` (an equality: refs on either side stay) succeeds.

use regorus::unstable::{AssignOp, BoolOp, Expr as Ast};

use super::symbols::{Segment, flatten, var_name};

/// Where a negated expression is: what its names are, and whether in a module or a query.
pub(super) struct Context<'c> {
    /// True for a name that stands for a document (a rule, a package, `input`, an import)
    /// rather than a variable: OPA's compiler makes it a ref.
    pub is_document: &'c dyn Fn(&str) -> bool,
    /// In an ad-hoc query OPA does not rewrite `==` into a unification, so it stays a call.
    pub in_query: bool,
}

/// The terms of `expr` (a negated expression) evaluated outside the negation, in order.
pub(super) fn hoisted<'e>(expr: &'e Ast, context: &Context<'_>) -> Vec<&'e Ast> {
    let mut out = Vec::new();
    let walk = Walk { context };
    match expr {
        Ast::AssignExpr {
            op: AssignOp::Eq,
            lhs,
            rhs,
            ..
        } => {
            walk.equality_side(lhs, &mut out);
            walk.equality_side(rhs, &mut out);
        }
        Ast::BoolExpr {
            op: BoolOp::Eq,
            lhs,
            rhs,
            ..
        } if !context.in_query => {
            walk.equality_side(lhs, &mut out);
            walk.equality_side(rhs, &mut out);
        }
        Ast::BoolExpr { lhs, rhs, .. }
        | Ast::ArithExpr { lhs, rhs, .. }
        | Ast::BinExpr { lhs, rhs, .. } => {
            walk.operand(lhs, &mut out);
            walk.operand(rhs, &mut out);
        }
        Ast::Membership {
            key,
            value,
            collection,
            ..
        } => {
            if let Some(key) = key {
                walk.operand(key, &mut out);
            }
            walk.operand(value, &mut out);
            walk.operand(collection, &mut out);
        }
        Ast::Call { params, .. } => params.iter().for_each(|p| walk.operand(p, &mut out)),
        Ast::RefDot { .. } | Ast::RefBrack { .. } => walk.dynamic_steps(expr, &mut out),
        Ast::Array { .. } | Ast::Set { .. } | Ast::Object { .. } => walk.members(expr, &mut out),
        _ => {}
    }
    out
}

/// True when `expr` cannot be compiled by these rules: regorus parses `-a + b` as
/// `-(a + b)`, whose shape here is not the expression's.
pub(super) fn unsupported(expr: &Ast) -> bool {
    matches!(expr, Ast::UnaryExpr { .. })
}

struct Walk<'w, 'c> {
    context: &'w Context<'c>,
}

impl Walk<'_, '_> {
    /// An operand of a call or operator: evaluated outside unless a variable or constant
    /// (composites are built inside from their members, which are evaluated outside).
    fn operand<'e>(&self, expr: &'e Ast, out: &mut Vec<&'e Ast>) {
        match expr {
            Ast::Array { .. } | Ast::Set { .. } | Ast::Object { .. } => self.members(expr, out),
            Ast::Var { .. } => {
                if var_name(expr).is_some_and(|name| (self.context.is_document)(name)) {
                    out.push(expr);
                }
            }
            Ast::String { .. }
            | Ast::RawString { .. }
            | Ast::Number { .. }
            | Ast::Bool { .. }
            | Ast::Null { .. } => {}
            _ => out.push(expr),
        }
    }

    /// A side of `=` (or of `==` in a module): a ref stays, its dynamic steps go outside; a
    /// call goes outside.
    fn equality_side<'e>(&self, expr: &'e Ast, out: &mut Vec<&'e Ast>) {
        match expr {
            Ast::RefDot { .. } | Ast::RefBrack { .. } => self.dynamic_steps(expr, out),
            Ast::ArrayCompr { .. } | Ast::SetCompr { .. } | Ast::ObjectCompr { .. } => {}
            Ast::Var { .. } => {}
            other => self.operand(other, out),
        }
    }

    fn members<'e>(&self, expr: &'e Ast, out: &mut Vec<&'e Ast>) {
        match expr {
            Ast::Array { items, .. } | Ast::Set { items, .. } => {
                items.iter().for_each(|item| self.operand(item, out))
            }
            Ast::Object { fields, .. } => fields.iter().for_each(|(_, k, v)| {
                self.operand(k, out);
                self.operand(v, out);
            }),
            _ => {}
        }
    }

    /// The steps of a ref that are themselves refs, calls or comprehensions, and the
    /// members of a literal it starts from.
    fn dynamic_steps<'e>(&self, expr: &'e Ast, out: &mut Vec<&'e Ast>) {
        let flat = flatten(expr);
        match flat.root {
            Ast::Call { .. } => out.push(flat.root),
            Ast::Array { .. } | Ast::Set { .. } | Ast::Object { .. } => {
                self.members(flat.root, out)
            }
            _ => {}
        }
        for segment in flat.segments {
            if let Segment::Index(index) = segment {
                self.operand(index, out);
            }
        }
    }
}
