//! Reads rule paths out of regorus's parsed modules: which `data` paths are rules, and where.

use regorus::unstable::{Expr, Rule, RuleHead};

use crate::engine::RuleInfo;
use crate::error::Location;

/// Every rule with its path `<package>.<head>` up to the head's first dynamic key
/// (`p[x] := ...` is the rule `p`). Functions are left out: `/v1/data` cannot call them.
pub fn collect(engine: &mut regorus::Engine) -> Vec<RuleInfo> {
    let mut rules = Vec::new();
    for module in engine.get_modules().iter() {
        let mut package = Vec::new();
        static_components(&module.package.refr, &mut package);
        for rule in &module.policy {
            let head = match rule.as_ref() {
                Rule::Spec { head, .. } => match head {
                    RuleHead::Compr { refr, .. } | RuleHead::Set { refr, .. } => refr,
                    RuleHead::Func { .. } => continue,
                },
                Rule::Default { refr, args, .. } if args.is_empty() => refr,
                Rule::Default { .. } => continue,
            };
            let mut path = package.clone();
            static_components(head, &mut path);
            let span = rule.span();
            rules.push(RuleInfo {
                path,
                location: Location {
                    file: span.source.get_path().to_string(),
                    row: span.line,
                    col: span.col,
                },
            });
        }
    }
    rules
}

/// Appends the leading static components of a ref (`a.b["c"][x]` gives `a`, `b`, `c`).
/// Returns false once a dynamic component stopped the walk.
fn static_components(refr: &Expr, out: &mut Vec<String>) -> bool {
    match refr {
        Expr::Var { span, .. } => {
            out.push(span.text().to_string());
            true
        }
        Expr::RefDot { refr, field, .. } => {
            static_components(refr, out) && {
                out.push(field.0.text().to_string());
                true
            }
        }
        Expr::RefBrack { refr, index, .. } => {
            if !static_components(refr, out) {
                return false;
            }
            match index.as_ref() {
                Expr::String { value, .. } => match value.as_string() {
                    Ok(s) => {
                        out.push(s.to_string());
                        true
                    }
                    Err(_) => false,
                },
                _ => false,
            }
        }
        _ => false,
    }
}
