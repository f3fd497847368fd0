//! Compile-time checks OPA makes and regorus leaves to evaluation (or misses): a call to a
//! function that no module defines and no builtin provides is OPA's `rego_type_error:
//! undefined function f`, and a rule or function that depends on itself is
//! `rego_recursion_error` (regorus would recurse until the stack overflows).

use std::collections::{BTreeMap, HashMap, HashSet};

use std::collections::BTreeSet;

use regorus::unstable::{AssignOp, Expr, Literal, Module, Query, Rule, RuleHead, Span};

use super::diagnostics;
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
                        location: Some(diagnostics::location(span)),
                    });
                }
            });
        }
    }
    problems
}

/// True when any module calls one of `names` (by its plain builtin name).
pub fn calls_any(engine: &mut regorus::Engine, names: &[&str]) -> bool {
    let modules = engine.get_modules().clone();
    let mut found = false;
    for module in modules.iter() {
        for rule in &module.policy {
            for_each_call(rule, &mut |name, _| found |= names.contains(&name));
        }
    }
    found
}

/// What names mean inside one module: its package, its import aliases, all functions.
pub(super) struct Scope<'a> {
    pub(super) package: String,
    aliases: BTreeMap<String, String>,
    pub(super) defined: &'a HashSet<String>,
    disabled: &'a [String],
}

impl<'a> Scope<'a> {
    pub(super) fn of(
        module: &Module,
        defined: &'a HashSet<String>,
        disabled: &'a [String],
    ) -> Scope<'a> {
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
    pub(super) fn absolute(&self, name: &str) -> Option<String> {
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
            || (is_builtin_call(name) && !self.disabled.iter().any(|d| d == name))
    }

    /// OPA names undefined calls by the path they resolve to.
    fn display(&self, name: &str) -> String {
        self.absolute(name).unwrap_or_else(|| name.to_string())
    }
}

/// True when the Rego engine has `name`: regorus's own builtins, the builtin table, or
/// operators regorus evaluates natively (OPA lists those as builtins too).
pub fn is_builtin(name: &str) -> bool {
    // `print(...)` compiles to OPA's `internal.print`; regorus evaluates print itself.
    name == "internal.print"
        || is_builtin_call(name)
        // Replaced by their values at compile time (`lowering::metadata_calls`).
        || matches!(name, "rego.metadata.rule" | "rego.metadata.chain")
        || crate::capabilities::opa()
            .builtins
            .iter()
            .any(|b| b.name == name && b.infix.is_some())
}

fn is_builtin_call(name: &str) -> bool {
    name == "print"
        || regorus::unstable::BUILTINS.contains_key(name)
        || builtins::lookup(name).is_some()
}

