//! Rewrites Rego that OPA accepts but regorus mishandles into equivalent Rego it handles,
//! keeping every line where it was and recording column shifts so that locations are mapped
//! back to the user's source.
//!
//! Rewrites (each proven by corpus cases run against real OPA):
//! - chained bodies, `head { a } { b }` (v0): regorus rejects them on partial rules and
//!   mis-evaluates them on functions; they become `head { a } head { b }`, which means the same.
//! - template strings, `$"hello {name}"` (newer than regorus): they become OPA's own
//!   compilation, `internal.template_string(["hello ", {v | v := name}])`.
//! - a comprehension reusing the name its result is assigned to,
//!   `gv := [gv | x[_][gv]][_]`: OPA scopes the inner `gv` to the comprehension, regorus takes
//!   it for the outer one and reports it unsafe; the inner one is renamed.
//! - head terms that may be undefined, `p[x.name] := x.value if body`: regorus drops the
//!   whole partial document when one iteration's head term is undefined, where OPA skips just
//!   that iteration; the terms move into the body as `__lowered_N := term`.
//! - `a and b`, `a or b` and `not { body }` (OPA 1.22, opt-in by import; see
//!   `logic_operators`): they become comprehensions with the same meaning.
//! - calls with an output operand, `f(a, x)` (see `output_args`): they become `x = f(a)`.
//! - two object literals unified with the same keys (see `object_unification`): they become
//!   arrays of their values.
//! - in v0, future keywords used without their import (see `future_keywords`), and
//!   `import input` (see `input_import`): regorus prints warnings about them to stderr.
//! - `rego.metadata.rule()` and `rego.metadata.chain()` (regorus keeps no annotations): they
//!   become the constant each answers with, read from the module's `# METADATA` blocks.

use std::collections::HashMap;

use super::annotations::{self, Annotation, AnnotationError};
use super::future_keywords;
use super::lexer::{self, Kind, Token};
use super::output_args::PolicyFunctions;
use super::{input_import, logic_operators, object_unification, output_args};
use crate::Value;
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

/// Source after lowering, with the column shifts that map its locations back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lowered {
    pub text: String,
    /// Per edit: row, original column, original length and new length, in characters.
    shifts: Vec<Shift>,
    /// A `# METADATA` block that is not valid YAML; OPA rejects the module.
    pub annotation_error: Option<AnnotationError>,
    /// Why OPA rejects the module before any engine parses it (a v0 future keyword without
    /// its import, a second `import input`).
    pub rejection: Option<Rejection>,
    /// The module imports negated bodies, an import the lowered text no longer has (see
    /// [`logic_operators::negates_whole_expressions`]).
    pub negates_whole_expressions: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Shift {
    row: u32,
    col: u32,
    old_len: u32,
    new_len: u32,
}

impl Lowered {
    /// The original column, in characters as OPA counts them, of a column regorus reports
    /// in the lowered text (rows never move).
    pub fn original_col(&self, row: u32, col: u32) -> u32 {
        let col = self.char_col(row, col);
        let mut delta: i64 = 0;
        for shift in self.shifts.iter().filter(|s| s.row == row) {
            let lowered_start = i64::from(shift.col) + delta;
            if i64::from(col) < lowered_start {
                break;
            }
            if i64::from(col) < lowered_start + i64::from(shift.new_len) {
                return shift.col;
            }
            delta += i64::from(shift.new_len) - i64::from(shift.old_len);
        }
        u32::try_from((i64::from(col) - delta).max(1)).unwrap_or(col)
    }

    /// A column of regorus's, which counts a tab as four columns, as a column in characters
    /// (OPA counts a tab as one, like every other character).
    fn char_col(&self, row: u32, col: u32) -> u32 {
        let Some(line) = self.text.split('\n').nth((row as usize).saturating_sub(1)) else {
            return col;
        };
        let (mut regorus_col, mut chars) = (1, 1);
        for ch in line.chars() {
            if regorus_col >= col {
                break;
            }
            regorus_col += if ch == '\t' { 4 } else { 1 };
            chars += 1;
        }
        // Past the end of the line (an error at its end): the rest as regorus counts it.
        chars + col.saturating_sub(regorus_col)
    }
}

/// A problem OPA reports for a module's text, at a place in the original text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub code: &'static str,
    pub row: u32,
    pub col: u32,
    pub message: String,
}

