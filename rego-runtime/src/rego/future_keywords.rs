//! Rego v0 text that uses `if`, `every` or `in` where only the keyword fits, without importing
//! it. regorus prints a warning to stderr for each ("will be treated as identifier") and
//! parses on; a server must never print. OPA's answer comes first here: its parse error where
//! OPA rejects the text, or text that means the same and that regorus reads without the
//! warning where OPA accepts it.

use std::collections::BTreeSet;

use super::lexer::{self, Kind, Token, line_break};
use super::lowering::{Edit, Rejection};
use super::output_args::Unit;

const EXPECTED_END: &str = "unexpected identifier token: expected \\n or ; or }";

/// The rewrites that keep regorus from warning about the v0 text `source` (its significant
/// `tokens`), or OPA's parse error for it.
pub(super) fn rewrites(source: &str, tokens: &[Token], unit: Unit) -> Result<Vec<Edit>, Rejection> {
    let imported = imported(source, tokens);
    let missing = |keyword: &str| !imported.contains(keyword);
    let error = |at: &Token, message: String| {
        let (row, col) = lexer::row_col(source, at.start);
        Err(Rejection::parse(row, col, message))
    };
    let mut edits = Vec::new();
    let mut braces = 0usize;
    for (i, token) in tokens.iter().enumerate() {
        let text = token.text(source);
        match text {
            "{" => braces += 1,
            "}" => braces = braces.saturating_sub(1),
            _ => {}
        }
        if token.kind != Kind::Ident {
            continue;
        }
        let next = tokens.get(i + 1);
        let in_body = braces > 0 || unit == Unit::Query;
        match text {
            // `some x in xs`, `some k, v in xs`; OPA reads more variables as a list
            // followed by a membership.
            "in" if missing("in")
                && let Some(count) = follows_some(source, tokens, i) =>
            {
                let form = if count > 2 { "x in xs" } else { "some x in xs" };
                return error(
                    token,
                    format!(
                        "{EXPECTED_END} (hint: `import future.keywords.in` for `{form}` expressions)"
                    ),
                );
            }
            "every" if missing("every") && in_body && starts_literal(source, tokens, i) => {
                match next {
                    Some(after)
                        if after.kind == Kind::Ident && !line_break(source, token, after) =>
                    {
                        return error(
                            after,
                            format!(
                                "{EXPECTED_END} (hint: `import future.keywords.every` for `every x in xs {{ ... }}` expressions)"
                            ),
                        );
                    }
                    // A ref on a variable named `every`: rare enough to leave to regorus.
                    Some(after)
                        if after.start == token.end
                            && matches!(after.text(source), "." | "[" | "(") => {}
                    // A variable named `every`, as OPA reads it; in parentheses it is not
                    // where a keyword could start.
                    _ => {
                        edits.push(insert(token.start, "("));
                        edits.push(insert(token.end, ")"));
                    }
                }
            }
            "if" if missing("if") && unit == Unit::Module && braces == 0 => {
                rule_if(source, tokens, i, &imported, &mut edits)?;
            }
            _ => {}
        }
    }
    Ok(edits)
}

