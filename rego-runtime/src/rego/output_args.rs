//! Calls with an output operand: in a rule body, `f(a, x)` with one operand more than `f`
//! declares means `x = f(a)` (OPA's older call form, common in its own test suite and in
//! long-lived policies). regorus reports `x` unsafe, so the call is rewritten to the
//! unification, which binds `x` when it is free and compares when it is not.

use std::collections::HashMap;

use super::lexer::{self, Kind, Token, line_break, matching};
use super::lowering::Edit;
use super::outline;
use crate::capabilities;

/// What the tokens are: a module, or a query (a body without braces).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Unit {
    Module,
    Query,
}

/// Every function of a policy by its path (`data.lib.math.inc`) and arity, so that a module
/// calling another module's function with an output operand (`math.inc(1, y)` after
/// `import data.lib.math`) is rewritten too: regorus cannot order such a body, and prints so.
#[derive(Clone, Debug, Default)]
pub struct PolicyFunctions {
    paths: HashMap<String, usize>,
}

impl PolicyFunctions {
    /// The functions the modules `sources` define.
    pub fn of<'a>(sources: impl IntoIterator<Item = &'a str>) -> PolicyFunctions {
        let mut paths = HashMap::new();
        for source in sources {
            let Some(package) = outline::package_path(source) else {
                continue;
            };
            let tokens = lexer::significant(source);
            for (name, arity) in module_functions(source, &tokens) {
                paths.insert(format!("data.{}.{name}", package.join(".")), arity);
            }
        }
        PolicyFunctions { paths }
    }

    /// The names the bodies of `source` call these functions by: the full path, the name
    /// within its own package, or through an import's alias.
    fn callable_in(&self, source: &str, tokens: &[Token]) -> HashMap<String, usize> {
        let mut prefixes: Vec<(String, String)> = imports(source, tokens);
        if let Some(package) = outline::package_path(source) {
            prefixes.push((format!("data.{}.", package.join(".")), String::new()));
        }
        let mut names = HashMap::new();
        for (path, &arity) in &self.paths {
            names.insert(path.clone(), arity);
            for (target, alias) in &prefixes {
                if let Some(rest) = path.strip_prefix(target.as_str()) {
                    names.insert(format!("{alias}{rest}"), arity);
                }
            }
        }
        names
    }
}

