//! The part of OPA's type checker that constants decide: a builtin called with a literal of
//! the wrong type (`count(12)`, `base64.encode(1)`, `1 + "a"`) is `rego_type_error:
//! count: invalid argument(s)`, a builtin called with the wrong number of operands is
//! `count: arity mismatch` (a policy function: `function data.p.f has arity 1, got 2
//! arguments`), a builtin without a result may not be used as a value (`print(1) used as
//! value`), and a Rego v1 module (or a v0 one importing `rego.v1`) may not call a deprecated
//! builtin. regorus accepts all of these and fails, if at all, while evaluating.
//!
//! Declared types come from OPA's capabilities ([`crate::capabilities`]). Only what can be
//! known without OPA's full inference is judged: literals, comprehensions (by their kind) and
//! the results of nested builtin calls and operators. Variables, references and user functions
//! have an unknown type here, which agrees with every declared type, so a policy OPA accepts
//! is never rejected. Messages and their `have:`/`want:` lines follow OPA 1.22.2's wording,
//! including how it shortens types in lines wider than 80 characters.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use regorus::unstable::{ArithOp, BinOp, Expr, Literal, Module, Rule, RuleHead, Span};

use super::checks::{self, Scope};
use super::convert::from_regorus;
use super::diagnostics::location;
use crate::Value;
use crate::capabilities;
use crate::error::{Location, Problem};

/// A type as OPA's `types` package models it, plus what this checker cannot infer.
#[derive(Clone, Debug)]
enum Type {
    Null,
    Boolean,
    Number,
    String,
    /// Positional element types, then the type of any further elements.
    Array {
        items: Vec<Type>,
        rest: Option<Box<Type>>,
    },
    /// Known keys (sorted as OPA sorts them), then the type of any other key and its value.
    Object {
        fields: Vec<(Value, Type)>,
        rest: Option<Box<(Type, Type)>>,
    },
    Set(Box<Type>),
    /// One of the members; no members is OPA's `any`, which every type unifies with.
    Any(Vec<Type>),
    /// A variable, reference or user function result: it agrees with every type, so that no
    /// error ever rests on it.
    Unknown,
}

/// One declared operand or result, with its name when OPA gives one.
#[derive(Clone, Debug)]
struct Param {
    name: Option<String>,
    tpe: Type,
}

/// A builtin's declaration.
#[derive(Debug)]
struct Decl {
    args: Vec<Param>,
    result: Option<Param>,
    variadic: Option<Type>,
    deprecated: bool,
}

/// Every builtin OPA declares, by name, parsed once from the embedded capabilities.
fn declarations() -> &'static HashMap<String, Decl> {
    static DECLS: OnceLock<HashMap<String, Decl>> = OnceLock::new();
    DECLS.get_or_init(|| {
        capabilities::opa()
            .builtins
            .iter()
            .map(|builtin| {
                let decl = &builtin.decl;
                let args = decl["args"]
                    .as_array()
                    .map(|args| args.iter().map(parse_param).collect())
                    .unwrap_or_default();
                let result = decl.get("result").map(parse_param);
                let variadic = decl.get("variadic").map(parse_type);
                let decl = Decl {
                    args,
                    result,
                    variadic,
                    deprecated: builtin.deprecated,
                };
                (builtin.name.clone(), decl)
            })
            .collect()
    })
}

fn parse_param(json: &serde_json::Value) -> Param {
    Param {
        name: json["name"].as_str().map(str::to_string),
        tpe: parse_type(json),
    }
}

/// OPA's type JSON (`{"type": "array", "dynamic": {"type": "any"}}`) as a [`Type`].
fn parse_type(json: &serde_json::Value) -> Type {
    let list = |key: &str| -> Vec<&serde_json::Value> {
        json[key]
            .as_array()
            .map(|items| items.iter().collect())
            .unwrap_or_default()
    };
    match json["type"].as_str() {
        Some("null") => Type::Null,
        Some("boolean") => Type::Boolean,
        Some("number") => Type::Number,
        Some("string") => Type::String,
        Some("array") => Type::Array {
            items: list("static").into_iter().map(parse_type).collect(),
            rest: json.get("dynamic").map(|t| Box::new(parse_type(t))),
        },
        Some("object") => {
            let mut fields: Vec<(Value, Type)> = list("static")
                .into_iter()
                .map(|p| (Value::from(p["key"].clone()), parse_type(&p["value"])))
                .collect();
            fields.sort_by(|a, b| a.0.cmp(&b.0));
            let rest = json
                .get("dynamic")
                .map(|d| Box::new((parse_type(&d["key"]), parse_type(&d["value"]))));
            Type::Object { fields, rest }
        }
        Some("set") => Type::Set(Box::new(parse_type(&json["of"]))),
        Some("any") => Type::Any(list("of").into_iter().map(parse_type).collect()),
        // Function types and anything newer than this checker: no judgement on them.
        _ => Type::Unknown,
    }
}

impl Type {
    /// OPA's order of type kinds, which sorts the members of an `any`.
    fn order(&self) -> u8 {
        match self {
            Type::Null => 0,
            Type::Boolean => 1,
            Type::Number => 2,
            Type::String => 3,
            Type::Array { .. } => 4,
            Type::Object { .. } => 5,
            Type::Set(_) => 6,
            Type::Any(_) | Type::Unknown => 7,
        }
    }

    /// The element at `index` of an array type (a positional one, else the rest).
    fn select_index(&self, index: usize) -> Option<&Type> {
        match self {
            Type::Array { items, rest } => items.get(index).or(rest.as_deref()),
            _ => None,
        }
    }

