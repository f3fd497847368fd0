//! Compile-time checks OPA makes and regorus leaves to evaluation: a call to a function that no
//! module defines and no builtin provides is OPA's `rego_type_error: undefined function f`.

use std::collections::{BTreeMap, HashSet};

use regorus::unstable::{Expr, Literal, Module, Query, Rule, RuleHead};

use crate::builtins;
use crate::error::{Location, Problem};

/// Every call to an undefined function, located at the call.
/// Builtins named in `disabled` count as undefined, as OPA's capabilities make them.
pub fn undefined_functions(engine: &mut regorus::Engine, disabled: &[String]) -> Vec<Problem> {
    let modules = engine.get_modules().clone();
    let defined: HashSet<String> = modules.iter().flat_map(|m| functions_of(m)).collect();
    let mut problems = Vec::new();
    for module in modules.iter() {
        let scope = Scope::of(module, &defined, disabled);
        for rule in &module.policy {
            for_each_call(rule, &mut |name, span| {
                if !scope.resolves(name) {
                    problems.push(Problem {
                        code: "rego_type_error",
                        message: format!("undefined function {}", scope.display(name)),
                        location: Some(Location {
                            file: span.source.get_path().to_string(),
                            row: span.line,
                            col: span.col,
                        }),
                    });
                }
            });
        }
    }
    problems
}

/// What names mean inside one module: its package, its import aliases, all functions.
struct Scope<'a> {
    package: String,
    aliases: BTreeMap<String, String>,
    defined: &'a HashSet<String>,
    disabled: &'a [String],
}

impl<'a> Scope<'a> {
    fn of(module: &Module, defined: &'a HashSet<String>, disabled: &'a [String]) -> Scope<'a> {
        let mut package = vec!["data".to_string()];
        dotted(&module.package.refr, &mut package);
        let mut aliases = BTreeMap::new();
        for import in &module.imports {
            let mut path = Vec::new();
            if !dotted(&import.refr, &mut path) || path.first().map(String::as_str) != Some("data")
            {
                continue;
            }
            let alias = match &import.r#as {
                Some(span) => span.text().to_string(),
                None => path.last().cloned().unwrap_or_default(),
            };
            aliases.insert(alias, path.join("."));
        }
        Scope {
            package: package.join("."),
            aliases,
            defined,
            disabled,
        }
    }

    /// The absolute path a call name refers to, if it is a user function path.
    fn absolute(&self, name: &str) -> Option<String> {
        if name.starts_with("data.") {
            return Some(name.to_string());
        }
        let (first, rest) = name.split_once('.').unwrap_or((name, ""));
        self.aliases.get(first).map(|target| {
            if rest.is_empty() {
                target.clone()
            } else {
                format!("{target}.{rest}")
            }
        })
    }

    fn resolves(&self, name: &str) -> bool {
        if let Some(path) = self.absolute(name) {
            return self.defined.contains(&path);
        }
        self.defined.contains(&format!("{}.{name}", self.package))
            || (is_builtin(name) && !self.disabled.iter().any(|d| d == name))
    }

    /// OPA names undefined calls by the path they resolve to.
    fn display(&self, name: &str) -> String {
        self.absolute(name).unwrap_or_else(|| name.to_string())
    }
}

fn is_builtin(name: &str) -> bool {
    name == "print"
        || regorus::unstable::BUILTINS.contains_key(name)
        || builtins::lookup(name).is_some()
}

/// `data.<package>.<name>` of every function (and default function) of a module.
fn functions_of(module: &Module) -> Vec<String> {
    let mut package = vec!["data".to_string()];
    dotted(&module.package.refr, &mut package);
    module
        .policy
        .iter()
        .filter_map(|rule| {
            let refr = match rule.as_ref() {
                Rule::Spec {
                    head: RuleHead::Func { refr, .. },
                    ..
                } => refr,
                Rule::Default { refr, args, .. } if !args.is_empty() => refr,
                _ => return None,
            };
            let mut path = package.clone();
            dotted(refr, &mut path).then(|| path.join("."))
        })
        .collect()
}

/// Appends the components of a plain dotted ref (`a.b["c"]`); false for anything else.
fn dotted(refr: &Expr, out: &mut Vec<String>) -> bool {
    match refr {
        Expr::Var { span, .. } => {
            out.push(span.text().to_string());
            true
        }
        Expr::RefDot { refr, field, .. } => {
            dotted(refr, out) && {
                out.push(field.0.text().to_string());
                true
            }
        }
        Expr::RefBrack { refr, index, .. } => match index.as_ref() {
            Expr::String { value, .. } => {
                dotted(refr, out)
                    && value.as_string().is_ok_and(|s| {
                        out.push(s.to_string());
                        true
                    })
            }
            _ => false,
        },
        _ => false,
    }
}