/// `if` at the top level of a module, after the head of a rule: OPA reads it as the name of a
/// new rule, which the head before it must survive on its own.
fn rule_if(
    source: &str,
    tokens: &[Token],
    at: usize,
    imported: &BTreeSet<&str>,
    edits: &mut Vec<Edit>,
) -> Result<(), Rejection> {
    let error = |token: &Token, message: &str| {
        let (row, col) = lexer::row_col(source, token.start);
        Err(Rejection::parse(row, col, message.to_string()))
    };
    let rule_name = "var cannot be used for rule name (hint: `import future.keywords.if` for `p if { ... }` rules)";
    let start = statement_start(source, tokens, at);
    let head = &tokens[start..at];
    let Some(first) = head.first() else {
        // `if` begins the statement: a rule named `if`.
        return Ok(());
    };
    let texts: Vec<&str> = head.iter().map(|t| t.text(source)).collect();
    if texts.last() == Some(&"else") {
        return error(
            &tokens[at],
            "unexpected identifier token: expected else value term or rule body",
        );
    }
    // After a body or an `else` the head is complete; regorus does not warn there.
    if texts.contains(&"else") || has_body(&texts) {
        return Ok(());
    }
    if texts.len() == 1 {
        return error(first, rule_name);
    }
    let contains = texts
        .iter()
        .enumerate()
        .any(|(j, t)| *t == "contains" && texts.get(j + 1) != Some(&"("));
    if contains && !imported.contains("contains") {
        return error(
            first,
            "var cannot be used for rule name (hint: `import future.keywords.contains` for `p contains x` rules)",
        );
    }
    if tokens.get(at + 1).map(|t| t.text(source)) != Some("{") {
        return error(&tokens[at], rule_name);
    }
    // `p = 1 if { ... }` is the rule `p = 1` and a rule named `if`; so is `p = 1 { true } if
    // { ... }`, which regorus reads without the warning.
    edits.push(insert(tokens[at].start, "{ true } "));
    Ok(())
}

/// The index of the first token of the top-level statement holding token `at`.
fn statement_start(source: &str, tokens: &[Token], at: usize) -> usize {
    let mut depth = 0i32;
    let mut start = 0;
    for (i, token) in tokens.iter().enumerate().take(at) {
        let first_on_line = i == 0 || line_break(source, &tokens[i - 1], token);
        if depth == 0 && first_on_line && !continues(source, tokens, i) {
            start = i;
        }
        match token.text(source) {
            "{" | "[" | "(" => depth += 1,
            "}" | "]" | ")" => depth = (depth - 1).max(0),
            _ => {}
        }
    }
    start
}

/// True when token `i`, first on its line, continues the statement before it.
fn continues(source: &str, tokens: &[Token], i: usize) -> bool {
    i > 0
        && (leaves_open(tokens[i - 1].text(source))
            || matches!(
                tokens[i].text(source),
                "{" | "else" | "if" | "." | "[" | "="
            ))
}

/// True when a head (its depth-0 tokens) already has a body: a `{` that opens no term.
fn has_body(texts: &[&str]) -> bool {
    let mut depth = 0i32;
    for (j, text) in texts.iter().enumerate() {
        match *text {
            "{" if depth == 0 && j > 0 && !leaves_open(texts[j - 1]) => return true,
            "{" | "[" | "(" => depth += 1,
            "}" | "]" | ")" => depth -= 1,
            _ => {}
        }
    }
    false
}

/// How many variables separated by commas come between `some` and token `at`, if that is
/// what comes before it.
fn follows_some(source: &str, tokens: &[Token], at: usize) -> Option<usize> {
    let mut i = at;
    let mut count = 0;
    loop {
        let var = i
            .checked_sub(1)
            .filter(|&v| tokens[v].kind == Kind::Ident)?;
        count += 1;
        match var.checked_sub(1).map(|p| tokens[p].text(source)) {
            Some("some") => return Some(count),
            Some(",") => i = var - 1,
            _ => return None,
        }
    }
}

/// True when token `i` begins an expression: after `{`, `;` or `|`, or first on its line
/// after a token that leaves nothing open.
fn starts_literal(source: &str, tokens: &[Token], i: usize) -> bool {
    let Some(previous) = i.checked_sub(1).map(|p| &tokens[p]) else {
        return true;
    };
    match previous.text(source) {
        "{" | ";" | "|" => true,
        text => line_break(source, previous, &tokens[i]) && !leaves_open(text),
    }
}

/// Tokens that join what is before them to what is after them.
fn leaves_open(text: &str) -> bool {
    matches!(
        text,
        "," | "("
            | "["
            | "{"
            | "."
            | ":"
            | ":="
            | "="
            | "=="
            | "!="
            | "<"
            | ">"
            | "<="
            | ">="
            | "+"
            | "-"
            | "*"
            | "/"
            | "%"
            | "&"
            | "|"
            | "not"
            | "contains"
            | "else"
            | "some"
            | "with"
            | "as"
            | "default"
    )
}

