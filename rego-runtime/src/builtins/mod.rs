//! THE builtin table: every OPA builtin this project implements itself, engine-neutral.
//!
//! Engines install it their own way (the Rego engine as regorus extensions, a Wasm host by
//! name from a module's `builtins()` export). An entry here overrides an engine's own builtin
//! of the same name, which is how engine behaviour that differs from OPA gets corrected.

mod args;
mod aws;
mod glob;
mod numbers;
mod regex;
mod urlquery;
mod arrays;
mod asn1;
mod crypto;
mod deprecated;
mod jwt;
mod keys;
mod net;
mod sprintf;
mod strings;
mod terms;
mod uri;
mod x509;

use crate::Value;

pub use args::BuiltinError;

/// The signature every builtin has: operands in, value out. No engine type appears here.
pub type BuiltinFn = fn(&[Value]) -> Result<Value, BuiltinError>;

/// One builtin function as OPA names and declares it.
#[derive(Clone, Copy, Debug)]
pub struct Builtin {
    /// OPA's name, e.g. `io.jwt.decode`.
    pub name: &'static str,
    /// Number of operands.
    pub arity: u8,
    /// True when repeated calls may answer differently (time, randomness, network).
    pub nondeterministic: bool,
    /// The implementation; operands arrive already counted (see [`call`]).
    pub eval: BuiltinFn,
}

/// Every family's entries; a family is one file of this folder.
const FAMILIES: &[&[Builtin]] = &[
    strings::BUILTINS,
    sprintf::BUILTINS,
    crypto::BUILTINS,
    x509::BUILTINS,
    uri::BUILTINS,
    jwt::BUILTINS,
    net::BUILTINS,
    arrays::BUILTINS,
    deprecated::BUILTINS,
    regex::BUILTINS,
    glob::BUILTINS,
    numbers::BUILTINS,
    urlquery::BUILTINS,
    aws::BUILTINS,
];

/// Every builtin of the table, in family order.
pub fn table() -> impl Iterator<Item = &'static Builtin> {
    FAMILIES.iter().flat_map(|family| family.iter())
}

/// The builtin named `name`, if the table has it.
pub fn lookup(name: &str) -> Option<&'static Builtin> {
    table().find(|builtin| builtin.name == name)
}

/// Calls `builtin` after checking the operand count, as every engine must.
///
/// # Errors
/// The builtin's own error, or a type error for a wrong number of operands.
pub fn call(builtin: &Builtin, operands: &[Value]) -> Result<Value, BuiltinError> {
    if operands.len() != usize::from(builtin.arity) {
        return Err(BuiltinError::Type(format!(
            "{}: expected {} operands but got {}",
            builtin.name,
            builtin.arity,
            operands.len()
        )));
    }
    (builtin.eval)(operands).map_err(|error| error.named(builtin.name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique() {
        let mut seen = HashSet::new();
        for builtin in table() {
            assert!(seen.insert(builtin.name), "{} listed twice", builtin.name);
        }
    }
}