impl Rejection {
    pub fn parse(row: u32, col: u32, message: String) -> Rejection {
        Rejection {
            code: "rego_parse_error",
            row,
            col,
            message,
        }
    }
}

/// One replacement of `[start, end)` of the original by `text`; never spans lines.
#[derive(Clone, Debug)]
pub(super) struct Edit {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

/// Returns source regorus handles for `source`, a module on its own.
#[cfg(test)]
pub fn lower(source: &str, version: RegoVersion) -> Lowered {
    lower_in(source, version, &PolicyFunctions::default())
}

/// Returns source regorus handles for `source`, one module of a policy whose functions are
/// `functions`.
pub fn lower_in(source: &str, version: RegoVersion, functions: &PolicyFunctions) -> Lowered {
    let tokens: Vec<Token> = lexer::tokenize(source);
    let significant: Vec<Token> = tokens.iter().copied().filter(|t| !t.is_trivia()).collect();
    let statements = split_statements(source, &significant);
    let mut edits = Vec::new();
    let mut fresh = 0;
    if version == RegoVersion::V1 {
        template_strings(source, &tokens, &mut fresh, &mut edits);
    }
    rename_comprehension_shadows(source, &significant, &mut edits);
    for statement in &statements {
        let Some(rule) = Rule::parse(source, &significant[statement.clone()], version) else {
            continue;
        };
        if version == RegoVersion::V0 {
            chain_heads(source, &rule, &mut edits);
        }
        move_head_terms(source, &rule, version, &mut fresh, &mut edits);
    }
    if version == RegoVersion::V1 {
        // Before the output-operand rewrites: at a shared position, the operator's text opens
        // first.
        edits.extend(logic_operators::rewrites(source, &significant));
    }
    edits.extend(output_args::rewrites(
        source,
        &significant,
        output_args::Unit::Module,
        functions,
    ));
    edits.extend(object_unification::rewrites(
        source,
        &significant,
        output_args::Unit::Module,
    ));
    let annotation_error =
        metadata_calls(source, &tokens, &significant, &statements, &mut edits).err();
    let mut rejection = None;
    if version == RegoVersion::V0 {
        match future_keywords::rewrites(source, &significant, output_args::Unit::Module) {
            Ok(rewrites) => edits.extend(rewrites),
            Err(error) => rejection = Some(error),
        }
    }
    match input_import::rewrites(source, &significant) {
        Ok(rewrites) => edits.extend(rewrites),
        Err(error) => rejection = rejection.or(Some(error)),
    }
    Lowered {
        annotation_error,
        rejection,
        negates_whole_expressions: version == RegoVersion::V1
            && logic_operators::negates_whole_expressions(source, &significant),
        ..apply(source, edits)
    }
}

/// Returns a query regorus handles for `query` (calls with output operands rewritten), or the
/// parse error OPA reports for a v0 query using a future keyword.
pub fn lower_query(query: &str, version: RegoVersion) -> Result<String, Rejection> {
    let tokens = lexer::tokenize(query);
    let significant: Vec<Token> = tokens.iter().copied().filter(|t| !t.is_trivia()).collect();
    let mut edits = Vec::new();
    if version == RegoVersion::V0 {
        edits.extend(future_keywords::rewrites(
            query,
            &significant,
            output_args::Unit::Query,
        )?);
    }
    template_strings(query, &tokens, &mut 0, &mut edits);
    edits.extend(output_args::rewrites(
        query,
        &significant,
        output_args::Unit::Query,
        &PolicyFunctions::default(),
    ));
    edits.extend(object_unification::rewrites(
        query,
        &significant,
        output_args::Unit::Query,
    ));
    Ok(apply(query, edits).text)
}

/// Every template string of `tokens` to its `internal.template_string` call.
fn template_strings(source: &str, tokens: &[Token], fresh: &mut usize, edits: &mut Vec<Edit>) {
    for token in tokens.iter().filter(|t| t.kind == Kind::Template) {
        if let Some(text) = template_call(token.text(source), fresh) {
            edits.push(Edit {
                start: token.start,
                end: token.end,
                text,
            });
        }
    }
}

/// Replaces `rego.metadata.rule()` and `rego.metadata.chain()` by their values for the rule
/// they appear in: the rule's own `rule`-scope annotation, then the `document` one of its
/// path, then the package's.
fn metadata_calls(
    source: &str,
    tokens: &[Token],
    significant: &[Token],
    statements: &[std::ops::Range<usize>],
    edits: &mut Vec<Edit>,
) -> Result<(), AnnotationError> {
    if !significant.iter().any(|t| t.text(source) == "metadata")
        && !tokens.iter().any(|t| t.kind == Kind::Comment)
    {
        return Ok(());
    }
    // Where a significant token sits among all tokens, comments included.
    let full_index = |token: &Token| tokens.binary_search_by_key(&token.start, |t| t.start).ok();
    let mut package = Vec::new();
    let mut packages = Vec::new();
    let mut rules = Vec::new();
    for statement in statements {
        let statement_tokens = &significant[statement.clone()];
        let Some(index) = statement_tokens.first().and_then(full_index) else {
            continue;
        };
        match statement_tokens[0].text(source) {
            "package" => {
                package = head_path(source, &statement_tokens[1..]);
                if let Some(annotation) = annotations::before(source, tokens, index, "package")?
                    && matches!(annotation.scope.as_str(), "package" | "subpackages")
                {
                    packages.push((package.clone(), annotation));
                }
            }
            "import" => {}
            first => {
                let head = if first == "default" {
                    &statement_tokens[1..]
                } else {
                    statement_tokens
                };
                let annotation = annotations::before(source, tokens, index, "rule")?;
                let mut path = package.clone();
                path.extend(head_path(source, head));
                rules.push((statement.clone(), path, annotation));
            }
        }
    }
    let documents: HashMap<&[String], &Annotation> = rules
        .iter()
        .filter_map(|(_, path, annotation)| {
            let annotation = annotation.as_ref().filter(|a| a.scope == "document")?;
            Some((path.as_slice(), annotation))
        })
        .collect();
    for (statement, path, annotation) in &rules {
        let statement_tokens = &significant[statement.clone()];
        for at in 0..statement_tokens.len() {
            let Some((function, end)) = metadata_call(source, &statement_tokens[at..]) else {
                continue;
            };
            let value = if function == "rule" {
                annotation
                    .as_ref()
                    .filter(|a| a.scope == "rule")
                    .map_or_else(Value::empty_object, |a| a.value.clone())
            } else {
                let document = documents.get(path.as_slice()).copied();
                annotations::chain(path, annotation.as_ref(), document, &packages)
            };
            edits.push(Edit {
                start: statement_tokens[at].start,
                end: statement_tokens[at + end].end,
                text: value.to_json(),
            });
        }
    }
    Ok(())
}

/// `rule` or `chain` and the index of the closing `)` when `tokens` start with
/// `rego.metadata.rule()` or `rego.metadata.chain()`.
fn metadata_call<'a>(source: &'a str, tokens: &[Token]) -> Option<(&'a str, usize)> {
    let texts: Vec<&str> = tokens.iter().take(7).map(|t| t.text(source)).collect();
    match texts.as_slice() {
        [
            "rego",
            ".",
            "metadata",
            ".",
            function @ ("rule" | "chain"),
            "(",
            ")",
        ] => Some((function, 6)),
        _ => None,
    }
}