/// The future keywords a module imports: one by one, all of `future.keywords`, or `rego.v1`.
fn imported<'s>(source: &'s str, tokens: &[Token]) -> BTreeSet<&'s str> {
    const ALL: [&str; 4] = ["contains", "every", "if", "in"];
    let mut found = BTreeSet::new();
    for (i, token) in tokens.iter().enumerate() {
        let first_on_line = i == 0 || line_break(source, &tokens[i - 1], token);
        if token.text(source) != "import" || !first_on_line {
            continue;
        }
        let mut path = Vec::new();
        let mut j = i + 1;
        while let Some(word) = tokens.get(j).filter(|t| t.kind == Kind::Ident) {
            path.push(word.text(source));
            if tokens.get(j + 1).map(|t| t.text(source)) != Some(".") {
                break;
            }
            j += 2;
        }
        match path.as_slice() {
            ["future", "keywords"] | ["rego", "v1"] => found.extend(ALL),
            // `every` brings `in` along: `every x in xs` needs both.
            ["future", "keywords", "every"] => found.extend(["every", "in"]),
            ["future", "keywords", keyword] => {
                found.insert(*keyword);
            }
            _ => {}
        }
    }
    found
}

fn insert(at: usize, text: &str) -> Edit {
    Edit {
        start: at,
        end: at,
        text: text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rego::lowering;

    fn module(body: &str) -> Result<String, String> {
        let source = format!("package test\n\n{body}\n");
        let tokens = lexer::significant(&source);
        match rewrites(&source, &tokens, Unit::Module) {
            Ok(edits) => Ok(lowering::apply(&source, edits).text[14..]
                .trim_end()
                .to_string()),
            Err(e) => Err(format!("{}:{} {}", e.row, e.col, e.message)),
        }
    }

    #[test]
    fn rejects_what_opa_rejects_where_opa_does() {
        let hint = |kw: &str| format!("(hint: `import future.keywords.{kw}`");
        let cases = [
            ("p { some x in [1] }", "3:12", hint("in")),
            ("p { some k, v in [1] }", "3:15", hint("in")),
            (
                "p { some a, b, c in [1] }",
                "3:18",
                "for `x in xs` expressions".to_string(),
            ),
            ("p { every x in [1] { x } }", "3:11", hint("every")),
            ("p if { true }", "3:1", hint("if")),
            ("p := 1 if true", "3:8", hint("if")),
            ("p contains 1 if true", "3:1", hint("contains")),
            (
                "p { true } else if { true }",
                "3:17",
                "expected else value term or rule body".to_string(),
            ),
        ];
        for (body, at, wanted) in cases {
            let error = module(body).expect_err(body);
            assert!(error.starts_with(&format!("{at} ")), "{body}: {error}");
            assert!(error.contains(&wanted), "{body}: {error}");
        }
    }

    #[test]
    fn keeps_what_opa_accepts_without_the_keyword() {
        assert_eq!(
            module("p { every = 1 }").as_deref(),
            Ok("p { (every) = 1 }")
        );
        assert_eq!(
            module("p = 1 if { true }").as_deref(),
            Ok("p = 1 { true } if { true }")
        );
        assert_eq!(
            module("f(x) if { true }").as_deref(),
            Ok("f(x) { true } if { true }")
        );
        for body in [
            "p { true } if { true }",
            "p { true } else = 1 if { true }",
            "p { x := 1; x in [1] }",
            "import future.keywords\np if { some x in [1]; every y in [1] { y } }",
            "import rego.v1\np if { true }",
            "import future.keywords.if\np if { true }",
            "import future.keywords.every\np { some x in [1] }",
            "p { if := 1 }",
            "x := contains(\"ab\", \"a\")",
        ] {
            assert_eq!(module(body).as_deref(), Ok(body), "{body}");
        }
    }

    #[test]
    fn queries_are_bodies() {
        let query = "some x in [1]";
        let tokens = lexer::significant(query);
        let error = rewrites(query, &tokens, Unit::Query).expect_err("some in");
        assert_eq!((error.row, error.col), (1, 8));
    }
}