    /// The value type under `key` of an object type: its own field, else the rest when the
    /// key's type fits the rest's key type.
    fn select_key(&self, key: &Value) -> Option<&Type> {
        let Type::Object { fields, rest } = self else {
            return None;
        };
        if let Some((_, value)) = fields.iter().find(|(k, _)| k == key) {
            return Some(value);
        }
        rest.as_deref()
            .filter(|(key_type, _)| contains(key_type, &type_of_value(key)))
            .map(|(_, value)| value)
    }
}

/// The type of a constant, as OPA's `TypeOf`.
fn type_of_value(value: &Value) -> Type {
    match value {
        Value::Null => Type::Null,
        Value::Bool(_) => Type::Boolean,
        Value::Number(_) => Type::Number,
        Value::String(_) => Type::String,
        Value::Array(items) => Type::Array {
            items: items.iter().map(type_of_value).collect(),
            rest: None,
        },
        Value::Object(entries) => Type::Object {
            fields: entries
                .iter()
                .map(|(k, v)| (k.clone(), type_of_value(v)))
                .collect(),
            rest: None,
        },
        Value::Set(items) => Type::Set(Box::new(union(items.iter().map(type_of_value)))),
    }
}

/// OPA's `types.Or` over several types: one type, or an `any` of the distinct ones sorted.
fn union(types: impl Iterator<Item = Type>) -> Type {
    let mut members: Vec<Type> = Vec::new();
    for tpe in types {
        let flattened = match tpe {
            // Nothing is known about an unknown member, so nothing is about the union.
            Type::Unknown => return Type::Unknown,
            Type::Any(inner) if inner.is_empty() => return Type::Any(Vec::new()),
            Type::Any(inner) => inner,
            other => vec![other],
        };
        for member in flattened {
            if !members.iter().any(|m| equal(m, &member)) {
                members.push(member);
            }
        }
    }
    members.sort_by(compare);
    match members.len() {
        0 => Type::Any(Vec::new()),
        1 => members.swap_remove(0),
        _ => Type::Any(members),
    }
}

fn compare(a: &Type, b: &Type) -> Ordering {
    a.order()
        .cmp(&b.order())
        .then_with(|| sprint(a).cmp(&sprint(b)))
}

/// Types are equal when they print the same, as OPA's diffing compares them.
fn equal(a: &Type, b: &Type) -> bool {
    sprint(a) == sprint(b)
}

/// OPA's `types.Contains`: whether a key of type `element` can be a key of type `collection`.
fn contains(collection: &Type, element: &Type) -> bool {
    match collection {
        Type::Unknown => true,
        Type::Any(members) if members.is_empty() => true,
        Type::Any(members) => members.iter().any(|m| equal(m, element)),
        other => equal(other, element),
    }
}

/// OPA's `unifies`: whether a value of one type can be a value of the other.
fn unifies(a: &Type, b: &Type) -> bool {
    if matches!(a, Type::Unknown) || matches!(b, Type::Unknown) {
        return true;
    }
    let any_unifies = |members: &[Type], other: &Type| {
        members.is_empty() || members.iter().any(|m| unifies(m, other))
    };
    if let Type::Any(members) = a
        && any_unifies(members, b)
    {
        return true;
    }
    if let Type::Any(members) = b
        && any_unifies(members, a)
    {
        return true;
    }
    match (a, b) {
        (Type::Null, Type::Null)
        | (Type::Boolean, Type::Boolean)
        | (Type::Number, Type::Number)
        | (Type::String, Type::String) => true,
        (Type::Array { rest: ra, .. }, Type::Array { rest: rb, .. }) => {
            arrays_static(a, b)
                && arrays_static(b, a)
                && match (ra, rb) {
                    (Some(x), Some(y)) => unifies(x, y),
                    _ => true,
                }
        }
        (Type::Object { rest: ra, .. }, Type::Object { rest: rb, .. }) => {
            objects_static(a, b)
                && objects_static(b, a)
                && match (ra, rb) {
                    (Some(x), Some(y)) => unifies(&x.1, &y.1),
                    _ => true,
                }
        }
        (Type::Set(x), Type::Set(y)) => unifies(x, y),
        _ => false,
    }
}

fn arrays_static(a: &Type, b: &Type) -> bool {
    let Type::Array { items, .. } = a else {
        return false;
    };
    items
        .iter()
        .enumerate()
        .all(|(i, item)| b.select_index(i).is_some_and(|other| unifies(item, other)))
}

fn objects_static(a: &Type, b: &Type) -> bool {
    let Type::Object { fields, .. } = a else {
        return false;
    };
    fields
        .iter()
        .all(|(key, value)| b.select_key(key).is_some_and(|other| unifies(value, other)))
}

// ---- Printing, as OPA's `types.Sprint` and its shortening of wide type error lines. ----

/// Past this width a detail line is printed again with nested types shortened.
const MAX_LINE_WIDTH: usize = 80;
/// Past this width a type that is not the subject of a mismatch is cut to its constructor.
const MAX_ELIDED_TYPE_WIDTH: usize = 32;
/// How deep two types are compared for the shortened lines.
const MAX_DIFF_DEPTH: usize = 8;
const ELISION: &str = "...";

fn composite(prefix: &str, items: &[String], rest: Option<String>) -> String {
    let mut out = prefix.to_string();
    if !items.is_empty() {
        out.push('<');
        out.push_str(&items.join(", "));
        out.push('>');
    }
    if let Some(rest) = rest {
        out.push('[');
        out.push_str(&rest);
        out.push(']');
    }
    out
}

