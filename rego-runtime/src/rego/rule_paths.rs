//! Reads rule and function definitions out of regorus's parsed modules: which `data` paths
//! are rules, where they are defined, and what kind of head they have.

use regorus::unstable::{Expr, Rule, RuleHead};

use super::diagnostics;
use crate::error::Location;

/// A rule or function definition: its path, where it is, and what kind of head it has.
#[derive(Clone, Debug)]
pub struct Definition {
    /// Package then head, up to the head's first dynamic key (`p[x] := ...` gives `p`).
    pub path: Vec<String>,
    pub location: Location,
    pub function: bool,
    /// False when the head has a dynamic key (a partial set or object).
    pub static_head: bool,
}

/// Every rule and function definition of the engine's modules, in source order.
pub fn definitions(engine: &mut regorus::Engine) -> Vec<Definition> {
    let mut found = Vec::new();
    for module in engine.get_modules().iter() {
        let mut package = Vec::new();
        static_components(&module.package.refr, &mut package);
        for rule in &module.policy {
            let (head, function, keyed) = match rule.as_ref() {
                Rule::Spec { head, .. } => match head {
                    RuleHead::Compr { refr, .. } => (refr, false, false),
                    RuleHead::Set { refr, key, .. } => (refr, false, key.is_some()),
                    RuleHead::Func { refr, .. } => (refr, true, false),
                },
                Rule::Default { refr, args, .. } => (refr, !args.is_empty(), false),
            };
            let mut path = package.clone();
            let complete = static_components(head, &mut path);
            let span = rule.span();
            found.push(Definition {
                path,
                location: diagnostics::location(span),
                function,
                static_head: complete && !keyed,
            });
        }
    }
    found
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