/// `data.<package>.<name>` of every function (and default function) of a module.
pub(super) fn functions_of(module: &Module) -> Vec<String> {
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
pub(super) fn dotted(refr: &Expr, out: &mut Vec<String>) -> bool {
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
pub(super) fn ref_start(refr: &Expr) -> &regorus::unstable::Span {
    match refr {
        Expr::RefDot { refr, .. } | Expr::RefBrack { refr, .. } => ref_start(refr),
        other => other.span(),
    }
}

type Visit<'a> = dyn FnMut(&str, &Span) + 'a;

/// Called for every expression the walker reaches, outer ones first; `statement` is the
/// query literal when the expression is a whole statement (`f(x)`, `not f(x)`).
pub(super) type ExprVisit<'a> = dyn FnMut(&Expr, Option<&Literal>) + 'a;

/// Every call of a rule, by its dotted name and where OPA locates it.
fn for_each_call(rule: &Rule, visit: &mut Visit<'_>) {
    for_each_expr(rule, &mut |expr, _| {
        if let Expr::Call { fcn, .. } = expr {
            let mut name = Vec::new();
            if dotted(fcn, &mut name) {
                // OPA locates the call where the function name starts.
                visit(&name.join("."), ref_start(fcn));
            }
        }
    });
}

/// Every expression of a rule: head, bodies, `else` values, comprehensions, `every`.
pub(super) fn for_each_expr(rule: &Rule, visit: &mut ExprVisit<'_>) {
    match rule {
        Rule::Spec { head, bodies, .. } => {
            match head {
                RuleHead::Compr { refr, assign, .. } => {
                    walk_expr(refr, None, visit);
                    if let Some(assign) = assign {
                        walk_expr(&assign.value, None, visit);
                    }
                }
                RuleHead::Set { refr, key, .. } => {
                    walk_expr(refr, None, visit);
                    if let Some(key) = key {
                        walk_expr(key, None, visit);
                    }
                }
                RuleHead::Func { args, assign, .. } => {
                    for arg in args {
                        walk_expr(arg, None, visit);
                    }
                    if let Some(assign) = assign {
                        walk_expr(&assign.value, None, visit);
                    }
                }
            }
            for body in bodies {
                if let Some(assign) = &body.assign {
                    walk_expr(&assign.value, None, visit);
                }
                walk_query(&body.query, visit);
            }
        }
        Rule::Default { value, .. } => walk_expr(value, None, visit),
    }
}

fn walk_query(query: &Query, visit: &mut ExprVisit<'_>) {
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
                    walk_expr(key, None, visit);
                }
                walk_expr(value, None, visit);
                walk_expr(collection, None, visit);
            }
            Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => {
                walk_expr(expr, Some(&stmt.literal), visit)
            }
            Literal::Every { domain, query, .. } => {
                walk_expr(domain, None, visit);
                walk_query(query, visit);
            }
        }
        // `with f as g` names functions without calling them; only the values are walked.
        for modifier in &stmt.with_mods {
            if !matches!(
                modifier.r#as.as_ref(),
                Expr::Var { .. } | Expr::RefDot { .. }
            ) {
                walk_expr(&modifier.r#as, None, visit);
            }
        }
    }
}

fn walk_expr(expr: &Expr, statement: Option<&Literal>, visit: &mut ExprVisit<'_>) {
    visit(expr, statement);
    match expr {
        Expr::Call { params, .. } => {
            for param in params {
                walk_expr(param, None, visit);
            }
        }
        Expr::Array { items, .. } | Expr::Set { items, .. } => {
            for item in items {
                walk_expr(item, None, visit);
            }
        }
        Expr::Object { fields, .. } => {
            for (_, key, value) in fields {
                walk_expr(key, None, visit);
                walk_expr(value, None, visit);
            }
        }
        Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => {
            walk_expr(term, None, visit);
            walk_query(query, visit);
        }
        Expr::ObjectCompr {
            key, value, query, ..
        } => {
            walk_expr(key, None, visit);
            walk_expr(value, None, visit);
            walk_query(query, visit);
        }
        Expr::UnaryExpr { expr, .. } => walk_expr(expr, None, visit),
        Expr::RefDot { refr, .. } => walk_expr(refr, None, visit),
        Expr::RefBrack { refr, index, .. } => {
            walk_expr(refr, None, visit);
            walk_expr(index, None, visit);
        }
        Expr::BinExpr { lhs, rhs, .. }
        | Expr::BoolExpr { lhs, rhs, .. }
        | Expr::ArithExpr { lhs, rhs, .. }
        | Expr::AssignExpr { lhs, rhs, .. } => {
            walk_expr(lhs, None, visit);
            walk_expr(rhs, None, visit);
        }
        Expr::Membership {
            key,
            value,
            collection,
            ..
        } => {
            if let Some(key) = key {
                walk_expr(key, None, visit);
            }
            walk_expr(value, None, visit);
            walk_expr(collection, None, visit);
        }
        _ => {}
    }
}