fn sprint_any(members: &[String]) -> String {
    if members.is_empty() {
        "any".to_string()
    } else {
        format!("any<{}>", members.join(", "))
    }
}

/// An object key as Go's `%v` prints the JSON value.
fn key_text(key: &Value) -> String {
    match key {
        Value::String(s) => s.to_string(),
        Value::Null => "<nil>".to_string(),
        other => other.to_json(),
    }
}

fn sprint(tpe: &Type) -> String {
    match tpe {
        Type::Null => "null".to_string(),
        Type::Boolean => "boolean".to_string(),
        Type::Number => "number".to_string(),
        Type::String => "string".to_string(),
        Type::Array { items, rest } => composite(
            "array",
            &items.iter().map(sprint).collect::<Vec<_>>(),
            rest.as_deref().map(sprint),
        ),
        Type::Object { fields, rest } => composite(
            "object",
            &fields
                .iter()
                .map(|(k, v)| format!("{}: {}", key_text(k), sprint(v)))
                .collect::<Vec<_>>(),
            rest.as_deref()
                .map(|(k, v)| format!("{}: {}", sprint(k), sprint(v))),
        ),
        Type::Set(of) => format!("set[{}]", sprint(of)),
        Type::Any(members) => sprint_any(&members.iter().map(sprint).collect::<Vec<_>>()),
        // The closest OPA rendering of a type it would have inferred.
        Type::Unknown => "any".to_string(),
    }
}

/// A type that may be missing (OPA's nil type, printed `???`).
fn sprint_opt(tpe: Option<&Type>) -> String {
    tpe.map_or_else(|| "???".to_string(), sprint)
}

fn named(name: Option<&str>, text: String) -> String {
    match name {
        Some(name) => format!("{name}: {text}"),
        None => text,
    }
}

fn sprint_param(param: &Param) -> String {
    named(param.name.as_deref(), sprint(&param.tpe))
}

/// The type with everything nested deeper than `depth` levels replaced by `...`.
fn sprint_elided(tpe: &Type, depth: usize) -> String {
    let deeper = |t: &Type| sprint_elided(t, depth.saturating_sub(1));
    match tpe {
        Type::Set(_) if depth == 0 => format!("set[{ELISION}]"),
        Type::Set(of) => format!("set[{}]", deeper(of)),
        Type::Array { items, rest } => {
            let items = if depth == 0 && !items.is_empty() {
                vec![ELISION.to_string()]
            } else {
                items.iter().map(deeper).collect()
            };
            let rest = rest.as_deref().map(|r| {
                if depth == 0 {
                    ELISION.to_string()
                } else {
                    deeper(r)
                }
            });
            composite("array", &items, rest)
        }
        Type::Object { fields, rest } => {
            let fields = if depth == 0 && !fields.is_empty() {
                vec![ELISION.to_string()]
            } else {
                fields
                    .iter()
                    .map(|(k, v)| format!("{}: {}", key_text(k), deeper(v)))
                    .collect()
            };
            let rest = rest.as_deref().map(|(k, v)| {
                if depth == 0 {
                    ELISION.to_string()
                } else {
                    format!("{}: {}", deeper(k), deeper(v))
                }
            });
            composite("object", &fields, rest)
        }
        Type::Any(members) if members.is_empty() => sprint(tpe),
        Type::Any(_) if depth == 0 => sprint_any(&[ELISION.to_string()]),
        Type::Any(members) => sprint_any(&members.iter().map(deeper).collect::<Vec<_>>()),
        other => sprint(other),
    }
}

/// The type in full when short, else cut to its outermost constructor.
fn elide(tpe: Option<&Type>) -> String {
    match tpe {
        None => sprint_opt(None),
        Some(tpe) => {
            let full = sprint(tpe);
            if full.chars().count() <= MAX_ELIDED_TYPE_WIDTH {
                full
            } else {
                sprint_elided(tpe, 0)
            }
        }
    }
}

fn with_elision(mut parts: Vec<String>, elided: bool) -> Vec<String> {
    if elided {
        parts.push(ELISION.to_string());
    }
    parts
}

/// Both types, keeping only what shows how they differ.
fn diff(a: Option<&Type>, b: Option<&Type>, depth: usize) -> (String, String) {
    let (Some(x), Some(y)) = (a, b) else {
        return (elide(a), elide(b));
    };
    if depth >= MAX_DIFF_DEPTH || equal(x, y) {
        return (elide(a), elide(b));
    }
    match (x, y) {
        (Type::Set(p), Type::Set(q)) => {
            let (l, r) = diff(Some(p), Some(q), depth + 1);
            (format!("set[{l}]"), format!("set[{r}]"))
        }
        (
            Type::Array {
                items: ia,
                rest: ra,
            },
            Type::Array {
                items: ib,
                rest: rb,
            },
        ) => {
            if ia.len() != ib.len() || ra.is_none() != rb.is_none() {
                // Element types still show which is longer or has a dynamic tail.
                return (sprint_elided(x, 1), sprint_elided(y, 1));
            }
            let (mut left, mut right) = (Vec::new(), Vec::new());
            for (p, q) in ia.iter().zip(ib) {
                let (l, r) = diff(Some(p), Some(q), depth + 1);
                left.push(l);
                right.push(r);
            }
            let (dl, dr) = match (ra.as_deref(), rb.as_deref()) {
                (Some(p), Some(q)) => {
                    let (l, r) = diff(Some(p), Some(q), depth + 1);
                    (Some(l), Some(r))
                }
                _ => (None, None),
            };
            (
                composite("array", &left, dl),
                composite("array", &right, dr),
            )
        }
        (
            Type::Object {
                fields: fa,
                rest: ra,
            },
            Type::Object {
                fields: fb,
                rest: rb,
            },
        ) => diff_objects(fa, ra.as_deref(), fb, rb.as_deref(), depth),
        (Type::Any(ma), Type::Any(mb)) => {
            // Members are unordered for the reader: those on both sides are dropped.
            let mut elided = false;
            let mut left = Vec::new();
            for m in ma {
                if mb.iter().any(|o| equal(o, m)) {
                    elided = true;
                } else {
                    left.push(elide(Some(m)));
                }
            }
            let right = mb
                .iter()
                .filter(|m| !ma.iter().any(|o| equal(o, m)))
                .map(|m| elide(Some(m)))
                .collect();
            (
                sprint_any(&with_elision(left, elided)),
                sprint_any(&with_elision(right, elided)),
            )
        }
        // Different constructors already say everything.
        _ => (elide(a), elide(b)),
    }
}

