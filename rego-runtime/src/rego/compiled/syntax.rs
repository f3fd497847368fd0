//! Walks over regorus's syntax tree: the variable names a term or statement uses, with or
//! without the queries nested in it (comprehensions, `every` bodies).

use regorus::unstable::{Expr as Ast, Literal, LiteralStmt, Query};

use super::symbols::var_name;

/// Whether a walk enters comprehensions and `every` bodies.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Nested {
    Entered,
    Skipped,
}

/// Every variable name in `expr`, in order; called functions' names are not variables.
pub(super) fn term_names<'e>(expr: &'e Ast, nested: Nested, out: &mut Vec<&'e str>) {
    match expr {
        Ast::Var { .. } => out.extend(var_name(expr)),
        Ast::RefDot { refr, .. } => term_names(refr, nested, out),
        Ast::RefBrack { refr, index, .. } => {
            term_names(refr, nested, out);
            term_names(index, nested, out);
        }
        Ast::Array { items, .. } | Ast::Set { items, .. } => {
            items.iter().for_each(|i| term_names(i, nested, out))
        }
        Ast::Object { fields, .. } => fields.iter().for_each(|(_, k, v)| {
            term_names(k, nested, out);
            term_names(v, nested, out);
        }),
        Ast::Call { params, .. } => params.iter().for_each(|p| term_names(p, nested, out)),
        Ast::UnaryExpr { expr, .. } => term_names(expr, nested, out),
        Ast::BinExpr { lhs, rhs, .. }
        | Ast::BoolExpr { lhs, rhs, .. }
        | Ast::ArithExpr { lhs, rhs, .. }
        | Ast::AssignExpr { lhs, rhs, .. } => {
            term_names(lhs, nested, out);
            term_names(rhs, nested, out);
        }
        Ast::Membership {
            key,
            value,
            collection,
            ..
        } => {
            if let Some(key) = key {
                term_names(key, nested, out);
            }
            term_names(value, nested, out);
            term_names(collection, nested, out);
        }
        Ast::ArrayCompr { term, query, .. } | Ast::SetCompr { term, query, .. }
            if nested == Nested::Entered =>
        {
            term_names(term, nested, out);
            query_names(query, out);
        }
        Ast::ObjectCompr {
            key, value, query, ..
        } if nested == Nested::Entered => {
            term_names(key, nested, out);
            term_names(value, nested, out);
            query_names(query, out);
        }
        _ => {}
    }
}

/// Every variable name in a statement (`some` declarations and `with` values included).
pub(super) fn statement_names<'e>(stmt: &'e LiteralStmt, nested: Nested, out: &mut Vec<&'e str>) {
    match &stmt.literal {
        Literal::SomeVars { vars, .. } => {
            if nested == Nested::Entered {
                out.extend(vars.iter().map(|v| v.text()));
            }
        }
        Literal::SomeIn {
            key,
            value,
            collection,
            ..
        } => {
            if let Some(key) = key {
                term_names(key, nested, out);
            }
            term_names(value, nested, out);
            term_names(collection, nested, out);
        }
        Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => term_names(expr, nested, out),
        Literal::Every { domain, query, .. } => {
            term_names(domain, nested, out);
            if nested == Nested::Entered {
                query_names(query, out);
            }
        }
    }
    for with in &stmt.with_mods {
        term_names(&with.r#as, nested, out);
    }
}

fn query_names<'e>(query: &'e Query, out: &mut Vec<&'e str>) {
    for stmt in &query.stmts {
        statement_names(stmt, Nested::Entered, out);
    }
}
