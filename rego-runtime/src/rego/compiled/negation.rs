//! Which parts of a negated expression OPA evaluates before the negation: its compiler binds
//! the operands of calls (refs, nested calls, comprehensions) and the dynamic steps of refs to
//! generated variables in statements placed before the expression (`rewriteDynamics` and
//! `expandExpr` in `ast/compile.go`), and those statements are not negated. So
//! `not startswith(input.x, "a")` fails when `input.x` is undefined, while
//! `not input.x == "a"` (an equality: refs on either side stay) succeeds.

use regorus::unstable::{AssignOp, BoolOp, Expr as Ast};

use super::symbols::{Segment, flatten};

/// The terms of `expr` (a negated expression) evaluated outside the negation, in order.
pub(super) fn hoisted(expr: &Ast) -> Vec<&Ast> {
    let mut out = Vec::new();
    match expr {
        Ast::AssignExpr {
            op: AssignOp::Eq,
            lhs,
            rhs,
            ..
        }
        | Ast::BoolExpr {
            op: BoolOp::Eq,
            lhs,
            rhs,
            ..
        } => {
            equality_side(lhs, &mut out);
            equality_side(rhs, &mut out);
        }
        Ast::BoolExpr { lhs, rhs, .. }
        | Ast::ArithExpr { lhs, rhs, .. }
        | Ast::BinExpr { lhs, rhs, .. } => {
            operand(lhs, &mut out);
            operand(rhs, &mut out);
        }
        Ast::Membership {
            key,
            value,
            collection,
            ..
        } => {
            if let Some(key) = key {
                operand(key, &mut out);
            }
            operand(value, &mut out);
            operand(collection, &mut out);
        }
        Ast::Call { params, .. } => params.iter().for_each(|p| operand(p, &mut out)),
        Ast::RefDot { .. } | Ast::RefBrack { .. } => dynamic_steps(expr, &mut out),
        Ast::Array { .. } | Ast::Set { .. } | Ast::Object { .. } => members(expr, &mut out),
        _ => {}
    }
    out
}

/// True when `expr` cannot be compiled by these rules: regorus parses `-a + b` as
/// `-(a + b)`, whose shape here is not the expression's.
pub(super) fn unsupported(expr: &Ast) -> bool {
    matches!(expr, Ast::UnaryExpr { .. })
}

/// An operand of a call or operator: evaluated outside unless a variable or constant
/// (composites are built inside from their members, which are evaluated outside).
fn operand<'e>(expr: &'e Ast, out: &mut Vec<&'e Ast>) {
    match expr {
        Ast::Array { .. } | Ast::Set { .. } | Ast::Object { .. } => members(expr, out),
        Ast::Var { .. }
        | Ast::String { .. }
        | Ast::RawString { .. }
        | Ast::Number { .. }
        | Ast::Bool { .. }
        | Ast::Null { .. } => {}
        _ => out.push(expr),
    }
}

/// A side of `=` or `==`: a ref stays (its dynamic steps go outside), a call goes outside.
fn equality_side<'e>(expr: &'e Ast, out: &mut Vec<&'e Ast>) {
    match expr {
        Ast::RefDot { .. } | Ast::RefBrack { .. } => dynamic_steps(expr, out),
        Ast::ArrayCompr { .. } | Ast::SetCompr { .. } | Ast::ObjectCompr { .. } => {}
        other => operand(other, out),
    }
}

fn members<'e>(expr: &'e Ast, out: &mut Vec<&'e Ast>) {
    match expr {
        Ast::Array { items, .. } | Ast::Set { items, .. } => {
            items.iter().for_each(|item| operand(item, out))
        }
        Ast::Object { fields, .. } => fields.iter().for_each(|(_, k, v)| {
            operand(k, out);
            operand(v, out);
        }),
        _ => {}
    }
}

/// The steps of a ref that are themselves refs, calls or comprehensions.
fn dynamic_steps<'e>(expr: &'e Ast, out: &mut Vec<&'e Ast>) {
    let flat = flatten(expr);
    if matches!(flat.root, Ast::Call { .. }) {
        out.push(flat.root);
    }
    for segment in flat.segments {
        if let Segment::Index(index) = segment {
            operand(index, out);
        }
    }
}