fn diff_objects(
    fa: &[(Value, Type)],
    ra: Option<&(Type, Type)>,
    fb: &[(Value, Type)],
    rb: Option<&(Type, Type)>,
    depth: usize,
) -> (String, String) {
    let field = |(k, v): &(Value, Type)| format!("{}: {}", key_text(k), elide(Some(v)));
    let (mut left, mut right) = (Vec::new(), Vec::new());
    let mut elided = false;
    let (mut i, mut j) = (0, 0);
    while i < fa.len() || j < fb.len() {
        let order = match (fa.get(i), fb.get(j)) {
            (Some(a), Some(b)) => a.0.cmp(&b.0),
            (Some(_), None) => Ordering::Less,
            _ => Ordering::Greater,
        };
        match order {
            Ordering::Less => {
                left.push(field(&fa[i]));
                i += 1;
            }
            Ordering::Greater => {
                right.push(field(&fb[j]));
                j += 1;
            }
            Ordering::Equal => {
                // Equal fields say nothing about the mismatch and are dropped.
                if equal(&fa[i].1, &fb[j].1) {
                    elided = true;
                } else {
                    let (l, r) = diff(Some(&fa[i].1), Some(&fb[j].1), depth + 1);
                    left.push(format!("{}: {l}", key_text(&fa[i].0)));
                    right.push(format!("{}: {r}", key_text(&fb[j].0)));
                }
                i += 1;
                j += 1;
            }
        }
    }
    let rest = |r: &(Type, Type)| format!("{}: {}", elide(Some(&r.0)), elide(Some(&r.1)));
    let (dl, dr) = match (ra, rb) {
        (Some(a), Some(b)) => {
            let (kl, kr) = diff(Some(&a.0), Some(&b.0), depth + 1);
            let (vl, vr) = diff(Some(&a.1), Some(&b.1), depth + 1);
            (Some(format!("{kl}: {vl}")), Some(format!("{kr}: {vr}")))
        }
        (a, b) => (a.map(rest), b.map(rest)),
    };
    (
        composite("object", &with_elision(left, elided), dl),
        composite("object", &with_elision(right, elided), dr),
    )
}

fn parenthesized(items: &[String]) -> String {
    format!("({})", items.join(", "))
}

/// OPA shortens the lines only when one is too wide and some type in them is long enough
/// to shorten (three short declarations in a long line stay as they are).
fn too_wide(lines: &[&str], types: &[Option<&Type>]) -> bool {
    lines.iter().any(|l| l.chars().count() > MAX_LINE_WIDTH)
        && types
            .iter()
            .flatten()
            .any(|t| sprint(t).chars().count() > MAX_ELIDED_TYPE_WIDTH)
}

/// The `have:` and `want:` lines with every type in full.
fn full_lines(have: &[Option<Type>], want: &[Param]) -> (String, String) {
    let have: Vec<String> = have.iter().map(|t| sprint_opt(t.as_ref())).collect();
    let want: Vec<String> = want.iter().map(sprint_param).collect();
    (
        format!("have: {}", parenthesized(&have)),
        format!("want: {}", parenthesized(&want)),
    )
}

/// The `have:` and `want:` lines of an invalid argument error.
fn argument_lines(have: &[Option<Type>], want: &[Param]) -> (String, String) {
    let (full_have, full_want) = full_lines(have, want);
    let types: Vec<Option<&Type>> = have
        .iter()
        .map(Option::as_ref)
        .chain(want.iter().map(|p| Some(&p.tpe)))
        .collect();
    if !too_wide(&[&full_have, &full_want], &types) {
        return (full_have, full_want);
    }
    // Each operand next to its declaration: mismatches show their difference, operands that
    // fit their declaration are shortened.
    let (mut left, mut right) = (Vec::new(), Vec::new());
    for i in 0..have.len().max(want.len()) {
        let h = have.get(i).and_then(Option::as_ref);
        match want.get(i) {
            Some(param) => {
                let fits = h.is_some_and(|h| unifies(h, &param.tpe));
                let (l, r) = if fits {
                    let r = match &param.tpe {
                        Type::Any(members) if !members.is_empty() => sprint_elided(&param.tpe, 0),
                        other => elide(Some(other)),
                    };
                    (elide(h), r)
                } else {
                    diff(h, Some(&param.tpe), 0)
                };
                if i < have.len() {
                    left.push(l);
                }
                right.push(named(param.name.as_deref(), r));
            }
            None => left.push(elide(h)),
        }
    }
    (
        format!("have: {}", parenthesized(&left)),
        format!("want: {}", parenthesized(&right)),
    )
}

