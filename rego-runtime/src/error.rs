//! Errors of compiling and evaluating policies, carrying OPA's error codes and locations.

use std::fmt;

/// Where in a module a problem is, 1-based as OPA reports it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Location {
    pub file: String,
    pub row: u32,
    pub col: u32,
}

/// One problem, shaped like OPA's `ast.Error` / `topdown.Error`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// OPA's code: `rego_parse_error`, `eval_conflict_error`, ...
    pub code: &'static str,
    pub message: String,
    pub location: Option<Location>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            // OPA prints `file:row` when the file is known, else `row:col`.
            Some(loc) if !loc.file.is_empty() => {
                write!(
                    f,
                    "{}:{}: {}: {}",
                    loc.file, loc.row, self.code, self.message
                )
            }
            Some(loc) => write!(
                f,
                "{}:{}: {}: {}",
                loc.row, loc.col, self.code, self.message
            ),
            None => write!(f, "{}: {}", self.code, self.message),
        }
    }
}

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Modules or a query that do not parse or compile; every problem found is listed.
    /// Displayed as OPA displays a list of AST errors.
    #[error("{}", join(.0))]
    Compile(Vec<Problem>),
    /// A runtime error of one evaluation (conflict, strict builtin error, timeout).
    #[error("{0}")]
    Evaluation(Problem),
    /// The input document is not valid JSON.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The engine failed in a way that is not the policy's fault (a panic inside it).
    #[error("internal error: {0}")]
    Internal(String),
}

/// Go's `ast.Errors.Error()`: `1 error occurred: <e>` or `N errors occurred:\n<e>\n<e>`.
fn join(problems: &[Problem]) -> String {
    match problems {
        [] => "no error(s)".to_string(),
        [one] => format!("1 error occurred: {one}"),
        many => {
            let lines: Vec<String> = many.iter().map(ToString::to_string).collect();
            format!("{} errors occurred:\n{}", many.len(), lines.join("\n"))
        }
    }
}