/// Every rule or function that depends on itself, directly or through others, reported at its
/// first definition as OPA words it: `rule data.p.f is recursive: data.p.f -> data.p.f`.
pub fn recursion(engine: &mut regorus::Engine) -> Vec<Problem> {
    let modules = engine.get_modules().clone();
    let functions: HashSet<String> = modules.iter().flat_map(|m| functions_of(m)).collect();
    // Rule path -> (where it is first defined, the rule paths its bodies refer to).
    let mut graph: BTreeMap<String, (Location, BTreeSet<String>)> = BTreeMap::new();
    let mut rule_paths: BTreeSet<String> = BTreeSet::new();
    for module in modules.iter() {
        let mut package = vec!["data".to_string()];
        dotted(&module.package.refr, &mut package);
        for rule in &module.policy {
            let mut path = package.clone();
            static_prefix(rule_ref(rule), &mut path);
            rule_paths.insert(path.join("."));
        }
    }
    for module in modules.iter() {
        let scope = Scope::of(module, &functions, &[]);
        let mut package = vec!["data".to_string()];
        dotted(&module.package.refr, &mut package);
        for rule in &module.policy {
            let mut path = package.clone();
            static_prefix(rule_ref(rule), &mut path);
            let key = path.join(".");
            let span = rule.span();
            let entry = graph
                .entry(key)
                .or_insert_with(|| (diagnostics::location(span), BTreeSet::new()));
            let locals = local_names(rule);
            for_each_call(rule, &mut |name, _| {
                let target = scope
                    .absolute(name)
                    .unwrap_or_else(|| format!("{}.{name}", scope.package));
                if functions.contains(&target) {
                    entry.1.insert(target);
                }
            });
            for_each_ref(rule, &mut |components| {
                let absolute: Vec<String> = match components.first().map(String::as_str) {
                    Some("data") => components.to_vec(),
                    Some(first) if !locals.contains(first) => match scope.aliases.get(first) {
                        Some(target) => target
                            .split('.')
                            .map(String::from)
                            .chain(components[1..].iter().cloned())
                            .collect(),
                        None => package.iter().chain(components.iter()).cloned().collect(),
                    },
                    _ => return,
                };
                // A ref reaches every rule at or below its longest static prefix that is a
                // rule, or below it when it names a package.
                for end in (1..=absolute.len()).rev() {
                    let prefix = absolute[..end].join(".");
                    if rule_paths.contains(&prefix) {
                        entry.1.insert(prefix);
                        return;
                    }
                    let below = format!("{prefix}.");
                    let under: Vec<&String> = rule_paths
                        .range(below.clone()..)
                        .take_while(|p| p.starts_with(&below))
                        .collect();
                    if !under.is_empty() && end == absolute.len() {
                        entry.1.extend(under.into_iter().cloned());
                        return;
                    }
                }
            });
        }
    }
    let mut problems = Vec::new();
    let mut reported = HashSet::new();
    let cyclic = on_cycles(&graph);
    for (start, (location, _)) in &graph {
        if reported.contains(start) || !cyclic.contains(start.as_str()) {
            continue;
        }
        if let Some(cycle) = find_cycle(&graph, start) {
            reported.extend(cycle.iter().cloned());
            problems.push(Problem {
                code: "rego_recursion_error",
                message: format!("rule {start} is recursive: {}", cycle.join(" -> ")),
                location: Some(location.clone()),
            });
        }
    }
    problems
}

/// The rules that lie on some cycle (Kosaraju's strongly connected components, iteratively so
/// that long chains of rules cost neither quadratic time nor stack), so that the shortest
/// cycle is searched from those rules only.
fn on_cycles(graph: &BTreeMap<String, (Location, BTreeSet<String>)>) -> HashSet<&str> {
    let edges = |node: &str| -> Vec<&str> {
        graph
            .get(node)
            .map(|(_, to)| {
                to.iter()
                    .map(String::as_str)
                    .filter(|t| graph.contains_key(*t))
                    .collect()
            })
            .unwrap_or_default()
    };
    // First pass: nodes in order of finishing a depth-first search.
    let mut finished = Vec::with_capacity(graph.len());
    let mut visited = HashSet::new();
    for start in graph.keys().map(String::as_str) {
        if !visited.insert(start) {
            continue;
        }
        let mut stack = vec![(start, edges(start), 0)];
        while let Some((node, next, at)) = stack.last_mut() {
            if let Some(&to) = next.get(*at) {
                *at += 1;
                if visited.insert(to) {
                    stack.push((to, edges(to), 0));
                }
            } else {
                finished.push(*node);
                stack.pop();
            }
        }
    }
    // Second pass, on the reversed graph in reverse finishing order: one component per tree.
    let mut reversed: HashMap<&str, Vec<&str>> = HashMap::new();
    for node in graph.keys().map(String::as_str) {
        for to in edges(node) {
            reversed.entry(to).or_default().push(node);
        }
    }
    let mut assigned = HashSet::new();
    let mut cyclic = HashSet::new();
    for &root in finished.iter().rev() {
        if !assigned.insert(root) {
            continue;
        }
        let mut component = vec![root];
        let mut stack = vec![root];
        while let Some(node) = stack.pop() {
            for &from in reversed.get(node).into_iter().flatten() {
                if assigned.insert(from) {
                    component.push(from);
                    stack.push(from);
                }
            }
        }
        if component.len() > 1 || edges(root).contains(&root) {
            cyclic.extend(component);
        }
    }
    cyclic
}