/// The `have:` and `want:` lines of an arity mismatch: operands shortened when too wide, the
/// declaration always in full.
fn arity_lines(have: &[Option<Type>], want: &[Param]) -> (String, String) {
    let (full_have, want) = full_lines(have, want);
    let types: Vec<Option<&Type>> = have.iter().map(Option::as_ref).collect();
    if !too_wide(&[&full_have, &want], &types) {
        return (full_have, want);
    }
    let have = have.iter().map(|t| elide(t.as_ref())).collect::<Vec<_>>();
    (format!("have: {}", parenthesized(&have)), want)
}

// ---- The checks. ----

/// What went wrong with one call.
enum CallError {
    Arity(Problem),
    Type(Problem),
}

/// One call (or operator) of a builtin as the type checker sees it.
struct Call<'e> {
    name: String,
    /// The call itself, for messages that show it.
    expr: &'e Expr,
    args: Vec<&'e Expr>,
    /// A whole statement has no output operand; nested calls get one from OPA's rewriting.
    statement: bool,
    location: Location,
}

/// The checker of one module.
struct Checker<'s> {
    scope: &'s Scope<'s>,
    /// Every function of the policy by path (`data.test.f`), with its number of operands.
    arities: &'s HashMap<String, usize>,
    /// The result types of nested calls already worked out, by the call's address: each call
    /// is checked once, however deep the nesting (else `f(g(h(...)))` costs 2^depth).
    results: RefCell<HashMap<usize, Type>>,
}

/// Where OPA locates a term: a call at its function name, an operator at its left operand.
fn term_start(expr: &Expr) -> &Span {
    match expr {
        Expr::Call { fcn, .. } => checks::ref_start(fcn),
        Expr::ArithExpr { lhs, .. } | Expr::BinExpr { lhs, .. } | Expr::BoolExpr { lhs, .. } => {
            term_start(lhs)
        }
        Expr::RefDot { .. } | Expr::RefBrack { .. } => checks::ref_start(expr),
        other => other.span(),
    }
}

fn arith_name(op: &ArithOp) -> &'static str {
    match op {
        ArithOp::Add => "plus",
        ArithOp::Sub => "minus",
        ArithOp::Mul => "mul",
        ArithOp::Div => "div",
        ArithOp::Mod => "rem",
    }
}

fn bin_name(op: &BinOp) -> &'static str {
    match op {
        BinOp::Intersection => "and",
        BinOp::Union => "or",
    }
}

