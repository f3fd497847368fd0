//! Compiles every rule definition of a policy: its bodies (with `else` chains), head terms,
//! parameters and `default` value.

use regorus::unstable::{Module, Rule as AstRule, RuleBody};

use super::Unsupported;
use super::ir::{Body, Definition, Expr, Query, Rule, RuleKind, Site};
use super::lower::Lowerer;
use super::scope::{Scope, pattern_names};
use super::symbols::{Head, ModuleNames, Symbols, head};
use crate::Problem;

/// The compiled rules, indexed as `symbols` numbers them. A rule with a construct this
/// evaluator does not compile is kept, marked [`Rule::unsupported`], so that only decisions
/// that reach it go to regorus; a head that cannot be placed at all (its path is not static)
/// leaves the whole policy to regorus. The variables OPA rejects as unsafe go to
/// `unsafe_variables`, from every rule.
pub(super) fn compile(
    symbols: &Symbols,
    modules: &[(ModuleNames, &Module)],
    unsafe_variables: &mut Vec<Problem>,
) -> Result<Vec<Rule>, Unsupported> {
    let mut rules: Vec<Rule> = symbols
        .rules
        .iter()
        .map(|(path, kind)| Rule {
            path: path.clone(),
            kind: *kind,
            definitions: Vec::new(),
            default: None,
            unsupported: None,
        })
        .collect();
    let mut unplaced = None;
    for (names, module) in modules {
        let package = names.package.as_deref().unwrap_or_default();
        for rule in &module.policy {
            let placed = head(package, rule).and_then(|head| {
                symbols
                    .rule(&head.path)
                    .map(|id| (head, id))
                    .ok_or(Unsupported("a rule missing from the symbols"))
            });
            let (head, id) = match placed {
                Ok(placed) => placed,
                Err(why) => {
                    unplaced.get_or_insert(why);
                    continue;
                }
            };
            let compiled = compile_rule(
                symbols,
                names,
                &head,
                id,
                rule,
                &mut rules,
                unsafe_variables,
            );
            if let Err(Unsupported(why)) = compiled {
                rules[id].unsupported.get_or_insert(why);
            }
        }
    }
    match unplaced {
        Some(why) => Err(why),
        None => Ok(rules),
    }
}

/// Compiles one rule definition (its head already placed as rule `id`) into `rules`.
fn compile_rule(
    symbols: &Symbols,
    names: &ModuleNames,
    head: &Head<'_>,
    id: usize,
    rule: &AstRule,
    rules: &mut [Rule],
    unsafe_variables: &mut Vec<Problem>,
) -> Result<(), Unsupported> {
    match rule {
        AstRule::Default { .. } => {
            if rules[id].default.is_some() {
                return Err(Unsupported("two defaults for one rule"));
            }
            rules[id].default = Some(default_value(symbols, names, head)?);
        }
        AstRule::Spec { span, bodies, .. } => {
            let site = Site {
                file: span.source.file().as_str().into(),
                row: span.line,
            };
            let definitions = definitions(symbols, names, head, &site, bodies, unsafe_variables)?;
            rules[id].definitions.extend(definitions);
        }
    }
    Ok(())
}

/// A definition per body that is not an `else`; each `else` joins the chain before it.
/// Bodies are placed at the rule (`site`), an `else` at its own row, as OPA traces them.
fn definitions(
    symbols: &Symbols,
    names: &ModuleNames,
    head: &Head<'_>,
    site: &Site,
    bodies: &[RuleBody],
    unsafe_variables: &mut Vec<Problem>,
) -> Result<Vec<Definition>, Unsupported> {
    let mut body = |stmts, value| body(symbols, names, head, stmts, value, unsafe_variables);
    if bodies.is_empty() {
        let body = body(&[], head.value)?;
        return Ok(vec![Definition {
            bodies: vec![body],
            sites: vec![site.clone()],
        }]);
    }
    let mut out: Vec<Definition> = Vec::new();
    for rule_body in bodies {
        if !rule_body.is_else {
            let body = body(&rule_body.query.stmts, head.value)?;
            out.push(Definition {
                bodies: vec![body],
                sites: vec![site.clone()],
            });
            continue;
        }
        if !matches!(head.kind, RuleKind::Complete | RuleKind::Function) {
            return Err(Unsupported("`else` on a partial rule"));
        }
        // An `else` without a value is `true`.
        let value = rule_body.assign.as_ref().map(|a| a.value.as_ref());
        let body = body(&rule_body.query.stmts, value)?;
        let definition = out
            .last_mut()
            .ok_or(Unsupported("`else` without a body before it"))?;
        definition.bodies.push(body);
        definition.sites.push(Site {
            file: site.file.clone(),
            row: rule_body.span.line,
        });
    }
    Ok(out)
}

fn body(
    symbols: &Symbols,
    names: &ModuleNames,
    head: &Head<'_>,
    stmts: &[regorus::unstable::LiteralStmt],
    value: Option<&regorus::unstable::Expr>,
    unsafe_variables: &mut Vec<Problem>,
) -> Result<Body, Unsupported> {
    let mut lowerer = Lowerer::new(Scope::new(symbols, names));
    let body = lower_body(&mut lowerer, head, stmts, value);
    // Found before the body failed to compile, if it did: still OPA's errors.
    unsafe_variables.append(&mut lowerer.unsafe_variables);
    body
}

fn lower_body<'a>(
    lowerer: &mut Lowerer<'a>,
    head: &Head<'a>,
    stmts: &'a [regorus::unstable::LiteralStmt],
    value: Option<&'a regorus::unstable::Expr>,
) -> Result<Body, Unsupported> {
    lowerer.scope.push();
    let mut params_names = Vec::new();
    for arg in head.args {
        pattern_names(arg, &mut params_names);
    }
    for name in params_names {
        lowerer.scope.declare(name, None);
    }
    let mut hoisted = Vec::new();
    let mut params = Vec::with_capacity(head.args.len());
    for arg in head.args {
        params.push(lowerer.pattern(arg, &mut hoisted)?);
    }
    if !hoisted.is_empty() {
        return Err(Unsupported("a function parameter that iterates"));
    }
    let terms: Vec<&regorus::unstable::Expr> = head.key.into_iter().chain(value).collect();
    let query = lowerer.open_query(stmts, &terms)?;
    let key = head.key.map(|k| lowerer.head_term(k)).transpose()?;
    let value = value.map(|v| lowerer.head_term(v)).transpose()?;
    lowerer.scope.pop();
    lowerer.scope.pop();
    let first_solution_only =
        key.is_none() && value.as_ref().is_none_or(|v| matches!(v, Expr::Const(_)));
    Ok(Body {
        params,
        query: Query { steps: query.steps },
        key,
        value,
        frame_size: lowerer.scope.frame_size(),
        first_solution_only,
    })
}

/// A `default` value: a constant.
fn default_value(
    symbols: &Symbols,
    names: &ModuleNames,
    head: &Head<'_>,
) -> Result<crate::Value, Unsupported> {
    let mut lowerer = Lowerer::new(Scope::new(symbols, names));
    lowerer.scope.push();
    let value = head.value.ok_or(Unsupported("a default without a value"))?;
    match lowerer.head_term(value)? {
        Expr::Const(value) => Ok(value),
        _ => Err(Unsupported("a default value that is not a constant")),
    }
}