/// The names of a package path or rule head ref (`a.b.c`), up to its first other token.
fn head_path(source: &str, tokens: &[Token]) -> Vec<String> {
    tokens
        .iter()
        .map(|t| (t.kind, t.text(source)))
        .take_while(|(kind, text)| *kind == Kind::Ident || *text == ".")
        .filter(|(kind, _)| *kind == Kind::Ident)
        .map(|(_, text)| text.to_string())
        .collect()
}

/// Statement boundaries: a statement starts at a token at depth 0 that is the first on its
/// line, unless it continues the previous one (`{`, `else`, an operator left dangling).
fn split_statements(source: &str, tokens: &[Token]) -> Vec<std::ops::Range<usize>> {
    let mut starts = Vec::new();
    let mut depth: i32 = 0;
    for (i, token) in tokens.iter().enumerate() {
        let text = token.text(source);
        let first_on_line = i == 0 || lexer::line_break(source, &tokens[i - 1], token);
        if depth == 0 && first_on_line && (i == 0 || !continues(source, tokens, i)) {
            starts.push(i);
        }
        match text {
            "{" | "[" | "(" => depth += 1,
            "}" | "]" | ")" => depth = (depth - 1).max(0),
            _ => {}
        }
    }
    starts
        .iter()
        .enumerate()
        .map(|(n, &start)| start..starts.get(n + 1).copied().unwrap_or(tokens.len()))
        .collect()
}