/// The span of a ref's first term (`a` of `a.b.c`), where OPA locates the whole ref.
fn ref_start(refr: &Expr) -> &regorus::unstable::Span {
    match refr {
        Expr::RefDot { refr, .. } | Expr::RefBrack { refr, .. } => ref_start(refr),
        other => other.span(),
    }
}

type Visit<'a> = dyn FnMut(&str, &regorus::unstable::Span) + 'a;

fn for_each_call(rule: &Rule, visit: &mut Visit<'_>) {
    match rule {
        Rule::Spec { head, bodies, .. } => {
            match head {
                RuleHead::Compr { refr, assign, .. } => {
                    walk_expr(refr, visit);
                    if let Some(assign) = assign {
                        walk_expr(&assign.value, visit);
                    }
                }
                RuleHead::Set { refr, key, .. } => {
                    walk_expr(refr, visit);
                    if let Some(key) = key {
                        walk_expr(key, visit);
                    }
                }
                RuleHead::Func { args, assign, .. } => {
                    for arg in args {
                        walk_expr(arg, visit);
                    }
                    if let Some(assign) = assign {
                        walk_expr(&assign.value, visit);
                    }
                }
            }
            for body in bodies {
                if let Some(assign) = &body.assign {
                    walk_expr(&assign.value, visit);
                }
                walk_query(&body.query, visit);
            }
        }
        Rule::Default { value, .. } => walk_expr(value, visit),
    }
}

fn walk_query(query: &Query, visit: &mut Visit<'_>) {
    for stmt in &query.stmts {
        match &stmt.literal {
            Literal::SomeVars { .. } => {}
            Literal::SomeIn {
                key,
                value,
                collection,
                ..
            } => {
                if let Some(key) = key {
                    walk_expr(key, visit);
                }
                walk_expr(value, visit);
                walk_expr(collection, visit);
            }
            Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => walk_expr(expr, visit),
            Literal::Every { domain, query, .. } => {
                walk_expr(domain, visit);
                walk_query(query, visit);
            }
        }
        // `with f as g` names functions without calling them; only the values are walked.
        for modifier in &stmt.with_mods {
            if !matches!(
                modifier.r#as.as_ref(),
                Expr::Var { .. } | Expr::RefDot { .. }
            ) {
                walk_expr(&modifier.r#as, visit);
            }
        }
    }
}

fn walk_expr(expr: &Expr, visit: &mut Visit<'_>) {
    match expr {
        Expr::Call { fcn, params, .. } => {
            let mut name = Vec::new();
            if dotted(fcn, &mut name) {
                // OPA locates the call where the function name starts.
                visit(&name.join("."), ref_start(fcn));
            }
            for param in params {
                walk_expr(param, visit);
            }
        }
        Expr::Array { items, .. } | Expr::Set { items, .. } => {
            for item in items {
                walk_expr(item, visit);
            }
        }
        Expr::Object { fields, .. } => {
            for (_, key, value) in fields {
                walk_expr(key, visit);
                walk_expr(value, visit);
            }
        }
        Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => {
            walk_expr(term, visit);
            walk_query(query, visit);
        }
        Expr::ObjectCompr {
            key, value, query, ..
        } => {
            walk_expr(key, visit);
            walk_expr(value, visit);
            walk_query(query, visit);
        }
        Expr::UnaryExpr { expr, .. } => walk_expr(expr, visit),
        Expr::RefDot { refr, .. } => walk_expr(refr, visit),
        Expr::RefBrack { refr, index, .. } => {
            walk_expr(refr, visit);
            walk_expr(index, visit);
        }
        Expr::BinExpr { lhs, rhs, .. }
        | Expr::BoolExpr { lhs, rhs, .. }
        | Expr::ArithExpr { lhs, rhs, .. }
        | Expr::AssignExpr { lhs, rhs, .. } => {
            walk_expr(lhs, visit);
            walk_expr(rhs, visit);
        }
        Expr::Membership {
            key,
            value,
            collection,
            ..
        } => {
            if let Some(key) = key {
                walk_expr(key, visit);
            }
            walk_expr(value, visit);
            walk_expr(collection, visit);
        }
        _ => {}
    }
}