/// The shortest path from `start` back to itself, as `[start, ..., start]`.
fn find_cycle(
    graph: &BTreeMap<String, (Location, BTreeSet<String>)>,
    start: &str,
) -> Option<Vec<String>> {
    let mut previous: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    let mut seen = HashSet::from([start]);
    while let Some(node) = queue.pop_front() {
        let Some((_, edges)) = graph.get(node) else {
            continue;
        };
        for next in edges {
            if next == start {
                let mut path = vec![start.to_string()];
                let mut at = node;
                let mut back = vec![node.to_string()];
                while at != start {
                    at = previous[at];
                    back.push(at.to_string());
                }
                back.pop();
                back.reverse();
                path.extend(back);
                path.push(start.to_string());
                return Some(path);
            }
            if seen.insert(next.as_str()) {
                previous.insert(next.as_str(), node);
                queue.push_back(next.as_str());
            }
        }
    }
    None
}

fn rule_ref(rule: &Rule) -> &Expr {
    match rule {
        Rule::Spec { head, .. } => match head {
            RuleHead::Compr { refr, .. }
            | RuleHead::Set { refr, .. }
            | RuleHead::Func { refr, .. } => refr,
        },
        Rule::Default { refr, .. } => refr,
    }
}

/// The static components of a rule head (`p[x].q` gives `p`).
fn static_prefix(refr: &Expr, out: &mut Vec<String>) -> bool {
    match refr {
        Expr::Var { span, .. } => {
            out.push(span.text().to_string());
            true
        }
        Expr::RefDot { refr, field, .. } => {
            static_prefix(refr, out) && {
                out.push(field.0.text().to_string());
                true
            }
        }
        Expr::RefBrack { refr, index, .. } => {
            static_prefix(refr, out)
                && match index.as_ref() {
                    Expr::String { value, .. } => value.as_string().is_ok_and(|s| {
                        out.push(s.to_string());
                        true
                    }),
                    _ => false,
                }
        }
        _ => false,
    }
}

/// Names a rule declares for itself (function arguments, `some`, `:=`, `every`), which shadow
/// rules of the same name.
fn local_names(rule: &Rule) -> HashSet<String> {
    let mut names = HashSet::new();
    if let Rule::Spec {
        head: RuleHead::Func { args, .. },
        ..
    } = rule
    {
        for arg in args {
            collect_vars(arg, &mut names);
        }
    }
    if let Rule::Spec { bodies, .. } = rule {
        for body in bodies {
            declared_in(&body.query, &mut names);
        }
    }
    names
}

fn declared_in(query: &Query, names: &mut HashSet<String>) {
    for stmt in &query.stmts {
        match &stmt.literal {
            Literal::SomeVars { vars, .. } => {
                names.extend(vars.iter().map(|v| v.text().to_string()))
            }
            Literal::SomeIn { key, value, .. } => {
                if let Some(key) = key {
                    collect_vars(key, names);
                }
                collect_vars(value, names);
            }
            Literal::Every {
                key, value, query, ..
            } => {
                if let Some(key) = key {
                    names.insert(key.text().to_string());
                }
                names.insert(value.text().to_string());
                declared_in(query, names);
            }
            Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => declared_by(expr, names),
        }
    }
}

fn declared_by(expr: &Expr, names: &mut HashSet<String>) {
    match expr {
        Expr::AssignExpr {
            op: AssignOp::ColEq,
            lhs,
            ..
        } => collect_vars(lhs, names),
        Expr::ArrayCompr { query, .. }
        | Expr::SetCompr { query, .. }
        | Expr::ObjectCompr { query, .. } => {
            declared_in(query, names);
        }
        _ => {}
    }
}