/// An expression as OPA prints a term: literals in canonical form, the rest as written.
fn expr_text(expr: &Expr) -> String {
    let list = |items: &[regorus::unstable::Ref<Expr>]| {
        items
            .iter()
            .map(|i| expr_text(i))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match expr {
        Expr::String { value, .. } | Expr::RawString { value, .. } => value
            .as_string()
            .map(|s| serde_json::to_string(s.as_ref()).unwrap_or_default())
            .unwrap_or_else(|_| expr.span().text().to_string()),
        Expr::Array { items, .. } => format!("[{}]", list(items)),
        Expr::Set { items, .. } => format!("{{{}}}", list(items)),
        Expr::Object { fields, .. } => format!(
            "{{{}}}",
            fields
                .iter()
                .map(|(_, k, v)| format!("{}: {}", expr_text(k), expr_text(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Expr::Call { fcn, params, .. } => {
            let mut name = Vec::new();
            let name = if checks::dotted(fcn, &mut name) {
                name.join(".")
            } else {
                fcn.span().text().to_string()
            };
            format!("{name}({})", list(params))
        }
        other => other.span().text().to_string(),
    }
}

/// A literal object key, when it is a scalar constant.
fn constant_key(expr: &Expr) -> Option<Value> {
    match expr {
        Expr::String { value, .. }
        | Expr::RawString { value, .. }
        | Expr::Number { value, .. }
        | Expr::Bool { value, .. }
        | Expr::Null { value, .. } => from_regorus(value),
        _ => None,
    }
}

impl Checker<'_> {
    /// The builtin call `expr` is, if it is one (operators count as their builtins).
    fn call<'e>(&self, expr: &'e Expr, statement: Option<&Literal>) -> Option<Call<'e>> {
        let (name, args) = match expr {
            Expr::Call { fcn, params, .. } => {
                let mut parts = Vec::new();
                if !checks::dotted(fcn, &mut parts) {
                    return None;
                }
                let name = parts.join(".");
                if self.is_user_function(&name) || !declarations().contains_key(&name) {
                    return None;
                }
                (name, params.iter().map(|p| &**p).collect())
            }
            Expr::ArithExpr { op, lhs, rhs, .. } => {
                (arith_name(op).to_string(), vec![&**lhs, &**rhs])
            }
            Expr::BinExpr { op, lhs, rhs, .. } => (bin_name(op).to_string(), vec![&**lhs, &**rhs]),
            _ => return None,
        };
        let location = match statement {
            // A whole statement is located where it starts (`not` included).
            Some(Literal::Expr { span, .. } | Literal::NotExpr { span, .. }) => location(span),
            _ => location(term_start(expr)),
        };
        Some(Call {
            name,
            expr,
            args,
            statement: statement.is_some(),
            location,
        })
    }

    /// True when `name` is a function of the policy rather than a builtin.
    fn is_user_function(&self, name: &str) -> bool {
        self.scope.absolute(name).is_some()
            || self
                .scope
                .defined
                .contains(&format!("{}.{name}", self.scope.package))
    }

    /// OPA's `function data.p.f has arity 1, got 2 arguments` for a call of a policy
    /// function with the wrong number of operands (a whole statement may add an output).
    fn user_arity(&self, expr: &Expr, statement: Option<&Literal>) -> Option<Problem> {
        let Expr::Call { fcn, params, .. } = expr else {
            return None;
        };
        let mut parts = Vec::new();
        if !checks::dotted(fcn, &mut parts) {
            return None;
        }
        let name = parts.join(".");
        let path = self
            .scope
            .absolute(&name)
            .unwrap_or_else(|| format!("{}.{name}", self.scope.package));
        let arity = *self.arities.get(&path)?;
        let count = params.len();
        if count == arity || (statement.is_some() && count == arity + 1) {
            return None;
        }
        Some(Problem {
            code: "rego_type_error",
            message: format!("function {path} has arity {arity}, got {count} arguments"),
            location: Some(match statement {
                Some(Literal::Expr { span, .. } | Literal::NotExpr { span, .. }) => location(span),
                _ => location(term_start(expr)),
            }),
        })
    }

    /// The type of an operand, as far as it is known without inference.
    fn type_of(&self, expr: &Expr) -> Type {
        match expr {
            Expr::String { .. } | Expr::RawString { .. } => Type::String,
            Expr::Number { .. } => Type::Number,
            Expr::Bool { .. } => Type::Boolean,
            Expr::Null { .. } => Type::Null,
            Expr::UnaryExpr { expr, .. } if matches!(**expr, Expr::Number { .. }) => Type::Number,
            Expr::Array { items, .. } => Type::Array {
                items: items.iter().map(|i| self.type_of(i)).collect(),
                rest: None,
            },
            Expr::Set { items, .. } => {
                Type::Set(Box::new(union(items.iter().map(|i| self.type_of(i)))))
            }
            Expr::Object { fields, .. } => {
                let mut known: Vec<(Value, Type)> = Vec::new();
                let mut rest = None;
                for (_, key, value) in fields {
                    match constant_key(key) {
                        Some(key) => {
                            known.retain(|(k, _)| *k != key);
                            known.push((key, self.type_of(value)));
                        }
                        None => rest = Some(Box::new((self.type_of(key), self.type_of(value)))),
                    }
                }
                known.sort_by(|a, b| a.0.cmp(&b.0));
                Type::Object {
                    fields: known,
                    rest,
                }
            }
            Expr::ArrayCompr { .. } => Type::Array {
                items: Vec::new(),
                rest: Some(Box::new(Type::Unknown)),
            },
            Expr::SetCompr { .. } => Type::Set(Box::new(Type::Unknown)),
            Expr::ObjectCompr { .. } => Type::Object {
                fields: Vec::new(),
                rest: Some(Box::new((Type::Unknown, Type::Unknown))),
            },
            Expr::BoolExpr { .. } | Expr::Membership { .. } => Type::Boolean,
            Expr::Call { .. } | Expr::ArithExpr { .. } | Expr::BinExpr { .. } => {
                let address = std::ptr::from_ref(expr) as usize;
                if let Some(known) = self.results.borrow().get(&address) {
                    return known.clone();
                }
                // A nested call's output has its declared result type, unless the call is
                // itself wrong: then OPA leaves the output untyped.
                let result = match self.call(expr, None) {
                    Some(call) if self.check(&call).is_none() => declarations()
                        .get(&call.name)
                        .and_then(|d| d.result.as_ref())
                        .map_or(Type::Unknown, |r| r.tpe.clone()),
                    _ => Type::Unknown,
                };
                self.results.borrow_mut().insert(address, result.clone());
                result
            }
            _ => Type::Unknown,
        }
    }

    /// OPA's `unify1` of an operand term with a declared type: literals are matched part by
    /// part, everything else by its type.
    fn unify_term(&self, expr: &Expr, want: &Type) -> bool {
        if let Type::Any(members) = want
            && matches!(
                expr,
                Expr::Array { .. } | Expr::Set { .. } | Expr::Object { .. }
            )
        {
            return members.is_empty() || members.iter().any(|m| self.unify_term(expr, m));
        }
        if matches!(want, Type::Unknown) {
            return true;
        }
        match (expr, want) {
            (
                Expr::Array { items, .. },
                Type::Array {
                    items: wanted,
                    rest,
                },
            ) => {
                (items.len() == wanted.len() || rest.is_some())
                    && items.iter().enumerate().all(|(i, item)| {
                        want.select_index(i)
                            .is_some_and(|t| self.unify_term(item, t))
                    })
            }
            (Expr::Set { items, .. }, Type::Set(of)) => {
                items.iter().all(|item| self.unify_term(item, of))
            }
            (
                Expr::Object { fields, .. },
                Type::Object {
                    fields: wanted,
                    rest,
                },
            ) => {
                (fields.len() == wanted.len() || rest.is_some())
                    && fields
                        .iter()
                        .all(|(_, key, value)| match constant_key(key) {
                            Some(key) => want
                                .select_key(&key)
                                .is_some_and(|t| self.unify_term(value, t)),
                            // A computed key may be anything, and so may its value.
                            None => true,
                        })
            }
            (Expr::Array { .. } | Expr::Set { .. } | Expr::Object { .. }, _) => false,
            _ => unifies(&self.type_of(expr), want),
        }
    }

    /// OPA's verdict on one call, `None` when it is fine.
    fn check(&self, call: &Call<'_>) -> Option<CallError> {
        let decl = declarations().get(&call.name)?;
        if !call.statement && decl.result.is_none() {
            // A function without a result (`print`, `internal.test_case`) has no value.
            return Some(CallError::Type(
                self.problem(call, format!("{} used as value", expr_text(call.expr))),
            ));
        }
        let mut have: Vec<Option<Type>> = call.args.iter().map(|a| Some(self.type_of(a))).collect();
        if call.statement
            && call.args.len() > decl.args.len()
            && matches!(call.args.last(), Some(Expr::Var { .. }))
            && let Some(output) = have.last_mut()
        {
            // An output variable is untyped until the call succeeds (almost always: it is
            // usually new), which OPA prints as `???`.
            *output = None;
        }
        if !call.statement {
            // OPA's rewriting gives a nested call an output variable, untyped when checked.
            have.push(None);
        }
        let count = call.args.len();
        let arity = decl.args.len();
        let arity_ok = decl.variadic.is_some()
            || if call.statement {
                count == arity || count == arity + 1
            } else {
                count == arity
            };
        if !arity_ok {
            let (have_line, want_line) = arity_lines(&have, &decl.args);
            return Some(CallError::Arity(self.problem(
                call,
                format!(
                    "{}: arity mismatch\n\t{have_line}\n\t{want_line}",
                    call.name
                ),
            )));
        }
        let mut wanted: Vec<Param> = decl.args.clone();
        wanted.extend(decl.result.clone());
        if count > wanted.len() && decl.variadic.is_none() {
            let (have_line, want_line) = arity_lines(&have, &wanted);
            return Some(CallError::Type(self.problem(
                call,
                format!(
                    "{}: too many arguments\n\t{have_line}\n\t{want_line}",
                    call.name
                ),
            )));
        }
        let fits = call.args.iter().enumerate().all(|(i, arg)| {
            match wanted.get(i).map(|p| &p.tpe).or(decl.variadic.as_ref()) {
                Some(tpe) => self.unify_term(arg, tpe),
                None => true,
            }
        });
        if fits {
            return None;
        }
        let (have_line, want_line) = argument_lines(&have, &wanted);
        Some(CallError::Type(self.problem(
            call,
            format!(
                "{}: invalid argument(s)\n\t{have_line}\n\t{want_line}",
                call.name
            ),
        )))
    }

    fn problem(&self, call: &Call<'_>, message: String) -> Problem {
        Problem {
            code: "rego_type_error",
            message,
            location: Some(call.location.clone()),
        }
    }
}

/// Every compile-time type error of the engine's modules, as OPA reports them: arity
/// mismatches alone when there are any (OPA stops at that stage), else wrong operand types
/// and, in Rego v1 modules, calls of deprecated builtins; sorted by location.
pub fn check(engine: &mut regorus::Engine) -> Vec<Problem> {
    let modules = engine.get_modules().clone();
    let defined: HashSet<String> = modules
        .iter()
        .flat_map(|m| checks::functions_of(m))
        .collect();
    let arities = function_arities(&modules);
    let mut arity = Vec::new();
    let mut types = Vec::new();
    for module in modules.iter() {
        check_module(module, &defined, &arities, &mut arity, &mut types);
    }
    let mut problems = if arity.is_empty() { types } else { arity };
    problems.sort_by(|a, b| {
        let key = |p: &Problem| {
            p.location
                .as_ref()
                .map(|l| (l.file.clone(), l.row, l.col))
                .unwrap_or_default()
        };
        key(a)
            .cmp(&key(b))
            .then_with(|| a.to_string().cmp(&b.to_string()))
    });
    // OPA stops compiling at its tenth error and says so.
    if problems.len() >= MAX_ERRORS {
        problems.truncate(MAX_ERRORS);
        problems.push(Problem {
            code: "rego_compile_error",
            message: "error limit reached".to_string(),
            location: None,
        });
    }
    problems
}

/// OPA's default limit of errors reported at once.
const MAX_ERRORS: usize = 10;

/// The number of operands of every function the modules define, by path.
fn function_arities(modules: &[regorus::unstable::Ref<Module>]) -> HashMap<String, usize> {
    let mut arities = HashMap::new();
    for module in modules {
        let mut package = vec!["data".to_string()];
        checks::dotted(&module.package.refr, &mut package);
        for rule in &module.policy {
            let (refr, count) = match rule.as_ref() {
                Rule::Spec {
                    head: RuleHead::Func { refr, args, .. },
                    ..
                } => (refr, args.len()),
                Rule::Default { refr, args, .. } if !args.is_empty() => (refr, args.len()),
                _ => continue,
            };
            let mut path = package.clone();
            if checks::dotted(refr, &mut path) {
                arities.entry(path.join(".")).or_insert(count);
            }
        }
    }
    arities
}

fn check_module(
    module: &Module,
    defined: &HashSet<String>,
    arities: &HashMap<String, usize>,
    arity: &mut Vec<Problem>,
    types: &mut Vec<Problem>,
) {
    let scope = Scope::of(module, defined, &[]);
    let checker = Checker {
        scope: &scope,
        arities,
        results: RefCell::new(HashMap::new()),
    };
    for rule in &module.policy {
        checks::for_each_expr(rule, &mut |expr, statement| {
            if let Some(problem) = checker.user_arity(expr, statement) {
                arity.push(problem);
                return;
            }
            let Some(call) = checker.call(expr, statement) else {
                return;
            };
            let deprecated = module.rego_v1
                && matches!(expr, Expr::Call { .. })
                && declarations().get(&call.name).is_some_and(|d| d.deprecated);
            if deprecated {
                types.push(checker.problem(
                    &call,
                    format!(
                        "deprecated built-in function calls in expression: {}",
                        call.name
                    ),
                ));
            }
            match checker.check(&call) {
                Some(CallError::Arity(problem)) => arity.push(problem),
                Some(CallError::Type(problem)) => types.push(problem),
                None => {}
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The problems of one v1 module, as `row:col: message` lines.
    fn problems_of(source: &str) -> Vec<String> {
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(false);
        engine
            .add_policy("p.rego".to_string(), source.to_string())
            .expect("parses");
        check(&mut engine)
            .iter()
            .map(|p| match &p.location {
                Some(l) => format!("{}:{}: {}", l.row, l.col, p.message),
                None => format!("{}: {}", p.code, p.message),
            })
            .collect()
    }

    // Expected messages confirmed with `opa eval` (OPA 1.22.2).
    #[test]
    fn functions_without_results_are_not_values() {
        assert_eq!(
            problems_of(
                "package test\np := internal.test_case([\"a\", {\"b\": 1.5}, {1, 2}, input.y, -1, null, true, `raw`])\nq if { internal.test_case([1]) }\n"
            ),
            vec![
                r#"2:6: internal.test_case(["a", {"b": 1.5}, {1, 2}, input.y, -1, null, true, "raw"]) used as value"#
            ]
        );
    }

    // Expected messages confirmed with `opa eval` (OPA 1.22.2), wide lines shortened included.
    #[test]
    fn wrong_constants_are_reported_as_opa_reports_them() {
        let source = r#"package test
a := io.jwt.encode_sign({"a": {"b": {"c": [1,2,3]}}}, {"b": 2}, null)
b := graph.reachable({"a": {"b": 1}}, {"a": 1})
c := graph.reachable(5, {"a", "b"})
d := json.patch({"a": {"b": [1, {"c": 2}]}}, [{"op": "add", "path": 1, "value": {"deep": {"x": [1,2,3]}}}, 5])
e := object.union_n([{"a": 1}, [1]])
f := {1} - 1 - "a"
g if { not count(12) }
h := base64.encode({"a": [1, {}], 1: null})
j := upper(count([1]))
"#;
        let expected = [
            "2:6: io.jwt.encode_sign: invalid argument(s)\n\thave: (object<...>, object<b: number>, null, ???)\n\twant: (headers: object[string: any], payload: object[string: any], key: object[string: any], output: string)",
            "3:6: graph.reachable: invalid argument(s)\n\thave: (object<a: object<b: number>>, object<a: number>, ???)\n\twant: (graph: object[any: any<array[any], set[any]>], initial: any<array[any], set[any]>, output: set[any])",
            "4:6: graph.reachable: invalid argument(s)\n\thave: (number, set[string], ???)\n\twant: (graph: object[...], initial: any<...>, output: set[any])",
            "5:6: json.patch: invalid argument(s)\n\thave: (object<...>, array<object<...>, number>, ???)\n\twant: (target: any, patches: array[object<...>[...]], output: any)",
            "6:6: object.union_n: invalid argument(s)\n\thave: (array<object<a: number>, array<number>>, ???)\n\twant: (objects: array[object[any: any]], output: object[any: any])",
            "7:6: minus: invalid argument(s)\n\thave: (any<number, set[any]>, string, ???)\n\twant: (x: any<number, set[any]>, y: any<number, set[any]>, z: any<number, set[any]>)",
            "8:8: count: invalid argument(s)\n\thave: (number)\n\twant: (collection: any<...>, n: number)",
            "9:6: base64.encode: invalid argument(s)\n\thave: (object<1: null, a: array<number, object>>, ???)\n\twant: (x: string, y: string)",
            "10:6: upper: invalid argument(s)\n\thave: (number, ???)\n\twant: (x: string, y: string)",
        ];
        assert_eq!(problems_of(source), expected);
    }

    // Confirmed with `opa eval` (OPA 1.22.2): a whole statement may add an output operand.
    #[test]
    fn policy_functions_are_called_with_their_arity() {
        let source = "package test\nf(x) := x\np := f(1, 2)\nq if { f(1, 2) }\nr if { f(1, 2, 3) }\ns if { f() }\n";
        assert_eq!(
            problems_of(source),
            vec![
                "3:6: function data.test.f has arity 1, got 2 arguments",
                "5:8: function data.test.f has arity 1, got 3 arguments",
                "6:8: function data.test.f has arity 1, got 0 arguments",
            ]
        );
    }

    // Confirmed with `opa eval` (OPA 1.22.2): ten errors end the list with the limit.
    #[test]
    fn stops_at_ten_errors_as_opa() {
        let source = format!(
            "package test\n{}",
            (0..12)
                .map(|i| format!("p{i} := count({i})\n"))
                .collect::<String>()
        );
        let problems = problems_of(&source);
        assert_eq!(problems.len(), 11);
        assert_eq!(problems[10], "rego_compile_error: error limit reached");
    }

    #[test]
    fn deep_nesting_is_checked_in_linear_time() {
        let mut call = "1".to_string();
        for _ in 0..60 {
            call = format!("abs({call})");
        }
        let started = std::time::Instant::now();
        assert!(problems_of(&format!("package test\np := {call}\n")).is_empty());
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}