/// True when token `i` (first on its line, at depth 0) continues the previous statement.
fn continues(source: &str, tokens: &[Token], i: usize) -> bool {
    let text = tokens[i].text(source);
    if matches!(
        text,
        "{" | "else"
            | "|"
            | "&"
            | "+"
            | "-"
            | "*"
            | "/"
            | "%"
            | "=="
            | "!="
            | "<"
            | ">"
            | "<="
            | ">="
            | ":="
            | "="
            | ","
            | "."
            | "if"
            | "with"
            | "as"
            | "in"
    ) {
        return true;
    }
    let previous = tokens[i - 1].text(source);
    matches!(
        previous,
        ":=" | "="
            | "|"
            | "&"
            | "+"
            | "-"
            | "*"
            | "/"
            | "%"
            | "=="
            | "!="
            | "<"
            | ">"
            | "<="
            | ">="
            | ","
            | "."
            | "if"
            | "else"
            | "contains"
            | "in"
            | "not"
            | "some"
            | "with"
            | "as"
            | "default"
    )
}

/// The parts of a rule statement the rewrites need, as token indices into the statement.
struct Rule<'a> {
    tokens: &'a [Token],
    /// The head: from the statement's start to the first body (or its end).
    head_end: usize,
    /// `(open, close)` of every body block `{ ... }` at depth 0.
    bodies: Vec<(usize, usize)>,
    /// For a v1 body without braces: the token after `if` and the statement's end.
    bare_body: Option<(usize, usize)>,
    /// Partial-set key: the term after `contains` (v1) or inside `p[...]` with no value (v0).
    set_key: Option<(usize, usize)>,
    /// Partial-object key `p[k]` and value `:= v` / `= v`.
    object_key: Option<(usize, usize)>,
    value: Option<(usize, usize)>,
}

