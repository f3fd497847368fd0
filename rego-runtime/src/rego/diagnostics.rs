//! Turns regorus's error text into OPA-shaped problems: a code, a message and a location.
//!
//! regorus reports errors as text: `--> file:row:col`, a source excerpt, then `error: msg`.
//! Errors raised by the builtin table carry their OPA code at the start of the message.

use crate::error::{Location, Problem};

/// The parts of one regorus error text.
struct Parsed<'a> {
    location: Option<Location>,
    message: &'a str,
}

fn parse(text: &str) -> Parsed<'_> {
    let location = text.lines().find_map(|line| {
        let rest = line.trim_start().strip_prefix("--> ")?;
        let mut parts = rest.rsplitn(3, ':');
        let col = parts.next()?.trim().parse().ok()?;
        let row = parts.next()?.trim().parse().ok()?;
        let file = parts.next()?.to_string();
        Some(Location { file, row, col })
    });
    // The innermost message is the last `error: ` line; nested errors repeat the header.
    let message = text
        .match_indices("error: ")
        .filter(|(at, _)| *at == 0 || text.as_bytes()[at - 1] == b'\n')
        .last()
        .map(|(at, _)| text[at + "error: ".len()..].trim())
        .unwrap_or_else(|| text.trim());
    Parsed { location, message }
}

/// A message from the builtin table starts with its OPA code (`eval_type_error: ...`).
fn split_code(message: &str) -> Option<(&'static str, &str)> {
    const CODES: [&str; 3] = [
        "eval_type_error",
        "eval_builtin_error",
        "eval_conflict_error",
    ];
    CODES.iter().find_map(|code| {
        let rest = message.strip_prefix(code)?.strip_prefix(": ")?;
        Some((*code, rest))
    })
}

/// Classifies an error regorus raised while parsing a module or query.
pub fn parse_problem(text: &str) -> Problem {
    let parsed = parse(text);
    Problem {
        code: "rego_parse_error",
        message: opa_parse_wording(parsed.message),
        location: parsed.location,
    }
}

/// OPA's words for parse errors regorus words differently, where the meaning is the same.
fn opa_parse_wording(message: &str) -> String {
    match message {
        "invalid escape sequence" => "illegal escape sequence".to_string(),
        other => other.to_string(),
    }
}

/// Where `span` starts, as OPA locates a problem there.
pub fn location(span: &regorus::unstable::Span) -> Location {
    Location {
        file: span.source.get_path().to_string(),
        row: span.line,
        col: span.col,
    }
}

/// Classifies an error regorus raised while checking modules before the first evaluation.
pub fn compile_problem(text: &str) -> Problem {
    let parsed = parse(text);
    let lower = parsed.message.to_ascii_lowercase();
    if let Some(var) = unsafe_variable(parsed.message) {
        return Problem {
            code: "rego_unsafe_var_error",
            message: format!("var {var} is unsafe"),
            location: parsed.location,
        };
    }
    let code = if lower.contains("recursion") {
        "rego_recursion_error"
    } else if lower.contains("unsafe") || lower.contains("var ") && lower.contains("is unsafe") {
        "rego_unsafe_var_error"
    } else if lower.contains("could not find function") || lower.contains("undefined function") {
        "rego_type_error"
    } else {
        "rego_compile_error"
    };
    Problem {
        code,
        message: parsed.message.to_string(),
        location: parsed.location,
    }
}

/// The variable of regorus's "use of undefined variable `x` is unsafe".
fn unsafe_variable(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("use of undefined variable `")?;
    let (var, tail) = rest.split_once('`')?;
    tail.contains("unsafe").then_some(var)
}

/// Classifies an error raised during evaluation.
pub fn evaluation_problem(text: &str) -> Problem {
    let parsed = parse(text);
    if let Some((code, rest)) = split_code(parsed.message) {
        return Problem {
            code,
            message: rest.to_string(),
            location: parsed.location,
        };
    }
    let lower = parsed.message.to_ascii_lowercase();
    let (code, message) = if lower.contains("execution exceeded time limit") {
        (
            "eval_cancel_error",
            "caller cancelled query execution".to_string(),
        )
    } else if lower.contains("multiple outputs")
        || lower.contains("conflict")
        || lower.contains("generated multiple times")
    {
        ("eval_conflict_error", conflict_message(&lower).to_string())
    } else if lower.contains("could not find function") {
        ("rego_type_error", parsed.message.to_string())
    } else {
        ("eval_internal_error", parsed.message.to_string())
    };
    Problem {
        code,
        message,
        location: parsed.location,
    }
}

/// OPA's wording for the conflict regorus found.
fn conflict_message(lower: &str) -> &'static str {
    if lower.contains("function") {
        FUNCTION_CONFLICT
    } else if lower.contains("object") || lower.contains("key") {
        OBJECT_KEYS_MUST_BE_UNIQUE
    } else {
        COMPLETE_RULE_CONFLICT
    }
}

/// regorus's conflict kinds, as OPA words them before naming the rule (the engine adds the
/// rule's path, which only it knows).
pub const COMPLETE_RULE_CONFLICT: &str = "complete rules must not produce multiple outputs";
pub const FUNCTION_CONFLICT: &str = "functions must not produce multiple outputs for same inputs";
pub const OBJECT_KEYS_MUST_BE_UNIQUE: &str = "object keys must be unique";

/// True when regorus raised `text` while analysing (not evaluating) a query.
pub fn is_analysis_error(text: &str) -> bool {
    compile_problem(text).code != "rego_compile_error"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_location_and_message() {
        let text = "\n--> policy.rego:3:5\n  |\n3 | x := 2\n  |     ^\nerror: complete rules should not produce multiple outputs";
        let problem = evaluation_problem(text);
        assert_eq!(problem.code, "eval_conflict_error");
        assert_eq!(
            problem.location,
            Some(Location {
                file: "policy.rego".into(),
                row: 3,
                col: 5
            })
        );
    }

    #[test]
    fn keeps_codes_from_the_builtin_table() {
        let text = "\n--> p.rego:1:1\n |\n1| x\n | ^\nerror: eval_type_error: io.jwt.decode: operand 1 must be string but got number";
        let problem = evaluation_problem(text);
        assert_eq!(problem.code, "eval_type_error");
        assert_eq!(
            problem.message,
            "io.jwt.decode: operand 1 must be string but got number"
        );
    }
}
