//! OPA 1.22.2's capabilities (`opa capabilities --current`), kept in the repository as the
//! reference list of builtins: names, declared operand types, infix operators and the
//! deprecated and nondeterministic flags.

use std::sync::OnceLock;

use serde::Deserialize;

/// The file as OPA writes it; only the parts the project reads.
#[derive(Debug, Deserialize)]
pub struct Capabilities {
    pub builtins: Vec<BuiltinDecl>,
}

/// One builtin's declaration.
#[derive(Debug, Deserialize)]
pub struct BuiltinDecl {
    pub name: String,
    /// `+` for `plus`: the operator the builtin is written as.
    #[serde(default)]
    pub infix: Option<String>,
    #[serde(default)]
    pub deprecated: bool,
    #[serde(default)]
    pub nondeterministic: bool,
    /// A relation (`walk`) enumerates its output operand rather than returning one value.
    #[serde(default)]
    pub relation: bool,
    /// The declared signature (`{"args": [...], "result": ...}`), as OPA's type JSON.
    pub decl: serde_json::Value,
}

impl BuiltinDecl {
    /// The number of operands the declaration lists.
    pub fn arity(&self) -> usize {
        self.decl["args"].as_array().map_or(0, Vec::len)
    }
}

/// The embedded text of `capabilities/opa-v1.22.2.json`.
pub const OPA_CAPABILITIES_JSON: &str = include_str!("../capabilities/opa-v1.22.2.json");

/// OPA 1.22.2's capabilities, parsed once.
///
/// # Panics
/// Only if the embedded file is not OPA's capabilities JSON, which a test rules out.
pub fn opa() -> &'static Capabilities {
    static PARSED: OnceLock<Capabilities> = OnceLock::new();
    PARSED.get_or_init(|| {
        serde_json::from_str(OPA_CAPABILITIES_JSON).expect("embedded capabilities parse")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_builtin_of_opa() {
        let capabilities = opa();
        assert_eq!(capabilities.builtins.len(), 206);
        let plus = capabilities
            .builtins
            .iter()
            .find(|b| b.name == "plus")
            .expect("plus");
        assert_eq!(plus.infix.as_deref(), Some("+"));
        assert_eq!(plus.arity(), 2);
        assert!(
            capabilities
                .builtins
                .iter()
                .any(|b| b.name == "re_match" && b.deprecated)
        );
        assert!(
            capabilities
                .builtins
                .iter()
                .any(|b| b.name == "time.now_ns" && b.nondeterministic)
        );
    }
}
