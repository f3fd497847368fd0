//! `count`, `sum`, `product`, `max`, `min` and `sort`, replacing regorus's versions, whose
//! errors are not OPA's (`count: operand 1 must be one of {array, object, set, string} but got
//! number`) and which count a string's UTF-8 bytes where OPA counts its code points.

use super::Builtin;
use super::args::{self, BuiltinError};
use super::operators;
use crate::Value;
use crate::value::Number;

pub(super) const BUILTINS: &[Builtin] = &[
    builtin("count", count),
    builtin("sum", sum),
    builtin("product", product),
    builtin("max", |a| extreme(a, Extreme::Max)),
    builtin("min", |a| extreme(a, Extreme::Min)),
    builtin("sort", sort),
];

/// Every aggregate takes its one collection.
const fn builtin(name: &'static str, eval: fn(&[Value]) -> Result<Value, BuiltinError>) -> Builtin {
    super::builtin(name, 1, eval)
}

fn count(args: &[Value]) -> Result<Value, BuiltinError> {
    let n = match args::any(args, 0)? {
        Value::String(s) => s.chars().count(),
        Value::Array(items) => items.len(),
        Value::Object(entries) => entries.len(),
        Value::Set(items) => items.len(),
        other => {
            return Err(args::wrong_type(
                0,
                "one of {array, object, set, string}",
                other,
            ));
        }
    };
    Ok(Value::Number(Number::Int(n as i128)))
}

/// The elements of an array or set operand, with OPA's wording for anything else.
fn elements(args: &[Value]) -> Result<(Vec<&Value>, &'static str), BuiltinError> {
    match args::any(args, 0)? {
        Value::Array(items) => Ok((items.iter().collect(), "array")),
        Value::Set(items) => Ok((items.iter().collect(), "set")),
        other => Err(args::wrong_type(0, "one of {set, array}", other)),
    }
}

/// The numbers of an array or set operand: `must be array of numbers but got array
/// containing string` names the first element (in OPA's order) that is not one.
fn numbers(args: &[Value]) -> Result<Vec<&Number>, BuiltinError> {
    let (items, kind) = elements(args)?;
    items
        .into_iter()
        .map(|item| {
            item.as_number().ok_or_else(|| {
                BuiltinError::Type(format!(
                    "operand 1 must be {kind} of numbers but got {kind} containing {}",
                    item.type_name()
                ))
            })
        })
        .collect()
}

/// Exact for decimals, as OPA's arbitrary-precision sum is.
fn sum(args: &[Value]) -> Result<Value, BuiltinError> {
    let mut total = Number::Int(0);
    for n in numbers(args)? {
        if let Value::Number(next) = operators::add(&total, n) {
            total = next;
        }
    }
    Ok(Value::Number(total))
}

/// Exact for integers; with a fraction anywhere, `f64` products, as OPA computes them
/// (`product([0.1, 3])` is `0.30000000000000004`, where `0.1 * 3` is `0.3`).
fn product(args: &[Value]) -> Result<Value, BuiltinError> {
    let factors = numbers(args)?;
    let mut exact: Option<i128> = Some(1);
    for n in &factors {
        exact = match (exact, n) {
            (Some(p), Number::Int(i)) => p.checked_mul(*i),
            _ => None,
        };
    }
    if let Some(p) = exact {
        return Ok(Value::Number(Number::Int(p)));
    }
    let p: f64 = factors.iter().map(|n| n.as_f64()).product();
    if p.is_finite() && p.fract() == 0.0 && p.abs() < 1e15 {
        return Ok(Value::Number(Number::Int(p as i128)));
    }
    Ok(Value::float(p))
}

#[derive(Clone, Copy)]
enum Extreme {
    Max,
    Min,
}

/// The greatest or least element in OPA's order of values; none of an empty collection.
fn extreme(args: &[Value], which: Extreme) -> Result<Value, BuiltinError> {
    let (items, _) = elements(args)?;
    let found = match which {
        Extreme::Max => items.into_iter().max(),
        Extreme::Min => items.into_iter().min(),
    };
    found.cloned().ok_or(BuiltinError::Undefined)
}

fn sort(args: &[Value]) -> Result<Value, BuiltinError> {
    let (mut items, _) = elements(args)?;
    items.sort();
    Ok(Value::array(items.into_iter().cloned().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, json: &str) -> Result<String, String> {
        let builtin = BUILTINS.iter().find(|b| b.name == name).expect("builtin");
        let value = Value::from_json(json).expect("json");
        let super::super::Implementation::Operands(eval) = builtin.eval else {
            panic!("{name} reads only its operands")
        };
        eval(&[value])
            .map(|v| v.to_json())
            .map_err(|e| e.to_string())
    }

    // Expected values confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn counts_code_points_and_collections() {
        assert_eq!(run("count", r#""👍🏽x""#), Ok("3".into()));
        assert_eq!(run("count", r#"{"a":1,"b":2}"#), Ok("2".into()));
        assert_eq!(
            run("count", "12"),
            Err("operand 1 must be one of {array, object, set, string} but got number".into())
        );
    }

    #[test]
    fn sums_and_products_as_opa() {
        assert_eq!(run("sum", "[0.1,0.2]"), Ok("0.3".into()));
        assert_eq!(
            run("sum", "[100000000000000000000,1]"),
            Ok("100000000000000000001".into())
        );
        assert_eq!(run("sum", "[]"), Ok("0".into()));
        assert_eq!(run("product", "[]"), Ok("1".into()));
        assert_eq!(run("product", "[0.1,3]"), Ok("0.30000000000000004".into()));
        assert_eq!(run("product", "[2,0.5]"), Ok("1".into()));
        assert_eq!(
            run("product", "[10000000000,10000000000,10000000000]"),
            Ok("1000000000000000000000000000000".into())
        );
        assert_eq!(
            run("sum", r#"[1,null]"#),
            Err("operand 1 must be array of numbers but got array containing null".into())
        );
        assert_eq!(
            run("product", r#""abc""#),
            Err("operand 1 must be one of {set, array} but got string".into())
        );
    }

    #[test]
    fn extremes_and_sorting_in_opa_order() {
        assert_eq!(run("max", r#"[1,"a",null,true]"#), Ok(r#""a""#.into()));
        assert_eq!(run("min", r#"[1,"a",null,true]"#), Ok("null".into()));
        assert_eq!(run("max", "[]"), Err("undefined".into()));
        assert_eq!(
            run("sort", r#"[{"a":1},"s",[1],2,true,null,false]"#),
            Ok(r#"[null,false,true,2,"s",[1],{"a":1}]"#.into())
        );
        assert_eq!(
            run("min", "3"),
            Err("operand 1 must be one of {set, array} but got number".into())
        );
    }
}