/// Plain variables in a pattern (`x`, `[a, b]`, `{"k": v}`).
fn collect_vars(expr: &Expr, names: &mut HashSet<String>) {
    match expr {
        Expr::Var { span, .. } => {
            names.insert(span.text().to_string());
        }
        Expr::Array { items, .. } | Expr::Set { items, .. } => {
            items.iter().for_each(|i| collect_vars(i, names))
        }
        Expr::Object { fields, .. } => fields.iter().for_each(|(_, _, v)| collect_vars(v, names)),
        _ => {}
    }
}

/// Calls `visit` with the static components of every ref in a rule's bodies and values
/// (`data.a.b[x]` gives `data`, `a`, `b`; a lone `x` gives `x`).
fn for_each_ref(rule: &Rule, visit: &mut dyn FnMut(&[String])) {
    let mut on_expr = |expr: &Expr| refs_in(expr, visit);
    match rule {
        Rule::Spec { head, bodies, .. } => {
            match head {
                RuleHead::Compr { assign, .. } | RuleHead::Func { assign, .. } => {
                    if let Some(assign) = assign {
                        on_expr(&assign.value);
                    }
                }
                RuleHead::Set { key, .. } => {
                    if let Some(key) = key {
                        on_expr(key);
                    }
                }
            }
            for body in bodies {
                if let Some(assign) = &body.assign {
                    on_expr(&assign.value);
                }
                query_exprs(&body.query, &mut on_expr);
            }
        }
        Rule::Default { value, .. } => on_expr(value),
    }
}

fn query_exprs(query: &Query, on_expr: &mut dyn FnMut(&Expr)) {
    for stmt in &query.stmts {
        match &stmt.literal {
            Literal::SomeVars { .. } => {}
            Literal::SomeIn { collection, .. } => on_expr(collection),
            Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => on_expr(expr),
            Literal::Every { domain, query, .. } => {
                on_expr(domain);
                query_exprs(query, on_expr);
            }
        }
    }
}

fn refs_in(expr: &Expr, visit: &mut dyn FnMut(&[String])) {
    match expr {
        Expr::Var { .. } | Expr::RefDot { .. } | Expr::RefBrack { .. } => {
            let mut components = Vec::new();
            static_prefix(expr, &mut components);
            if !components.is_empty() {
                visit(&components);
            }
            // Only indexes hold further refs (`p[q]`); the chain's own prefixes were visited.
            let mut link = expr;
            loop {
                match link {
                    Expr::RefBrack { refr, index, .. } => {
                        refs_in(index, visit);
                        link = refr;
                    }
                    Expr::RefDot { refr, .. } => link = refr,
                    Expr::Var { .. } => break,
                    other => {
                        refs_in(other, visit);
                        break;
                    }
                }
            }
        }
        Expr::Call { params, .. } => params.iter().for_each(|p| refs_in(p, visit)),
        Expr::Array { items, .. } | Expr::Set { items, .. } => {
            items.iter().for_each(|i| refs_in(i, visit))
        }
        Expr::Object { fields, .. } => fields.iter().for_each(|(_, k, v)| {
            refs_in(k, visit);
            refs_in(v, visit);
        }),
        Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => {
            refs_in(term, visit);
            query_exprs(query, &mut |e| refs_in(e, visit));
        }
        Expr::ObjectCompr {
            key, value, query, ..
        } => {
            refs_in(key, visit);
            refs_in(value, visit);
            query_exprs(query, &mut |e| refs_in(e, visit));
        }
        Expr::UnaryExpr { expr, .. } => refs_in(expr, visit),
        Expr::BinExpr { lhs, rhs, .. }
        | Expr::BoolExpr { lhs, rhs, .. }
        | Expr::ArithExpr { lhs, rhs, .. }
        | Expr::AssignExpr { lhs, rhs, .. } => {
            refs_in(lhs, visit);
            refs_in(rhs, visit);
        }
        Expr::Membership {
            key,
            value,
            collection,
            ..
        } => {
            if let Some(key) = key {
                refs_in(key, visit);
            }
            refs_in(value, visit);
            refs_in(collection, visit);
        }
        _ => {}
    }
}