impl<'a> Rule<'a> {
    fn parse(source: &str, tokens: &'a [Token], version: RegoVersion) -> Option<Rule<'a>> {
        let first = tokens.first()?.text(source);
        if matches!(first, "package" | "import" | "default") || tokens[0].kind != Kind::Ident {
            return None;
        }
        let text = |i: usize| tokens[i].text(source);
        // The head ends at the first depth-0 `{` or `if`.
        let mut depth = 0;
        let mut head_end = tokens.len();
        let mut assign = None;
        let mut contains_at = None;
        for i in 0..tokens.len() {
            match text(i) {
                "[" | "(" => depth += 1,
                "]" | ")" => depth -= 1,
                "{" if depth == 0 && !(i > 0 && starts_term(text(i - 1))) => {
                    head_end = i;
                    break;
                }
                "{" => depth += 1,
                "}" => depth -= 1,
                "if" if depth == 0 => {
                    head_end = i;
                    break;
                }
                ":=" | "=" if depth == 0 && assign.is_none() => assign = Some(i),
                // In v0 `contains` may be the builtin: `contains(a, b)`.
                "contains"
                    if depth == 0 && tokens.get(i + 1).is_some_and(|t| t.text(source) != "(") =>
                {
                    contains_at = Some(i);
                }
                _ => {}
            }
        }
        // Bodies: brace blocks at depth 0 after the head, possibly behind `if` or `else ...`.
        let mut bodies = Vec::new();
        let mut bare_body = None;
        let mut i = head_end;
        let mut depth = 0;
        let mut open = None;
        while i < tokens.len() {
            match text(i) {
                "{" | "[" | "(" => {
                    if depth == 0 && text(i) == "{" && !starts_term(text(i - 1)) {
                        open = Some(i);
                    }
                    depth += 1;
                }
                "}" | "]" | ")" => {
                    depth -= 1;
                    if depth == 0
                        && text(i) == "}"
                        && let Some(start) = open.take()
                    {
                        bodies.push((start, i));
                    }
                }
                "if" if depth == 0 && i + 1 < tokens.len() && text(i + 1) != "{" => {
                    bare_body = Some((i + 1, tokens.len()));
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        // Head shape: `ref` then `[key]`, `contains term`, `:= value`.
        let name_end = (0..head_end)
            .find(|&j| matches!(text(j), "[" | "(" | ":=" | "=" | "contains"))
            .unwrap_or(head_end);
        if name_end < head_end && text(name_end) == "(" {
            return Some(Rule::plain(tokens, head_end, bodies, bare_body));
        }
        let bracket_key = (name_end < head_end && text(name_end) == "[")
            .then(|| lexer::matching(source, tokens, name_end))
            .flatten()
            .map(|close| (name_end + 1, close));
        let value = assign
            .filter(|&a| a + 1 < head_end)
            .map(|a| (a + 1, head_end));
        let (set_key, object_key) = match (contains_at, bracket_key, value) {
            (Some(c), _, _) if version == RegoVersion::V1 || c + 1 < head_end => {
                (Some((c + 1, head_end)), None)
            }
            (None, Some(key), None) => (Some(key), None),
            (None, Some(key), Some(_)) => (None, Some(key)),
            _ => (None, None),
        };
        Some(Rule {
            tokens,
            head_end,
            bodies,
            bare_body,
            set_key,
            object_key,
            value: value.filter(|_| object_key.is_some()),
        })
    }

    fn plain(
        tokens: &'a [Token],
        head_end: usize,
        bodies: Vec<(usize, usize)>,
        bare_body: Option<(usize, usize)>,
    ) -> Rule<'a> {
        Rule {
            tokens,
            head_end,
            bodies,
            bare_body,
            set_key: None,
            object_key: None,
            value: None,
        }
    }
}

/// True when a `{` after `previous` opens a term (an object or set), not a rule body.
fn starts_term(previous: &str) -> bool {
    matches!(
        previous,
        "=" | ":="
            | "contains"
            | ","
            | "|"
            | "&"
            | "+"
            | "-"
            | "*"
            | "/"
            | "=="
            | "!="
            | "<"
            | ">"
            | "<="
            | ">="
            | "in"
            | "else"
            | ":"
            | "("
    )
}

/// `head { a } { b }` to `head { a } head { b }`.
fn chain_heads(source: &str, rule: &Rule<'_>, edits: &mut Vec<Edit>) {
    if rule.bodies.len() < 2 || rule.head_end == 0 {
        return;
    }
    let head = &source[rule.tokens[0].start..rule.tokens[rule.head_end - 1].end];
    if head.contains('\n') {
        return;
    }
    for pair in rule.bodies.windows(2) {
        let (_, previous_close) = pair[0];
        let (open, _) = pair[1];
        // Only blocks that follow each other directly are chained; `else` separates others.
        if open == previous_close + 1 {
            let at = rule.tokens[open].start;
            edits.push(Edit {
                start: at,
                end: at,
                text: format!("{head} "),
            });
        }
    }
}

/// Moves partial-rule head terms that may be undefined into the body.
fn move_head_terms(
    source: &str,
    rule: &Rule<'_>,
    version: RegoVersion,
    fresh: &mut usize,
    edits: &mut Vec<Edit>,
) {
    let terms: Vec<(usize, usize)> = [rule.set_key, rule.object_key, rule.value]
        .into_iter()
        .flatten()
        .filter(|&(start, end)| end > start && may_be_undefined(source, &rule.tokens[start..end]))
        .collect();
    if terms.is_empty() || rule.bodies.len() > 1 {
        return;
    }
    let mut assignments = Vec::new();
    for (start, end) in terms {
        let from = rule.tokens[start].start;
        let to = rule.tokens[end - 1].end;
        let term = &source[from..to];
        if term.contains('\n') {
            return;
        }
        let name = format!("__lowered_{}", *fresh);
        *fresh += 1;
        assignments.push(format!("{name} := {term}"));
        edits.push(Edit {
            start: from,
            end: to,
            text: name,
        });
    }
    let joined = assignments.join("; ");
    match (rule.bodies.first(), rule.bare_body) {
        (Some(&(_, close)), None) => {
            let at = rule.tokens[close].start;
            edits.push(Edit {
                start: at,
                end: at,
                text: format!("; {joined} "),
            });
        }
        (None, Some((start, end))) => {
            let from = rule.tokens[start].start;
            let to = rule.tokens[end - 1].end;
            if source[from..to].contains('\n') {
                edits.retain(|e| e.start < rule.tokens[0].start || e.start >= to);
                return;
            }
            edits.push(Edit {
                start: from,
                end: from,
                text: "{ ".to_string(),
            });
            edits.push(Edit {
                start: to,
                end: to,
                text: format!("; {joined} }}"),
            });
        }
        _ => {
            // No body at all (`p[x.y]`, `p contains [1, 2]` alone): give it one.
            let at = rule.tokens[rule.head_end - 1].end;
            let keyword = if version == RegoVersion::V1 {
                " if"
            } else {
                ""
            };
            edits.push(Edit {
                start: at,
                end: at,
                text: format!("{keyword} {{ {joined} }}"),
            });
        }
    }
}

/// `$"a{x}b"` as `internal.template_string(["a", {t | t := (x)}, "b"])`; `None` when the
/// template spans lines (the rewrite must not move lines).
fn template_call(template: &str, fresh: &mut usize) -> Option<String> {
    let bytes = template.as_bytes();
    let raw = bytes.get(1) == Some(&b'`');
    // A raw template may span lines: its literal parts stay raw strings with the same line
    // breaks, so every later line keeps its number.
    let body = &template[2..template.len().saturating_sub(1)];
    let mut parts = Vec::new();
    let mut text_start = 0;
    let mut at = 0;
    let body_bytes = body.as_bytes();
    let literal = |text: &str| {
        // `\{` writes a brace that opens no expression; as a plain string it is `{`.
        let text = text.replace("\\{", "{");
        if raw {
            format!("`{text}`")
        } else {
            format!("\"{text}\"")
        }
    };
    while at < body_bytes.len() {
        match body_bytes[at] {
            b'\\' if !raw || body_bytes.get(at + 1) == Some(&b'{') => at += 2,
            b'{' => {
                if at > text_start {
                    parts.push(literal(&body[text_start..at]));
                }
                let end = lexer::skip_expression(body_bytes, at + 1);
                let expression = nested_templates(&body[at + 1..end.saturating_sub(1)], fresh);
                let name = format!("__template_{}", *fresh);
                *fresh += 1;
                // Parenthesised so that operators stay inside, unless a `with` must apply to
                // the whole assignment.
                let has_with = lexer::tokenize(&expression)
                    .iter()
                    .any(|t| t.kind == Kind::Ident && t.text(&expression) == "with");
                if has_with {
                    parts.push(format!("{{{name} | {name} := {expression}}}"));
                } else {
                    parts.push(format!("{{{name} | {name} := ({expression})}}"));
                }
                at = end;
                text_start = end;
            }
            _ => at += 1,
        }
    }
    if text_start < body.len() {
        parts.push(literal(&body[text_start..]));
    }
    Some(format!("internal.template_string([{}])", parts.join(", ")))
}

/// `expression` with the template strings inside it lowered too.
fn nested_templates(expression: &str, fresh: &mut usize) -> String {
    let mut text = String::with_capacity(expression.len());
    let mut at = 0;
    for token in lexer::tokenize(expression) {
        if token.kind != Kind::Template {
            continue;
        }
        if let Some(call) = template_call(token.text(expression), fresh) {
            text.push_str(&expression[at..token.start]);
            text.push_str(&call);
            at = token.end;
        }
    }
    text.push_str(&expression[at..]);
    text
}

/// `x := [x | ...]`: renames `x` inside comprehensions of the right-hand side.
fn rename_comprehension_shadows(source: &str, tokens: &[Token], edits: &mut Vec<Edit>) {
    for (i, token) in tokens.iter().enumerate() {
        if token.text(source) != ":=" || i == 0 {
            continue;
        }
        let target = tokens[i - 1];
        let name = target.text(source);
        // `a.b := ...` or `f(x)[k] := ...` are not plain targets; a bracket ending the line
        // before is just the previous statement.
        let plain_target = target.kind == Kind::Ident
            && (i < 2
                || match tokens[i - 2].text(source) {
                    "." => false,
                    "]" | ")" => lexer::line_break(source, &tokens[i - 2], &target),
                    _ => true,
                });
        if !plain_target || name == "_" {
            continue;
        }
        // The right-hand side: up to the end of its line at its own depth.
        let mut depth = 0i32;
        let mut end = i + 1;
        let mut next_line = false;
        while end < tokens.len() {
            let text = tokens[end].text(source);
            next_line |= lexer::line_break(source, &tokens[end - 1], &tokens[end]);
            // A rule head's value ends where its body begins (`p := v if {`, `p := v {`).
            let body = text == "if" || (text == "{" && end > i + 1);
            if depth == 0 && (next_line || body || matches!(text, ";" | "}")) {
                break;
            }
            match text {
                "[" | "{" | "(" => depth += 1,
                "]" | "}" | ")" => depth -= 1,
                _ => {}
            }
            end += 1;
        }
        for j in i + 1..end {
            let candidate = tokens[j];
            if candidate.kind == Kind::Ident
                && candidate.text(source) == name
                && !matches!(tokens[j - 1].text(source), ".")
                && enclosing_comprehension(source, &tokens[i + 1..end], j - (i + 1))
            {
                edits.push(Edit {
                    start: candidate.start,
                    end: candidate.end,
                    text: format!("__inner_{name}"),
                });
            }
        }
    }
}

/// True when token `at` of `tokens` sits inside brackets that hold a `|` at their own depth
/// (a comprehension).
fn enclosing_comprehension(source: &str, tokens: &[Token], at: usize) -> bool {
    // Walk outwards from `at`: find each enclosing opener, then look for `|` at its depth.
    let mut depth = 0i32;
    for k in (0..at).rev() {
        match tokens[k].text(source) {
            "]" | "}" | ")" => depth += 1,
            "[" | "{" | "(" if depth > 0 => depth -= 1,
            "[" | "{" => {
                let mut inner = 0i32;
                for token in &tokens[k + 1..] {
                    match token.text(source) {
                        "[" | "{" | "(" => inner += 1,
                        "]" | "}" | ")" if inner == 0 => break,
                        "]" | "}" | ")" => inner -= 1,
                        "|" if inner == 0 => return true,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    false
}

/// A term may be undefined when it dereferences or calls something.
fn may_be_undefined(source: &str, tokens: &[Token]) -> bool {
    tokens.len() > 1
        && tokens
            .iter()
            .any(|t| matches!(t.text(source), "." | "[" | "("))
}

pub(super) fn apply(source: &str, mut edits: Vec<Edit>) -> Lowered {
    edits.sort_by_key(|e| (e.start, e.end));
    let mut text = String::with_capacity(source.len() + 64);
    let mut shifts = Vec::with_capacity(edits.len());
    let mut at = 0;
    let lines = lexer::Lines::new(source);
    for edit in edits {
        if edit.start < at {
            continue;
        }
        text.push_str(&source[at..edit.start]);
        let (row, col) = lines.row_col(source, edit.start);
        shifts.push(Shift {
            row,
            col,
            old_len: u32::try_from(source[edit.start..edit.end].chars().count()).unwrap_or(0),
            new_len: u32::try_from(edit.text.chars().count()).unwrap_or(0),
        });
        text.push_str(&edit.text);
        at = edit.end;
    }
    text.push_str(&source[at..]);
    Lowered {
        text,
        shifts,
        annotation_error: None,
        rejection: None,
        negates_whole_expressions: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chained_bodies_repeat_the_head() {
        let source = "package t\nviolation[{\"msg\": msg}] { input.a; msg := \"a\" } { input.b; msg := \"b\" }\n";
        let lowered = lower(source, RegoVersion::V0);
        assert_eq!(
            lowered.text,
            "package t\nviolation[{\"msg\": msg}] { input.a; msg := \"a\" } violation[{\"msg\": msg}] { input.b; msg := \"b\" }\n"
        );
        let col_of = |text: &str| {
            let line = text.lines().nth(1).expect("second line");
            u32::try_from(line.find("input.b").expect("input.b") + 1).expect("col")
        };
        assert_eq!(
            lowered.original_col(2, col_of(&lowered.text)),
            col_of(source)
        );
    }

    #[test]
    fn columns_count_a_tab_as_one_character_as_opa_does() {
        // regorus counts a tab as four columns: `x` after one tab is its column 5.
        let lowered = lower("package t\np if {\n\tx := 1\n}\n", RegoVersion::V1);
        assert_eq!(lowered.original_col(3, 5), 2);
        // Before and after a lowering edit on the same line.
        let source = "package t\nviolation[{\"msg\": msg}] {\tinput.a } {\tinput.b }\n";
        let lowered = lower(source, RegoVersion::V0);
        let line = lowered.text.lines().nth(1).expect("second line");
        let regorus_col = |needle: &str| {
            let before = &line[..line.find(needle).expect("needle")];
            u32::try_from(
                before
                    .chars()
                    .map(|c| if c == '\t' { 4 } else { 1 })
                    .sum::<usize>()
                    + 1,
            )
            .expect("col")
        };
        let opa_col = |needle: &str| {
            let original = source.lines().nth(1).expect("second line");
            u32::try_from(
                original[..original.find(needle).expect("needle")]
                    .chars()
                    .count()
                    + 1,
            )
            .expect("col")
        };
        assert_eq!(
            lowered.original_col(2, regorus_col("input.a")),
            opa_col("input.a")
        );
        assert_eq!(
            lowered.original_col(2, regorus_col("input.b")),
            opa_col("input.b")
        );
    }

    #[test]
    fn template_strings_become_template_string_calls() {
        let source = "package t\np := $\"hi {upper(\"x\")}!\"\n";
        assert_eq!(
            lower(source, RegoVersion::V1).text,
            "package t\np := internal.template_string([\"hi \", {__template_0 | __template_0 := (upper(\"x\"))}, \"!\"])\n"
        );
        assert_eq!(
            lower("package t\np := $\"x\"\n", RegoVersion::V0).text,
            "package t\np := $\"x\"\n"
        );
    }

    #[test]
    fn comprehension_shadows_are_renamed() {
        let source = "package t\np if {\n\tcount(input.x) > 0\n\tgv := [gv | data.x[_][gv][\"I\"]][_]\n\tgv == \"v1\"\n}\n";
        assert_eq!(
            lower(source, RegoVersion::V1).text,
            "package t\np if {\n\tcount(input.x) > 0\n\tgv := [__inner_gv | data.x[_][__inner_gv][\"I\"]][_]\n\tgv == \"v1\"\n}\n"
        );
        let untouched = "package t\np if {\n\tx := [y | some y in input]\n\tz := obj.x\n}\n";
        assert_eq!(lower(untouched, RegoVersion::V1).text, untouched);
    }

    #[test]
    fn else_chains_are_left_alone() {
        let source = "package t\np = 1 { input.a } else = 2 { true }\n";
        assert_eq!(lower(source, RegoVersion::V0).text, source);
    }

    #[test]
    fn undefined_head_terms_move_into_the_body() {
        let source = "package t\nm[name] := p.manager if some name, p in data.people\n";
        assert_eq!(
            lower(source, RegoVersion::V1).text,
            "package t\nm[name] := __lowered_0 if { some name, p in data.people; __lowered_0 := p.manager }\n"
        );
        let source = "package t\ns contains p.x if {\n\tsome p in input.ps\n}\n";
        assert_eq!(
            lower(source, RegoVersion::V1).text,
            "package t\ns contains __lowered_0 if {\n\tsome p in input.ps\n; __lowered_0 := p.x }\n"
        );
        let source = "package t\ns[p.x] { p := input.ps[_] }\n";
        assert_eq!(
            lower(source, RegoVersion::V0).text,
            "package t\ns[__lowered_0] { p := input.ps[_] ; __lowered_0 := p.x }\n"
        );
    }

    #[test]
    fn plain_heads_are_untouched() {
        for source in [
            "package t\np[x] { x := 1 }\n",
            "package t\np contains x if some x in [1]\n",
            "package t\nf(x) := y if y := x.a\n",
            "package t\np := input.x if true\n",
            "package t\nq[k] := v if some k, v in input\n",
        ] {
            assert_eq!(lower(source, RegoVersion::V1).text, source, "{source}");
        }
        for source in [
            "package t\np = {\"a\": 1} { true }\n",
            "package t\np = x { x := 1 } else = {\"b\": 2} { true }\n",
        ] {
            assert_eq!(lower(source, RegoVersion::V0).text, source, "{source}");
        }
    }

    #[test]
    fn object_values_are_terms_not_bodies() {
        let source = "package test\np[name] = {\"len\": count(name)} { name := input.names[_] }\n";
        assert_eq!(
            lower(source, RegoVersion::V0).text,
            "package test\np[name] = __lowered_0 { name := input.names[_] ; __lowered_0 := {\"len\": count(name)} }\n"
        );
    }
}