/// Each `import data.a.b [as c]` of a module as (`data.a.b.`, `c.`): what a call name that
/// starts with the alias stands for.
fn imports(source: &str, tokens: &[Token]) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        if token.text(source) != "import" || !starts_line(source, tokens, i) {
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
        let alias = match (tokens.get(j + 1), tokens.get(j + 2)) {
            (Some(r#as), Some(alias)) if r#as.text(source) == "as" => alias.text(source),
            _ => path.last().copied().unwrap_or_default(),
        };
        if path.len() > 1 && path[0] == "data" {
            found.push((format!("{}.", path.join(".")), format!("{alias}.")));
        }
    }
    found
}

fn starts_line(source: &str, tokens: &[Token], i: usize) -> bool {
    i == 0 || line_break(source, &tokens[i - 1], &tokens[i])
}

/// The rewrites for every call with an output operand in `tokens` (the significant tokens of
/// one module or query): `OUT = ` inserted before the call and `, OUT` removed from its
/// operands. `policy` names the functions of the other modules.
pub(super) fn rewrites(
    source: &str,
    tokens: &[Token],
    unit: Unit,
    policy: &PolicyFunctions,
) -> Vec<Edit> {
    let mut functions = policy.callable_in(source, tokens);
    // A module's own functions come first.
    if unit == Unit::Module {
        functions.extend(module_functions(source, tokens));
    }
    let mut found = Vec::new();
    let starts = literal_starts(source, tokens, unit);
    for (i, token) in tokens.iter().enumerate() {
        if token.kind != Kind::Ident || !starts[i] {
            continue;
        }
        let Some((name, paren)) = call_name(source, tokens, i) else {
            continue;
        };
        let builtin = builtin_arity(&name);
        // Under `not` the operand is already bound, so regorus can order the body; and a
        // policy function may be undefined, which `not out = f(a)` would not negate (OPA
        // evaluates that call before the negation).
        let negated = i > 0 && tokens[i - 1].text(source) == "not";
        if negated && builtin.is_none() {
            continue;
        }
        let Some(arity) = builtin.or_else(|| functions.get(&name).copied()) else {
            continue;
        };
        let Some(close) = matching(source, tokens, paren) else {
            continue;
        };
        let operands = operand_ranges(source, tokens, paren, close);
        if operands.len() != arity + 1 || !ends_literal(source, tokens, close) {
            continue;
        }
        let (out_first, out_last) = operands[arity];
        let output = &source[tokens[out_first].start..tokens[out_last].end];
        if output.contains('\n') {
            continue;
        }
        // The comma before the output operand, up to the output's end (and a trailing comma
        // after it), is deleted; its line breaks stay, so that lines keep their numbers.
        let delete_from = if arity == 0 {
            tokens[out_first].start
        } else {
            tokens[operands[arity - 1].1].end
        };
        let delete_to = match tokens.get(out_last + 1) {
            Some(comma) if comma.text(source) == "," => comma.end,
            _ => tokens[out_last].end,
        };
        let breaks = source[delete_from..delete_to].matches('\n').count();
        found.push(Edit {
            start: token.start,
            end: token.start,
            text: format!("{output} = "),
        });
        found.push(Edit {
            start: delete_from,
            end: delete_to,
            text: "\n".repeat(breaks),
        });
    }
    found
}

/// Per token, whether it begins an expression of a body: in a rule or `every` body, after a
/// comprehension's `|`, or after `if` (a body of one expression, `p := y if f(1, y)`).
pub(super) fn literal_starts(source: &str, tokens: &[Token], unit: Unit) -> Vec<bool> {
    // A query is one body: as if inside the braces of a rule.
    let mut open: Vec<&str> = match unit {
        Unit::Module => Vec::new(),
        Unit::Query => vec!["{"],
    };
    let mut starts = Vec::with_capacity(tokens.len());
    for (i, token) in tokens.iter().enumerate() {
        starts.push(match i.checked_sub(1).map(|p| tokens[p].text(source)) {
            Some("|" | ";") => !open.is_empty(),
            Some("if") => unit == Unit::Module,
            _ => open.last() == Some(&"{") && starts_literal(source, tokens, i),
        });
        match token.text(source) {
            text @ ("{" | "[" | "(") => open.push(text),
            "}" | "]" | ")" => {
                open.pop();
            }
            _ => {}
        }
    }
    starts
}

/// The declared operand count of a builtin OPA has, unless it takes any number of them or is
/// a relation (`walk(x, [path, value])` is its own form, which regorus evaluates).
fn builtin_arity(name: &str) -> Option<usize> {
    let decl = capabilities::opa()
        .builtins
        .iter()
        .find(|b| b.name == name)?;
    (decl.decl.get("variadic").is_none() && !decl.relation).then(|| decl.arity())
}

/// `a.b.c` starting at token `at` and the index of the `(` right after it.
fn call_name(source: &str, tokens: &[Token], at: usize) -> Option<(String, usize)> {
    let mut name = tokens[at].text(source).to_string();
    let mut i = at + 1;
    while tokens.get(i).map(|t| t.text(source)) == Some(".")
        && tokens.get(i + 1).is_some_and(|t| t.kind == Kind::Ident)
        && adjacent(tokens, i - 1, i + 1)
    {
        name.push('.');
        name.push_str(tokens[i + 1].text(source));
        i += 2;
    }
    (tokens.get(i).map(|t| t.text(source)) == Some("(") && adjacent(tokens, i - 1, i))
        .then_some((name, i))
}

/// True when tokens `from..=to` are written without layout between them.
fn adjacent(tokens: &[Token], from: usize, to: usize) -> bool {
    (from..to).all(|i| tokens[i].end == tokens[i + 1].start)
}

/// True when token `i` begins an expression of a body: after `{`, `;`, `|` or `not`, or first
/// on its line after a token that does not leave an expression open.
fn starts_literal(source: &str, tokens: &[Token], i: usize) -> bool {
    let Some(previous) = i.checked_sub(1).map(|p| &tokens[p]) else {
        // The first token of a module is `package`; of a query, its first expression.
        return true;
    };
    match previous.text(source) {
        "{" | ";" | "|" | "not" => true,
        text => line_break(source, previous, &tokens[i]) && !leaves_open(text),
    }
}

/// True when the call closing at `close` ends its expression: `}`, `]`, `;` or `with` follows, or
/// the next line starts a new expression.
pub(super) fn ends_literal(source: &str, tokens: &[Token], close: usize) -> bool {
    let Some(next) = tokens.get(close + 1) else {
        return true;
    };
    match next.text(source) {
        "}" | "]" | ";" | "with" => true,
        text => line_break(source, &tokens[close], next) && !leaves_open(text) && text != "[",
    }
}

/// Tokens that join what is before them to what is after them.
fn leaves_open(text: &str) -> bool {
    matches!(
        text,
        "," | "("
            | "["
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
            | "in"
            | "contains"
            | "if"
            | "else"
            | "some"
            | "every"
            | "with"
            | "as"
            | "default"
    )
}

/// First and last token of each operand between the parentheses at `open` and `close`.
fn operand_ranges(
    source: &str,
    tokens: &[Token],
    open: usize,
    close: usize,
) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    let mut depth = 0usize;
    let mut start = open + 1;
    for (i, token) in tokens.iter().enumerate().take(close).skip(open + 1) {
        match token.text(source) {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => depth = depth.saturating_sub(1),
            "," if depth == 0 => {
                if i > start {
                    ranges.push((start, i - 1));
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    if close > start {
        ranges.push((start, close - 1));
    }
    ranges
}

/// The functions the module defines, by the name a body calls them with, and their arity:
/// `f(x, y) := ...`, `f(x) if ...`, `f(x) { ... }` at the top level.
fn module_functions(source: &str, tokens: &[Token]) -> HashMap<String, usize> {
    let mut functions = HashMap::new();
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate() {
        match token.text(source) {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth != 0 || token.kind != Kind::Ident {
            continue;
        }
        let head_start = match i.checked_sub(1).map(|p| tokens[p].text(source)) {
            None | Some("default") => true,
            Some(_) => line_break(source, &tokens[i - 1], token),
        };
        if !head_start {
            continue;
        }
        let Some((name, paren)) = call_name(source, tokens, i) else {
            continue;
        };
        let Some(close) = matching(source, tokens, paren) else {
            continue;
        };
        let defines = tokens
            .get(close + 1)
            .is_some_and(|t| matches!(t.text(source), ":=" | "=" | "if" | "{"));
        if defines {
            functions.insert(name, operand_ranges(source, tokens, paren, close).len());
        }
    }
    functions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rego::{lexer, lowering};

    fn rewritten(source: &str) -> String {
        let tokens: Vec<Token> = lexer::significant(source);
        lowering::apply(
            source,
            rewrites(source, &tokens, Unit::Module, &PolicyFunctions::default()),
        )
        .text
    }

    #[test]
    fn a_builtin_call_with_one_operand_more_becomes_a_unification() {
        assert_eq!(
            rewritten("package t\np := x if {\n\tnet.cidr_merge([\"a\"], x)\n}\n"),
            "package t\np := x if {\n\tx = net.cidr_merge([\"a\"])\n}\n"
        );
        assert_eq!(
            rewritten("package t\np := [y | y := 1; count([1], y)]\n"),
            "package t\np := [y | y := 1; y = count([1])]\n"
        );
        assert_eq!(
            rewritten("package t\np if { count([1], 1); not startswith(\"ab\", \"a\", false) }\n"),
            "package t\np if { 1 = count([1]); not false = startswith(\"ab\", \"a\") }\n"
        );
    }

    #[test]
    fn queries_are_one_body() {
        let query = "x := [1]; count(x, n)\nupper(\"a\", u)";
        let tokens: Vec<Token> = lexer::significant(query);
        let mut text = query.to_string();
        for edit in rewrites(query, &tokens, Unit::Query, &PolicyFunctions::default())
            .iter()
            .rev()
        {
            text.replace_range(edit.start..edit.end, &edit.text);
        }
        assert_eq!(text, "x := [1]; n = count(x)\nu = upper(\"a\")");
    }

    #[test]
    fn calls_over_several_lines_keep_their_line_count() {
        assert_eq!(
            rewritten(
                "package t\np := x if {\n\tconcat(\n\t\t\"-\",\n\t\t[\"a\"],\n\t\tx,\n\t)\n}\n"
            ),
            "package t\np := x if {\n\tx = concat(\n\t\t\"-\",\n\t\t[\"a\"]\n\n\t)\n}\n"
        );
    }

    #[test]
    fn module_functions_take_output_operands_too() {
        assert_eq!(
            rewritten("package t\nf(a) := a + 1\np := y if { f(1, y) }\n"),
            "package t\nf(a) := a + 1\np := y if { y = f(1) }\n"
        );
    }

    #[test]
    fn functions_of_other_modules_take_output_operands_through_imports() {
        let lib = "package lib.math\n\ninc(x) := x + 1\n";
        let policy = PolicyFunctions::of([lib]);
        let rewrite = |source: &str| {
            let tokens: Vec<Token> = lexer::significant(source);
            lowering::apply(source, rewrites(source, &tokens, Unit::Module, &policy)).text
        };
        assert_eq!(
            rewrite("package t\nimport data.lib.math\np := y if math.inc(41, y)\n"),
            "package t\nimport data.lib.math\np := y if y = math.inc(41)\n"
        );
        assert_eq!(
            rewrite("package t\nimport data.lib as l\np := y if l.math.inc(41, y)\n"),
            "package t\nimport data.lib as l\np := y if y = l.math.inc(41)\n"
        );
        assert_eq!(
            rewrite("package t\np := y if data.lib.math.inc(41, y)\n"),
            "package t\np := y if y = data.lib.math.inc(41)\n"
        );
        assert_eq!(
            rewrite("package lib.math\np := y if inc(41, y)\n"),
            "package lib.math\np := y if y = inc(41)\n"
        );
        // Not imported here: `math` is something else.
        let source = "package t\np := y if math.inc(41, y)\n";
        assert_eq!(rewrite(source), source);
    }

    #[test]
    fn negated_calls_of_policy_functions_stay_calls() {
        let source = "package t\nvoid(x) if x == 1\np if { not void(2, true) }\n";
        assert_eq!(rewritten(source), source);
    }

    #[test]
    fn calls_inside_terms_and_heads_are_left_alone() {
        for source in [
            "package t\np := x if { x := count([1], 2) }\n",
            "package t\np if { [count([1], 2)] }\n",
            "package t\nf(a, b) := a\n",
            "package t\np if { count([1]) == 1 }\n",
            "package t\np if { sprintf(\"%v\", [1], x) }\n",
        ] {
            let expected = if source.contains("sprintf") {
                "package t\np if { x = sprintf(\"%v\", [1]) }\n"
            } else {
                source
            };
            assert_eq!(rewritten(source), expected, "{source}");
        }
    }
}
